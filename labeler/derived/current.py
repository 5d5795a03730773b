"""The label values that hold under the rubric in force: one small matrix per criterion, from the columns.

`Current(ds).matrix(c)` is annotators x cases of scale indexes (MISSING where there is no current
value). A value made under an older version holds when its criterion did not change since (same
question, description and scale), so its index in that version's scale is its index now.
"""

from __future__ import annotations

import numpy as np

from labeler.truth.models import Value
from labeler.derived.source import Opened
from labeler.derived.staleness import VersionIndex

MISSING = -1
"""A cell with no value (no label, a stale one, or off the scale); stats/ reads the same marker."""
CONFLICT = -2
"""In a vector of leads' gold: leads disagree, so there is no gold (the annotators' rule does not stand in)."""


class Current:
    def __init__(self, ds: Opened, versions: VersionIndex | None = None):
        self.ds = ds
        self.versions = versions or ds.versions
        self.table = ds.table
        self.raters = list(self.table.annotators)
        self.rows = self.table.matrix()
        """annotators x cases: row of each annotator's latest label (-1: none)."""
        self.has = self.rows >= 0
        self._flat = self.rows[self.has]
        self._m: dict[str, np.ndarray] = {}

    def _holds(self, criterion: str) -> np.ndarray:
        """A lookup by version number: does a value of `criterion` made under it still hold?"""
        top = int(self.table.version.v.max()) if len(self.table) else 0
        return np.array([self.versions.holds(v, criterion) if v > 0 else False for v in range(top + 1)], dtype=bool)

    def matrix(self, criterion: str) -> np.ndarray:
        """annotators x cases: the current scale index of `criterion`, MISSING where none."""
        if criterion not in self._m:
            out = np.full(self.rows.shape, MISSING, dtype=np.int64)
            col = self.table.cols.get(criterion)
            if col is not None and len(self._flat):
                vals = col.a[self._flat].astype(np.int64)
                ok = self._holds(criterion)[self.table.version.a[self._flat]] & (vals >= 0)
                out[self.has] = np.where(ok, vals, MISSING)
            self._m[criterion] = out
        return self._m[criterion]

    def values(self, criterion: str) -> dict[str, dict[str, Value]]:
        """annotator -> case -> current value (for screens that show a few; the numbers use matrix())."""
        scale = self.versions.in_force.criteria[criterion].scale.values()
        m = self.matrix(criterion)
        ids = self.table.case_ids
        out: dict[str, dict[str, Value]] = {}
        for i, a in enumerate(self.raters):
            js = np.flatnonzero(m[i] != MISSING)
            if len(js):
                out[a] = {ids[j]: scale[m[i, j]] for j in js}
        return out

    def complete(self) -> np.ndarray:
        """annotators x cases: the latest label holds a current value for every criterion in force."""
        ok = self.has.copy()
        for c in self.versions.in_force.criteria:
            ok &= self.matrix(c) != MISSING
        return ok

    def suggested(self) -> np.ndarray:
        """annotators x cases: the latest label was made with judge suggestions shown."""
        flag = np.zeros(len(self.table), dtype=bool)
        for row, extra in self.table.extras.items():
            if extra.get("suggested"):
                flag[row] = True
        out = np.zeros(self.rows.shape, dtype=bool)
        out[self.has] = flag[self._flat]
        return out


def made_under(ds: Opened, version: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """Each annotator's last label made under `version` (later versions ignored): (raters, criterion -> matrix)."""
    t = ds.table
    n = len(t.case_index)
    sel = np.flatnonzero(t.version.v == version)
    key = t.ann.a[sel].astype(np.int64) * n + t.case.a[sel]
    _, first = np.unique(key[::-1], return_index=True)
    last = sel[len(sel) - 1 - first]
    last = last[~t.retract.a[last]]
    raters = list(t.annotators)
    out = {}
    r = ds.rubric(version)
    for c in r.criteria:
        m = np.full((len(raters), n), MISSING, dtype=np.int64)
        col = t.cols.get(c)
        if col is not None:
            vals = col.a[last].astype(np.int64)
            m[t.ann.a[last], t.case.a[last]] = np.where(vals >= 0, vals, MISSING)
        out[c] = m
    return raters, out
