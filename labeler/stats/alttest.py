"""The alternative annotator test (Calderon, Reichart and Dror, ACL 2025, "The Alternative Annotator Test
for LLM-as-a-Judge"): can this judge replace a person on this criterion? A test, not two point estimates.

Leave each annotator out in turn. On the cases that annotator and the judge both labeled and at least one
other annotator labeled, score the judge and the left-out annotator against the others' labels (the
paper's scores: the share of the others' labels matched; on ordinal scales minus the root mean squared
distance in scale points). The judge "wins" a case when it scores at least as well (W_f = 1), the person
when they do (W_h = 1; a tie counts for both). Per annotator, a one-sided paired t-test of d = W_h - W_f
against epsilon (H0: mean d >= epsilon; epsilon is the cost-benefit allowance given to the cheaper judge,
0.2 by default as the paper recommends for expert annotators); Benjamini-Yekutieli at q = 0.05 over the
annotators' p-values. The winning rate is the share of tested annotators whose null is rejected; the
judge passes at 0.5 or more. The advantage probability (mean of W_f) is for comparing judges.
Only the annotators' own labels are used (no leads' gold), as in the paper; an annotator with fewer than
30 cases is not tested (the paper's minimum for the t-test) and is named instead.

Beyond the paper: the judge must also beat chance. With few annotators on a coarse scale most comparisons
tie (3 annotators on a binary scale: whenever the other two split, every label scores 0.5), ties count for
both sides, and epsilon 0.2 then forgives a judge that flips a coin (people 75% accurate: it passes the
paper's rule in 20% of runs at 100 cases, 74% at 400; benchmarks/alttest_sim.py). So the judge's labels
are shuffled across its cases (200 times, seeded) and the test rerun: the judge passes only when its
advantage probability is above the shuffled judges' (permutation p <= 0.05), and when shuffled judges pass
the paper's rule more than 5% of the time the result carries a warning that the comparison here is too
coarse to say much.

Plain Python and numpy: the t distribution's CDF comes from the regularized incomplete beta function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from labeler.stats.agreement import MISSING, value_counts

EPSILON = 0.2
Q_FDR = 0.05
MIN_CASES = 30
CHANCE_SHUFFLES = 200
CHANCE_LEVEL = 0.05


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast only below the mean: use the symmetry
        return 1.0 - betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 10_000):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


def ttest_less(d: np.ndarray, mu: float) -> float:
    """One-sided one-sample t-test p-value for H1: mean(d) < mu. With no spread at all the sample
    settles it: p = 0 when its mean is below mu, else 1."""
    n = len(d)
    mean = float(np.mean(d))
    sd = float(np.std(d, ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        return 0.0 if mean < mu else 1.0
    return t_cdf((mean - mu) / (sd / math.sqrt(n)), n - 1)


def benjamini_yekutieli(p: list[float], q: float = Q_FDR) -> list[bool]:
    """Which nulls are rejected at false discovery rate q under any dependence (Benjamini-Yekutieli)."""
    m = len(p)
    if not m:
        return []
    order = sorted(range(m), key=lambda i: p[i])
    c_m = sum(1.0 / k for k in range(1, m + 1))
    last = -1
    for rank, i in enumerate(order, start=1):
        if p[i] <= rank / m * q / c_m:
            last = rank
    out = [False] * m
    for i in order[:last] if last > 0 else []:
        out[i] = True
    return out


@dataclass
class Comparison:
    """The judge against one left-out annotator."""

    annotator: str
    n: int
    judge_advantage: float | None
    """Share of cases where the judge matched the others at least as well as this annotator (mean W_f)."""
    annotator_advantage: float | None
    """Share where this annotator did at least as well as the judge (mean W_h)."""
    p: float | None
    """One-sided p-value of H0: mean(W_h - W_f) >= epsilon; None when not tested."""
    judge_wins: bool | None = None
    """The null is rejected after the Benjamini-Yekutieli correction; None when not tested."""

    def as_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"annotator": self.annotator, "n": self.n, "judge_advantage": r(self.judge_advantage),
                "annotator_advantage": r(self.annotator_advantage), "p": r(self.p), "judge_wins": self.judge_wins}


@dataclass
class AltTest:
    epsilon: float
    q: float
    min_cases: int
    scoring: str
    """'accuracy' or 'neg_rmse' (ordinal scales)."""
    comparisons: list[Comparison] = field(default_factory=list)
    chance_p: float | None = None
    """Permutation p-value of the advantage probability against the judge's own labels shuffled across cases."""
    chance_pass_rate: float | None = None
    """Share of shuffled judges that pass the paper's rule: above CHANCE_LEVEL, the test is too coarse here."""

    @property
    def tested(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.p is not None]

    @property
    def winning_rate(self) -> float | None:
        t = self.tested
        return sum(bool(c.judge_wins) for c in t) / len(t) if t else None

    @property
    def advantage_probability(self) -> float | None:
        t = self.tested
        return float(np.mean([c.judge_advantage for c in t])) if t else None

    @property
    def paper_rule(self) -> bool | None:
        """The paper's verdict alone: a winning rate of 0.5 or more."""
        w = self.winning_rate
        return None if w is None else w >= 0.5

    @property
    def beats_chance(self) -> bool | None:
        return None if self.chance_p is None else self.chance_p <= CHANCE_LEVEL

    @property
    def passed(self) -> bool | None:
        """The paper's rule, and better than the judge's labels shuffled."""
        rule = self.paper_rule
        return None if rule is None else bool(rule and self.beats_chance)

    @property
    def warning(self) -> str | None:
        if self.chance_pass_rate is None or self.chance_pass_rate <= CHANCE_LEVEL:
            return None
        return (f"too coarse to tell a judge from chance here: the judge's labels shuffled across cases pass the "
                f"paper's rule in {self.chance_pass_rate:.0%} of {CHANCE_SHUFFLES} shuffles (few annotators per case"
                f"{' on a binary scale' if self.scoring == 'accuracy' else ''} make most comparisons ties); "
                + ("the judge does beat its shuffled labels" if self.beats_chance else
                   "and the judge does no better than its shuffled labels"))

    def summary(self) -> str:
        if not self.tested:
            few = ", ".join(f"{c.annotator} n={c.n}" for c in self.comparisons) or "no annotator"
            return f"not tested (needs {self.min_cases}+ cases per annotator with the judge and another annotator: {few})"
        won = sum(bool(c.judge_wins) for c in self.tested)
        verdict = "passes" if self.passed else "fails"
        if self.paper_rule and not self.passed:
            verdict = f"fails (no better than its labels shuffled, p={self.chance_p:.3f})"
        return (f"{verdict}: judge beats {won} of {len(self.tested)} annotators (winning rate {self.winning_rate:.2f}, "
                f"advantage {self.advantage_probability:.2f}; epsilon {self.epsilon}, BY q={self.q})"
                + (f"; warning: {self.warning}" if self.warning else ""))

    def as_dict(self) -> dict:
        return {"method": "alternative annotator test (Calderon, Reichart and Dror, 2025): leave-one-annotator-out, "
                          "one-sided paired t-test per annotator, Benjamini-Yekutieli",
                "epsilon": self.epsilon, "q": self.q, "min_cases": self.min_cases, "scoring": self.scoring,
                "winning_rate": None if self.winning_rate is None else round(self.winning_rate, 4),
                "advantage_probability": None if self.advantage_probability is None else round(self.advantage_probability, 4),
                "passed": self.passed, "paper_rule_passed": self.paper_rule,
                "chance": {"p": None if self.chance_p is None else round(self.chance_p, 4),
                           "shuffled_pass_rate": None if self.chance_pass_rate is None else round(self.chance_pass_rate, 4),
                           "shuffles": CHANCE_SHUFFLES,
                           "means": "the judge's labels shuffled across its cases, the test rerun: p of the advantage "
                                    "probability; the share of shuffles passing the paper's rule"},
                "warning": self.warning, "annotators": [c.as_dict() for c in self.comparisons]}


def alt_test(data: np.ndarray, judge: np.ndarray, raters: list[str], n_values: int, ordinal: bool,
             epsilon: float = EPSILON, q: float = Q_FDR, min_cases: int = MIN_CASES, seed: int = 0,
             shuffles: int = CHANCE_SHUFFLES) -> AltTest:
    """`data`: raters x cases of scale indexes (MISSING for none); `judge`: the judge's index per case."""
    data = np.asarray(data, dtype=np.int64)
    judge = np.asarray(judge, dtype=np.int64)
    out = AltTest(epsilon, q, min_cases, "neg_rmse" if ordinal else "accuracy")
    if data.size == 0:
        return out
    counts = value_counts(data, n_values)
    points = np.arange(n_values, dtype=np.float64)

    def score(x: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Each case's score of value x against the others' value counts c (cases x values)."""
        m = c.sum(axis=1)
        if ordinal:
            return -np.sqrt((c * (x[:, None] - points[None, :]) ** 2).sum(axis=1) / m)
        return c[np.arange(len(x)), x] / m

    sides = []  # per annotator: who, the cases, the others' counts there, the annotator's scores
    for i, who in enumerate(raters):
        mine = data[i]
        others = counts.copy()
        has = mine != MISSING
        others[np.flatnonzero(has), mine[has]] -= 1.0
        cases = has & (judge != MISSING) & (others.sum(axis=1) >= 1)
        if cases.any():
            sides.append((who, cases, others[cases], score(mine[cases], others[cases])))

    def run(j: np.ndarray) -> list[Comparison]:
        comps = []
        for who, cases, c, s_h in sides:
            s_f = score(j[cases], c)
            w_f = (s_f >= s_h - 1e-12).astype(float)
            w_h = (s_h >= s_f - 1e-12).astype(float)
            n = int(cases.sum())
            comps.append(Comparison(who, n, float(w_f.mean()), float(w_h.mean()),
                                    ttest_less(w_h - w_f, epsilon) if n >= min_cases else None))
        pending = [c for c in comps if c.p is not None]
        for comp, won in zip(pending, benjamini_yekutieli([c.p for c in pending], q)):
            comp.judge_wins = won
        return comps

    out.comparisons = run(judge)
    if out.tested and shuffles:
        rng = np.random.default_rng(seed)
        labeled = np.flatnonzero(judge != MISSING)
        adv, passes = [], 0
        for _ in range(shuffles):
            j = judge.copy()
            j[labeled] = judge[rng.permutation(labeled)]
            shuffled = AltTest(epsilon, q, min_cases, out.scoring, run(j))
            adv.append(shuffled.advantage_probability)
            passes += bool(shuffled.paper_rule)
        out.chance_p = (1 + sum(a >= out.advantage_probability - 1e-12 for a in adv)) / (1 + shuffles)
        out.chance_pass_rate = passes / shuffles
    return out
