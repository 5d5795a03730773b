"""Judge vs human gold, per criterion: percent agreement, Cohen's kappa, confusion matrix; each annotator
against gold made without them; and the alternative annotator test, which answers "can this judge
replace a person here?" with a test on the same cases for judge and person (stats/alttest.py).

The judge is "just another rater" here: the same agreement code as human vs gold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labeler.stats.agreement import MISSING, Coefficient, Ratings, agreement_with, confusion, gold_of, kappa_weights, level_of
from labeler.stats.alttest import EPSILON, AltTest, alt_test
from labeler.stats.bootstrap import B_DEFAULT, Interval, agreement_vs, band, confusion_intervals, paired_change
from labeler.derived.verdicts import first_values, position_consistency
from labeler.truth.models import Value, Verdict
from labeler.derived.current import Current
from labeler.stats.gather import adjudicated_of, ratings_of
from labeler.dataset import Dataset


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
    position_ci: tuple[float | None, float | None] | None = None
    """95% interval of that share, resampling the verdicts (position_interval)."""
    human_ci: dict[str, tuple[Interval, Interval]] = field(default_factory=dict)
    """annotator -> 95% intervals of (percent, kappa) in `humans`, when asked for (calibrate's `replicates`)."""
    judge_ci: tuple[Interval, Interval] | None = None
    """95% intervals of the judge's (percent, kappa), resampling its scored cases (bootstrap.confusion_intervals),
    when asked for."""

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "values": self.values, "n": self.judge_percent.n,
                "judge": {"percent": _with_ci(self.judge_percent, (self.judge_ci or (None, None))[0]),
                          "kappa": _with_ci(self.judge_kappa, (self.judge_ci or (None, None))[1])},
                "confusion": {"rows": "judge", "columns": "gold", "matrix": self.confusion},
                "humans": {a: {"percent": _with_ci(p, self.human_ci.get(a, (None, None))[0]),
                               "kappa": _with_ci(k, self.human_ci.get(a, (None, None))[1])} for a, (p, k) in self.humans.items()},
                "cases_without_gold": self.no_gold, "verdict_errors": self.errors,
                **({"alt_test": self.alt.as_dict()} if self.alt else {}),
                **({"position_consistency": {"rate": self.position[0], "n": self.position[1], "inconsistent": self.inconsistent,
                                             "ci95": None if not self.position_ci or self.position_ci[0] is None else
                                             {"low": round(self.position_ci[0], 4), "high": round(self.position_ci[1], 4)}}}
                   if self.position else {})}

    @property
    def inconsistent(self) -> int:
        if not self.position or self.position[0] is None:
            return 0
        return round(self.position[1] * (1 - self.position[0]))


def _with_ci(c: Coefficient, ci: Interval | None) -> dict:
    """A coefficient as JSON, with its interval where one was computed (none when undefined); the band word
    then from the interval (bootstrap.band: one band, or the span), as `agreement` gives it."""
    out = c.as_dict()
    if ci is not None and ci.low is not None and c.value is not None:
        out["ci95"] = ci.as_dict()
        if "band" in out:
            out["band"] = band(ci)
    return out


@dataclass
class JudgeVsGold:
    """The judge against gold on one criterion's arrays (judge_vs_gold): what Calibration reports."""

    percent: Coefficient
    kappa: Coefficient
    confusion: list[list[int]]
    """Rows: the judge's scale index; columns: gold's."""
    humans: dict[str, tuple[Coefficient, Coefficient]]
    no_gold: int
    """Cases the judge answered that have no gold."""
    alt: AltTest | None
    human_ci: dict = field(default_factory=dict)
    """annotator -> (percent, kappa) 95% intervals, when `replicates` asked for them."""


def judge_vs_gold(data: np.ndarray, judge: np.ndarray, adjudicated: np.ndarray | None, n_values: int, rule: str = "consensus",
                  weights: str | None = None, ordinal: bool = False, raters: list[str] | None = None,
                  epsilon: float = EPSILON, judge_only: bool = False, replicates: int | None = None,
                  seed: int = 0) -> JudgeVsGold:
    """The judge against gold made from every annotator; each annotator against gold made without their own
    label, on every judged case where that gold exists; and the alternative annotator test.

    `data`: annotators x cases of scale indexes (MISSING for none); `judge`: its scale index per case;
    `adjudicated`: the leads' gold per case (MISSING where none, CONFLICT where they disagree), or None.
    `judge_only`: the judge against gold alone (no annotator beside it, no alternative annotator test).
    `replicates`: also each annotator's 95% intervals (bootstrap.agreement_vs, resampling cases)."""
    data = np.asarray(data, dtype=np.int64)
    judge = np.asarray(judge, dtype=np.int64)
    raters = list(raters) if raters is not None else [str(i) for i in range(len(data))]
    g = gold_of(data, n_values, rule, adjudicated)
    judged = judge != MISSING
    scored = judged & (g != MISSING)
    pct, kap = agreement_with(np.where(scored, judge, MISSING), g, n_values, weights)
    cm = confusion(judge[scored], g[scored], n_values).tolist()
    hum, hum_ci = {}, {}
    for i, a in enumerate([] if judge_only else raters):
        g_i = np.where(judged, gold_of(data, n_values, rule, adjudicated, without=i), MISSING)
        p, k = agreement_with(data[i], g_i, n_values, weights)
        if p.n:
            hum[a] = (p, k)
            if replicates:
                hum_ci[a] = agreement_vs(data[i], g_i, n_values, weights, replicates, seed)
    alt = None if judge_only else alt_test(data, judge, raters, n_values, ordinal, epsilon)
    return JudgeVsGold(pct, kap, cm, dict(sorted(hum.items())), int(judged.sum() - scored.sum()), alt, hum_ci)


def calibrate_criterion(r: Ratings, judge: np.ndarray | dict[str, Value], adjudicated: np.ndarray | dict[str, Value], rule: str,
                        errors: int, epsilon: float = EPSILON, judge_only: bool = False, replicates: int | None = None,
                        seed: int = 0) -> Calibration:
    """judge_vs_gold on one criterion's Ratings and the judge's values (its first verdict per case of `r` as
    scale indexes, MISSING where none, or case -> value).
    `adjudicated`: the leads' gold per case of `r` (stats/gather.adjudicated_of), or case -> value."""
    crit = r.criterion
    values = crit.scale.values()
    adj = adjudicated if isinstance(adjudicated, np.ndarray) else r.ref_vector(adjudicated)
    j = judge if isinstance(judge, np.ndarray) else r.ref_vector(judge)
    x = judge_vs_gold(r.data, j, adj, len(values), rule, kappa_weights(crit),
                      level_of(crit) == "ordinal", r.raters, epsilon, judge_only, replicates, seed)
    ci = confusion_intervals(x.confusion, kappa_weights(crit), replicates, seed) if replicates else None
    return Calibration(r.criterion_id, values, x.percent, x.kappa, x.confusion, x.humans, x.no_gold, errors, x.alt,
                       human_ci=x.human_ci, judge_ci=ci)


def calibrate(ds: Dataset, verdicts: dict[str, list[Verdict]], cases: list[str] | None = None,
              rule: str = "consensus", epsilon: float = EPSILON, judge_only: bool = False,
              replicates: int | None = None, seed: int = 0) -> list[Calibration]:
    """Per criterion of the rubric in force: the judge's first answer per case against gold
    (`judge_only`: without each annotator beside it and the alternative annotator test). `replicates`
    and `seed`: the bootstrap of each annotator's intervals and of position consistency's (which has
    one whatever is asked: 1,000 replicates, seed 0 by default)."""
    versions = ds.versions
    rubric = versions.in_force
    cases = list(ds.cases) if cases is None else cases
    keep = set(cases)
    cur = Current(ds, versions)
    idx = np.fromiter(map(ds.case_index.__getitem__, cases), dtype=np.int64, count=len(cases))
    column = _first_columns(verdicts, cases, rubric, ds.case_index, idx)  # a run read from disk: from its columns
    if hasattr(verdicts, "errored"):
        errored = verdicts.errored(cases)
    else:
        errored = {c for c, vs in verdicts.items() if c in keep and vs and all(v.error for v in vs)}
    position = position_consistency(verdicts, rubric, keep) if rubric.pairwise else {}
    out = []
    for cid, crit in rubric.criteria.items():
        r = ratings_of(cur, cid, idx)
        cal = calibrate_criterion(r, column(cid, r), adjudicated_of(cur, r), rule, len(errored), epsilon, judge_only,
                                  replicates, seed)
        cal.position = position.get(cid)
        cal.position_ci = position_interval(*cal.position, replicates or B_DEFAULT, seed) if cal.position else None
        out.append(cal)
    return out


def position_interval(rate: float | None, n: int, replicates: int = 1000, seed: int = 0) -> tuple[float | None, float | None] | None:
    """95% interval of a position-consistency rate: each verdict asked in both orders is a case, consistent
    (1) or not (0), resampled as every other rate is (bootstrap.share_interval); none when nothing was asked."""
    from labeler.stats.bootstrap import share_interval

    if rate is None or not n:
        return None
    iv = share_interval(round(rate * n), n, replicates, seed)
    return iv.low, iv.high


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


def below_bar(items: list[Calibration], bar: float, on: str = "point") -> list[str]:
    """Criteria whose judge-gold agreement is under `bar` (or undefined: no evidence is not a pass), and
    pairwise runs whose position consistency is: on its point estimate, or (`on` "lower") on the lower
    bound of its 95% interval."""
    out = []
    for c in items:
        if c.judge_percent.value is None:
            out.append(f"{c.criterion}: judge agreement undefined ({c.judge_percent.reason})")
        elif c.judge_percent.value < bar:
            out.append(f"{c.criterion}: judge agreement {c.judge_percent.value:.1%} < {bar:.0%} (n={c.judge_percent.n})")
        if c.position and c.position[0] is not None:
            # agreement counts only verdicts both orders agreed on: a judge that flips with the order fails here
            low = (c.position_ci or (None, None))[0]
            gated = c.position[0] if on == "point" or low is None else low
            if gated < bar:
                ci = f" [{low:.1%}, {c.position_ci[1]:.1%}]" if low is not None else ""
                out.append(f"{c.criterion}: position consistency {c.position[0]:.1%}{ci}"
                           + ("" if on == "point" else ", lower 95% bound") + f" < {bar:.0%} "
                           f"({c.inconsistent} of {c.position[1]} pairwise verdicts changed with the order)")
    return out


# ---------------------------------------------------------------- before and after: two runs on the same cases


@dataclass
class Change:
    """One criterion, two judge runs, the same cases: each run's agreement with gold and the paired difference."""

    criterion: str
    n: int
    old_percent: Coefficient
    new_percent: Coefficient
    old_kappa: Coefficient
    new_kappa: Coefficient
    percent_ci: tuple[float | None, float | None]
    kappa_ci: tuple[float | None, float | None]
    fixed: list[str]
    """Cases the old run got wrong and the new one right."""
    broke: list[str]
    """Cases the old run got right and the new one wrong."""
    gained: np.ndarray | None = field(default=None, repr=False)
    """Per case of the comparison: +1 fixed, -1 broke, 0 else (what pooled resamples across criteria)."""
    scored: np.ndarray | None = field(default=None, repr=False)
    """Per case of the comparison: scored by both runs against gold on this criterion."""

    @property
    def diff(self) -> float | None:
        a, b = self.old_percent.value, self.new_percent.value
        return None if a is None or b is None else b - a

    @property
    def kappa_diff(self) -> float | None:
        a, b = self.old_kappa.value, self.new_kappa.value
        return None if a is None or b is None else b - a

    @property
    def significant_loss(self) -> bool:
        """The whole 95% interval of the agreement difference is below zero."""
        return self.percent_ci[1] is not None and self.percent_ci[1] < 0

    def as_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"criterion": self.criterion, "cases": self.n,
                "old": {"percent": self.old_percent.as_dict(), "kappa": self.old_kappa.as_dict()},
                "new": {"percent": self.new_percent.as_dict(), "kappa": self.new_kappa.as_dict()},
                "percent_diff": r(self.diff), "percent_diff_ci95": {"low": r(self.percent_ci[0]), "high": r(self.percent_ci[1])},
                "kappa_diff": r(self.kappa_diff), "kappa_diff_ci95": {"low": r(self.kappa_ci[0]), "high": r(self.kappa_ci[1])},
                "significant_loss": self.significant_loss, "wrong_to_right": self.fixed, "right_to_wrong": self.broke}


def compare_runs(ds: Dataset, new: dict[str, list[Verdict]], old: dict[str, list[Verdict]], cases: list[str],
                 rule: str = "consensus", replicates: int = 1000, seed: int = 0) -> list[Change]:
    """Per criterion: both runs against gold on the cases where both answered and gold exists, the
    difference with a paired bootstrap 95% interval, and the flips.

    The bootstrap resamples the n cases scored on any criterion, with replacement, keeping each case's
    pair of verdicts together (paired): the same resamples for every criterion, and the same BCa
    interval as every other number (bootstrap.paired_change)."""
    versions = ds.versions
    rubric = versions.in_force
    cur = Current(ds, versions)
    idx = np.fromiter(map(ds.case_index.__getitem__, cases), dtype=np.int64, count=len(cases))
    cols = {}
    for v in (new, old):
        cols[id(v)] = _first_columns(v, cases, rubric, ds.case_index, idx)
    per = []
    for cid, crit in rubric.criteria.items():
        r = ratings_of(cur, cid, idx)
        g = r.gold(rule, adjudicated_of(cur, r))
        jn, jo = (cols[id(v)](cid, r) for v in (new, old))
        both = (g != MISSING) & (jn != MISSING) & (jo != MISSING)
        per.append((cid, crit, np.where(both, g, MISSING), np.where(both, jn, MISSING), np.where(both, jo, MISSING), both))
    scored = np.any([p[-1] for p in per], axis=0) if per else np.zeros(0, dtype=bool)
    out = []
    for cid, crit, g, jn, jo, both in per:
        k, w = len(crit.scale.values()), kappa_weights(crit)
        pn, kn = agreement_with(jn, g, k, w)
        po, ko = agreement_with(jo, g, k, w)
        right_n, right_o = (jn == g) & both, (jo == g) & both
        fixed = [cases[j] for j in np.flatnonzero(right_n & ~right_o)]
        broke = [cases[j] for j in np.flatnonzero(right_o & ~right_n)]
        pct_ci, kap_ci = paired_change(jn[scored], jo[scored], g[scored], k, w, replicates, seed) if both.any() else (None, None)
        out.append(Change(cid, int(both.sum()), po, pn, ko, kn, _pair(pct_ci), _pair(kap_ci), fixed, broke,
                          (right_n.astype(np.int64) - right_o)[scored], both[scored]))
    return out


def _first_columns(verdicts, cases: list[str], rubric, case_index: dict[str, int], idx: np.ndarray):
    """criterion, Ratings -> the run's first verdict per case as scale indexes (MISSING where none):
    from the run's columns when its scale is the one in force, else through its values. `idx`: the
    cases' positions in `case_index` (the dataset's), so no index of the cases is built per run."""
    if hasattr(verdicts, "first_matrix"):
        codes = verdicts.first_matrix(case_index, len(case_index))[0][idx]
        order = list(verdicts.scales)

        def column(c: str, r) -> np.ndarray | None:
            if c in verdicts.scales and list(verdicts.scales[c]) == list(rubric.criteria[c].scale.values()):
                col = codes[:, order.index(c)].astype(np.int64)
                return np.where(col >= 0, col, MISSING)
            return None
    else:
        column = lambda c, r: None  # noqa: E731
    values: dict | None = None

    def get(c: str, r) -> np.ndarray:
        nonlocal values
        col = column(c, r)
        if col is not None:
            return col
        if values is None:
            values = verdicts.first_values(cases) if hasattr(verdicts, "first_values") else first_values(verdicts)
        return r.ref_vector({x: vals[c] for x, vals in values.items() if c in vals})

    return get


def _pair(ci) -> tuple[float | None, float | None]:
    return (None, None) if ci is None else (ci.low, ci.high)


def pooled(changes: list[Change], replicates: int = 1000, seed: int = 0) -> tuple[float | None, float | None, float | None,
                                                                                  tuple[float | None, float | None]]:
    """(old, new, new - old, its 95% interval) agreement over every criterion's scored cases together (what
    --min-gain gates on). The interval resamples cases, each with all its criteria (they are correlated):
    bootstrap.ratio_interval of the case's gains over its scored criteria."""
    from labeler.stats.bootstrap import ratio_interval

    n = sum(c.n for c in changes)
    if not n:
        return None, None, None, (None, None)
    old = sum((c.old_percent.value or 0) * c.n for c in changes) / n
    new = sum((c.new_percent.value or 0) * c.n for c in changes) / n
    ci = (None, None)
    if all(c.gained is not None for c in changes):
        iv = ratio_interval(sum(c.gained for c in changes), sum(c.scored.astype(np.int64) for c in changes),
                            replicates, seed, (-1.0, 1.0))
        ci = (iv.low, iv.high)
    return old, new, new - old, ci


# ---------------------------------------------------------------- per judge prompt version: did v2 beat v1?


@dataclass
class PromptRun:
    """One judge run of one prompt version, calibrated on its held-out cases (never the cases its prompt
    showed the judge as examples)."""

    version: int
    run: str
    model: str
    excluded: int
    """Cases left out: this version's examples."""
    cases: int
    """The held-out cases it is measured on."""
    criteria: list[Calibration]

    @property
    def pooled(self) -> tuple[float | None, int]:
        """(agreement over every criterion's scored verdicts together, how many verdicts)."""
        n = sum(c.judge_percent.n for c in self.criteria)
        return (sum((c.judge_percent.value or 0) * c.judge_percent.n for c in self.criteria) / n if n else None), n

    def as_dict(self) -> dict:
        agree, n = self.pooled
        return {"version": self.version, "run": self.run, "model": self.model, "excluded_examples": self.excluded,
                "held_out_cases": self.cases, "agreement": None if agree is None else round(agree, 4), "verdicts": n,
                "criteria": {c.criterion: {"percent": c.judge_percent.as_dict(), "kappa": c.judge_kappa.as_dict()}
                             for c in self.criteria}}


def by_prompt_version(ds: Dataset, rule: str = "consensus") -> list[PromptRun]:
    """Every run that names its judge prompt version, by version then run: calibrate on the cases its
    version did not show as examples (what `calibrate --run` says for that run)."""
    from labeler.stats.heldout import held_out, used

    out = []
    for v, runs in sorted(used(ds).items()):
        for run, _ in sorted(runs):
            meta, verdicts = ds.judge_run(run)
            keep, excluded = held_out(ds, [meta])
            out.append(PromptRun(v, run, meta.model, excluded, len(keep), calibrate(ds, verdicts, keep, rule, judge_only=True)))
    return out
