"""What the derived views read from an open dataset: its columns and indexes (labeler/dataset.py hands them out).

A Protocol, so derived/ names what it needs without importing the door above it.
"""

from __future__ import annotations

from typing import Protocol

from labeler.derived.adjudications import AdjudicationIndex
from labeler.derived.cases import CaseStore
from labeler.derived.label_table import LabelsView, LabelTable
from labeler.derived.staleness import VersionIndex
from labeler.truth.models import DatasetConfig, Rubric


class Opened(Protocol):
    config: DatasetConfig
    cases: CaseStore
    case_index: dict[str, int]
    table: LabelTable
    adjudications: AdjudicationIndex

    @property
    def versions(self) -> VersionIndex: ...

    @property
    def labels(self) -> LabelsView: ...

    def rubric(self, version: int | None = None) -> Rubric: ...
