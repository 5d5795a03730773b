"""Cases with their text read lazily: the queue needs ids, tiers, tags and hashes; text is read when shown.

cases.yaml (the truth) is parsed once into two git-ignored cache files: `cases.meta.cache` (ids,
tiers, tags, dates, content hashes, and the offset of each case's text; in the cache format of
derived/cache.py, which cannot run code, and checked before use) and `cases.text` (one JSON line
per case). A warm open reads the small one and memory-maps the big one, so 100,000 cases cost
a few megabytes until a case is shown. Appending cases (import) extends both files; any other
change to cases.yaml rebuilds them.
"""

from __future__ import annotations

import json
import mmap
from itertools import chain
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np

from labeler.derived.cache import dumps, loads, only, write_atomic
from labeler.derived.parallel import parallel_map
from labeler.truth.models import TIER_ORDER, Case, OutputOrigin, Tier
from labeler.truth.store import Progress, _case_starts, iter_case_chunks
from labeler.truth.yamlio import read_text

VERSION = 5
META = "cases.meta.cache"
_TIERS = [t.value for t in Tier]
_EPOCH = date(1970, 1, 1)


class CaseStore(Mapping):
    """case id -> Case, in file order; `Case` objects are built from the text cache when asked for."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.tier_codes = np.zeros(0, dtype=np.int8)
        self.tags: list[tuple[str, ...]] = []
        self.added = np.zeros(0, dtype=np.int32)
        """days since 1970-01-01, or -1."""
        self.hashes: list[str] = []
        self.fields: list[dict[str, str]] = []
        """difficulty and source (for sampling), only where set."""
        self.offsets = np.zeros(1, dtype=np.int64)
        self._text: bytes | mmap.mmap = b""
        self._file = None

    # ---- Mapping

    def __getitem__(self, case_id: str) -> Case:
        return self.case(self.index[case_id])

    def __contains__(self, case_id: object) -> bool:
        return case_id in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def case(self, j: int) -> Case:
        return Case.model_construct(**_decode(json.loads(self.raw(j))))

    def raw(self, j: int) -> bytes:
        """The JSON text of case j (for searching without building a Case)."""
        return bytes(self._text[int(self.offsets[j]) : int(self.offsets[j + 1])])

    # ---- columns

    @property
    def tiers(self) -> np.ndarray:
        return np.asarray(_TIERS, dtype=object)[self.tier_codes] if len(self.ids) else np.zeros(0, dtype=object)

    def tier_order(self) -> np.ndarray:
        order = np.asarray([TIER_ORDER[Tier(t)] for t in _TIERS], dtype=np.int8)
        return order[self.tier_codes]

    def sources(self, j: int) -> tuple[str, str] | None:
        """A pairwise case's (source of A, source of B); None for a single-output case."""
        return self.fields[j].get("sources")

    def field(self, j: int, name: str):
        if name == "tier":
            return _TIERS[self.tier_codes[j]]
        return self.fields[j].get(name)

    # ---- building

    def _add(self, cases: Iterable[Case], text: bytearray) -> None:
        tiers, added = [], []
        offsets = [int(self.offsets[-1])]
        for c in cases:
            self.index[c.id] = len(self.ids)
            self.ids.append(c.id)
            tiers.append(_TIERS.index(c.tier.value))
            self.tags.append(tuple(c.tags))
            added.append((c.added - _EPOCH).days if c.added else -1)
            self.hashes.append(c.content_hash())
            f = {k: v for k, v in (("difficulty", c.difficulty), ("source", c.source)) if v}
            if c.output_b is not None:
                f["sources"] = c.source_names()
            self.fields.append(f)
            line = json.dumps(c.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"
            text += line
            offsets.append(offsets[-1] + len(line))
        self.tier_codes = np.concatenate([self.tier_codes, np.asarray(tiers, dtype=np.int8)])
        self.added = np.concatenate([self.added, np.asarray(added, dtype=np.int32)])
        self.offsets = np.concatenate([self.offsets, np.asarray(offsets[1:], dtype=np.int64)])

    @classmethod
    def build(cls, chunks: Iterable[list[Case]]) -> "CaseStore":
        store = cls()
        text = bytearray()
        for chunk in chunks:
            store._add(chunk, text)
        store._text = bytes(text)
        return store

    @classmethod
    def concat(cls, source: Path, parts: list["CaseStore"]) -> "CaseStore":
        """Slices parsed apart, joined in order; an id in two slices is the duplicate it is."""
        from labeler.errors import FileFormatError

        store = cls()
        for p in parts:
            for cid in p.ids:
                if cid in store.index:
                    raise FileFormatError(source, None, f"duplicate case id {cid!r}")
                store.index[cid] = len(store.ids)
                store.ids.append(cid)
            store.tags += p.tags
            store.hashes += p.hashes
            store.fields += p.fields
        store.tier_codes = np.concatenate([p.tier_codes for p in parts]) if parts else store.tier_codes
        store.added = np.concatenate([p.added for p in parts]) if parts else store.added
        ends = [int(p.offsets[-1]) for p in parts]
        shifts = np.cumsum([0] + ends[:-1])
        store.offsets = np.concatenate([[0]] + [p.offsets[1:] + s for p, s in zip(parts, shifts)]).astype(np.int64)
        store._text = b"".join(bytes(p._text) for p in parts)
        return store

    def _meta(self, stamp: tuple) -> bytes:
        """The index as a few big values (a warm open decodes a few strings and arrays, not 50,000 objects):
        ids and hashes joined by newlines (neither can hold one); tags and fields as their distinct
        values (a few dozen) and one code per case."""
        tags: dict[tuple, int] = {}
        fields: dict[tuple, int] = {}
        tag_codes = [tags.setdefault(t, len(tags)) for t in self.tags]
        field_codes = [fields.setdefault(tuple(f.items()), len(fields)) for f in self.fields]
        return dumps({"version": VERSION, "stamp": list(stamp), "ids": "\n".join(self.ids), "hashes": "\n".join(self.hashes),
                      "tier_codes": self.tier_codes, "added": self.added, "offsets": self.offsets,
                      "tags": [list(t) for t in tags], "tag_codes": np.asarray(tag_codes, np.int32),
                      "fields": [{k: list(v) if k == "sources" else v for k, v in f} for f in fields],
                      "field_codes": np.asarray(field_codes, np.int32)})

    @classmethod
    def _from_meta(cls, meta: dict, stamp: tuple, text_size: int) -> "CaseStore | None":
        """The store a cache index describes, if it is for this very file and consistent; else None."""
        if type(meta) is not dict or meta.get("version") != VERSION or meta.get("stamp") != list(stamp):
            return None
        ids = meta["ids"].split("\n") if meta["ids"] else []
        hashes = meta["hashes"].split("\n") if meta["hashes"] else []
        tags, fields, tag_codes, field_codes = meta["tags"], meta["fields"], meta["tag_codes"], meta["field_codes"]
        tiers, added, offsets = meta["tier_codes"], meta["added"], meta["offsets"]
        n = len(ids)
        if not (len(hashes) == n and only(tags, list) and only(chain.from_iterable(tags), str) and only(fields, dict)
                and all(_codes_ok(c, n, len(v)) for c, v in ((tag_codes, tags), (field_codes, fields)))
                and tiers.dtype == np.int8 and tiers.shape == (n,) and added.dtype == np.int32 and added.shape == (n,)
                and offsets.dtype == np.int64 and offsets.shape == (n + 1,) and int(offsets[0]) == 0
                and int(offsets[-1]) == text_size and bool((np.diff(offsets) > 0).all())
                and (n == 0 or (0 <= int(tiers.min()) and int(tiers.max()) < len(_TIERS)))):
            return None
        for f in fields:
            if "sources" in f:
                f["sources"] = tuple(f["sources"])
        store = cls()
        store.ids, store.tier_codes, store.added, store.offsets, store.hashes = ids, tiers, added, offsets, hashes
        store.tags = list(map(list(map(tuple, tags)).__getitem__, tag_codes.tolist()))
        store.fields = list(map(fields.__getitem__, field_codes.tolist()))  # shared, read-only dicts
        store.index = {cid: j for j, cid in enumerate(ids)}
        if len(store.index) != n:
            return None
        return store

    @classmethod
    def open(cls, source: Path, cache: Path | None, parse: Callable[[Path], "CaseStore"]) -> "CaseStore":
        """The cases of `source`, from the cache when it matches the file, else parsed (and cached).
        `cache` None: no cache is read or written (a `.cache/` tracked by git)."""
        stamp = _stamp(source)
        if cache is not None:
            text_path = cache / "cases.text"
            try:
                store = cls._from_meta(loads((cache / META).read_bytes()), stamp, text_path.stat().st_size)
                if store is not None:
                    store._map(text_path)
                    return store
            except Exception:  # missing, stale, corrupt or ill-formed: rebuilt, never trusted
                pass
        store = parse(source)
        if cache is not None:
            store._save(cache, stamp, bytes(store._text))
        return store

    def _map(self, text_path: Path) -> None:
        if int(self.offsets[-1]) == 0:
            self._text = b""
            return
        self._file = open(text_path, "rb")
        self._text = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def _save(self, cache: Path, stamp: tuple, text: bytes) -> None:
        write_atomic(cache / "cases.text", text)
        write_atomic(cache / META, self._meta(stamp))

    def append(self, new: list[Case], source: Path, cache: Path | None) -> None:
        """Cases just appended to `source`: extend the columns, append their text to the cache file,
        rewrite the small index (the text of the cases already there is not rewritten)."""
        old_end = int(self.offsets[-1])
        added = bytearray()
        base = self.offsets
        self.offsets = np.asarray([0], dtype=np.int64)
        self._add(new, added)
        self.offsets = np.concatenate([base, self.offsets[1:] + old_end])
        mapped = isinstance(self._text, mmap.mmap)
        self.close()
        try:
            if not mapped or cache is None:
                raise OSError("no cache file")
            text_path = cache / "cases.text"
            with open(text_path, "ab") as f:
                f.write(added)
            write_atomic(cache / META, self._meta(_stamp(source)))
            self._map(text_path)
        except OSError:
            self._text = bytes(self._text) + bytes(added)
            if cache is not None:
                self._save(cache, _stamp(source), self._text)

    def close(self) -> None:
        if isinstance(self._text, mmap.mmap):
            self._text.close()
        if self._file is not None:
            self._file.close()
            self._file = None


def _codes_ok(codes: np.ndarray, n: int, distinct: int) -> bool:
    return codes.dtype == np.int32 and codes.shape == (n,) and (n == 0 or (int(codes.min()) >= 0 and int(codes.max()) < distinct))


def _decode(d: dict) -> dict:
    if "added" in d and isinstance(d["added"], str):
        d["added"] = date.fromisoformat(d["added"])
    if "tier" in d:
        d["tier"] = Tier(d["tier"])
    for k, default in (("tags", []), ("notes", ""), ("source", ""), ("tier", Tier.golden)):
        d.setdefault(k, default if not isinstance(default, list) else [])
    for k in ("reference", "context", "difficulty", "added", "output_b"):
        d.setdefault(k, None)
    for k in ("origin_a", "origin_b"):
        d[k] = OutputOrigin.model_construct(**{"candidate": "", "model": "", "prompt_version": "", **d[k]}) if d.get(k) else None
    return d


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


def parse_case_store(path: Path, progress: Progress | None = None) -> "CaseStore":
    """cases.yaml into a CaseStore; a big file is parsed in slices by one process per core."""
    text = read_text(path)
    lines = text.splitlines(keepends=True)
    del text
    starts = _case_starts(lines)
    step = 4000
    if len(starts) < 2 * step:
        return CaseStore.build(iter_case_chunks(path, progress, text="".join(lines)))
    bounds = [0] + starts[step::step] + [len(lines)]
    jobs = [(path, "".join(lines[a:b]), a) for a, b in zip(bounds, bounds[1:])]
    del lines
    total = len(starts)
    parts = []
    done = 0
    for part in parallel_map(_case_slice, jobs):
        parts.append(part)
        done += len(part)
        if progress:
            progress(min(done, total), total)
    return CaseStore.concat(path, parts)


def _case_slice(job: tuple) -> "CaseStore":
    path, text, offset = job
    return CaseStore.build(iter_case_chunks(path, None, text=text, line_offset=offset))
