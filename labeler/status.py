"""`labeler status`: where a dataset stands."""

from __future__ import annotations

from datetime import date, timedelta

from labeler.queue import LabelQueue
from labeler.store import Dataset


def dataset_status(ds: Dataset, days: int = 14, today: date | None = None) -> dict:
    today = today or date.today()
    k = ds.config.overlap
    q = LabelQueue(ds, annotator="")  # no one: only the shared numbers
    counts = {cid: q.current_count(cid) for cid in ds.cases}
    tiers: dict[str, dict[str, int]] = {}
    for cid, case in ds.cases.items():
        row = tiers.setdefault(case.tier.value, {"cases": 0, "overlap_reached": 0})
        row["cases"] += 1
        row["overlap_reached"] += counts[cid] >= k
    annotators = {}
    flagged: set[str] = set()
    for ann, labels in sorted(ds.labels.items()):
        cur = sum(1 for lab in labels.values() if q.versions.is_current(lab))
        fl = [cid for cid, lab in labels.items() if lab.flags]
        flagged.update(fl)
        last = max((lab.at for lab in labels.values() if lab.at), default=None)
        annotators[ann] = {"current": cur, "stale": len(labels) - cur, "flagged": len(fl), "last": last}
    cutoff = today - timedelta(days=days)
    old = sorted(cid for cid, case in ds.cases.items() if case.added and case.added < cutoff and counts[cid] < k)
    return {
        "dataset": ds.name, "rubric": ds.config.rubric, "rubric_version": ds.config.rubric_version, "overlap_k": k,
        "cases": len(ds.cases), "overlap_reached": sum(1 for n in counts.values() if n >= k),
        "tiers": dict(sorted(tiers.items())), "annotators": annotators,
        "flagged_cases": sorted(flagged), "old_unfinished": old, "problems": [str(p) for p in ds.problems],
    }
