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
        """How many annotators hold a current label of `case_id` (computed in refresh, kept up to date)."""
        return self._counts.get(case_id, 0)

    def _count_all(self) -> None:
        counts: dict[str, int] = {}
        mine = 0
        stale = 0
        for ann, labels in self.ds.labels.items():
            for cid, lab in labels.items():
                if cid not in self.ds.cases:
                    continue
                cur = self.versions.is_current(lab)
                if cur:
                    counts[cid] = counts.get(cid, 0) + 1
                if ann == self.annotator:
                    mine += cur
                    stale += not cur
        self._counts, self._mine, self._stale = counts, mine, stale

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
        self._count_all()
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

    def labeled(self, case_id: str, was: Status) -> None:
        """This annotator just saved a label of `case_id`: update order and counts in O(queue), not O(dataset)."""
        now = self.status(case_id)
        if now is Status.done and was is not Status.done:
            self._counts[case_id] = self._counts.get(case_id, 0) + 1
            self._mine += 1
            self._stale -= was is Status.stale
        elif now is not Status.done and was is Status.done:
            self._counts[case_id] = max(0, self._counts.get(case_id, 0) - 1)
            self._mine -= 1
        if now is Status.done:
            if case_id in self.order:
                self.order.remove(case_id)
        elif case_id not in self.order and self._matches(case_id):
            self.order.insert(0, case_id)

    def progress(self) -> Progress:
        k = self.ds.config.overlap
        overlap = sum(1 for n in self._counts.values() if n >= k)
        return Progress(mine_done=self._mine, total=len(self.ds.cases), overlap_cases=overlap, stale=self._stale)
