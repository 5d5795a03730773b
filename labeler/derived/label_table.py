"""Every label of a dataset as compact columns: a few bytes per label instead of a pydantic object.

The logs in git are the truth; this is derived. Each log file is parsed once into `LogColumns`
(cached per file, invalidated by size and mtime), checked against the rubric it was made under,
and appended to one `LabelTable`. Agreement, gold, queues and status read the columns with numpy;
a `Label` object is built only for the few labels a screen shows (`table.label(row)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import numpy as np
from pydantic import ValidationError

from labeler.errors import pydantic_message
from labeler.truth.models import Flag, Label, Rubric
from labeler.names import check_safe_name

NO_TIME = np.iinfo(np.int64).min
EXTRA_FIELDS = ("note", "flags", "email", "git_name", "suggested", "imported", "shown")
"""Label fields kept per row only where set (most labels have none)."""
_PLAIN = frozenset({"case", "rubric", "rubric_hash", "values", "at", "seconds", "retract"})
_FIELDS = frozenset(Label.model_fields)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _Codes:
    """Strings stored once, referred to by a small integer code (0 is "none")."""

    def __init__(self) -> None:
        self.items: list[Any] = [None]
        self._index: dict[Any, int] = {None: 0}

    def code(self, value: Any) -> int:
        c = self._index.get(value)
        if c is None:
            c = self._index[value] = len(self.items)
            self.items.append(value)
        return c


def _micros(at: Any) -> int:
    if at is None:
        return NO_TIME
    if isinstance(at, str):
        at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    delta = at - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _fast(rec: dict) -> bool:
    """True when `rec` is a plain record pydantic would accept unchanged (the common case, checked cheaply).
    Anything unusual goes through pydantic, which is the authority (and says what is wrong)."""
    if not rec.keys() <= _FIELDS:
        return False
    case, rubric = rec.get("case"), rec.get("rubric")
    if type(case) is not str or type(rubric) is not int or rubric < 1:
        return False
    values = rec.get("values", {})
    if type(values) is not dict:
        return False
    for k, v in values.items():
        if type(v) is not int and type(v) is not str:
            return False
    if rec.get("flags"):
        return False
    for k in ("note", "rubric_hash"):
        if type(rec.get(k, "")) is not str:
            return False
    for k in ("email", "git_name", "suggested", "imported"):
        if rec.get(k) is not None and type(rec[k]) is not str:
            return False
    if rec.get("shown") not in (None, "AB", "BA"):
        return False
    s = rec.get("seconds")
    if s is not None and type(s) is not float and type(s) is not int:
        return False
    if type(rec.get("retract", False)) is not bool:
        return False
    at = rec.get("at")
    if at is not None:
        if type(at) is not str:
            return False
        try:
            datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return False
    try:
        check_safe_name(case, "case id")
    except ValueError:
        return False
    return True


Check = Callable[[int, dict, str], tuple[dict | None, str]]
"""check(version, values, what) -> (canonical values, "") | (None, why) | (None, "") when the version is unusable."""


@dataclass
class FileLabels:
    """One label log, parsed and checked line by line into columns (what the cache keeps per file).

    Values are scale indexes under the version each label was made under, so the columns do not
    depend on the rubric in force: moving the dataset to a new version re-uses them as they are.
    """

    lines: np.ndarray
    case_codes: np.ndarray
    case_names: list[str]
    versions: np.ndarray
    retract: np.ndarray
    at: np.ndarray
    seconds: np.ndarray
    hash_codes: np.ndarray
    hashes: list[str | None]
    crits: list[str]
    values: np.ndarray
    """rows x crits, int8 scale index (-1: no value)."""
    extras: dict[int, dict[str, Any]]
    problems: list[tuple[int | None, str, bool]]
    """(line, what, blocks writes) for every line left out; plus the torn tail as a warning (blocks=False)."""
    unusable: dict[int, int]
    """version -> labels left out because that version's file is broken (reported once per file)."""
    torn_line: int | None = None

    @classmethod
    def parse(cls, records: list[tuple[int, dict]], errors: list[tuple[int | None, str]], torn_line: int | None,
              check: Check, scale_index: Callable[[int, str], dict | None], missing: Callable[[int], str | None]) -> "FileLabels":
        lines, case_codes, versions, retract, at, seconds, hash_codes = [], [], [], [], [], [], []
        names: dict[str, int] = {}
        hashes = _Codes()
        crit_index: dict[str, int] = {}
        vals: list[list[tuple[int, int]]] = []
        extras: dict[int, dict] = {}
        problems: list[tuple[int | None, str, bool]] = [(ln, f"{msg}; line left out", True) for ln, msg in errors]
        unusable: dict[int, int] = {}
        usable: dict[int, bool] = {}
        lut: dict[tuple, Any] = {}
        """(version, criterion, type, raw value) -> scale index, or the error text: one check per distinct value."""
        for line, rec in records:
            fast = _fast(rec)
            if fast:
                try:
                    when = _micros(rec.get("at"))
                except ValueError:
                    fast = False
            if not fast:
                try:
                    rec = Label.model_validate(rec).model_dump(exclude_defaults=True)
                except ValidationError as e:
                    problems.append((line, f"{pydantic_message(e)[1]}; line left out", True))
                    continue
                when = _micros(rec.get("at"))
            cid, v = rec["case"], rec["rubric"]
            is_retract = rec.get("retract", False)
            row_vals: list[tuple[int, int]] = []
            extra = None
            if len(rec) > 7 or not rec.keys() <= _PLAIN:
                extra = {k: rec[k] for k in EXTRA_FIELDS if rec.get(k)}
                if "flags" in extra:
                    extra["flags"] = [f if isinstance(f, dict) else f.model_dump() for f in extra["flags"]]
            if not is_retract:
                if v not in usable:
                    usable[v] = check(v, {}, "")[0] is not None
                if not usable[v]:
                    gone = missing(v)
                    if gone:  # said line by line; a broken version is said once, with a count
                        problems.append((line, f"label of {cid} made under {gone}, which does not exist: left out", False))
                    else:
                        unusable[v] = unusable.get(v, 0) + 1
                    continue
                err = ""
                for c, value in (rec.get("values") or {}).items():
                    key = (v, c, value.__class__, value)
                    i = lut.get(key)
                    if i is None:
                        canon, why = check(v, {c: value}, "label of {cid}: ")
                        i = lut[key] = why if canon is None else scale_index(v, c)[canon[c]]
                    if i.__class__ is str:
                        err = i
                        break
                    row_vals.append((crit_index.setdefault(c, len(crit_index)), i))
                if not err and extra and extra.get("flags"):
                    bad = next((f.get("criterion") for f in extra["flags"]
                                if f.get("criterion") and scale_index(v, f["criterion"]) is None), None)
                    if bad:
                        err = f"label of {{cid}}: flag: unknown criterion {bad!r} in rubric v{v}"
                if err:
                    problems.append((line, f"{err.replace('{cid}', cid)}; left out", True))
                    continue
            row = len(lines)
            lines.append(line)
            case_codes.append(names.setdefault(cid, len(names)))
            versions.append(v)
            retract.append(is_retract)
            at.append(when)
            s = rec.get("seconds")
            seconds.append(np.nan if s is None else float(s))
            hash_codes.append(hashes.code(rec.get("rubric_hash") or None))
            vals.append(row_vals)
            if extra:
                extras[row] = extra
        values = np.full((len(lines), len(crit_index)), -1, dtype=np.int8)
        for r, rv in enumerate(vals):
            for k, i in rv:
                values[r, k] = i
        if torn_line is not None:
            problems.append((torn_line, "incomplete last line (a crash mid-save): ignored, and set aside to "
                                        "<file>.torn on the next save", False))
        problems.sort(key=lambda p: p[0] or 0)
        return cls(np.asarray(lines, np.int32), np.asarray(case_codes, np.int32), list(names),
                   np.asarray(versions, np.int32), np.asarray(retract, np.bool_), np.asarray(at, np.int64),
                   np.asarray(seconds, np.float32), np.asarray(hash_codes, np.int32), hashes.items, list(crit_index),
                   values, extras, problems, unusable, torn_line)


class _Grow:
    """A numpy column that grows by doubling (appending one label is O(1) amortized)."""

    def __init__(self, dtype, fill) -> None:
        self.a = np.full(1024, fill, dtype=dtype)
        self.n = 0
        self.fill = fill

    def reserve(self, n: int) -> None:
        if n > len(self.a):
            b = np.full(max(n, 2 * len(self.a)), self.fill, dtype=self.a.dtype)
            b[: self.n] = self.a[: self.n]
            self.a = b

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.a.dtype)
        self.reserve(self.n + len(values))
        self.a[self.n : self.n + len(values)] = values
        self.n += len(values)

    @property
    def v(self) -> np.ndarray:
        return self.a[: self.n]


Problem = Callable[[int | None, str, bool], None]
"""problem(line, message, blocks): report a record left out of the table."""


class LabelTable:
    """All label records of a dataset in file order, as columns, with each annotator's latest per case."""

    def __init__(self, case_ids: Mapping[str, int], rubric: Callable[[int], Rubric | None]):
        self.case_index = case_ids
        self._rubric = rubric
        self.annotators: list[str] = []
        self.ann_index: dict[str, int] = {}
        self.ann = _Grow(np.int16, -1)
        self.case = _Grow(np.int32, -1)
        self.version = _Grow(np.int32, 0)
        self.retract = _Grow(np.bool_, False)
        self.at = _Grow(np.int64, NO_TIME)
        self.seconds = _Grow(np.float32, np.nan)
        self.hash = _Grow(np.int32, 0)
        self.hashes = _Codes()
        self.cols: dict[str, _Grow] = {}
        """criterion -> value index in the scale of the version the label was made under (-1: none)."""
        self.extras: dict[int, dict[str, Any]] = {}
        self.latest: dict[str, np.ndarray] = {}
        """annotator -> row of their latest label per case index (-1: none or withdrawn)."""
        self._scales: dict[tuple[int, str], tuple[list, dict]] = {}

    # ---- building

    def __len__(self) -> int:
        return self.ann.n

    def scale(self, version: int, criterion: str) -> tuple[list, dict] | None:
        """(values in scale order, value -> index) of one criterion in one version, or None."""
        key = (version, criterion)
        if key not in self._scales:
            r = self._rubric(version)
            crit = r.criteria.get(criterion) if r is not None else None
            if crit is None:
                return None
            vals = crit.scale.values()
            self._scales[key] = (vals, {v: i for i, v in enumerate(vals)})
        return self._scales[key]

    def scale_index(self, version: int, criterion: str) -> dict | None:
        """value -> index in the scale of one criterion in one version, or None."""
        got = self.scale(version, criterion)
        return got[1] if got is not None else None

    def _annotator(self, name: str) -> int:
        if name not in self.ann_index:
            self.ann_index[name] = len(self.annotators)
            self.annotators.append(name)
            self.latest[name] = np.full(len(self.case_index), -1, dtype=np.int32)
        return self.ann_index[name]

    def grow_cases(self) -> None:
        """Cases were added: widen each annotator's latest-row array."""
        n = len(self.case_index)
        for a, arr in self.latest.items():
            if len(arr) < n:
                self.latest[a] = np.concatenate([arr, np.full(n - len(arr), -1, dtype=np.int32)])

    def add_file(self, annotator: str, f: FileLabels) -> list[tuple[int, str, bool]]:
        """Append one file's checked rows; labels of cases not in cases.yaml are left out, and returned as
        problems (line, message, blocks)."""
        problems = []
        a = self._annotator(annotator)
        g = np.fromiter((self.case_index.get(n, -1) for n in f.case_names), dtype=np.int32, count=len(f.case_names))
        cases = g[f.case_codes] if len(f.case_codes) else np.zeros(0, np.int32)
        gone = cases < 0
        for i in np.flatnonzero(gone & ~f.retract):
            problems.append((int(f.lines[i]), f"label for unknown case {f.case_names[f.case_codes[i]]!r}: left out", False))
        keep = np.flatnonzero(~gone)
        hash_map = np.asarray([self.hashes.code(h) for h in f.hashes], dtype=np.int32)
        self._extend(a, cases[keep], f.versions[keep], f.retract[keep], f.at[keep], f.seconds[keep],
                     hash_map[f.hash_codes[keep]] if len(keep) else np.zeros(0, np.int32),
                     {c: f.values[keep, k] for k, c in enumerate(f.crits)},
                     {int(r): f.extras[int(i)] for r, i in enumerate(keep) if int(i) in f.extras})
        return problems

    def _extend(self, a: int, cases, versions, retract, at, seconds, hash_codes, values: dict[str, np.ndarray],
                extras: dict[int, dict]) -> None:
        start = len(self)
        n = len(cases)
        self.ann.extend(np.full(n, a))
        self.case.extend(cases)
        self.version.extend(versions)
        self.retract.extend(retract)
        self.at.extend(at)
        self.seconds.extend(seconds)
        self.hash.extend(hash_codes)
        for c in values:
            self._col(c)
        for c, col in self.cols.items():
            col.reserve(start + n)
            col.n = start + n
            if c in values:
                col.a[start : start + n] = values[c]
        for r, extra in extras.items():
            self.extras[start + r] = extra
        if n:
            latest = self.latest[self.annotators[a]]
            rev = np.asarray(cases)[::-1]
            _, first = np.unique(rev, return_index=True)
            last = n - 1 - first  # each case's last row in this batch
            latest[np.asarray(cases)[last]] = np.where(np.asarray(retract)[last], -1, start + last)

    def _col(self, criterion: str) -> _Grow:
        if criterion not in self.cols:
            col = _Grow(np.int8, -1)
            col.reserve(len(self))
            col.n = len(self)
            self.cols[criterion] = col
        return self.cols[criterion]

    def append(self, annotator: str, label: Label) -> int:
        """One new label (already durable in its log): O(1) amortized, a few scalar writes."""
        a = self._annotator(annotator)
        row = len(self)
        j = self.case_index[label.case]
        for g, value in ((self.ann, a), (self.case, j), (self.version, label.rubric), (self.retract, label.retract),
                         (self.at, _micros(label.at)), (self.seconds, np.nan if label.seconds is None else label.seconds),
                         (self.hash, self.hashes.code(label.rubric_hash or None))):
            g.reserve(row + 1)
            g.a[row] = value
            g.n = row + 1
        for c in label.values:
            self._col(c)
        for c, col in self.cols.items():
            col.reserve(row + 1)
            col.n = row + 1
            v = None if label.retract else label.values.get(c)
            col.a[row] = -1 if v is None else self.scale(label.rubric, c)[1][v]
        extra = {k: v for k, v in (("note", label.note), ("email", label.email), ("git_name", label.git_name),
                                   ("suggested", label.suggested), ("imported", label.imported)) if v}
        if label.flags:
            extra["flags"] = [f.model_dump() for f in label.flags]
        if extra:
            self.extras[row] = extra
        self.latest[annotator][j] = -1 if label.retract else row
        return row

    # ---- reading

    def label(self, row: int) -> Label:
        """The `Label` of one row (for screens and history; never in a loop over the dataset)."""
        v = int(self.version.a[row])
        values = {}
        for c, col in self.cols.items():
            i = int(col.a[row])
            if i >= 0:
                values[c] = self.scale(v, c)[0][i]
        at = int(self.at.a[row])
        extra = self.extras.get(row, {})
        s = float(self.seconds.a[row])
        data = {
            "case": self.case_ids[int(self.case.a[row])], "rubric": v, "values": values,
            "rubric_hash": self.hashes.items[int(self.hash.a[row])] or "", "retract": bool(self.retract.a[row]),
            "at": None if at == NO_TIME else datetime.fromtimestamp(at / 1e6, timezone.utc),
            "seconds": None if s != s else round(s, 3),
            "note": extra.get("note", ""), "flags": [Flag.model_validate(f) for f in extra.get("flags", [])],
            "email": extra.get("email"), "git_name": extra.get("git_name"), "suggested": extra.get("suggested"),
            "imported": extra.get("imported"),
        }
        return Label.model_construct(**data)

    @property
    def case_ids(self) -> list[str]:
        ids = getattr(self, "_ids", None)
        if ids is None or len(ids) != len(self.case_index):
            ids = self._ids = list(self.case_index)
        return ids

    def matrix(self) -> np.ndarray:
        """annotators x cases: the row of each annotator's latest label (-1: none)."""
        if not self.annotators:
            return np.full((0, len(self.case_index)), -1, dtype=np.int32)
        return np.stack([self.latest[a] for a in self.annotators])


class AnnotatorLabels(Mapping):
    """One annotator's latest label per case, as `Label` objects built when read."""

    def __init__(self, table: LabelTable, annotator: str):
        self._t = table
        self._rows = table.latest[annotator]

    def __getitem__(self, case_id: str) -> Label:
        j = self._t.case_index.get(case_id)
        if j is None or j >= len(self._rows) or self._rows[j] < 0:
            raise KeyError(case_id)
        return self._t.label(int(self._rows[j]))

    def __iter__(self) -> Iterator[str]:
        ids = self._t.case_ids
        return (ids[j] for j in np.flatnonzero(self._rows >= 0))

    def __len__(self) -> int:
        return int((self._rows >= 0).sum())


class LabelsView(Mapping):
    """annotator -> case id -> latest `Label` (withdrawn ones absent): the old dict shape, read from the columns."""

    def __init__(self, table: LabelTable):
        self._t = table

    def __getitem__(self, annotator: str) -> AnnotatorLabels:
        if annotator not in self._t.latest:
            raise KeyError(annotator)
        return AnnotatorLabels(self._t, annotator)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._t.annotators))

    def __len__(self) -> int:
        return len(self._t.annotators)
