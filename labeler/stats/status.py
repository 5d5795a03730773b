"""`labeler status`: where a dataset stands (read from the label columns: one pass, no Label objects)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from labeler.derived.current import Current
from labeler.derived.label_table import NO_TIME
from labeler.dataset import Dataset


def dataset_status(ds: Dataset, days: int = 14, today: date | None = None) -> dict:
    """Cases by tier, labels per annotator, overlap reached, flagged and old cases.

    A label is "current" when every criterion in force holds a value that still holds; "stale"
    counts labels with at least one criterion the rubric changed since (stale_criteria counts
    those criteria one by one: one changed criterion of three is one, not three)."""
    today = today or date.today()
    k = ds.config.overlap
    versions = ds.versions
    cur = Current(ds, versions)
    complete = cur.complete()
    counts = complete.sum(axis=0) if complete.size else np.zeros(len(ds.cases), np.int64)
    tiers: dict[str, dict[str, int]] = {}
    reached = counts >= k
    case_tiers = ds.cases.tiers
    for name in sorted(set(case_tiers.tolist())):
        mask = case_tiers == name
        tiers[name] = {"cases": int(mask.sum()), "overlap_reached": int((reached & mask).sum())}
    t = ds.table
    stale_crit = np.zeros(cur.rows.shape, dtype=np.int64)
    for c in versions.in_force.criteria:
        col = t.cols.get(c)
        if col is None:
            continue
        had = np.zeros(cur.rows.shape, dtype=bool)
        had[cur.has] = col.a[cur.rows[cur.has]] >= 0
        stale_crit += had & (cur.matrix(c) < 0)
    flag_rows = {row for row, extra in t.extras.items() if extra.get("flags")}
    flagged: set[str] = set()
    annotators = {}
    ids = t.case_ids
    for i, ann in sorted(enumerate(cur.raters), key=lambda x: x[1]):
        rows = cur.rows[i][cur.has[i]]
        fl = [ids[int(t.case.a[r])] for r in rows if int(r) in flag_rows]
        flagged.update(fl)
        at = t.at.a[rows] if len(rows) else np.zeros(0, np.int64)
        at = at[at != NO_TIME]
        last = datetime.fromtimestamp(int(at.max()) / 1e6, timezone.utc) if len(at) else None
        cur_n = int(complete[i].sum())
        annotators[ann] = {"current": cur_n, "stale": int(len(rows) - cur_n), "stale_criteria": int(stale_crit[i].sum()),
                           "flagged": len(fl), "last": last}
    cutoff = (today - timedelta(days=days) - date(1970, 1, 1)).days
    added = ds.cases.added
    old = sorted(ids[j] for j in np.flatnonzero((added >= 0) & (added < cutoff) & ~reached))
    return {
        "dataset": ds.name, "rubric": ds.config.rubric, "rubric_version": ds.config.rubric_version, "overlap_k": k,
        "cases": len(ds.cases), "overlap_reached": int((counts >= k).sum()),
        "tiers": dict(sorted(tiers.items())), "annotators": annotators,
        "flagged_cases": sorted(flagged), "old_unfinished": old, "problems": [str(p) for p in ds.problems],
    }
