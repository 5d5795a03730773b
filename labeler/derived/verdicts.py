"""A judge run's verdicts as plain rows: 100,000 verdicts load in a blink and cost a few bytes each.

`RunVerdicts` is a Mapping case -> [Verdict] (built when a case is read, for screens); the numbers
(`first_values`, errors, cached keys) come straight from the rows. Each line is checked on its own:
a clean record is taken as it is, anything unusual goes through pydantic, which says what is wrong.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from pydantic import ValidationError

from labeler.errors import pydantic_message
from labeler.truth.models import CriterionVerdict, Rubric, Verdict
from labeler.names import check_safe_name
from labeler.truth.logs import read_log

_FIELDS = frozenset(Verdict.model_fields)
_ITEM_FIELDS = frozenset({"value", "rationale", "orders", "inconsistent"})


def _clean(rec: dict) -> bool:
    """A record pydantic would take unchanged (checked cheaply; the rest goes through pydantic)."""
    if not rec.keys() <= _FIELDS or type(rec.get("case")) is not str:
        return False
    if type(rec.get("repeat", 0)) is not int or rec.get("error") is not None and type(rec["error"]) is not str:
        return False
    values = rec.get("values", {})
    if type(values) is not dict:
        return False
    for item in values.values():
        if type(item) is not dict or not item.keys() <= _ITEM_FIELDS:
            return False
        if "orders" in item or "inconsistent" in item:  # a pairwise verdict: each order's answer, well typed
            orders = item.get("orders")
            if orders is not None and (type(orders) is not dict or not orders.keys() <= {"AB", "BA"}
                                       or any(x is not None and type(x) is not str and type(x) is not int for x in orders.values())):
                return False
            if type(item.get("inconsistent", False)) is not bool:
                return False
        v = item.get("value")
        if v is not None and type(v) is not int and type(v) is not str or type(item.get("rationale", "")) is not str:
            return False
    for k in ("raw", "cache_key", "at"):
        if rec.get(k) is not None and type(rec[k]) is not str:
            return False
    if rec.get("tokens") is not None and type(rec["tokens"]) is not int:
        return False
    if rec.get("at") is not None:
        try:
            datetime.fromisoformat(rec["at"].replace("Z", "+00:00"))
        except ValueError:
            return False
    try:
        check_safe_name(rec["case"], "case id")
    except ValueError:
        return False
    return True


class RunVerdicts(Mapping):
    """case -> every verdict of that case (repeats included), in file order.

    Columns: case, repeat, error, one scale index per criterion, cache key; everything a screen
    needs only now and then (rationales, raw answer, time, tokens) is one JSON line per verdict in
    a single text blob, decoded when a case is shown."""

    def __init__(self, scales: dict[str, list] | None = None) -> None:
        self.scales = scales or {}
        """criterion -> values in scale order (of the rubric version the run used)."""
        self.cases: list[str] = []
        self.repeat: list[int] = []
        self.error: list[str | None] = []
        self.vals = bytearray()
        """One byte per verdict and criterion, row after row (scale index + 1; 0 = no value)."""
        self.pair = bytearray()
        """One byte per verdict and criterion: 0 = not asked in two orders, 1 = both orders agreed, 2 = inconsistent."""
        self.keys: list[str] = []
        self.lines: list[int] = []
        self._blob: list[str] | None = []
        self._blob_bytes = b""
        self._by_case: dict[str, list[int]] | None = {}
        self._gone: set[str] = set()
        """Cases left out by keep (not in the dataset)."""
        self.problems: list[tuple[int | None, str, bool]] = []
        self.torn_line: int | None = None

    @classmethod
    def read(cls, path: Path, check: Callable[[dict, str], tuple[dict | None, str]], scales: dict[str, list]) -> "RunVerdicts":
        """verdicts.yaml read and checked line by line (what the dataset caches per run)."""
        read = read_log(path)
        return cls.parse(read.records, read.errors, read.torn_line, check, scales)

    @classmethod
    def parse(cls, records: list[tuple[int, dict]], errors: list[tuple[int | None, str]], torn_line: int | None,
              check: Callable[[dict, str], tuple[dict | None, str]], scales: dict[str, list]) -> "RunVerdicts":
        out = cls(scales)
        out.problems = [(ln, f"{msg}; line left out", True) for ln, msg in errors]
        out.torn_line = torn_line
        crits = list(scales)
        index = {c: {v: i for i, v in enumerate(vals)} for c, vals in scales.items()}
        for line, rec in records:
            if not _clean(rec):
                try:
                    rec = Verdict.model_validate(rec).model_dump(mode="json", exclude_defaults=True)
                except ValidationError as e:
                    out.problems.append((line, f"{pydantic_message(e)[1]}; line left out", True))
                    continue
            cid = rec["case"]
            items = rec.get("values") or {}
            code = bytearray(len(crits))
            if rec.get("error") is None:
                canon, err = check({c: item.get("value") for c, item in items.items()}, f"verdict for {cid}: ")
                if canon is None:
                    if err:
                        out.problems.append((line, f"{err}; left out", True))
                    continue
                for k, c in enumerate(crits):
                    v = canon.get(c)
                    if v is not None and not (items.get(c) or {}).get("inconsistent"):  # an inconsistent pair has no value
                        code[k] = index[c][v] + 1
            out.by_case.setdefault(cid, []).append(len(out.cases))
            out.cases.append(cid)
            out.repeat.append(rec.get("repeat", 0))
            out.error.append(rec.get("error"))
            out.vals += code
            out.pair += bytes((2 if items[c].get("inconsistent") else 1) if c in items and items[c].get("orders") else 0
                              for c in crits)
            out.keys.append(rec.get("cache_key", ""))
            out.lines.append(line)
            extra = {"r": {c: item.get("rationale", "") for c, item in items.items()},
                     "at": rec.get("at"), "raw": rec.get("raw"), "tokens": rec.get("tokens")}
            orders = {c: item["orders"] for c, item in items.items() if item.get("orders")}
            if orders:  # a pairwise verdict: each order's answer, and where they disagreed
                extra["o"] = orders
                extra["i"] = [c for c, item in items.items() if item.get("inconsistent")]
            out.blob.append(json.dumps(extra, ensure_ascii=False, default=str))
        if torn_line is not None:
            out.problems.append((torn_line, "incomplete last line (a crash mid-save): ignored, and set aside to "
                                            "<file>.torn on the next save", False))
        return out

    @property
    def blob(self) -> list[str]:
        """Per verdict, one JSON line of what a screen shows now and then: split when first asked for."""
        if self._blob is None:
            self._blob = self._blob_bytes.decode("utf-8", "surrogatepass").split("\n") if self._blob_bytes else []
        return self._blob

    def __getstate__(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_blob", "_blob_bytes", "_by_case", "_gone")}
        # one block of bytes each: stored raw (no JSON string to decode), read back without a walk
        state["blob"] = "\n".join(self.blob).encode("utf-8", "surrogatepass")
        state["vals"] = bytes(self.vals)
        state["pair"] = bytes(self.pair)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        self._blob_bytes, self._blob = state.pop("blob"), None
        self.__dict__.update(state)
        self._by_case, self._gone = None, set()

    @property
    def by_case(self) -> dict[str, list[int]]:
        """case -> its rows, in file order: built when first asked for (the numbers read the columns)."""
        if self._by_case is None:
            out: dict[str, list[int]] = {}
            gone = self._gone
            for i, c in enumerate(self.cases):
                if c not in gone:
                    out.setdefault(c, []).append(i)
            self._by_case = out
        return self._by_case

    def _row(self, buf, i: int) -> bytes:
        w = len(self.scales)
        return buf[i * w:(i + 1) * w]

    def keep(self, cases) -> list[tuple[int, str]]:
        """Leave out verdicts of cases not in the dataset; (line, case) of each left out."""
        gone = {c for c in set(self.cases) if c not in cases} - self._gone
        if not gone:
            return []
        self._gone |= gone
        if self._by_case is not None:
            for c in gone:
                self._by_case.pop(c, None)
        return [(self.lines[i], c) for i, c in enumerate(self.cases) if c in gone]

    # ---- Mapping

    def __getitem__(self, case: str) -> list[Verdict]:
        return [self._verdict(i) for i in self.by_case[case]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_case)

    def __len__(self) -> int:
        return len(self.by_case)

    def _values(self, i: int) -> dict[str, Any]:
        return {c: self.scales[c][b - 1] for c, b in zip(self.scales, self._row(self.vals, i)) if b}

    def _verdict(self, i: int) -> Verdict:
        extra = json.loads(self.blob[i])
        at = extra.get("at")
        values = self._values(i)
        return Verdict.model_construct(
            case=self.cases[i], repeat=self.repeat[i], error=self.error[i], cache_key=self.keys[i] or "",
            tokens=extra.get("tokens"), raw=extra.get("raw"),
            at=datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at,
            values={c: CriterionVerdict.model_construct(value=values.get(c), rationale=r, orders=extra.get("o", {}).get(c),
                                                        inconsistent=c in extra.get("i", ()))
                    for c, r in extra["r"].items()})

    # ---- numbers, straight from the rows

    def _first(self, case: str) -> int | None:
        best = None
        for i in self.by_case.get(case, ()):
            if self.error[i] is None and (best is None or self.repeat[i] < self.repeat[best]):
                best = i
        return best

    def first_values(self, cases=None) -> dict[str, dict[str, Any]]:
        """case -> criterion -> value of the first successful verdict (repeat 0 preferred)."""
        out = {}
        for cid in (self.by_case if cases is None else (c for c in cases if c in self.by_case)):
            i = self._first(cid)
            if i is not None:
                out[cid] = self._values(i)
        return out

    def first_verdicts(self) -> dict[str, dict[str, CriterionVerdict]]:
        out = {}
        for cid in self.by_case:
            i = self._first(cid)
            if i is not None:
                out[cid] = self._verdict(i).values
        return out

    def errored(self, cases=None) -> set[str]:
        """Cases whose every verdict is an error."""
        ids = self.by_case if cases is None else [c for c in cases if c in self.by_case]
        return {c for c in ids if all(self.error[i] is not None for i in self.by_case[c])}

    def error_count(self) -> int:
        return sum(1 for c, rows in self.by_case.items() for i in rows if self.error[i] is not None)

    def open_errors(self) -> int:
        """Errors no later line answered: (case, repeat) pairs with an error and no verdict."""
        rows = [i for r in self.by_case.values() for i in r]
        ok = {(self.cases[i], self.repeat[i]) for i in rows if self.error[i] is None}
        return len({(self.cases[i], self.repeat[i]) for i in rows if self.error[i] is not None} - ok)

    def position_counts(self, cases=None) -> dict[str, tuple[int, int]]:
        """criterion -> (verdicts whose two orders agreed, verdicts asked in both orders), over successful verdicts."""
        import numpy as np

        w = len(self.scales)
        rows = [i for i, e in enumerate(self.error) if e is None and (cases is None or self.cases[i] in cases)]
        if not rows or not w:
            return {c: (0, 0) for c in self.scales}
        m = np.frombuffer(bytes(self.pair), dtype=np.uint8).reshape(-1, w)[rows]
        return {c: (int((m[:, k] == 1).sum()), int((m[:, k] > 0).sum())) for k, c in enumerate(self.scales)}

    def position_rows(self, cases=None):
        """(criteria whose two orders agreed, criteria asked in both orders) per successful verdict: the
        pooled position-consistency rate resampled by verdict, not by criterion (they are correlated)."""
        import numpy as np

        w = len(self.scales)
        rows = [i for i, e in enumerate(self.error) if e is None and (cases is None or self.cases[i] in cases)]
        if not rows or not w:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        m = np.frombuffer(bytes(self.pair), dtype=np.uint8).reshape(-1, w)[rows]
        return (m == 1).sum(axis=1), (m > 0).sum(axis=1)

    def first_matrix(self, index: Mapping[str, int], n: int):
        """(cases x criteria scale indexes of each case's first successful verdict, -1 where none;
        cases x criteria: that verdict was inconsistent), for vectorized numbers over many cases."""
        import numpy as np

        w = len(self.scales)
        codes = np.full((n, w), -1, dtype=np.int16)
        incons = np.zeros((n, w), dtype=bool)
        cases = self.cases
        pos = np.fromiter(map(index.get, cases, repeat(-1)), dtype=np.int64, count=len(cases))
        ok = pos >= 0
        ok[[i for i, e in enumerate(self.error) if e is not None]] = False
        rows = np.flatnonzero(ok)
        if not len(rows) or not w:
            return codes, incons
        pos = pos[rows]
        rep = np.asarray(self.repeat, dtype=np.int64)[rows]
        vals = np.frombuffer(bytes(self.vals), dtype=np.uint8).reshape(-1, w)[rows].astype(np.int16) - 1
        pair = np.frombuffer(bytes(self.pair), dtype=np.uint8).reshape(-1, w)[rows]
        # written in reverse priority, so the lowest repeat (and among equals the earliest line) is written last
        order = np.lexsort((-np.arange(len(rows)), -rep))
        codes[pos[order]] = vals[order]
        incons[pos[order]] = pair[order] == 2
        return codes, incons

    def done_keys(self) -> set[str]:
        return {k for k, e in zip(self.keys, self.error) if e is None and k}


# ---------------------------------------------------------------- what a run says, from its rows or from fresh verdicts


def first_verdicts(verdicts: dict[str, list[Verdict]]) -> dict[str, dict[str, CriterionVerdict]]:
    """case -> criterion -> the first successful verdict (repeat 0 preferred), rationale included."""
    if hasattr(verdicts, "first_verdicts"):
        return verdicts.first_verdicts()
    out = {}
    for cid, vs in verdicts.items():
        ok = sorted((v for v in vs if v.error is None), key=lambda v: v.repeat)
        if ok:
            out[cid] = ok[0].values
    return out


def first_values(verdicts: dict[str, list[Verdict]]) -> dict[str, dict[str, Any]]:
    """case -> criterion -> value, from each case's first successful verdict."""
    if hasattr(verdicts, "first_values"):
        return verdicts.first_values()
    return {cid: {c: cv.value for c, cv in vals.items()} for cid, vals in first_verdicts(verdicts).items()}


def position_consistency(verdicts, rubric: Rubric, cases=None) -> dict[str, tuple[float | None, int]]:
    """criterion -> (share of pairwise verdicts whose two orders agree, verdicts asked in both orders)."""
    if hasattr(verdicts, "position_counts"):  # a run read from disk: straight from its columns
        got = verdicts.position_counts(cases)
        return {c: ((got[c][0] / got[c][1]) if c in got and got[c][1] else None, got.get(c, (0, 0))[1]) for c in rubric.criteria}
    counts = {c: [0, 0] for c in rubric.criteria}
    for cid in verdicts:
        if cases is not None and cid not in cases:
            continue
        for v in verdicts[cid]:
            if v.error:
                continue
            for c, cv in v.values.items():
                if c in counts and cv.orders:
                    counts[c][1] += 1
                    counts[c][0] += not cv.inconsistent
    return {c: (k / n if n else None, n) for c, (k, n) in counts.items()}
