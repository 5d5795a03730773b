"""The thin layer between a dataset's current columns and the statistics: one criterion's Ratings, the leads' gold.

stats/agreement.py computes on the arrays these return; `Current` (derived/current.py) only builds matrices.
"""

from __future__ import annotations

import numpy as np

from labeler.derived.current import CONFLICT, MISSING, Current
from labeler.stats.agreement import Ratings


def ratings_of(cur: Current, criterion: str, cases: np.ndarray | None = None, keep: np.ndarray | None = None) -> Ratings:
    """The Ratings of one criterion of the rubric in force, over `cases` (case indexes; all by default).
    `keep` (annotators x cases, bool) narrows which labels count, e.g. only those made with suggestions."""
    data = cur.matrix(criterion)
    if keep is not None:
        data = np.where(keep, data, MISSING)
    ids = cur.table.case_ids
    if cases is not None:
        data = data[:, cases]
        ids = list(map(ids.__getitem__, cases.tolist())) if isinstance(cases, np.ndarray) else [ids[j] for j in cases]
    crit = cur.versions.in_force.criteria[criterion]
    return Ratings.from_matrix(criterion, crit, cur.raters, ids, data)


def adjudicated_of(cur: Current, r: Ratings) -> np.ndarray:
    """The leads' gold per case of `r` (scale index): MISSING where no lead decided, CONFLICT where
    their latest values differ and nobody settled it. A conflict is no gold at all until a lead
    settles it: the annotators' consensus does not stand in for it (Ratings.gold)."""
    adj = cur.ds.adjudications
    out = r.ref_vector(adj.criterion_gold(r.criterion_id, cur.versions.holds))
    mine = {case for case, c, _ in adj.conflicts(cur.versions.holds) if c == r.criterion_id}
    if mine:  # most criteria have none: no case-position map to build
        for j, case in enumerate(r.cases):
            if case in mine:
                out[j] = CONFLICT
    return out
