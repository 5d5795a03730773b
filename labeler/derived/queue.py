"""Who labels what next: overlap k, blind labeling, stale labels after a rubric change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from labeler.derived.source import Opened


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
    """The cases one annotator should label next, in order. Never reveals others' values.

    Built from the label columns in one vectorized pass; a saved label updates only its own case."""

    def __init__(self, ds: Opened, annotator: str, tiers: set[str] | None = None, tags: set[str] | None = None):
        self.ds = ds
        self.annotator = annotator
        self.tiers = tiers
        self.tags = tags
        self.versions = ds.versions
        self.refresh()

    def _j(self, case_id: str) -> int:
        return self.ds.case_index[case_id]

    def status(self, case_id: str) -> Status:
        return _STATUS[int(self._status[self._j(case_id)])]

    def current_count(self, case_id: str) -> int:
        """How many annotators hold a current label of `case_id` (kept up to date as labels are saved)."""
        return int(self._counts[self._j(case_id)])

    def _matches(self, case_id: str) -> bool:
        return bool(self._match[self._j(case_id)])

    def refresh(self) -> None:
        """Recompute the order: my unlabeled cases that need labels (fewest first, then tier), then my stale ones."""
        from labeler.derived.current import Current

        ds = self.ds
        cur = Current(ds, self.versions)
        complete = cur.complete()
        n = len(ds.case_index)
        self._counts = complete.sum(axis=0).astype(np.int64) if complete.size else np.zeros(n, np.int64)
        status = np.zeros(n, dtype=np.int8)
        if self.annotator in cur.raters:
            i = cur.raters.index(self.annotator)
            status[cur.has[i]] = 1
            status[complete[i]] = 2
        self._status = status
        store = ds.cases
        tier = store.tier_order()
        match = np.ones(n, dtype=bool)
        if self.tiers:
            match &= np.isin(store.tiers, list(self.tiers))
        if self.tags:
            match &= np.fromiter((bool(self.tags.intersection(t)) for t in store.tags), dtype=bool, count=n)
        self._match = match
        k = ds.config.overlap
        pos = np.arange(n)
        todo = np.flatnonzero(match & (status == 0) & (self._counts < k))
        todo = todo[np.lexsort((pos[todo], tier[todo], self._counts[todo]))]
        stale = np.flatnonzero(match & (status == 1))
        stale = stale[np.lexsort((pos[stale], tier[stale]))]
        ids = ds.table.case_ids
        self.order = [ids[j] for j in todo] + [ids[j] for j in stale]
        self._mine = int((status == 2).sum())
        self._stale = int((status == 1).sum())

    def labeled(self, case_id: str, was: Status) -> None:
        """This annotator just saved (or withdrew) a label of `case_id`: update its case only, not the dataset."""
        j = self._j(case_id)
        label = self.ds.labels.get(self.annotator, {}).get(case_id)
        now = Status.todo if label is None else (Status.done if self.versions.is_current(label) else Status.stale)
        self._status[j] = _CODE[now]
        if now is Status.done and was is not Status.done:
            self._counts[j] += 1
            self._mine += 1
        elif now is not Status.done and was is Status.done:
            self._counts[j] = max(0, self._counts[j] - 1)
            self._mine -= 1
        self._stale += (now is Status.stale) - (was is Status.stale)
        if now is Status.done:
            if case_id in self.order:
                self.order.remove(case_id)
        elif case_id not in self.order and self._matches(case_id):
            self.order.insert(0, case_id)

    def progress(self) -> Progress:
        k = self.ds.config.overlap
        return Progress(mine_done=self._mine, total=len(self.ds.cases), overlap_cases=int((self._counts >= k).sum()),
                        stale=self._stale)


_STATUS = (Status.todo, Status.stale, Status.done)
_CODE = {s: i for i, s in enumerate(_STATUS)}
