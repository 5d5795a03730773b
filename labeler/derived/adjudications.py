"""Adjudications merged across leads, per case and criterion, by time.

Each lead appends to their own log. Gold for one criterion of one case is the latest decision
(by `at`, then file order) among the leads; the rubric version it was made under decides, per
criterion, whether it still holds. When two leads' latest values differ and the latest decision
was not made to settle that, it is a conflict: no gold for that criterion until a lead settles it
in review (the record then carries `settles: [criterion]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

from labeler.truth.models import Adjudication, Value

_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Decision:
    """One lead's latest word on one criterion of one case."""

    lead: str
    value: Value
    rubric: int
    at: datetime | None
    order: int
    """Load order: breaks ties between records with the same time."""
    settles: bool = False

    @property
    def sort_key(self) -> tuple:
        at = self.at if self.at is None or self.at.tzinfo else self.at.replace(tzinfo=timezone.utc)
        return (at or _EARLIEST, self.order)


@dataclass(frozen=True)
class Note:
    """A gap mark or a reason: text with the version and time it was written."""

    text: str
    rubric: int
    lead: str
    at: datetime | None
    order: int


@dataclass
class Gold:
    """What the adjudications say about one criterion of one case."""

    decision: Decision | None
    """The latest decision that still holds, unless leads disagree."""
    conflict: list[Decision] = field(default_factory=list)
    """Each lead's latest value when they disagree and nobody settled it (decision is then None)."""


Holds = Callable[[int, str], bool]
"""holds(rubric version, criterion): is a value of criterion made under that version still current?"""


class AdjudicationIndex:
    def __init__(self) -> None:
        self._gold: dict[str, dict[str, dict[str, Decision]]] = {}
        """case -> criterion -> lead -> that lead's latest decision."""
        self._gaps: dict[str, dict[str, Note]] = {}
        self._reasons: dict[str, dict[str, Note]] = {}
        self._order = 0

    def add(self, lead: str, adj: Adjudication) -> None:
        self._order += 1
        order = self._order
        settles = set(adj.settles)
        per = self._gold.setdefault(adj.case, {})
        for c, v in adj.gold.items():
            d = Decision(lead, v, adj.rubric, adj.at, order, c in settles)
            mine = per.setdefault(c, {})
            old = mine.get(lead)
            if old is None or d.sort_key >= old.sort_key:
                mine[lead] = d
        for store, texts in ((self._gaps, adj.gaps), (self._reasons, adj.reasons)):
            for c, text in texts.items():
                n = Note(text, adj.rubric, lead, adj.at, order)
                notes = store.setdefault(adj.case, {})
                old = notes.get(c)
                if old is None or (n.at or _EARLIEST, order) >= (old.at or _EARLIEST, old.order):
                    notes[c] = n

    def __contains__(self, case: str) -> bool:
        return case in self._gold or case in self._gaps or case in self._reasons

    def criteria(self, case: str) -> set[str]:
        return set(self._gold.get(case, {})) | set(self._gaps.get(case, {})) | set(self._reasons.get(case, {}))

    def gold(self, case: str, criterion: str, holds: Holds) -> Gold:
        leads = self._gold.get(case, {}).get(criterion)
        if not leads:
            return Gold(None)
        live = [d for d in leads.values() if holds(d.rubric, criterion)]
        if not live:
            return Gold(None)
        live.sort(key=lambda d: d.sort_key)
        latest = live[-1]
        if not latest.settles and any(d.value != latest.value for d in live):
            return Gold(None, live)
        return Gold(latest)

    def gold_values(self, case: str, holds: Holds) -> dict[str, Value]:
        """criterion -> adjudicated value that holds (conflicts left out)."""
        out = {}
        for c in self._gold.get(case, {}):
            g = self.gold(case, c, holds)
            if g.decision is not None:
                out[c] = g.decision.value
        return out

    def criterion_gold(self, criterion: str, holds: Holds) -> dict[str, Value]:
        """case -> adjudicated value of `criterion` that holds (conflicts left out)."""
        out = {}
        for case, per in self._gold.items():
            if criterion in per:
                g = self.gold(case, criterion, holds)
                if g.decision is not None:
                    out[case] = g.decision.value
        return out

    def conflicts(self, holds: Holds) -> Iterator[tuple[str, str, list[Decision]]]:
        """(case, criterion, each lead's latest decision) for every unsettled disagreement between leads."""
        for case, per in self._gold.items():
            for c, leads in per.items():
                if len(leads) > 1:
                    g = self.gold(case, c, holds)
                    if g.conflict:
                        yield case, c, g.conflict

    def gap(self, case: str, criterion: str, holds: Holds | None = None) -> Note | None:
        n = self._gaps.get(case, {}).get(criterion)
        return n if n is not None and (holds is None or holds(n.rubric, criterion)) else None

    def gaps(self, case: str) -> dict[str, Note]:
        return dict(self._gaps.get(case, {}))

    def reason(self, case: str, criterion: str) -> Note | None:
        return self._reasons.get(case, {}).get(criterion)

    def all_gaps(self) -> Iterator[tuple[str, str, Note]]:
        for case, per in self._gaps.items():
            for c, n in per.items():
                yield case, c, n
