"""Judge vs human gold, per criterion: percent agreement, Cohen's kappa, confusion matrix; each annotator
against gold made without them; and the alternative annotator test, which answers "can this judge
replace a person here?" with a test on the same cases for judge and person (stats/alttest.py).

The judge is "just another rater" here: the same agreement code as human vs gold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.stats.agreement import MISSING, Coefficient, Ratings, agreement_with, confusion, kappa_weights, level_of
from labeler.stats.alttest import EPSILON, AltTest, alt_test
from labeler.judge.run import first_values, position_consistency
from labeler.truth.models import Value, Verdict
from labeler.derived.current import Current
from labeler.truth.store import Dataset
from labeler.derived.staleness import VersionIndex


@dataclass
class Calibration:
    criterion: str
    values: list[Value]
    """Scale order: the rows (judge) and columns (gold) of the confusion matrix."""
    judge_percent: Coefficient
    judge_kappa: Coefficient
    confusion: list[list[int]]
    humans: dict[str, tuple[Coefficient, Coefficient]] = field(default_factory=dict)
    """annotator -> (percent, kappa) against gold made without their own label, on every judged case
    where that gold exists (not only where gold made from everyone exists: under consensus gold those
    are the cases everyone agreed on, which would score each person 100% by construction)."""
    no_gold: int = 0
    errors: int = 0
    alt: AltTest | None = None
    """The alternative annotator test of this judge on this criterion."""
    position: tuple[float | None, int] | None = None
    """A pairwise run: (share of verdicts whose two orders agreed, verdicts asked in both orders).
    An inconsistent verdict has no value, so it is outside n above: this says how many were left out."""

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "values": self.values, "n": self.judge_percent.n,
                "judge": {"percent": self.judge_percent.as_dict(), "kappa": self.judge_kappa.as_dict()},
                "confusion": {"rows": "judge", "columns": "gold", "matrix": self.confusion},
                "humans": {a: {"percent": p.as_dict(), "kappa": k.as_dict()} for a, (p, k) in self.humans.items()},
                "cases_without_gold": self.no_gold, "verdict_errors": self.errors,
                **({"alt_test": self.alt.as_dict()} if self.alt else {}),
                **({"position_consistency": {"rate": self.position[0], "n": self.position[1],
                                             "inconsistent": self.inconsistent}} if self.position else {})}

    @property
    def inconsistent(self) -> int:
        if not self.position or self.position[0] is None:
            return 0
        return round(self.position[1] * (1 - self.position[0]))


def calibrate_criterion(r: Ratings, judge: dict[str, Value], adjudicated: np.ndarray | dict[str, Value], rule: str,
                        errors: int, epsilon: float = EPSILON) -> Calibration:
    """The judge against gold (made from every annotator); each annotator against gold made without
    their own label, on every judged case where that gold exists; and the alternative annotator test.
    `adjudicated`: the leads' gold per case of `r` (Current.adjudicated), or case -> value."""
    crit = r.criterion
    values = crit.scale.values()
    adj = adjudicated if isinstance(adjudicated, np.ndarray) else r.ref_vector(adjudicated)
    g = r.gold(rule, adj)
    j = r.ref_vector(judge)
    judged = j != MISSING
    scored = judged & (g != MISSING)
    w = kappa_weights(crit)
    jj = np.where(scored, j, MISSING)
    pct, kap = agreement_with(jj, g, len(values), w)
    cm = confusion(j[scored], g[scored], len(values)).tolist()
    hum = {}
    for i, a in enumerate(r.raters):
        g_i = np.where(judged, r.gold(rule, adj, without=i), MISSING)
        p, k = agreement_with(r.data[i], g_i, len(values), w)
        if p.n:
            hum[a] = (p, k)
    alt = alt_test(r.data, j, r.raters, len(values), level_of(crit) == "ordinal", epsilon)
    return Calibration(r.criterion_id, values, pct, kap, cm, dict(sorted(hum.items())),
                       int(judged.sum() - scored.sum()), errors, alt)


def calibrate(ds: Dataset, verdicts: dict[str, list[Verdict]], cases: list[str] | None = None,
              rule: str = "consensus", epsilon: float = EPSILON) -> list[Calibration]:
    """Per criterion of the rubric in force: the judge's first answer per case against gold."""
    versions = VersionIndex(ds)
    rubric = versions.in_force
    cases = list(ds.cases) if cases is None else cases
    keep = set(cases)
    cur = Current(ds, versions)
    idx = np.asarray([ds.case_index[c] for c in cases], dtype=np.int64)
    if hasattr(verdicts, "first_values"):  # a run read from disk: straight from its rows
        jv, errored = verdicts.first_values(cases), verdicts.errored(cases)
    else:
        jv = first_values({c: v for c, v in verdicts.items() if c in keep})
        errored = {c for c, vs in verdicts.items() if c in keep and vs and all(v.error for v in vs)}
    position = position_consistency(verdicts, rubric, keep) if rubric.pairwise else {}
    out = []
    for cid, crit in rubric.criteria.items():
        judge = {c: vals[cid] for c, vals in jv.items() if cid in vals}
        r = cur.ratings(cid, idx)
        cal = calibrate_criterion(r, judge, cur.adjudicated(r), rule, len(errored), epsilon)
        cal.position = position.get(cid)
        out.append(cal)
    return out


def groups(ds: Dataset, by: str) -> list[tuple[str, list[str]]]:
    if by == "criterion":
        return [("all cases", list(ds.cases))]
    if by == "tier":
        ids = ds.cases.ids
        return [(f"tier {k}", [ids[j] for j in idx]) for k, idx in ds.cases_by("tier").items()]
    if by == "tag":
        ids = ds.cases.ids
        return [(f"tag {k}", [ids[j] for j in idx]) for k, idx in ds.cases_by("tag").items()]
    raise ValueError("--by must be criterion, tier or tag")


def below_bar(items: list[Calibration], bar: float) -> list[str]:
    """Criteria whose judge-gold agreement is under `bar` (or undefined: no evidence is not a pass)."""
    out = []
    for c in items:
        if c.judge_percent.value is None:
            out.append(f"{c.criterion}: judge agreement undefined ({c.judge_percent.reason})")
        elif c.judge_percent.value < bar:
            out.append(f"{c.criterion}: judge agreement {c.judge_percent.value:.1%} < {bar:.0%} (n={c.judge_percent.n})")
        if c.position and c.position[0] is not None and c.position[0] < bar:
            # agreement counts only verdicts both orders agreed on: a judge that flips with the order fails here
            out.append(f"{c.criterion}: position consistency {c.position[0]:.1%} < {bar:.0%} "
                       f"({c.inconsistent} of {c.position[1]} pairwise verdicts changed with the order)")
    return out
