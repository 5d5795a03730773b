"""Which label values still hold under the rubric version in force, computed once per version."""

from __future__ import annotations

from labeler.errors import LabelerError
from labeler.models import Label, Rubric
from labeler.rubric import Staleness, changed_criteria, staleness
from labeler.store import Dataset


class VersionIndex:
    """Per rubric version, the criteria that changed before the version in force (cheap staleness)."""

    def __init__(self, ds: Dataset):
        self.in_force: Rubric = ds.rubric()
        self._rubrics: dict[int, Rubric | None] = {}
        self._carried: dict[int, frozenset[str]] = {}
        self._n = len(self.in_force.criteria)
        self._ds = ds

    def rubric(self, version: int) -> Rubric | None:
        if version not in self._rubrics:
            try:
                self._rubrics[version] = self._ds.rubric(version)
            except LabelerError:
                self._rubrics[version] = None
        return self._rubrics[version]

    def staleness(self, label: Label) -> Staleness:
        return staleness(label, self.rubric(label.rubric), self.in_force)

    def carried(self, version: int) -> frozenset[str]:
        """Criteria in force whose values made under `version` still hold (unchanged since)."""
        if version not in self._carried:
            old = self.rubric(version)
            if old is None:
                self._carried[version] = frozenset()
            else:
                changed = {c for c, what in changed_criteria(old, self.in_force).items() if what != "removed"}
                self._carried[version] = frozenset(c for c in self.in_force.criteria if c not in changed)
        return self._carried[version]

    def holds(self, version: int, criterion: str) -> bool:
        """Does a value of `criterion` made under `version` still hold under the version in force?"""
        return criterion in self.carried(version)

    def is_current(self, label: Label) -> bool:
        """True when every criterion in force has a value that still holds."""
        carried = self.carried(label.rubric)
        return len(carried) == self._n and all(c in label.values for c in carried)

    def current_criteria(self, label: Label) -> set[str]:
        """The criteria of the rubric in force for which `label`'s value still holds."""
        return set(self.carried(label.rubric).intersection(label.values))
