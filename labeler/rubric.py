"""Rubric versions: which labels are still current, and what changed between versions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from labeler.models import Label, Rubric


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


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op in '=', '-', '+': a word-level diff for showing description edits."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        else:
            if i2 > i1:
                out.append(("-", " ".join(a[i1:i2])))
            if j2 > j1:
                out.append(("+", " ".join(b[j1:j2])))
    return out
