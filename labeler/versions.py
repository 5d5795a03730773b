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
        self._changed: dict[int, frozenset[str]] = {}
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

    def is_current(self, label: Label) -> bool:
        """True when every criterion in force has a value that still holds."""
        v = label.rubric
        if v not in self._changed:
            old = self.rubric(v)
            if old is None:
                self._changed[v] = frozenset(self.in_force.criteria)
            else:
                self._changed[v] = frozenset(c for c, what in changed_criteria(old, self.in_force).items() if what != "removed")
        if self._changed[v] & set(self.in_force.criteria):
            return False
        return all(c in label.values for c in self.in_force.criteria)

    def current_criteria(self, label: Label) -> set[str]:
        """The criteria of the rubric in force for which `label`'s value still holds."""
        self.is_current(label)  # fills the per-version cache
        changed = self._changed[label.rubric]
        return {c for c in label.values if c in self.in_force.criteria and c not in changed}
