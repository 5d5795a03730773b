"""The label values that hold under the rubric in force: one small matrix per criterion, from the columns.

`Current(ds).matrix(c)` is annotators x cases of scale indexes (MISSING where there is no current
value). A value made under an older version holds when its criterion did not change since (same
question, description and scale), so its index in that version's scale is its index now.
"""

from __future__ import annotations

import numpy as np

from labeler.stats.agreement import CONFLICT, MISSING, Ratings
from labeler.truth.models import Value
from labeler.truth.store import Dataset
from labeler.derived.staleness import VersionIndex


class Current:
    def __init__(self, ds: Dataset, versions: VersionIndex | None = None):
        self.ds = ds
        self.versions = versions or VersionIndex(ds)
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

    def ratings(self, criterion: str, cases: np.ndarray | None = None, keep: np.ndarray | None = None) -> Ratings:
        """The Ratings of one criterion of the rubric in force, over `cases` (case indexes; all by default).
        `keep` (annotators x cases, bool) narrows which labels count, e.g. only those made with suggestions."""
        data = self.matrix(criterion)
        if keep is not None:
            data = np.where(keep, data, MISSING)
        ids = self.table.case_ids
        if cases is not None:
            data = data[:, cases]
            ids = [ids[j] for j in cases]
        crit = self.versions.in_force.criteria[criterion]
        return Ratings.from_matrix(criterion, crit, self.raters, ids, data)

    def adjudicated(self, r: Ratings) -> np.ndarray:
        """The leads' gold per case of `r` (scale index): MISSING where no lead decided, CONFLICT where
        their latest values differ and nobody settled it. A conflict is no gold at all until a lead
        settles it: the annotators' consensus does not stand in for it (Ratings.gold)."""
        adj = self.ds.adjudications
        out = r.ref_vector(adj.criterion_gold(r.criterion_id, self.versions.holds))
        col = {c: j for j, c in enumerate(r.cases)}
        for case, c, _ in adj.conflicts(self.versions.holds):
            if c == r.criterion_id and case in col:
                out[col[case]] = CONFLICT
        return out

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


def made_under(ds: Dataset, version: int) -> tuple[list[str], dict[str, np.ndarray]]:
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
