"""One annotator's labeling session: the draft, the keys, saving, undo. No UI here.

The labeling screen only presents this object and forwards keys to it, so every rule
(C keystrokes per case, save on the last criterion, undo, stale values) is tested without Textual.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from labeler.errors import LabelerError
from labeler.truth.models import Flag, Label, Rubric, Value
from labeler.truth.pairs import Order, from_position, shown_order, swap_values
from labeler.derived.queue import LabelQueue, Status
from labeler.dataset import Dataset


@dataclass
class Outcome:
    """What a key did, for the screen to show."""

    saved: bool = False
    advanced: bool = False
    message: str = ""


@dataclass
class Draft:
    case_id: str
    values: dict[str, Value] = field(default_factory=dict)
    stale: dict[str, Value] = field(default_factory=dict)
    """criterion -> the value given under an older version whose criterion has changed."""
    note: str = ""
    flags: list[Flag] = field(default_factory=list)
    dirty: bool = False
    focus: int = 0
    shown: Order | None = None
    """A pairwise case: the order its outputs are shown in (values above are always A/B)."""


class LabelSession:
    def __init__(self, ds: Dataset, annotator: str, email: str | None = None,
                 tiers: set[str] | None = None, tags: set[str] | None = None, clock=time.monotonic,
                 suggest: str | None = None, git_name: str | None = None):
        self.ds = ds
        self.git_name = git_name
        self.suggest_run = suggest
        self.suggestions: dict[str, dict[str, Value]] = {}
        if suggest:
            from labeler.derived.verdicts import first_values

            self.suggestions = first_values(ds.judge_run(suggest)[1])
        self.annotator = annotator
        self.email = email
        self.queue = LabelQueue(ds, annotator, tiers, tags)
        self.rubric: Rubric = self.queue.versions.in_force
        self.criteria = list(self.rubric.criteria)
        self.clock = clock
        self.started = clock()
        self.saved_count = 0
        self.history: list[str] = []
        self._undo: list[tuple[str, Label | None]] = []
        self._skipped: list[str] = []
        self.draft: Draft | None = None
        self.case_started = clock()
        self.last_query = ""
        self._place = ds.path / ".cache" / "sessions" / f"{annotator}.place.json"
        first = self._resume()
        if first:
            self.open(first)

    # ---- navigation

    @property
    def case_id(self) -> str | None:
        return self.draft.case_id if self.draft else None

    def _resume(self) -> str | None:
        """Where this annotator left off (derived, git-ignored): the case that was open, if it still
        needs their label, else the next in the queue; skipped cases stay at the end."""
        import json

        try:
            from labeler.truth.limits import check_depth

            text = self._place.read_text()
            check_depth(text, self._place)  # too deep: a ValueError, so no place is remembered
            place = json.loads(text)
            self._skipped = [c for c in place.get("skipped", []) if isinstance(c, str) and c in self.ds.cases]
            at = place.get("at")
        except (OSError, ValueError, AttributeError):
            at = None
        if isinstance(at, str) and at in self.ds.cases and self.queue.status(at) is not Status.done and at not in self._skipped:
            return at
        return self._next_case(None)

    def _remember(self) -> None:
        import json

        try:
            self._place.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._place.with_suffix(".tmp")
            tmp.write_text(json.dumps({"at": self.case_id, "skipped": self._skipped}))
            tmp.replace(self._place)
        except OSError:
            pass  # a read-only checkout: resuming is a convenience

    def is_skipped(self, case_id: str) -> bool:
        return case_id in self._skipped

    def _next_case(self, after: str | None) -> str | None:
        for cid in self.queue.order:
            if cid != after and cid not in self._skipped:
                return cid
        for cid in self._skipped:
            if cid != after and self.queue.status(cid) is not Status.done:
                return cid
        return None

    def open(self, case_id: str, remember: bool = True) -> None:
        """Show `case_id` with this annotator's own values (current ones as values, changed ones as stale)."""
        if case_id not in self.ds.cases:
            raise LabelerError(f"no case {case_id!r} in {self.ds.name}")
        self._leave()
        if remember and self.draft is not None and (not self.history or self.history[-1] != self.draft.case_id):
            self.history.append(self.draft.case_id)
        draft = Draft(case_id)
        if self.rubric.pairwise and self.ds.cases.sources(self.ds.cases.index[case_id]) is not None:
            draft.shown = shown_order(self.annotator, case_id)
        own = self.ds.labels.get(self.annotator, {}).get(case_id)
        if own is not None:
            current = self.queue.versions.current_criteria(own)
            for c in self.criteria:
                if c in current:
                    draft.values[c] = own.values[c]
                elif c in own.values:
                    draft.stale[c] = own.values[c]
            draft.note = own.note
            draft.flags = list(own.flags)
        draft.focus = self._first_unset(draft, 0) if len(draft.values) < len(self.criteria) else 0
        self.draft = draft
        self.case_started = self.clock()
        self._remember()

    def _leave(self) -> None:
        """Leaving a case with a complete, changed draft saves it: nothing typed is lost."""
        d = self.draft
        if d and d.dirty and self.complete:
            self._save()

    def next(self) -> Outcome:
        """Go to the next case in the queue."""
        nxt = self._next_case(self.case_id)
        if nxt is None:
            self._leave()
            return Outcome(message="queue finished: every case has its labels")
        self.open(nxt)
        return Outcome(advanced=True)

    def skip(self) -> Outcome:
        if self.case_id and self.case_id not in self._skipped:
            self._skipped.append(self.case_id)
        out = self.next()
        self._remember()
        return out

    def previous(self) -> Outcome:
        if not self.history:
            return Outcome(message="no previous case")
        cid = self.history.pop()
        self.open(cid, remember=False)
        return Outcome(advanced=True)

    def jump(self, case_id: str) -> Outcome:
        """Open a case by id, or by a prefix or part of an id that names exactly one case."""
        case_id = case_id.strip()
        if case_id not in self.ds.cases:
            low = case_id.lower()
            starts = [c for c in self.ds.cases if c.lower().startswith(low)]
            close = starts or [c for c in self.ds.cases if low in c.lower()]
            if len(close) == 1:
                case_id = close[0]
            else:
                hint = f" ({len(close)} match: {', '.join(close[:3])}{' ...' if len(close) > 3 else ''})" if close else ""
                return Outcome(message=f"no case {case_id!r}{hint}")
        self.open(case_id)
        return Outcome(advanced=True, message=f"opened {case_id}")

    def search(self, text: str) -> Outcome:
        """Open the next case (after the current one, wrapping) whose id, input or output contains `text`,
        and say which match it is of how many. The query is kept: searching again goes to the next."""
        needle = text.strip().lower()
        if not needle:
            return Outcome(message="empty search")
        self.last_query = text.strip()
        store = self.ds.cases
        raw = needle.encode("utf-8", "surrogatepass")
        hits = []
        for j in range(len(store)):
            cid = store.ids[j]
            if raw not in store.raw(j).lower() and needle not in cid.lower():
                continue  # a quick look at the stored JSON text first: only likely hits build a Case
            c = store.case(j)
            if needle in cid.lower() or needle in c.input.lower() or needle in c.output.lower() or needle in (c.output_b or "").lower():
                hits.append(j)
        if not hits:
            return Outcome(message=f"{text.strip()!r} not found")
        here = store.index.get(self.case_id, -1) if self.case_id else -1
        after = [j for j in hits if j > here]
        j = after[0] if after else hits[0]
        cid = store.ids[j]
        n = hits.index(j) + 1
        if cid == self.case_id:
            return Outcome(message=f"{text.strip()!r}: only this case matches")
        self.open(cid)
        return Outcome(advanced=True, message=f"{text.strip()!r}: match {n} of {len(hits)} ({cid}); / then enter for the next")

    # ---- filters (the command palette)

    def set_filter(self, tiers: set[str] | None = ..., tags: set[str] | None = ...) -> Outcome:
        """Queue only these tiers / tags (None: every one; an argument left out stays as it is), then
        open the next case of the new queue."""
        q = self.queue
        if tiers is not ...:
            q.tiers = tiers
        if tags is not ...:
            q.tags = tags
        q.refresh()
        out = self.next()
        out.message = f"filter: {self.filter_text()}" if self.filter_text() else "no filter: every case queued"
        return out

    def filter_text(self) -> str:
        """The filters in force, in words ("" when none), for the screen to keep in view."""
        parts = [f"tier {', '.join(sorted(self.queue.tiers))}"] if self.queue.tiers else []
        if self.queue.tags:
            parts.append(f"tag {', '.join(sorted(self.queue.tags))}")
        return " · ".join(parts)

    # ---- values

    @property
    def focused(self) -> str:
        return self.criteria[self.draft.focus] if self.draft else self.criteria[0]

    @property
    def complete(self) -> bool:
        return self.draft is not None and all(c in self.draft.values for c in self.criteria)

    def _first_unset(self, d: Draft, start: int) -> int:
        n = len(self.criteria)
        for k in range(n):
            i = (start + k) % n
            if self.criteria[i] not in d.values:
                return i
        return start % n

    def move(self, delta: int) -> None:
        if self.draft:
            self.draft.focus = (self.draft.focus + delta) % len(self.criteria)

    def value_for_key(self, key: str, criterion: str | None = None) -> Value | None:
        """The value a key stands for; a pairwise key picks a position, turned into A or B here."""
        crit = self.rubric.criteria[criterion or self.focused]
        for v, k in crit.scale.keys().items():
            if k == key:
                return from_position(v, self.draft.shown) if self.draft and self.draft.shown else v
        return None

    def as_shown(self, values: dict[str, Value]) -> dict[str, Value]:
        """Values (A/B) in the positions the open case shows them at, for the screen."""
        d = self.draft
        return swap_values(values, d.shown) if d and d.shown else values

    def press(self, key: str) -> Outcome:
        """A value key: set the focused criterion, move on; after the last criterion, save and open the next case."""
        if self.draft is None:
            return Outcome(message="nothing to label")
        c = self.focused
        v = self.value_for_key(key, c)
        if v is None:
            keys = "/".join(self.rubric.criteria[c].scale.keys().values())
            return Outcome(message=f"{key!r} is not a value of {c} (keys: {keys})")
        return self.set_value(v)

    def suggestion(self) -> dict[str, Value]:
        """The judge's values for the open case (only with --suggest)."""
        if self.draft is None:
            return {}
        return {c: v for c, v in self.suggestions.get(self.draft.case_id, {}).items() if c in self.rubric.criteria}

    def accept(self) -> Outcome:
        """Take the judge's suggestion for the focused criterion (one key), then move on as a value key does."""
        v = self.suggestion().get(self.focused)
        if v is None:
            return Outcome(message=f"no suggestion for {self.focused}")
        return self.set_value(v)

    def set_value(self, v: Value) -> Outcome:
        c = self.focused
        d = self.draft
        was_complete = self.complete
        if d.values.get(c) != v:
            d.values[c] = v
            d.dirty = True
        d.stale.pop(c, None)
        if not self.complete:
            d.focus = self._first_unset(d, d.focus + 1)
            return Outcome()
        # Complete: durable now. A case just completed opens the next one; editing a labeled
        # case moves through its criteria and leaves after the last.
        saved = False
        if d.dirty:
            self._save()
            saved = True
        if not was_complete or d.focus == len(self.criteria) - 1:
            out = self.next()
            out.saved = saved
            return out
        d.focus += 1
        return Outcome(saved=saved)

    def clear(self) -> None:
        if self.draft and self.focused in self.draft.values:
            del self.draft.values[self.focused]
            self.draft.dirty = True

    def submit(self) -> Outcome:
        """Save the complete draft (if changed) and open the next case."""
        if not self.complete:
            missing = [c for c in self.criteria if c not in self.draft.values] if self.draft else []
            return Outcome(message=f"not saved: no value yet for {', '.join(missing)}")
        saved = False
        if self.draft.dirty:
            self._save()
            saved = True
        out = self.next()
        out.saved = saved
        return out

    def _save(self) -> None:
        d = self.draft
        assert d is not None
        previous = self.ds.labels.get(self.annotator, {}).get(d.case_id)
        was = self.queue.status(d.case_id)
        label = Label(
            case=d.case_id, rubric=self.rubric.version, rubric_hash=self.rubric.content_hash(),
            values={c: d.values[c] for c in self.criteria}, note=d.note, flags=list(d.flags),
            at=datetime.now(timezone.utc).replace(microsecond=0),
            seconds=round(self.clock() - self.case_started, 1), email=self.email, git_name=self.git_name,
            suggested=self.suggest_run if self.suggestion() else None, shown=d.shown,
        )
        self.ds.save_label(self.annotator, label)
        self._undo.append((d.case_id, previous))
        self.saved_count += 1
        d.dirty = False
        self.queue.labeled(d.case_id, was)

    # ---- note, flag, undo

    def set_note(self, text: str) -> Outcome:
        if self.draft is None:
            return Outcome()
        self.draft.note = text.strip()
        self.draft.dirty = True
        if self.complete:
            self._save()
            return Outcome(saved=True, message="note saved")
        return Outcome(message="note kept; saved with the label")

    def flag_unclear(self, reason: str) -> Outcome:
        """Flag the focused criterion "rubric unclear" (feeds the tightening loop)."""
        if self.draft is None:
            return Outcome()
        c = self.focused
        self.draft.flags = [f for f in self.draft.flags if f.criterion != c]
        self.draft.flags.append(Flag(kind="rubric_unclear", criterion=c, reason=reason.strip()))
        self.draft.dirty = True
        if self.complete:
            self._save()
            return Outcome(saved=True, message=f"flagged {c}: rubric unclear")
        return Outcome(message=f"flagged {c}: rubric unclear (saved with the label)")

    def undo(self) -> Outcome:
        """Withdraw the last label saved in this session and reopen its case to fix it."""
        if not self._undo:
            return Outcome(message="nothing to undo")
        case_id, previous = self._undo.pop()
        undone = self.ds.labels.get(self.annotator, {}).get(case_id)
        was = self.queue.status(case_id)
        if previous is None:
            self.ds.save_label(self.annotator, Label(case=case_id, rubric=self.rubric.version, retract=True,
                                                     at=datetime.now(timezone.utc).replace(microsecond=0)))
        else:
            self.ds.save_label(self.annotator, previous)
        self.saved_count = max(0, self.saved_count - 1)
        self.queue.labeled(case_id, was)
        self.draft = None
        self.open(case_id, remember=False)
        if undone is not None:
            self.draft.values = {c: v for c, v in undone.values.items() if c in self.rubric.criteria}
            self.draft.note = undone.note
            self.draft.flags = list(undone.flags)
            self.draft.focus = len(self.criteria) - 1
        return Outcome(advanced=True, message=f"undid the label of {case_id}")

    # ---- numbers for the header

    def labels_per_hour(self) -> float | None:
        """Labels per hour in this session, once there is enough to say (5 labels over 2 minutes)."""
        elapsed = self.clock() - self.started
        if self.saved_count < 5 or elapsed < 120:
            return None
        return self.saved_count / (elapsed / 3600.0)

    def seconds_on_case(self) -> float:
        return self.clock() - self.case_started

    def status_of(self, case_id: str) -> Status:
        return self.queue.status(case_id)
