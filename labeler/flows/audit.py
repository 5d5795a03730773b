"""Auditing the judge: its verdicts beside gold and each annotator; right or wrong, with a reason. No UI here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from labeler.errors import LabelerError
from labeler.stats.agreement import GoldValue
from labeler.stats.calibrate import Calibration, calibrate
from labeler.derived.verdicts import first_verdicts
from labeler.truth.models import Adjudication, Audit, CriterionVerdict, Rubric, Value
from labeler.derived.current import Current
from labeler.stats.numbers import gold
from labeler.dataset import Dataset

REASONS = {
    "1": ("judge_misread", "judge misread the case"),
    "2": ("rubric_ambiguous", "rubric ambiguous (marks a rubric gap)"),
    "3": ("gold_wrong", "human gold looks wrong (back to review)"),
    "4": ("other", "other"),
}


@dataclass
class Row:
    criterion: str
    judge: CriterionVerdict | None
    other: CriterionVerdict | None
    """The --vs run's verdict, when comparing two runs."""
    gold: GoldValue | None
    humans: dict[str, tuple[Value, str]]
    audit: Audit | None


class AuditSession:
    def __init__(self, ds: Dataset, auditor: str, run: str, vs: str | None = None, criterion: str | None = None,
                 tier: str | None = None, tag: str | None = None, only_disagreements: bool = False, only_worse: bool = False):
        self.ds, self.auditor, self.run, self.vs = ds, auditor, run, vs
        self.only_worse = only_worse
        """A regression audit: only the cases where this run's verdict is worse than the --vs run's."""
        self.criterion, self.tier, self.tag, self.only_disagreements = criterion, tier, tag, only_disagreements
        self.versions = ds.versions
        self.rubric: Rubric = self.versions.in_force
        self.criteria = list(self.rubric.criteria)
        self.meta, self.verdicts = ds.judge_run(run)
        self.other_meta, other = ds.judge_run(vs) if vs else (None, {})
        self.other = first_verdicts(other) if vs else {}
        self.outputs = ds.candidate(self.meta.candidate).outputs if self.meta.candidate else None
        self.other_outputs = ds.candidate(self.other_meta.candidate).outputs if self.other_meta and self.other_meta.candidate else None
        self.index = 0
        self.focus = 0
        self.reload()

    def reload(self) -> None:
        self.held = Current(self.ds, self.versions)
        self.gold = gold(self.ds, self.versions, self.held)
        self.audits = self.ds.audits(self.run)
        self.judge = first_verdicts(self.verdicts)
        self.queue = self._build_queue()
        self.index = min(self.index, max(0, len(self.queue) - 1))
        self.numbers: list[Calibration] = calibrate(self.ds, self.verdicts)

    def disagreement(self, cid: str) -> int:
        g = self.gold.get(cid, {})
        return sum(1 for c, cv in self.judge.get(cid, {}).items() if c in g and cv.value is not None
                   and g[c].value != cv.value and (self.criterion is None or c == self.criterion))

    def inconsistent(self, cid: str) -> int:
        """Pairwise verdicts of this case that changed with the order the outputs were shown in."""
        return sum(1 for c, cv in self.judge.get(cid, {}).items() if getattr(cv, "inconsistent", False)
                   and (self.criterion is None or c == self.criterion))

    def worse(self, cid: str) -> list[str]:
        """Criteria on which this run's verdict is worse than the --vs run's (pass to fail, or a lower point)."""
        from labeler.stats.report import pass_values

        out = []
        for c, crit in self.rubric.criteria.items():
            a, b = self.other.get(cid, {}).get(c), self.judge.get(cid, {}).get(c)
            if a is None or b is None or (self.criterion and c != self.criterion):
                continue
            passing = pass_values(crit)
            lower = crit.scale.type.value == "ordinal" and b.value < a.value
            if lower or (passing and a.value in passing and b.value not in passing):
                out.append(c)
        return out

    def case(self, cid: str):
        """The case as this run judged it: with the candidate's output when the run scored a candidate."""
        case = self.ds.cases[cid]
        if self.outputs is not None and cid in self.outputs:
            case = case.model_copy(update={"output": self.outputs[cid]})
        return case

    def previous_output(self, cid: str) -> str | None:
        """In a regression audit, the output the --vs run judged (the golden one, or its candidate's)."""
        if not self.vs:
            return None
        if self.other_outputs is not None:
            return self.other_outputs.get(cid)
        return self.ds.cases[cid].output

    def _build_queue(self) -> list[str]:
        out = []
        store = self.ds.cases
        for cid in self.judge:
            pos = store.index.get(cid)
            if pos is None:
                continue
            if self.only_worse:
                w = len(self.worse(cid))
                if w:
                    out.append((-w, 0, pos, cid))
                continue
            if cid not in self.gold:
                continue
            if self.criterion and self.criterion not in self.gold[cid]:
                continue
            if self.tier and store.field(pos, "tier") != self.tier:
                continue
            if self.tag and self.tag not in store.tags[pos]:
                continue
            d = self.disagreement(cid)
            if self.only_disagreements and not d:
                continue
            out.append((-d, -self.inconsistent(cid), pos, cid))
        return [entry[-1] for entry in sorted(out)]

    @property
    def current(self) -> str | None:
        return self.queue[self.index] if self.queue else None

    @property
    def focused(self) -> str:
        return self.criteria[self.focus]

    def select(self, index: int) -> None:
        if self.queue:
            self.index = max(0, min(index, len(self.queue) - 1))
            self.focus = self._first_unaudited(0)

    def move(self, delta: int) -> None:
        self.focus = (self.focus + delta) % len(self.criteria)

    def rows(self, cid: str) -> list[Row]:
        out = []
        for c in self.criteria:
            humans = {}
            j = self.ds.case_index[cid]
            m = self.held.matrix(c)
            for i, ann in sorted(enumerate(self.held.raters), key=lambda x: x[1]):
                if m[i, j] >= 0:
                    lab = self.ds.labels[ann][cid]
                    humans[ann] = (lab.values[c], lab.note)
            out.append(Row(c, self.judge.get(cid, {}).get(c), self.other.get(cid, {}).get(c) if self.vs else None,
                           self.gold.get(cid, {}).get(c), humans, self.audits.get((cid, c))))
        return out

    def _first_unaudited(self, start: int) -> int:
        cid = self.current
        if cid is None:
            return 0
        n = len(self.criteria)
        for k in range(n):
            i = (start + k) % n
            c = self.criteria[i]
            if (cid, c) not in self.audits and c in self.gold.get(cid, {}) and self._has_value(cid, c):
                return i
        return start % n

    def _has_value(self, cid: str, c: str) -> bool:
        cv = self.judge.get(cid, {}).get(c)
        return cv is not None and cv.value is not None

    def mark(self, correct: bool, reason_key: str = "", note: str = "") -> str:
        """Save the auditor's verdict on the focused criterion's judge value; at once, atomically."""
        cid = self.current
        if cid is None:
            return "queue empty"
        c = self.focused
        if c not in self.judge.get(cid, {}) or c not in self.gold.get(cid, {}):
            return f"{c}: no judge value or no gold here to audit"
        if not self._has_value(cid, c):
            return f"{c}: the judge's answer changed with the order shown (inconsistent): no verdict to mark right or wrong"
        reason = REASONS[reason_key][0] if reason_key in REASONS else ""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        audit = Audit(case=cid, criterion=c, correct=correct, reason=reason if not correct else "", note=note.strip(),
                      by=self.auditor, at=now)
        self.ds.save_audit(self.run, self.auditor, audit)
        self.audits[(cid, c)] = audit
        if reason == "rubric_ambiguous":
            self.ds.save_adjudication(self.auditor, Adjudication(case=cid, rubric=self.rubric.version, by=self.auditor, at=now,
                                                                 gaps={c: note.strip() or "rubric ambiguous (judge audit)"}))
        msg = f"{c}: judge {'right' if correct else 'wrong'}" + (f" ({REASONS[reason_key][1]})" if reason else "")
        nxt = self._first_unaudited(self.focus + 1)
        if (cid, self.criteria[nxt]) in self.audits or nxt == self.focus:
            if self.index < len(self.queue) - 1:
                self.select(self.index + 1)
                return msg + f"; next case {self.current}"
            return msg + "; last case audited"
        self.focus = nxt
        return msg

    def split(self) -> tuple[float, int]:
        """The held-out split examples are drawn from: the newest examples file's, else the default (0.5, seed 0)."""
        from labeler.judge.prompts import latest, load_examples

        try:
            for v in range(latest(self.ds), 0, -1):
                got = load_examples(self.ds, v)[0]
                if got is not None:
                    return got.holdout, got.seed
        except LabelerError:
            pass  # a broken examples file is reported by validate and `judge examples`
        return 0.5, 0

    def mark_example(self) -> str:
        """Pick (or unpick) the focused corrected verdict as a few-shot example for the judge's next prompt."""
        from labeler.judge.prompts import in_holdout

        cid, c = self.current, self.focused
        a = self.audits.get((cid, c)) if cid is not None else None
        if a is None or a.correct:
            return f"{c}: mark the judge wrong first (n): an example is a corrected verdict"
        if a.reason == "gold_wrong":
            return f"{c}: the gold looks wrong here, so it cannot teach the judge"
        fraction, seed = self.split()
        if not a.example and in_holdout(cid, fraction, seed):
            return f"{c}: {cid} is held out (split {fraction:g}, seed {seed}): kept for measuring the judge, never an example"
        new = a.model_copy(update={"example": not a.example, "by": self.auditor,
                                   "at": datetime.now(timezone.utc).replace(microsecond=0)})
        self.ds.save_audit(self.run, self.auditor, new)
        self.audits[(cid, c)] = new
        return f"{c}: {'an example for the judge' if new.example else 'no longer an example'} (`labeler judge examples` uses it)"

    def example_counts(self) -> dict[str, int]:
        """criterion -> corrected verdicts picked as examples."""
        out = {c: 0 for c in self.criteria}
        for (_, c), a in self.audits.items():
            if c in out and a.example and not a.correct:
                out[c] += 1
        return out

    def audit_counts(self) -> dict[str, tuple[int, int]]:
        """criterion -> (marked right, marked wrong)."""
        out = {c: [0, 0] for c in self.criteria}
        for (_, c), a in self.audits.items():
            if c in out:
                out[c][0 if a.correct else 1] += 1
        return {c: (r, w) for c, (r, w) in out.items()}
