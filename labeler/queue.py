"""Who labels what next: overlap k, blind labeling, stale labels after a rubric change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from labeler.models import TIER_ORDER
from labeler.store import Dataset
from labeler.versions import VersionIndex


class Status(str, Enum):
    todo = "todo"
    stale = "stale"
    done = "done"


@dataclass
class Progress:
    mine_done: int
    total: int
    overlap_cases: int
    """Cases with at least k current labels."""
    stale: int


class LabelQueue:
    """The cases one annotator should label next, in order. Never reveals others' values."""

    def __init__(self, ds: Dataset, annotator: str, tiers: set[str] | None = None, tags: set[str] | None = None):
        self.ds = ds
        self.annotator = annotator
        self.tiers = tiers
        self.tags = tags
        self.versions = VersionIndex(ds)
        self.refresh()

    def status(self, case_id: str) -> Status:
        label = self.ds.labels.get(self.annotator, {}).get(case_id)
        if label is None:
            return Status.todo
        return Status.done if self.versions.is_current(label) else Status.stale

    def current_count(self, case_id: str) -> int:
        n = 0
        for labels in self.ds.labels.values():
            lab = labels.get(case_id)
            if lab is not None and self.versions.is_current(lab):
                n += 1
        return n

    def _matches(self, case_id: str) -> bool:
        case = self.ds.cases[case_id]
        if self.tiers and case.tier.value not in self.tiers:
            return False
        if self.tags and not (self.tags & set(case.tags)):
            return False
        return True

    def refresh(self) -> None:
        """Recompute the order: my unlabeled cases that need labels (fewest first, then tier), then my stale ones."""
        k = self.ds.config.overlap
        todo, stale = [], []
        for pos, (cid, case) in enumerate(self.ds.cases.items()):
            if not self._matches(cid):
                continue
            st = self.status(cid)
            if st is Status.done:
                continue
            if st is Status.stale:
                stale.append((TIER_ORDER[case.tier], pos, cid))
                continue
            count = self.current_count(cid)
            if count >= k:
                continue
            todo.append((count, TIER_ORDER[case.tier], pos, cid))
        todo.sort()
        stale.sort()
        self.order = [t[-1] for t in todo] + [s[-1] for s in stale]

    def next_after(self, case_id: str | None) -> str | None:
        """The first queued case that is not `case_id`."""
        for cid in self.order:
            if cid != case_id:
                return cid
        return None

    def progress(self) -> Progress:
        mine = self.ds.labels.get(self.annotator, {})
        done = sum(1 for cid, lab in mine.items() if cid in self.ds.cases and self.versions.is_current(lab))
        stale = sum(1 for cid, lab in mine.items() if cid in self.ds.cases and not self.versions.is_current(lab))
        k = self.ds.config.overlap
        counts: dict[str, int] = {}
        for labels in self.ds.labels.values():
            for cid, lab in labels.items():
                if cid in self.ds.cases and self.versions.is_current(lab):
                    counts[cid] = counts.get(cid, 0) + 1
        overlap = sum(1 for n in counts.values() if n >= k)
        return Progress(mine_done=done, total=len(self.ds.cases), overlap_cases=overlap, stale=stale)
