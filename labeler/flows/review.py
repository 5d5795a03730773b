"""The lead's disagreement queue: see every annotator's value side by side, set gold. No UI here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from labeler.stats.agreement import Coefficient
from labeler.derived.adjudications import Decision
from labeler.errors import UsageError
from labeler.truth.models import Adjudication, Rubric, Value
from labeler.stats.numbers import Disagreement, agreement_groups, disagreements
from labeler.dataset import Dataset


def check_filters(ds: Dataset, criterion: str | None, annotator: str | None) -> None:
    """A filter that matches nothing by construction is a mistake to say, not an empty queue to show."""
    rubric = ds.rubric()
    if criterion is not None and criterion not in rubric.criteria:
        raise UsageError(f"--criterion {criterion!r} is not in rubric {rubric.name} v{rubric.version} "
                         f"(criteria: {', '.join(rubric.criteria)})")
    if annotator is not None and annotator not in ds.labels:
        raise UsageError(f"--annotator {annotator!r} has no labels in {ds.name} "
                         f"(annotators: {', '.join(sorted(ds.labels)) or 'none'})")


@dataclass
class Opinion:
    annotator: str
    value: Value | None
    note: str
    flag: str | None
    stale: bool


class ReviewSession:
    def __init__(self, ds: Dataset, lead: str, criterion: str | None = None, tier: str | None = None,
                 annotator: str | None = None, include_adjudicated: bool = False):
        self.ds = ds
        self.lead = lead
        self.criterion = criterion
        self.tier = tier
        self.annotator = annotator
        self.include_adjudicated = include_adjudicated
        self.versions = ds.versions
        self.rubric: Rubric = self.versions.in_force
        self.criteria = list(self.rubric.criteria)
        check_filters(ds, criterion, annotator)
        self.index = 0
        self.focus = 0
        self.last_set: str | None = None
        """The criterion whose gold was set last (a reason or gap mark typed next is for it)."""
        self.last_case: str | None = None
        """The case of `last_set`: the open case, or the case that gold just settled and sent out of the queue."""
        self._place = ds.path / ".cache" / "sessions" / f"{lead}.review.json"
        self.refresh(keep=self._resume())

    def refresh(self, keep: str | None = None) -> None:
        self.queue: list[Disagreement] = disagreements(
            self.ds, self.versions, criterion=self.criterion, tier=self.tier, annotator=self.annotator,
            include_adjudicated=self.include_adjudicated)
        ids = [d.case for d in self.queue]
        if keep in ids:
            self.index = ids.index(keep)
        self.index = min(self.index, max(0, len(self.queue) - 1))
        self.numbers = {r.criterion: (r.alpha, r.percent) for r in agreement_groups(self.ds, "criterion")[0].reports}
        self._focus_first_open()

    @property
    def current(self) -> Disagreement | None:
        return self.queue[self.index] if self.queue else None

    @property
    def focused(self) -> str:
        return self.criteria[self.focus]

    def _focus_first_open(self) -> None:
        d = self.current
        if d is None:
            return
        gold = self.gold_of(d.case)
        for i, c in enumerate(self.criteria):
            if c in d.criteria and c not in gold:
                self.focus = i
                return
        for i, c in enumerate(self.criteria):
            if c in d.criteria:
                self.focus = i
                return

    def _resume(self) -> str | None:
        """The case this lead had open last (derived, git-ignored): review reopens there, as labeling does."""
        import json

        from labeler.truth.limits import check_depth

        try:
            text = self._place.read_text()
            check_depth(text, self._place)
            at = json.loads(text).get("at")
        except (OSError, ValueError, AttributeError):
            return None
        return at if isinstance(at, str) else None

    def _remember(self) -> None:
        import json

        if self.current is None:
            return
        try:
            self._place.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._place.with_suffix(".tmp")
            tmp.write_text(json.dumps({"at": self.current.case}))
            tmp.replace(self._place)
        except OSError:
            pass  # a read-only checkout: reopening in place is a convenience

    def select(self, index: int) -> None:
        if self.queue:
            self.index = max(0, min(index, len(self.queue) - 1))
            self.last_set = None
            self._focus_first_open()
            self._remember()

    def case_ids(self) -> list[str]:
        """The cases of the queue, in its order (the palette jumps among these)."""
        return [d.case for d in self.queue]

    def jump(self, case_id: str) -> str:
        """Open a case of the queue by id; a case outside it is said, not opened."""
        ids = self.case_ids()
        if case_id not in ids:
            return f"{case_id} is not in this review queue" + ("" if self.include_adjudicated else " (A shows adjudicated cases)")
        self.select(ids.index(case_id))
        return f"opened {case_id}"

    def move(self, delta: int) -> None:
        self.focus = (self.focus + delta) % len(self.criteria)
        self.last_set = None

    def opinions(self, case_id: str, criterion: str) -> list[Opinion]:
        """Every annotator's value and note for one criterion (stale ones marked)."""
        out = []
        for ann in sorted(self.ds.labels):
            lab = self.ds.labels[ann].get(case_id)
            if lab is None:
                continue
            current = criterion in self.versions.current_criteria(lab)
            flag = next((f.reason or "rubric unclear" for f in lab.flags if f.criterion in (None, criterion)), None)
            out.append(Opinion(ann, lab.values.get(criterion), lab.note, flag, not current and criterion in lab.values))
        return out

    def open_criteria(self, d: Disagreement) -> list[str]:
        """The split criteria of a queued case still waiting for the lead: no gold yet, not marked a gap."""
        gold = self.gold_of(d.case)
        return [c for c in d.criteria if c not in gold and self.gap(d.case, c) is None]

    def has_note(self, case_id: str) -> bool:
        """Did any annotator leave a note on this case (with their current label)?"""
        t = self.ds.table
        j = self.ds.case_index.get(case_id)
        return j is not None and any(int(rows[j]) >= 0 and "note" in t.extras.get(int(rows[j]), {}) for rows in t.latest.values())

    def gold_of(self, case_id: str) -> dict[str, Value]:
        """criterion -> adjudicated gold that holds under the rubric in force (leads' conflicts left out)."""
        return self.ds.adjudications.gold_values(case_id, self.versions.holds)

    def conflict(self, case_id: str, criterion: str) -> list[Decision]:
        """Each lead's latest value when leads disagree on this criterion and nobody settled it."""
        return self.ds.adjudications.gold(case_id, criterion, self.versions.holds).conflict

    def reason(self, case_id: str, criterion: str) -> str | None:
        n = self.ds.adjudications.reason(case_id, criterion)
        return n.text if n else None

    def gap(self, case_id: str, criterion: str) -> str | None:
        n = self.ds.adjudications.gap(case_id, criterion, lambda v, c: v == self.rubric.version)
        return n.text if n else None

    def _save(self, case: str | None = None, **fields) -> None:
        case = case or (self.current.case if self.current else None)
        assert case is not None
        adj = Adjudication(case=case, rubric=self.rubric.version, by=self.lead,
                           at=datetime.now(timezone.utc).replace(microsecond=0), **fields)
        self.ds.save_adjudication(self.lead, adj)

    def set_gold(self, key: str) -> str:
        """Set the focused criterion's gold value by its key; saved at once. Returns a message.

        Focus stays on this criterion (a reason or gap mark typed next belongs to it); the
        screen moves on with the next key. Setting gold where leads disagree settles that.
        """
        d = self.current
        if d is None:
            return "queue empty"
        c = self.focused
        crit = self.rubric.criteria[c]
        value = next((v for v, k in crit.scale.keys().items() if k == key), None)
        if value is None:
            return f"{key!r} is not a value of {c} (keys: {'/'.join(crit.scale.keys().values())})"
        settles = [c] if self.conflict(d.case, c) else []
        self._save(gold={c: value}, settles=settles)
        self.last_set, self.last_case = c, d.case
        remaining = self.open_criteria(d)
        if remaining:
            self.focus = self.criteria.index(remaining[0])
            return f"gold {c} = {value}" + (" (settles the leads' disagreement)" if settles else "")
        case = d.case
        self._settled(case)
        return f"gold {c} = {value}; {case} adjudicated"

    def _settled(self, case: str) -> None:
        """The open case is adjudicated: it leaves the queue (or is marked, with --all) without recomputing
        the queue or the numbers (gold does not change agreement between annotators)."""
        if self.include_adjudicated:
            self.current.adjudicated = True
            return
        del self.queue[self.index]
        self.index = min(self.index, max(0, len(self.queue) - 1))
        self._focus_first_open()  # last_set stays: a reason or gap mark typed next is for the case just settled
        self._remember()

    def set_reason(self, text: str) -> str:
        """A reason for the gold just set (or the focused criterion when none was set on this case)."""
        if self.current is None and not self.last_set:
            return "queue empty"
        c, case = self.reason_target, self.reason_case
        self._save(case, reasons={c: text.strip()})
        return f"reason saved for {self.reason_label}"

    @property
    def reason_target(self) -> str:
        """The criterion a reason or gap mark attaches to: the one whose gold was just set, if any."""
        return self.last_set or self.focused

    @property
    def reason_case(self) -> str | None:
        """The case a reason or gap mark attaches to: the one whose gold was just set, even when that settled it."""
        return self.last_case if self.last_set else (self.current.case if self.current else None)

    @property
    def reason_label(self) -> str:
        """What a reason or gap prompt names: the criterion, and the case when it is no longer the open one."""
        moved = self.current is None or self.reason_case != self.current.case
        return f"{self.reason_target} of {self.reason_case}" if moved else self.reason_target

    def mark_gap(self, text: str) -> str:
        """Mark a criterion "rubric gap" (the one just set, else the focused one): collected for the next version."""
        if self.current is None and not self.last_set:
            return "queue empty"
        c, case = self.reason_target, self.reason_case
        self._save(case, gaps={c: text.strip() or "rubric gap"})
        return f"{self.reason_label} marked as a rubric gap"

    def toggle_adjudicated(self) -> None:
        keep = self.current.case if self.current else None
        self.include_adjudicated = not self.include_adjudicated
        self.refresh(keep=keep)

    def lowest_alpha(self) -> str | None:
        defined = {c: a.value for c, (a, _) in self.numbers.items() if a.value is not None}
        return min(defined, key=defined.get) if defined else None

    def header_numbers(self) -> dict[str, tuple[Coefficient, Coefficient]]:
        return self.numbers
