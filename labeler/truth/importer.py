"""Bring cases in (JSONL, CSV) and pick a stratified golden set out of a pool."""

from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Mapping

from pydantic import ValidationError

from labeler.errors import FileFormatError, LabelerError, UsageError, pydantic_message
from labeler.truth.limits import check_depth
from labeler.truth.models import Case, content_hash_of


@dataclass
class FieldMap:
    id: str | None = None
    input: str = "input"
    output: str = "output"
    reference: str | None = "reference"
    context: str | None = "context"
    tier: str | None = "tier"
    tags: str | None = "tags"
    notes: str | None = "notes"
    difficulty: str | None = "difficulty"
    output_b: str = "output_b"
    """A row with this field is a pairwise case (its `output`, or `output_a`, is output A)."""
    source_a: str = "source_a"
    source_b: str = "source_b"
    """Where each output came from: a candidate name, or an object {candidate, model, prompt_version}."""


@dataclass
class ImportResult:
    added: list[Case] = field(default_factory=list)
    duplicates: int = 0
    """Rows whose input + output is already in the dataset or earlier in the file."""
    id_fields: set[str] = field(default_factory=set)
    """Where the new cases' ids came from: a field name, or "" for ids made from the content hash."""


def read_text_file(path: Path) -> str:
    """A user's data file as text; a missing file, bad bytes or an unreadable file is one `path:line` error."""
    if not path.is_file():
        raise LabelerError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LabelerError(f"{path}: cannot read: {e.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileFormatError(path, line, f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8") from None


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row) from a .jsonl/.json-lines or .csv file; any defect is `path:line: what`."""
    text = read_text_file(path)
    if path.suffix.lower() == ".csv":
        yield from csv_rows(path, text)
        return
    yield from jsonl_rows(path, text)


def jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) of JSON lines; a line that is not a JSON object is `path:line: what`."""
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        check_depth(line, path, i)
        try:
            row = json.loads(line)
        except ValueError as e:
            raise FileFormatError(path, i, f"not a JSON object: {getattr(e, 'msg', e)}") from None
        if not isinstance(row, dict):
            raise FileFormatError(path, i, "each line must be a JSON object")
        _check_text(path, i, row)
        yield i, row


FORMULA_GUARD = re.compile(r"'+[=+\-@\t\r]")
"""A cell labeler's CSV export kept from running in a spreadsheet (a `'` in front): the `'` comes off again."""


def csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row) of a CSV with a header; a short, long or cut-off row is `path:line: what`."""
    import io

    if csv.field_size_limit() < len(text) + 1:  # a field may be as long as the file (default: 128 KiB)
        csv.field_size_limit(min(len(text) + 1, 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            width = len(reader.fieldnames or [])
            if None in row:
                raise FileFormatError(path, start + 1, f"row has {len(row) - 1 + len(row[None])} fields but the header has {width}")
            short = [k for k, v in row.items() if v is None]
            if short:
                cut = reader.line_num == text.count("\n") + 1 and not text.endswith(("\n", "\r"))
                raise FileFormatError(path, start + 1, f"row has {width - len(short)} fields but the header has {width}"
                                      + (": the file ends in the middle of this row (cut off?)" if cut else ""))
            yield start + 1, {k: v[1:] if FORMULA_GUARD.match(v) else v for k, v in row.items()}
            start = reader.line_num
    except csv.Error as e:
        raise FileFormatError(path, start + 1, f"not valid CSV ({e}): a quote opened in this row is never closed?") from None


def _check_text(path: Path, line: int, obj: Any) -> None:
    """Refuse text that cannot be saved: a lone surrogate such as \\ud800 from a broken JSON writer."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as e:
            raise FileFormatError(path, line, f"text holds an invalid character {obj[e.start]!r} (a lone surrogate); "
                                              "fix the file that produced it") from None
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_text(path, line, k)
            _check_text(path, line, v)
    elif isinstance(obj, list):
        for v in obj:
            _check_text(path, line, v)


def as_text(value: Any) -> str:
    """A field as case text: strings as they are; chats (a list of role/content messages) and lists of
    retrieved documents as JSON, which the screens show as turns and as a numbered list."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def import_cases(path: Path, existing: Mapping[str, Case], fields: FieldMap, tier: str = "golden",
                 source: str = "", today: date | None = None, pairwise: bool | None = None) -> ImportResult:
    """New cases from `path`, deduplicated by a content hash of input + output(s); ids are stable.
    `pairwise` (the dataset's rubric kind) refuses rows of the other kind, with their line."""
    today = today or date.today()
    hashes = getattr(existing, "hashes", None)  # a CaseStore knows them without reading any text
    seen = set(hashes) if hashes is not None else {c.content_hash() for c in existing.values()}
    ids = set(existing)
    out = ImportResult()
    for line, row in read_rows(path):
        pair = row.get(fields.output_b) is not None
        output_field = fields.output if fields.output in row or not pair else "output_a"
        for need in (fields.input, output_field):
            if need not in row or row[need] is None:
                raise FileFormatError(path, line, f"missing field {need!r} (map it with --{'input' if need == fields.input else 'output'}-field)")
        if pairwise is not None and pair != pairwise:
            raise FileFormatError(path, line, f"this row has {'two outputs' if pair else 'one output'} but the dataset's rubric "
                                              f"is {'pairwise (each case needs ' + repr(fields.output_b) + ')' if pairwise else 'not pairwise'}")
        inp, outp = as_text(row[fields.input]), as_text(row[output_field])
        outb = as_text(row[fields.output_b]) if pair else None
        h = content_hash_of(inp, outp, outb)
        if h in seen:
            out.duplicates += 1
            continue
        seen.add(h)
        id_field = fields.id or ("id" if "id" in row else None)  # an `id` column is used when present
        if id_field and row.get(id_field) not in (None, ""):
            cid = str(row[id_field])
            out.id_fields.add(id_field)
        else:
            cid = f"c-{h[:10]}"
            out.id_fields.add("")
        if cid in ids:
            raise FileFormatError(path, line, f"case id {cid!r} already exists with different content")
        ids.add(cid)
        # an export of labeler's own keeps its source and date: a round trip loses no case field
        data: dict[str, Any] = {"id": cid, "input": inp, "output": outp, "tier": tier,
                                "added": row.get("added") or today, "source": source or row.get("source") or path.name}
        if pair:
            data["output_b"] = outb
            for side, key, x in (("origin_a", fields.source_a, "a"), ("origin_b", fields.source_b, "b")):
                raw = row.get(key) if key in row else row.get(side)
                if isinstance(raw, str) and raw.strip():
                    data[side] = {"candidate": raw.strip()}
                elif isinstance(raw, dict):
                    data[side] = raw
                # flat columns, as a spreadsheet has them: candidate_a, model_a, prompt_version_a
                flat = {f: str(row[f"{f}_{x}"]) for f in ("candidate", "model", "prompt_version") if row.get(f"{f}_{x}") not in (None, "")}
                if flat:
                    data[side] = {**(data.get(side) or {}), **flat}
        for attr in ("reference", "context", "tier", "notes", "difficulty"):
            key = getattr(fields, attr)
            if key and row.get(key) not in (None, ""):
                data[attr] = as_text(row[key]) if attr in ("reference", "context", "notes") else row[key]
        if fields.tags and row.get(fields.tags) not in (None, ""):
            raw = row[fields.tags]
            data["tags"] = raw if isinstance(raw, list) else [t.strip() for t in str(raw).replace(";", ",").split(",") if t.strip()]
        try:
            out.added.append(Case.model_validate(data))
        except ValidationError as e:
            raise FileFormatError(path, line, pydantic_message(e)[1]) from None
    return out


# ---------------------------------------------------------------- sampling

DEFAULT_STRATA = ("common", "edge", "adversarial")
DEFAULT_MIX = (60, 25, 15)


def default_stratum(case: Case) -> str:
    """common / edge / adversarial, from tier and difficulty."""
    if case.tier.value == "adversarial":
        return "adversarial"
    if case.difficulty == "hard" or "edge" in case.tags:
        return "edge"
    return "common"


SAMPLE_FIELDS = ("tier", "difficulty", "source")
"""Case fields --by may stratify on (besides tag:NAME)."""


def stratum_of(case: Case, by: str | None) -> str:
    if by is None:
        return default_stratum(case)
    if by.startswith("tag:"):
        return by[4:] if by[4:] in case.tags else "other"
    value = getattr(case, by, None)
    if value is None:
        return "none"
    return getattr(value, "value", str(value))


def sample(cases: dict[str, Case], n: int, by: str | None = None, mix: list[float] | None = None,
           seed: int = 0) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """A reproducible stratified selection of `n` case ids; also stratum -> (picked, available).

    Strata follow `mix` (percentages, in the order: common, edge, adversarial by default, or the
    strata of `by` from most to least frequent). A short stratum gives its share to the others.
    """
    if n <= 0:
        raise UsageError("--n must be positive")
    if by is not None and not by.startswith("tag:") and by not in SAMPLE_FIELDS:
        raise UsageError(f"--by {by!r}: not a case field (use one of {', '.join(SAMPLE_FIELDS)}, or tag:NAME)")
    if by == "tag:":
        raise UsageError("--by tag: needs a tag name (tag:NAME)")
    groups: dict[str, list[str]] = {}
    for cid in sorted(cases):
        groups.setdefault(stratum_of(cases[cid], by), []).append(cid)
    if by is None:
        names = list(DEFAULT_STRATA) + sorted(set(groups) - set(DEFAULT_STRATA))
        weights = list(mix) if mix else list(DEFAULT_MIX)
    else:
        names = sorted(groups, key=lambda g: (-len(groups[g]), g))
        weights = list(mix) if mix else [len(groups[g]) for g in names]
    if mix and len(weights) != len(names):
        raise UsageError(f"--mix has {len(weights)} part(s) but there are {len(names)} strata ({', '.join(names)}): give one share each")
    rng = random.Random(seed)
    pools = {g: rng.sample(groups.get(g, []), len(groups.get(g, []))) for g in names}
    total = min(n, sum(len(p) for p in pools.values()))
    want = _apportion(total, weights, {g: len(pools[g]) for g in names}, names)
    picked = [cid for g in names for cid in pools[g][: want[g]]]
    return sorted(picked), {g: (want[g], len(pools[g])) for g in names}


def _apportion(total: int, weights: list[float], caps: dict[str, int], names: list[str]) -> dict[str, int]:
    want = {g: 0 for g in names}
    remaining = total
    active = [g for g, w in zip(names, weights) if w > 0 and caps[g] > 0] or [g for g in names if caps[g] > 0]
    w_of = dict(zip(names, weights))
    while remaining > 0 and active:
        wsum = sum(w_of[g] or 1 for g in active)
        shares = {g: remaining * (w_of[g] or 1) / wsum for g in active}
        floors = {g: int(shares[g]) for g in active}
        left = remaining - sum(floors.values())
        for g in sorted(active, key=lambda g: -(shares[g] - floors[g]))[:left]:
            floors[g] += 1
        for g in active:
            take = min(floors[g], caps[g] - want[g])
            want[g] += take
            remaining -= take
        active = [g for g in active if want[g] < caps[g]]
    return want
