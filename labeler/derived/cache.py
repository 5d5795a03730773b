"""A derived, git-ignored cache of parsed files: one entry per source file, keyed by size + mtime.

YAML in git stays the truth. A changed source file is re-parsed and only its entry rewritten,
so appending one label never rewrites the cache of 10,000 cases. A missing, stale, corrupt or
ill-formed entry is rebuilt, never trusted.

Nothing read from the cache can run code: an entry is a JSON header (plain values, and a few
tagged types named in `_TYPES`) followed by the raw bytes of numpy arrays of fixed numeric dtypes.
No pickle (nor marshal): a file that came with a clone is data at worst, and it is checked before
use. A `.cache/` that git tracks came from someone else: it is not read at all (`tracked`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np

from labeler.derived.summary import write_atomic  # noqa: F401 - cases.py and drift.py write through here

CACHE_VERSION = 9
MAGIC = b"labeler-cache 9\n"

MISS = object()

_DTYPES = frozenset({"|b1", "|i1", "|u1", "<i2", "<i4", "<i8", "<f4", "<f8"})
"""The only array types an entry may hold (never object arrays: numpy would unpickle those)."""


class Bad(ValueError):
    """An entry that is not what this code writes: rebuilt from the source."""


# ---------------------------------------------------------------- the format


def dumps(value: Any) -> bytes:
    """`value` as an entry: MAGIC, one JSON line, then the arrays' bytes."""
    arrays: list[np.ndarray] = []
    tree = _enc(value, arrays)
    meta, offset = [], 0
    for a in arrays:
        meta.append([a.dtype.str, list(a.shape), offset])
        offset += a.nbytes
    head = json.dumps({"v": tree, "a": meta}, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return b"".join([MAGIC, head, b"\n", *(a.tobytes() for a in arrays)])


def loads(data: bytes) -> Any:
    """The value of an entry written by `dumps`; raises Bad for anything else."""
    if not data.startswith(MAGIC):
        raise Bad("not a cache entry of this version")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise Bad("no header")
    body = memoryview(data)[end + 1:]
    head = json.loads(data[len(MAGIC):end])
    arrays = []
    for dtype, shape, offset in head["a"]:
        if dtype not in _DTYPES or not all(isinstance(n, int) and n >= 0 for n in shape) or not isinstance(offset, int):
            raise Bad("array of an unexpected type")
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if offset < 0 or offset + count * dt.itemsize > len(body):
            raise Bad("array past the end")
        arrays.append(np.frombuffer(body, dt, count, offset).reshape(shape).copy())
    return _dec(head["v"], arrays)


_SCALARS = (str, int, float, bool, type(None))


def only(items: Any, *types: type) -> bool:
    """True when every item is exactly of one of `types` (a C-speed check of 10,000 ids)."""
    return set(map(type, items)) <= set(types)


def _enc(v: Any, arrays: list) -> Any:
    t = type(v)
    if t in _SCALARS:
        return v
    if t is list:
        if only(v, str) or only(v, int):
            return v
        if _is_json(v):
            return {"~": "json", "v": v}  # read back as it is, without a walk (10,000 tag lists)
        return [_enc(x, arrays) for x in v]
    if t is dict:
        if all(type(k) is str for k in v) and "~" not in v:
            if _is_json(v):
                return {"~": "json", "v": v}
            return {k: _enc(x, arrays) for k, x in v.items()}
        return {"~": "dict", "v": [[_enc(k, arrays), _enc(x, arrays)] for k, x in v.items()]}
    if t is tuple:
        return {"~": "tuple", "v": [_enc(x, arrays) for x in v]}
    if isinstance(v, np.ndarray):
        arrays.append(np.ascontiguousarray(v))
        return {"~": "nd", "i": len(arrays) - 1}
    if t is bytes:
        arrays.append(np.frombuffer(v, np.uint8))
        return {"~": "bytes", "i": len(arrays) - 1}
    if t is datetime:
        return {"~": "datetime", "v": v.isoformat()}
    if t is date:
        return {"~": "date", "v": v.isoformat()}
    name = t.__name__
    kind = _types().get(name)
    if kind is None or kind[0] is not t:
        raise TypeError(f"the cache does not store {name}")
    return {"~": name, "v": _enc(kind[1](v), arrays)}


def _is_json(v: Any) -> bool:
    """True when JSON gives `v` back exactly: lists, str-keyed dicts (no "~" key) and scalars only."""
    t = type(v)
    if t in _SCALARS:
        return True
    if t is list:
        return all(_is_json(x) for x in v)
    if t is dict:
        return "~" not in v and all(type(k) is str and _is_json(x) for k, x in v.items())
    return False


def _dec(v: Any, arrays: list) -> Any:
    t = type(v)
    if t is list:
        return v if only(v, str, int) else [_dec(x, arrays) for x in v]
    if t is not dict:
        return v
    tag = v.get("~")
    if tag is None:
        return {k: _dec(x, arrays) for k, x in v.items()}
    if tag == "json":
        return v["v"]
    if tag == "dict":
        return {_dec(k, arrays): _dec(x, arrays) for k, x in v["v"]}
    if tag == "tuple":
        return tuple(_dec(x, arrays) for x in v["v"])
    if tag == "nd":
        return arrays[v["i"]]
    if tag == "bytes":
        return arrays[v["i"]].tobytes()
    if tag == "datetime":
        return datetime.fromisoformat(v["v"])
    if tag == "date":
        return date.fromisoformat(v["v"])
    kind = _types().get(tag)
    if kind is None:
        raise Bad(f"unknown type {tag!r}")
    return kind[2](_dec(v["v"], arrays))


# ---------------------------------------------------------------- what may be stored, and its checks


def _fields(obj: Any) -> dict:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _dataclass(cls: type, check: Callable[[Any], bool]) -> tuple:
    names = {f.name for f in dataclasses.fields(cls)}

    def build(state: Any) -> Any:
        if not isinstance(state, dict) or set(state) != names:
            raise Bad(f"{cls.__name__}: unexpected fields")
        obj = cls(**state)
        if not check(obj):
            raise Bad(f"{cls.__name__}: inconsistent columns")
        return obj

    return cls, _fields, build


def _model(cls: type) -> tuple:
    """A pydantic model: stored as its JSON dump, and validated again on the way back."""
    return cls, lambda m: m.model_dump(mode="json"), cls.model_validate


def _file_labels_ok(f: Any) -> bool:
    n = len(f.lines)
    cols = (f.lines, f.case_codes, f.versions, f.retract, f.at, f.seconds, f.hash_codes)
    return (all(isinstance(c, np.ndarray) and c.shape == (n,) for c in cols)
            and isinstance(f.values, np.ndarray) and f.values.shape == (n, len(f.crits)) and f.values.dtype == np.int8
            and only(f.case_names, str) and only(f.crits, str)
            and (n == 0 or (0 <= f.case_codes.min() and f.case_codes.max() < len(f.case_names)
                            and 0 <= f.hash_codes.min() and f.hash_codes.max() < len(f.hashes)))
            and isinstance(f.extras, dict) and isinstance(f.problems, list) and isinstance(f.unusable, dict))


def _parsed_log_ok(p: Any) -> bool:
    return (isinstance(p.records, list) and all(len(r) == 2 and type(r[0]) is int for r in p.records)
            and isinstance(p.errors, list))


def _verdicts_state(rv: Any) -> dict:
    return rv.__getstate__()


def _verdicts(state: Any) -> Any:
    from labeler.derived.verdicts import RunVerdicts

    n = len(state["cases"])
    w = len(state["scales"])
    if (not all(len(state[k]) == n for k in ("repeat", "error", "keys", "lines"))
            or len(state["vals"]) != n * w or len(state["pair"]) != n * w
            or not only(state["cases"], str) or type(state["blob"]) is not bytes
            or state["blob"].count(b"\n") != max(0, n - 1)):
        raise Bad("RunVerdicts: inconsistent columns")
    rv = RunVerdicts.__new__(RunVerdicts)
    rv.__setstate__(dict(state))
    return rv


_TYPE_CACHE: dict[str, tuple] = {}


def _types() -> dict[str, tuple]:
    """name -> (class, to plain state, from plain state with checks). Imported late (no import cycles)."""
    if not _TYPE_CACHE:
        from labeler.derived.label_table import FileLabels
        from labeler.derived.verdicts import RunVerdicts
        from labeler.truth import store
        from labeler.truth.models import Adjudication, Audit, Candidate

        _TYPE_CACHE.update({
            "FileLabels": _dataclass(FileLabels, _file_labels_ok),
            "ParsedLog": _dataclass(store.ParsedLog, _parsed_log_ok),
            "RunVerdicts": (RunVerdicts, _verdicts_state, _verdicts),
            **{m.__name__: _model(m) for m in (Adjudication, Audit, Candidate)},
        })
    return _TYPE_CACHE


# ---------------------------------------------------------------- a tracked cache


def tracked(folder: Path) -> bool:
    """True when git tracks anything under `folder`: such a cache came with the repository (a clone,
    a force-add), not from this machine, so it is never read."""
    if not folder.is_dir():
        return False
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=folder, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and bool(out.stdout.strip(b"\0"))


def _plain_stamp(stamp: Any) -> Any:
    """The stamp as it reads back from JSON (tuples become lists), for comparison."""
    return json.loads(json.dumps(stamp, default=str))


class FileCache:
    def __init__(self, root: Path, folder: Path | None):
        self.root = root
        """The folder source paths are relative to."""
        self.folder = folder
        """None: no cache (a tracked `.cache/`): every read parses the source."""

    def entry_path(self, source: Path) -> Path:
        rel = source.relative_to(self.root).as_posix().replace("/", "__")
        return self.folder / f"{rel}.cache"

    def get(self, source: Path, parse: Callable[[Path], Any], extra: Any = None) -> Any:
        """`parse(source)`, or its cached result when the file (and `extra`, what else the parse
        depended on, such as the rubric files) is unchanged since it was cached."""
        value = self.peek(source, extra)
        if value is MISS:
            value = parse(source)
            self.put(source, value, extra)
        return value

    def _stamp(self, source: Path, extra: Any) -> list:
        st = source.stat()
        return _plain_stamp((CACHE_VERSION, st.st_size, st.st_mtime_ns, extra))

    def peek(self, source: Path, extra: Any = None) -> Any:
        """The cached parse of `source`, or MISS."""
        if self.folder is None:
            return MISS
        stamp = self._stamp(source, extra)
        try:
            entry = loads(self.entry_path(source).read_bytes())
            if type(entry) is dict and entry.get("stamp") == stamp and "value" in entry:
                return entry["value"]
        except Exception:  # missing, unreadable or ill-formed: rebuild
            pass
        return MISS

    def put(self, source: Path, value: Any, extra: Any = None) -> None:
        if self.folder is None:
            return
        try:
            data = dumps({"stamp": self._stamp(source, extra), "value": value})
        except (TypeError, ValueError, OSError):
            return  # something this cache does not store: parsed again next time
        write_atomic(self.entry_path(source), data)
