"""Staleness: which label values still hold under the rubric version in force, and what changed between versions.

A value holds when its criterion (question, description, scale) is the same in the version it was
made under and in the version in force. `VersionIndex` answers that once per version, not per label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from labeler.errors import LabelerError
from labeler.truth.models import Label, Rubric


class Rubrics(Protocol):
    """Where a VersionIndex reads rubric versions (a Dataset): the one in force, or a given version."""

    def rubric(self, version: int | None = None) -> Rubric: ...


@dataclass(frozen=True)
class Staleness:
    current: frozenset[str]
    """Criteria whose label still holds under the rubric in force."""
    stale: frozenset[str]
    """Criteria labeled under an older version whose text or scale has changed since."""
    missing: frozenset[str]
    """Criteria of the rubric in force that the label has no value for."""

    @property
    def complete(self) -> bool:
        return not self.stale and not self.missing


def staleness(label: Label, made_under: Rubric | None, in_force: Rubric) -> Staleness:
    """Which of `label`'s values carry over to `in_force`.

    A value is current when the criterion is unchanged (same question, description and scale)
    between the version the label was made under and the version in force.
    """
    wanted = set(in_force.criteria)
    have = {c for c in label.values if c in wanted}
    if made_under is None:
        return Staleness(frozenset(), frozenset(have), frozenset(wanted - have))
    if made_under.version == in_force.version:
        return Staleness(frozenset(have), frozenset(), frozenset(wanted - have))
    old = made_under.criterion_hashes()
    new = in_force.criterion_hashes()
    current = {c for c in have if old.get(c) == new[c]}
    return Staleness(frozenset(current), frozenset(have - current), frozenset(wanted - have))


def changed_criteria(a: Rubric, b: Rubric) -> dict[str, str]:
    """criterion -> 'added' | 'removed' | 'changed' between versions a and b."""
    ha, hb = a.criterion_hashes(), b.criterion_hashes()
    out = {}
    for c in hb:
        if c not in ha:
            out[c] = "added"
        elif ha[c] != hb[c]:
            out[c] = "changed"
    for c in ha:
        if c not in hb:
            out[c] = "removed"
    return out


class VersionIndex:
    """Per rubric version, the criteria that changed before the version in force (cheap staleness).

    A dataset builds one per rubric in force (`Dataset.versions`) and hands it out."""

    def __init__(self, ds: Rubrics, in_force: Rubric | None = None, lookup: Callable[[int], Rubric] | None = None):
        """`lookup(version)` reads a version (ds.rubric by default), raising LabelerError when it cannot."""
        self.in_force: Rubric = in_force or ds.rubric()
        self._lookup = lookup or ds.rubric
        self._rubrics: dict[int, Rubric | None] = {}
        self._carried: dict[int, frozenset[str]] = {}
        self._n = len(self.in_force.criteria)

    def rubric(self, version: int) -> Rubric | None:
        if version not in self._rubrics:
            try:
                self._rubrics[version] = self._lookup(version)
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
