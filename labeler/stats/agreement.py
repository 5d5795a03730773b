"""Agreement numbers: percent agreement, Krippendorff's alpha, Cohen's kappa, and gold.

Written with numpy (the `krippendorff` package is GPL and only a test oracle here). Every
coefficient carries the number of comparable units behind it; with none, or with no variation
to measure, it is "undefined", never 0 (DESIGN.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, repeat
from typing import Sequence

import numpy as np

from labeler.derived.current import CONFLICT, MISSING  # noqa: F401 (the cell markers of the matrices; CONFLICT: gold)
from labeler.truth.models import Criterion, Label, ScaleKind, Value


# ---------------------------------------------------------------- coefficients


@dataclass(frozen=True)
class Coefficient:
    value: float | None
    n: int
    """Comparable units (cases) behind the number."""
    reason: str = ""
    """Why the value is undefined, when it is."""
    chance_corrected: bool = True
    """Alpha and kappa are; percent agreement is not, and gets no Landis-Koch band."""

    @property
    def defined(self) -> bool:
        return self.value is not None

    @property
    def band(self) -> str:
        return landis_koch(self.value) if self.chance_corrected else ""

    def as_dict(self) -> dict:
        out = {"value": None if self.value is None else round(self.value, 4), "n": self.n}
        if self.chance_corrected:
            out["band"] = self.band
        if self.reason:
            out["undefined"] = self.reason
        return out


def landis_koch(x: float | None) -> str:
    """Landis and Koch's words for a chance-corrected coefficient."""
    if x is None:
        return "undefined"
    if x < 0:
        return "poor"
    if x <= 0.20:
        return "slight"
    if x <= 0.40:
        return "fair"
    if x <= 0.60:
        return "moderate"
    if x <= 0.80:
        return "substantial"
    return "almost perfect"


def value_counts(data: np.ndarray, n_values: int) -> np.ndarray:
    """units x values: how many coders gave each value to each unit. `data` is coders x units."""
    coders, units = data.shape
    mask = data != MISSING
    flat = (np.broadcast_to(np.arange(units), data.shape)[mask] * n_values + data[mask]).astype(np.int64)
    return np.bincount(flat, minlength=units * n_values).astype(np.float64).reshape(units, n_values)


def krippendorff_alpha(data: np.ndarray, n_values: int, level: str = "nominal") -> Coefficient:
    """Krippendorff's alpha for `data` (coders x units, value indexes, MISSING for none).

    Values are indexes into the scale in order, so "ordinal" uses the rank-based distance.
    """
    data = np.asarray(data, dtype=np.int64)
    if data.ndim != 2 or data.size == 0:
        return Coefficient(None, 0, "no labels")
    counts = value_counts(data, n_values)
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_units = int(pairable.sum())
    if n_units == 0:
        return Coefficient(None, 0, "no case has two labels")
    c = counts[pairable]
    w = 1.0 / (m[pairable] - 1.0)
    o = (c * w[:, None]).T @ c - np.diag((c * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = _distance(n_c, level)
    d_e = (np.outer(n_c, n_c) * delta).sum()
    if d_e == 0:
        return Coefficient(None, n_units, "every value is the same: no variation to measure")
    d_o = (o * delta).sum()
    return Coefficient(float(1.0 - (n - 1.0) * d_o / d_e), n_units)


def _distance(n_c: np.ndarray, level: str) -> np.ndarray:
    k = len(n_c)
    idx = np.arange(k)
    if level == "nominal":
        return (idx[:, None] != idx[None, :]).astype(np.float64)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        lo = np.minimum(idx[:, None], idx[None, :])
        hi = np.maximum(idx[:, None], idx[None, :])
        between = cum[hi + 1] - cum[lo]
        return (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
    if level == "interval":
        return (idx[:, None] - idx[None, :]).astype(np.float64) ** 2
    raise ValueError(f"unknown level {level!r}")


KAPPA_WEIGHTS = (None, "linear", "quadratic")


def cohen_kappa(a: np.ndarray, b: np.ndarray, n_values: int, weights: str | None = None) -> Coefficient:
    """Cohen's kappa between two raters over the units both rated (weights: None, 'linear' or 'quadratic')."""
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"kappa weights must be one of None, 'linear', 'quadratic', not {weights!r}")
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    both = (a != MISSING) & (b != MISSING)
    n = int(both.sum())
    if n == 0:
        return Coefficient(None, 0, "no case rated by both")
    conf = confusion(a[both], b[both], n_values).astype(np.float64)
    idx = np.arange(n_values)
    if weights == "quadratic":
        w = (idx[:, None] - idx[None, :]).astype(np.float64) ** 2
    elif weights == "linear":
        w = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
    else:
        w = (idx[:, None] != idx[None, :]).astype(np.float64)
    expected = np.outer(conf.sum(axis=1), conf.sum(axis=0)) / n
    denom = (w * expected).sum()
    if denom == 0:
        return Coefficient(None, n, "no variation: both raters used one and the same value")
    return Coefficient(float(1.0 - (w * conf).sum() / denom), n)


def confusion(a: np.ndarray, b: np.ndarray, n_values: int) -> np.ndarray:
    """n_values x n_values counts: rows are `a`'s values, columns `b`'s."""
    m = np.zeros((n_values, n_values), dtype=np.int64)
    np.add.at(m, (a, b), 1)
    return m


def percent_agreement(data: np.ndarray, n_values: int) -> Coefficient:
    """Mean share of agreeing pairs per case, over cases with two or more labels."""
    data = np.asarray(data, dtype=np.int64)
    if data.size == 0:
        return Coefficient(None, 0, "no labels", chance_corrected=False)
    counts = value_counts(data, n_values)
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return Coefficient(None, 0, "no case has two labels", chance_corrected=False)
    c, mm = counts[pairable], m[pairable]
    agree_pairs = (c * (c - 1)).sum(axis=1) / 2.0
    pairs = mm * (mm - 1) / 2.0
    return Coefficient(float((agree_pairs / pairs).mean()), int(pairable.sum()), chance_corrected=False)


# ---------------------------------------------------------------- over a dataset


def level_of(criterion: Criterion) -> str:
    return "ordinal" if criterion.scale.type is ScaleKind.ordinal else "nominal"


def kappa_weights(criterion: Criterion) -> str | None:
    return "quadratic" if criterion.scale.type is ScaleKind.ordinal else None


@dataclass
class Ratings:
    """One criterion's values as a matrix: raters x cases, scale-value indexes, MISSING for none."""

    criterion_id: str
    criterion: Criterion
    raters: list[str]
    cases: list[str]
    data: np.ndarray

    @property
    def n_values(self) -> int:
        return len(self.criterion.scale.points)

    @classmethod
    def build(cls, criterion_id: str, criterion: Criterion, by_rater: dict[str, dict[str, Value]], cases: Sequence[str]) -> "Ratings":
        raters = sorted(by_rater)
        index = {v: i for i, v in enumerate(criterion.scale.values())}
        col = {cid: j for j, cid in enumerate(cases)}
        data = np.full((len(raters), len(cases)), MISSING, dtype=np.int64)
        for i, r in enumerate(raters):
            vals = by_rater[r]
            js = np.fromiter((col.get(cid, -1) for cid in vals), dtype=np.int64, count=len(vals))
            vs = np.fromiter((index.get(v, MISSING) for v in vals.values()), dtype=np.int64, count=len(vals))
            keep = js >= 0
            data[i, js[keep]] = vs[keep]
        return cls(criterion_id, criterion, raters, list(cases), data)

    @classmethod
    def from_matrix(cls, criterion_id: str, criterion: Criterion, raters: list[str], cases: Sequence[str],
                    data: np.ndarray) -> "Ratings":
        """From a raters x cases matrix of scale indexes; raters with no value here are left out."""
        if data.size:
            has = (data != MISSING).any(axis=1)
            raters = [r for r, h in zip(raters, has) if h]
            data = data[has]
        else:
            data = np.full((0, len(cases)), MISSING, dtype=np.int64)
            raters = []
        order = sorted(range(len(raters)), key=lambda i: raters[i])
        return cls(criterion_id, criterion, [raters[i] for i in order], list(cases), np.asarray(data, dtype=np.int64)[order])

    def alpha(self) -> Coefficient:
        return krippendorff_alpha(self.data, self.n_values, level_of(self.criterion))

    def percent(self) -> Coefficient:
        return percent_agreement(self.data, self.n_values)

    def pairwise_kappa(self) -> dict[tuple[str, str], Coefficient]:
        return pairwise_kappas(self.data, self.raters, self.n_values, kappa_weights(self.criterion))

    def mean_kappa(self, kappas: dict[tuple[str, str], Coefficient] | None = None) -> Coefficient:
        """Pairwise Cohen's kappa averaged over annotator pairs weighted by shared cases (mean_kappa_of)."""
        return mean_kappa_of(self.data, self.raters, self.pairwise_kappa() if kappas is None else kappas)

    def ref_vector(self, values: dict[str, Value]) -> np.ndarray:
        """Scale indexes of `values` in case order (MISSING where absent or off the scale)."""
        index = {v: i for i, v in enumerate(self.criterion.scale.values())}
        by_case = {cid: index.get(v, MISSING) for cid, v in values.items()}
        return np.fromiter(map(by_case.get, self.cases, repeat(MISSING)), dtype=np.int64, count=len(self.cases))

    def gold(self, rule: str, adjudicated: np.ndarray | None = None, without: int | None = None) -> np.ndarray:
        """Gold per case (scale index or MISSING): the adjudicated value where there is one, none where
        `adjudicated` says CONFLICT (leads disagree), else the rule over the raters (leaving out rater
        `without`, so nobody is scored against themselves)."""
        return gold_of(self.data, self.n_values, rule, adjudicated, without)

    def vs_gold(self, rule: str, adjudicated: np.ndarray | None = None) -> dict[str, tuple[Coefficient, Coefficient]]:
        """Each rater against gold made without their own label: (percent agreement, kappa)."""
        return vs_gold_of(self.data, self.raters, self.n_values, kappa_weights(self.criterion), rule, adjudicated)

    def vs(self, other: dict[str, Value]) -> dict[str, tuple[Coefficient, Coefficient]]:
        """Each rater against reference values (a judge, say): (percent agreement, kappa)."""
        ref = self.ref_vector(other)
        out = {}
        for i, r in enumerate(self.raters):
            out[r] = agreement_with(self.data[i], ref, self.n_values, kappa_weights(self.criterion))
        return out


def pairwise_kappas(data: np.ndarray, raters: list[str], n_values: int, weights: str | None = None) -> dict[tuple[str, str], Coefficient]:
    """Cohen's kappa of every pair of rows of a raters x cases matrix of scale indexes."""
    return {(raters[i], raters[j]): cohen_kappa(data[i], data[j], n_values, weights)
            for i, j in combinations(range(len(raters)), 2)}


def mean_kappa_of(data: np.ndarray, raters: list[str], kappas: dict[tuple[str, str], Coefficient]) -> Coefficient:
    """Pairwise Cohen's kappa averaged over annotator pairs weighted by the cases each pair shares (a
    pair that shares 4 cases counts 4, not as much as one that shares 50); n is the cases that at least
    one pair with a defined kappa rated both."""
    index = {r: i for i, r in enumerate(raters)}
    total = weight = 0.0
    covered = np.zeros(data.shape[1] if data.ndim == 2 else 0, dtype=bool)
    for (a, b), k in kappas.items():
        if k.value is None:
            continue
        total += k.value * k.n
        weight += k.n
        covered |= (data[index[a]] != MISSING) & (data[index[b]] != MISSING)
    if not weight:
        return Coefficient(None, 0, "no pair of annotators with a defined kappa")
    return Coefficient(total / weight, int(covered.sum()))


def vs_gold_of(data: np.ndarray, raters: list[str], n_values: int, weights: str | None, rule: str,
               adjudicated: np.ndarray | None = None) -> dict[str, tuple[Coefficient, Coefficient]]:
    """Each row against gold made without it (gold_of): (percent agreement, kappa)."""
    return {r: agreement_with(data[i], gold_of(data, n_values, rule, adjudicated, without=i), n_values, weights)
            for i, r in enumerate(raters)}


def agreement_of(data: np.ndarray, n_values: int, level: str = "nominal", weights: str | None = None,
                 raters: list[str] | None = None, adjudicated: np.ndarray | None = None,
                 gold_rule: str | None = None) -> dict:
    """Every agreement number of one criterion from its raters x cases matrix of scale indexes (MISSING for
    none): alpha, percent agreement, labels, pairwise and mean kappa, and with `gold_rule` each rater against
    gold made without them. What `labeler agreement` reports per criterion (criterion_report)."""
    data = np.asarray(data, dtype=np.int64)
    raters = list(raters) if raters is not None else [str(i) for i in range(len(data))]
    kappas = pairwise_kappas(data, raters, n_values, weights)
    return {"alpha": krippendorff_alpha(data, n_values, level), "percent": percent_agreement(data, n_values),
            "labels": int((data != MISSING).sum()), "kappas": kappas, "mean_kappa": mean_kappa_of(data, raters, kappas),
            "vs_gold": vs_gold_of(data, raters, n_values, weights, gold_rule, adjudicated) if gold_rule else {}}


GOLD_RULES = ("consensus", "majority")
"""consensus: two or more labels, all the same. majority: two or more labels, one value on more than half."""


def gold_by_rule(counts: np.ndarray, rule: str) -> np.ndarray:
    """units x values counts -> gold scale index per unit, or MISSING."""
    if rule not in GOLD_RULES:
        raise ValueError(f"gold rule must be one of {', '.join(GOLD_RULES)}, not {rule!r}")
    if counts.size == 0:
        return np.full(counts.shape[0], MISSING, dtype=np.int64)
    n = counts.sum(axis=1)
    top = counts.max(axis=1)
    if rule == "consensus":
        ok = (n >= 2) & (top == n)
    else:
        ok = (n >= 2) & (top * 2 > n)
    return np.where(ok, counts.argmax(axis=1), MISSING).astype(np.int64)


def gold_of(data: np.ndarray, n_values: int, rule: str, adjudicated: np.ndarray | None = None,
            without: int | None = None) -> np.ndarray:
    """Gold per case of a raters x cases matrix of scale indexes: the adjudicated value where there is one
    (`adjudicated` >= 0), none where it says CONFLICT, else `rule` over the raters (leaving out row `without`)."""
    counts = value_counts(data, n_values)
    if without is not None and counts.size:
        mine = data[without]
        has = mine != MISSING
        counts[np.flatnonzero(has), mine[has]] -= 1.0
    out = gold_by_rule(counts, rule)
    if adjudicated is not None:
        out = np.where(adjudicated >= 0, adjudicated, np.where(adjudicated == CONFLICT, MISSING, out))
    return out


def agreement_with(a: np.ndarray, ref: np.ndarray, n_values: int, weights: str | None) -> tuple[Coefficient, Coefficient]:
    both = (a != MISSING) & (ref != MISSING)
    n = int(both.sum())
    pct = (Coefficient(float((a[both] == ref[both]).mean()), n, chance_corrected=False) if n
           else Coefficient(None, 0, "no case with both values", chance_corrected=False))
    return pct, cohen_kappa(a, ref, n_values, weights)


# ---------------------------------------------------------------- gold


@dataclass
class GoldValue:
    value: Value
    source: str
    """'adjudicated', 'consensus' or 'majority'."""


@dataclass
class CriterionReport:
    criterion: str
    scale: str
    level: str
    alpha: Coefficient
    percent: Coefficient
    labels: int
    kappas: dict[tuple[str, str], Coefficient] = field(default_factory=dict)
    mean_kappa: Coefficient = Coefficient(None, 0, "not computed")
    """Pairwise kappa weighted by shared cases (Ratings.mean_kappa)."""
    vs_gold: dict[str, tuple[Coefficient, Coefficient]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "criterion": self.criterion,
            "scale": self.scale,
            "level": self.level,
            "labels": self.labels,
            "percent_agreement": self.percent.as_dict(),
            "alpha": self.alpha.as_dict(),
            "mean_pairwise_kappa": self.mean_kappa.as_dict(),
            "pairwise_kappa": [{"a": a, "b": b, **k.as_dict()} for (a, b), k in self.kappas.items()],
            "vs_gold": {r: {"percent": p.as_dict(), "kappa": k.as_dict()} for r, (p, k) in self.vs_gold.items()},
        }


def criterion_report(r: Ratings, adjudicated: np.ndarray | None = None, gold_rule: str | None = None) -> CriterionReport:
    """The numbers of one criterion; with `gold_rule`, each rater against gold made without their own label
    (`adjudicated`: the leads' gold per case of `r`, as from Current.adjudicated)."""
    criterion = r.criterion
    level = level_of(criterion)
    x = agreement_of(r.data, r.n_values, level, kappa_weights(criterion), r.raters, adjudicated, gold_rule)
    return CriterionReport(criterion=r.criterion_id, scale=criterion.scale.type.value, level=level, **x)


def labels_to_values(labels: dict[str, dict[str, Label]], criterion: str, keep: set[str] | None = None,
                     current: "callable | None" = None) -> dict[str, dict[str, Value]]:
    """annotator -> case -> value for one criterion, keeping only labels `current(label)` accepts."""
    out: dict[str, dict[str, Value]] = {}
    for ann, by_case in labels.items():
        vals = {}
        for cid, lab in by_case.items():
            if criterion in lab.values and (keep is None or cid in keep) and (current is None or current(lab)):
                vals[cid] = lab.values[criterion]
        if vals:
            out[ann] = vals
    return out
