"""Bootstrap 95% intervals by resampling cases, reproducible for a seed: BCa (bias-corrected and
accelerated, Efron 1987), because agreement coefficients are biased and skewed in small samples and
plain percentile intervals then cover 87-91% instead of 95% (benchmarks/coverage.py measures it).

Four corrections for small n on top of BCa, each measured by benchmarks/coverage.py:
- the quantiles are widened as in Hesterberg's expanded percentile (sqrt(n/(n-1)) t_{n-1});
- the spread is widened further when the jackknife's standard error exceeds the bootstrap's (the
  jackknife variance errs high, Efron and Stein 1981; the bootstrap's is short where a few cases carry
  the statistic, e.g. pairs of annotators sharing 4 cases);
- when no resample moves the statistic (every case agrees, every case passes) the cases cannot show a
  spread, so the interval reaches as far as a share of unlike cases never seen in n could move it: at
  most 1 - 0.025^(1/n) of them (the exact Clopper-Pearson bound), not [point, point];
- a kappa's resamples can only show the disagreements the cases show: when none shows a disagreement
  between two values they use that costs more than every disagreement they show (every one, when all
  agree), the interval reaches down at least to the kappa with the same unseen share of cases showing
  it, half each way (the lowest over such disagreements). Two raters on 25 cases of a 3-point scale
  lack a 0-vs-2 (quadratic cost 4) in 8% of samples when 1 case in 10 is one: over 1,000 datasets
  those intervals held the population kappa 19% of the time (now 85%), all of mean kappa's 92.7%
  (now 97.9%, mean width 0.772 -> 0.785); the judge against gold, 93.4% (now 99.2%).
  A kappa no resample moves with no such disagreement (a judge that always says `pass`: 0 on every
  resample) reaches as far as that unseen share in any one cell the cases never use could move it.

Every statistic here is a function of weighted sums over cases, so a replicate is one weighted sum:
draw n case indexes with replacement (numpy.random.default_rng(seed)), count how often each case was
drawn, and weight the contributions by those counts. The acceleration and the jackknife standard error
come from leaving out groups of cases (case i in group i % G, G = min(n, 200)) so they stay cheap at
100,000 cases. A statistic undefined on the data has no interval, never [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable

import numpy as np

from labeler.stats.agreement import MISSING, _distance, value_counts

B_DEFAULT = 1000


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None
    replicates: int
    """Replicates where the statistic was defined (a resample can have no variation left)."""

    def as_dict(self) -> dict:
        r = lambda x: None if x is None else round(x, 4)  # noqa: E731
        return {"low": r(self.low), "high": r(self.high), "replicates": self.replicates}


JACKKNIFE_GROUPS = 200
_N = NormalDist()


def _jackknife(stat: Callable[[np.ndarray], np.ndarray], n: int, chunk: int = 20) -> np.ndarray:
    """The statistic with each group of cases left out (case i is in group i % G, G = min(n, 200))."""
    g = min(n, JACKKNIFE_GROUPS)
    group = np.arange(n) % g
    out = []
    for s in range(0, g, chunk):
        ids = np.arange(s, min(g, s + chunk))
        out.append(stat((group[None, :] != ids[:, None]).astype(np.float64)))
    return np.concatenate(out)


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (Cornish-Fisher expansion about the normal; within 0.01 from 4 degrees of freedom, 0.001 from 9)."""
    z = _N.inv_cdf(p)
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def expanded_z(p: float, n: int) -> float:
    """The normal quantile BCa starts from, widened for small n as in Hesterberg's expanded percentile
    interval (sqrt(n / (n - 1)) t_{n-1}): a bootstrap distribution is too narrow by about that much."""
    return _N.inv_cdf(p) if n < 3 else float(np.sqrt(n / (n - 1)) * t_quantile(p, n - 1))


def unseen_share(n: int, level: float = 0.95) -> float:
    """The largest share of cases unlike all n seen that is still consistent with seeing none at this
    level: the exact one-sided Clopper-Pearson bound 1 - ((1 - level) / 2)^(1/n) (0.137 at 25 cases)."""
    return 1.0 - ((1.0 - level) / 2.0) ** (1.0 / n) if n > 0 else 1.0


def bca(stat: Callable[[np.ndarray], np.ndarray], n: int, replicates: int = B_DEFAULT, seed: int = 0,
        level: float = 0.95, bounds: tuple[float, float] = (-np.inf, np.inf),
        flat: tuple[float, float] | None = None) -> Interval:
    """The BCa interval of a statistic of case weights (a block of replicates x cases -> one value each),
    widened for small n (module docstring), within `bounds` (the statistic's range). `flat` is the
    interval when no resample moves the statistic (the caller knows how far unseen cases could move it).

    Undefined (no interval) when the statistic is undefined on the data itself."""
    return bca_columns(lambda block: stat(block)[:, None], n, replicates, seed, level, bounds, flat)[0]


def bca_columns(stat: Callable[[np.ndarray], np.ndarray], n: int, replicates: int = B_DEFAULT, seed: int = 0,
                level: float = 0.95, bounds: tuple[float, float] = (-np.inf, np.inf),
                flat: tuple[float, float] | None = None) -> list[Interval]:
    """bca for a statistic with several outputs computed together (a block -> replicates x outputs; say
    Bradley-Terry strengths): one interval per output, all from the same resamples."""
    if n == 0:
        return [Interval(None, None, 0)]
    points = np.asarray(stat(np.ones((1, n))), dtype=float)[0]
    boots = np.concatenate([np.asarray(stat(block), dtype=float) for block in _replicates(n, replicates, seed)])
    jacks = _jackknife(stat, n) if any(np.isfinite(points)) else np.full((0, len(points)), np.nan)
    return [_bca_one(float(points[k]), boots[:, k], jacks[:, k] if len(jacks) else np.zeros(0), n, level, bounds, flat)
            for k in range(len(points))]


def _bca_one(point: float, boot: np.ndarray, jack: np.ndarray, n: int, level: float, bounds: tuple[float, float],
             flat: tuple[float, float] | None) -> Interval:
    """One interval from the statistic on the data, on the resamples and on the jackknife groups."""
    v = boot[np.isfinite(boot)]
    if not np.isfinite(point) or len(v) == 0:
        return Interval(None, None, 0)
    if v.min() == v.max() == point:
        lo, hi = flat if flat is not None else (point, point)
        return Interval(float(lo), float(hi), int(len(v)))
    share = float((v < point).mean() + 0.5 * (v == point).mean())
    z0 = _N.inv_cdf(min(max(share, 0.5 / len(v)), 1 - 0.5 / len(v)))
    jack = jack[np.isfinite(jack)]
    d = jack.mean() - jack if len(jack) else np.zeros(0)
    ss = float((d ** 2).sum())
    a = float((d ** 3).sum()) / (6.0 * ss ** 1.5) if ss > 0 else 0.0
    qs = []
    z = expanded_z((1 + level) / 2, n)
    for z in (-z, z):
        t = z0 + (z0 + z) / max(1.0 - a * (z0 + z), 1e-9)
        qs.append(100.0 * _N.cdf(t))
    lo, hi = np.percentile(v, qs)
    # the jackknife's standard error against the bootstrap's (itself short by sqrt((n-1)/n), which the
    # expanded quantiles already restore): widen around the point by their ratio when it exceeds 1
    se_boot = float(v.std()) * (np.sqrt(n / (n - 1)) if n > 1 else 1.0)
    g = len(jack)
    se_jack = float(np.sqrt((g - 1) / g * ss)) if g > 1 else 0.0
    r = max(1.0, se_jack / se_boot) if se_boot > 0 else 1.0
    lo, hi = point + (lo - point) * r, point + (hi - point) * r
    return Interval(float(max(lo, bounds[0])), float(min(hi, bounds[1])), int(len(v)))


def _replicates(n: int, replicates: int, seed: int, chunk: int = 200):
    """Yield blocks of replicate weights (at most 4 million weights a block: bounded memory at 100,000 cases)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(chunk, 4_000_000 // max(n, 1)))
    done = 0
    while done < replicates:
        m = min(chunk, replicates - done)
        draws = rng.integers(0, n, size=(m, n)) + (np.arange(m) * n)[:, None]  # the same stream as m draws of n
        yield np.bincount(draws.ravel(), minlength=m * n).reshape(m, n).astype(np.float64)
        done += m


def flat_mean(c: float, n: int, lo: float = 0.0, hi: float = 1.0) -> tuple[float, float]:
    """A mean every case gave as c (values within [lo, hi]): unseen cases, at most unseen_share(n) of
    them, could sit at either end."""
    q = unseen_share(n)
    return c - q * (c - lo), c + q * (hi - c)


def _flat_coefficient(n: int, chance_agreement: float) -> tuple[float, float]:
    """A chance-corrected coefficient at 1 (every case agrees) on n cases: disagreements never seen can
    be as common as unseen_share(n); costing what a disagreement costs by chance on average, they would
    bring it to 1 - share / (1 - chance agreement)."""
    dis = 1.0 - chance_agreement
    return (max(-1.0, 1.0 - unseen_share(n) / dis) if dis > 0 else -1.0), 1.0


def _chance_agreement(counts: np.ndarray) -> float:
    """Chance agreement of values drawn twice from the pooled shares in `counts` (cases x values)."""
    tot = counts.sum(axis=0)
    share = tot / max(tot.sum(), 1.0)
    return float((share ** 2).sum())


def _counts(data: np.ndarray, n_values: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(cases, cases x values counts, labels per case, cases with 2+ labels) of a raters x cases matrix."""
    data = np.asarray(data, dtype=np.int64)
    n = data.shape[1] if data.ndim == 2 else 0
    if n == 0:
        return 0, np.zeros((0, n_values)), np.zeros(0), np.zeros(0, dtype=bool)
    counts = value_counts(data, n_values)
    m = counts.sum(axis=1)
    return n, counts, m, m >= 2


def alpha_interval(data: np.ndarray, n_values: int, level: str, replicates: int = B_DEFAULT, seed: int = 0) -> Interval:
    """Krippendorff's alpha over resampled cases (data: raters x cases of scale indexes)."""
    n, counts, m, pair = _counts(data, n_values)
    if n == 0:
        return Interval(None, None, 0)
    w = np.where(pair, 1.0 / np.maximum(m - 1.0, 1.0), 0.0)
    k = n_values
    # per-case coincidence contribution, flattened: w_u (c c^T - diag c)
    o_unit = (counts[:, :, None] * counts[:, None, :]) - np.einsum("uk,kl->ukl", counts, np.eye(k))
    o_unit = (o_unit * w[:, None, None]).reshape(n, k * k)

    def stat(block: np.ndarray) -> np.ndarray:
        out = []
        for ob in (block @ o_unit).reshape(-1, k, k):
            n_c = ob.sum(axis=1)
            tot = n_c.sum()
            delta = _distance(n_c, level)
            d_e = (np.outer(n_c, n_c) * delta).sum()
            out.append(np.nan if d_e == 0 or tot == 0 else 1.0 - (tot - 1.0) * (ob * delta).sum() / d_e)
        return np.asarray(out)
    return bca(stat, n, replicates, seed, bounds=(-np.inf, 1.0),
               flat=_flat_coefficient(int(pair.sum()), _chance_agreement(counts[pair])))


def percent_interval(data: np.ndarray, n_values: int, replicates: int = B_DEFAULT, seed: int = 0) -> Interval:
    """Percent agreement (mean share of agreeing pairs per case) over resampled cases."""
    n, counts, m, pair = _counts(data, n_values)
    if n == 0:
        return Interval(None, None, 0)
    share = np.where(pair, (counts * (counts - 1)).sum(axis=1) / np.maximum(m * (m - 1), 1), 0.0)
    point = float(share[pair].mean()) if pair.any() else 0.0
    return bca(lambda block: _ratio(block @ share, block @ pair.astype(float)), n, replicates, seed, bounds=(0.0, 1.0),
               flat=flat_mean(point, int(pair.sum())))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def mean_interval(values: np.ndarray, replicates: int = B_DEFAULT, seed: int = 0,
                  bounds: tuple[float, float] | None = None) -> Interval:
    """The mean of per-case values over resampled cases. `bounds`: the range a case's value can take (a
    pass rate's 0/1: (0, 1); a paired difference: (-1, 1)); it bounds the interval and, when every case
    gave the same value, says how far unseen cases could move the mean."""
    x = np.asarray(values, dtype=np.float64)
    flat = flat_mean(float(x[0]), len(x), *bounds) if len(x) and bounds else None
    return bca(lambda block: _ratio(block @ x, block.sum(axis=1)), len(x), replicates, seed,
               bounds=bounds or (-np.inf, np.inf), flat=flat)


def share_interval(k: int, n: int, replicates: int = B_DEFAULT, seed: int = 0) -> Interval:
    """k of n cases (each one yes or no): their mean over resampled cases (mean_interval)."""
    return mean_interval(np.r_[np.ones(k), np.zeros(n - k)], replicates, seed, (0.0, 1.0))


def ratio_interval(num: np.ndarray, den: np.ndarray, replicates: int = B_DEFAULT, seed: int = 0,
                   bounds: tuple[float, float] = (0.0, 1.0)) -> Interval:
    """sum(num) / sum(den) over resampled cases, each case carrying its own total (num) over its own
    count (den): a rate whose trials come in groups (a verdict's criteria) resampled by group.
    `bounds`: the range of num / den for one trial (a rate: (0, 1); a paired difference: (-1, 1))."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    if not len(num):
        return Interval(None, None, 0)
    m = int((den > 0).sum())
    flat = flat_mean(float(num.sum() / den.sum()), m, *bounds) if m else None
    kinds, counts = np.unique(np.stack([num, den], axis=1), axis=0, return_counts=True)  # cases alike: one kind
    return bca_counts(lambda block: _ratio(block @ kinds[:, 0], block @ kinds[:, 1]), counts, replicates, seed,
                      bounds=bounds, flat=flat)


def paired_interval(stat: Callable[[np.ndarray], float], n: int, replicates: int = B_DEFAULT, seed: int = 0) -> Interval:
    """Any statistic of case weights (stat(weights) -> value): the general, slower path."""
    return bca(lambda block: np.asarray([stat(w) for w in block], dtype=float), n, replicates, seed)


def block_interval(stat: Callable[[np.ndarray], np.ndarray], n: int, replicates: int = B_DEFAULT, seed: int = 0,
                   bounds: tuple[float, float] = (-np.inf, np.inf), flat: tuple[float, float] | None = None) -> Interval:
    """A statistic computed for a whole block of case weights at once (rows x cases -> values).
    Weights are bootstrap counts or jackknife 0/1, so a mean must divide by the weights' sum."""
    return bca(stat, n, replicates, seed, bounds=bounds, flat=flat)


def _kappa_weights(n_values: int, kind: str | None) -> np.ndarray:
    idx = np.arange(n_values)
    if kind == "quadratic":
        return (idx[:, None] - idx[None, :]).astype(float) ** 2
    if kind == "linear":
        return np.abs(idx[:, None] - idx[None, :]).astype(float)
    return (idx[:, None] != idx[None, :]).astype(float)


def _pair_codes(a: np.ndarray, b: np.ndarray, n_values: int) -> np.ndarray:
    """cases x K*K: one-hot of (a, b) where both rated the case."""
    both = (a != MISSING) & (b != MISSING)
    onehot = np.zeros((len(a), n_values * n_values))
    onehot[np.flatnonzero(both), (a * n_values + b)[both]] = 1.0
    return onehot


def _kappas(conf: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each replicate's confusion (replicates x K x K), NaN where undefined."""
    tot = conf.sum(axis=(1, 2))
    rows, cols = conf.sum(axis=2), conf.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / np.where(tot > 0, tot, 1)[:, None, None]
    denom = (wt * expected).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 1.0 - (wt * conf).sum(axis=(1, 2)) / denom
    return np.where((denom > 0) & (tot > 0), k, np.nan)


def mean_kappa_interval(data: np.ndarray, n_values: int, kind: str | None, replicates: int = B_DEFAULT,
                        seed: int = 0) -> Interval:
    """Every pair of raters' Cohen's kappa averaged with the cases each pair shares as weights (as
    Ratings.mean_kappa), over resampled cases (one matrix product per block)."""
    r, n = data.shape
    pairs = [(i, j) for i in range(r) for j in range(i + 1, r)]
    if not pairs or n == 0:
        return Interval(None, None, 0)
    wt = _kappa_weights(n_values, kind)
    codes = [_pair_codes(data[i], data[j], n_values) for i, j in pairs]

    def stat(block: np.ndarray) -> np.ndarray:
        """The mean of the pairs' kappas weighted by the cases each pair shares (NaN where no pair is defined)."""
        confs = [(block @ c).reshape(-1, n_values, n_values) for c in codes]
        ks = np.stack([_kappas(cf, wt) for cf in confs])
        shared = np.stack([cf.sum(axis=(1, 2)) for cf in confs])
        ok = np.isfinite(ks)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.where(ok, ks, 0.0) * shared).sum(axis=0) / np.where(ok, shared, 0.0).sum(axis=0)
    both = sum(c.sum(axis=1) for c in codes) > 0
    return _kappa_bca(stat, np.stack([c.sum(axis=0).reshape(n_values, n_values) for c in codes]), wt, n, int(both.sum()),
                      replicates, seed)


def _kappa_bca(stat: Callable[[np.ndarray], np.ndarray], confs: np.ndarray, wt: np.ndarray, n: int, rated: int,
               replicates: int, seed: int) -> Interval:
    """bca of a (mean) kappa whose low end reaches at least as far as an unseen costlier disagreement
    could bring it (module docstring); `confs`: each pair's confusion on the data, `rated`: the cases
    some pair rated."""
    floor = _unseen_disagreement(confs, wt, rated)
    floor = None if floor is None else max(-1.0, floor)
    iv = bca(stat, n, replicates, seed, bounds=(-1.0, 1.0), flat=_unseen_cells(confs, wt, rated) if floor is None else (floor, 1.0))
    if iv.low is None or floor is None or floor >= iv.low:
        return iv
    return Interval(floor, iv.high, iv.replicates)


def _unseen_disagreement(confs: np.ndarray, wt: np.ndarray, rated: int) -> float | None:
    """The lowest kappa (pairs x K x K confusions, averaged weighted by their cases) if unseen_share(rated)
    of every pair's cases, half each way, showed a disagreement between two values the cases use that
    none shows and that costs more than every disagreement they show; None when there is none."""
    pooled = confs.sum(axis=0)
    pooled = pooled + pooled.T
    used = pooled.sum(axis=0) > 0
    worst = float((wt * (pooled > 0)).max())
    q = unseen_share(rated)
    lows = []
    for i, j in zip(*np.nonzero(np.triu((pooled == 0) & (wt > worst) & used[:, None] & used[None, :], 1))):
        cell = np.zeros_like(pooled)
        cell[i, j] = cell[j, i] = 0.5
        lows.append(_mean_kappa_with(confs, wt, q, cell))
    lows = [k for k in lows if k is not None]
    return min(lows) if lows else None


def _mean_kappa_with(confs: np.ndarray, wt: np.ndarray, q: float, cell: np.ndarray) -> float | None:
    """The pairs' kappas averaged weighted by their cases, with share q of each pair's cases moved into
    `cell` (K x K shares summing to 1); None when no pair's kappa is defined."""
    tot = confs.sum(axis=(1, 2))
    ks = _kappas((1.0 - q) * confs + q * tot[:, None, None] * cell, wt)
    ok = np.isfinite(ks)
    return float((ks[ok] * tot[ok]).sum() / tot[ok].sum()) if ok.any() else None


def _unseen_cells(confs: np.ndarray, wt: np.ndarray, rated: int) -> tuple[float, float] | None:
    """How far a kappa no resample moves (a rater who always gave one value: kappa 0 on every resample)
    could go if unseen_share(rated) of each pair's cases fell in one cell none of them shows: the lowest
    and highest such kappa, with the point; None when every cell is seen."""
    pooled = confs.sum(axis=0)
    q = unseen_share(rated)
    reach = []
    for i, j in zip(*np.nonzero(pooled == 0)):
        cell = np.zeros_like(pooled)
        cell[i, j] = 1.0
        reach.append(_mean_kappa_with(confs, wt, q, cell))
    reach = [k for k in reach if k is not None]
    point = _mean_kappa_with(confs, wt, 0.0, np.zeros_like(pooled))
    if not reach or point is None:
        return None
    return max(-1.0, min(reach + [point])), min(1.0, max(reach + [point]))


def weighted_kappa(a: np.ndarray, b: np.ndarray, n_values: int, weights_kind: str | None, w: np.ndarray) -> float:
    """Cohen's kappa of a against b with case weights w (cases where either is MISSING count 0)."""
    conf = (w @ _pair_codes(a, b, n_values)).reshape(1, n_values, n_values)
    return float(_kappas(conf, _kappa_weights(n_values, weights_kind))[0])


def _kappa_chance(conf: np.ndarray) -> float:
    """Chance agreement of a confusion matrix: the product of its margins' shares, summed."""
    p = conf / max(conf.sum(), 1.0)
    return float((p.sum(axis=1) * p.sum(axis=0)).sum())


def agreement_vs(a: np.ndarray, ref: np.ndarray, n_values: int, kind: str | None, replicates: int = B_DEFAULT,
                 seed: int = 0) -> tuple[Interval, Interval]:
    """(percent, kappa) intervals of one rater against a reference (gold, or a judge), resampling cases."""
    n = len(a)
    if n == 0:
        return Interval(None, None, 0), Interval(None, None, 0)
    both = ((a != MISSING) & (ref != MISSING)).astype(float)
    same = ((a == ref) & (both > 0)).astype(float)
    codes = _pair_codes(a, ref, n_values)
    wt = _kappa_weights(n_values, kind)
    m = int(both.sum())
    pct = bca(lambda block: _ratio(block @ same, block @ both), n, replicates, seed, bounds=(0.0, 1.0),
              flat=flat_mean(float(same.sum()) / max(m, 1), m))
    kap = _kappa_bca(lambda block: _kappas((block @ codes).reshape(-1, n_values, n_values), wt),
                     codes.sum(axis=0).reshape(1, n_values, n_values), wt, n, m, replicates, seed)
    return pct, kap


def bca_counts(stat: Callable[[np.ndarray], np.ndarray], counts: np.ndarray, replicates: int = B_DEFAULT, seed: int = 0,
               level: float = 0.95, bounds: tuple[float, float] = (-np.inf, np.inf),
               flat: tuple[float, float] | None = None) -> Interval:
    """bca when cases come in a few kinds that the statistic cannot tell apart (`counts`: cases of each
    kind; stat: a block of replicates x kinds weights -> one value each): a replicate is
    rng.multinomial(n, counts / n), exactly the distribution of n cases drawn with replacement, and the
    jackknife leaves out one case of each kind (the plain delete-one jackknife). The same interval as
    bca at the cost of the kinds, not the cases: 100,000 cases in milliseconds."""
    counts = np.asarray(counts, dtype=np.float64)
    n = int(counts.sum())
    if n == 0:
        return Interval(None, None, 0)
    point = float(np.asarray(stat(counts[None, :]), dtype=float)[0])
    rng = np.random.default_rng(seed)
    boots = np.concatenate([np.asarray(stat(rng.multinomial(n, counts / n, size=min(2000, replicates - s)).astype(np.float64)),
                                       dtype=float) for s in range(0, replicates, 2000)])
    kinds = np.flatnonzero(counts)
    jack = np.asarray(stat(counts[None, :] - np.eye(len(counts))[kinds]), dtype=float) if np.isfinite(point) else np.zeros(0)
    return _bca_one(point, boots, np.repeat(jack, counts[kinds].astype(np.int64)) if len(jack) else jack, n, level, bounds, flat)


def paired_change(new: np.ndarray, old: np.ndarray, ref: np.ndarray, n_values: int, kind: str | None,
                  replicates: int = B_DEFAULT, seed: int = 0) -> tuple[Interval, Interval]:
    """(percent, kappa) intervals of new's agreement with ref minus old's, resampling cases and keeping each
    case's pair together (paired); a case where any of the three is MISSING is resampled but scores nothing.
    Both numbers depend only on how many cases fall in each (new, old, ref) state, so the cases are
    resampled as counts of states (bca_counts). When no resample moves a difference (no case flipped),
    unseen cases could still flip: up to unseen_share(m) of them either way for agreement, that share over
    the chance disagreement for kappa."""
    k = n_values
    both = (new != MISSING) & (old != MISSING) & (ref != MISSING)
    states = np.where(both, (new * k + old) * k + ref, k ** 3)  # the last state: scored nothing
    counts = np.bincount(states, minlength=k ** 3 + 1).astype(np.float64)
    m = int(both.sum())
    sn, so, sg = (np.r_[x, 0] for x in np.unravel_index(np.arange(k ** 3), (k, k, k)))
    scored = np.r_[np.ones(k ** 3), 0.0]
    d = ((sn == sg).astype(float) - (so == sg)) * scored
    pct = bca_counts(lambda block: _ratio(block @ d, block @ scored), counts, replicates, seed, bounds=(-1.0, 1.0),
                     flat=flat_mean(float(counts @ d) / m, m, -1.0, 1.0) if m else None)
    cells = lambda a: np.eye(k * k)[a * k + sg] * scored[:, None]  # noqa: E731  (state -> its confusion cell)
    cn, co = cells(sn), cells(so)
    wt = _kappa_weights(k, kind)

    def kappas(block: np.ndarray) -> np.ndarray:
        return _kappas((block @ cn).reshape(-1, k, k), wt) - _kappas((block @ co).reshape(-1, k, k), wt)
    point = float(kappas(counts[None, :])[0])
    flat = None
    if m and np.isfinite(point):
        chance = max(_kappa_chance((counts @ c).reshape(k, k)) for c in (cn, co))
        reach = unseen_share(m) / max(1.0 - chance, 1e-9)
        flat = (max(-2.0, point - reach), min(2.0, point + reach))
    return pct, bca_counts(kappas, counts, replicates, seed, bounds=(-2.0, 2.0), flat=flat)


def rogan_gladen(p_obs: float, sensitivity: float, specificity: float) -> float | None:
    """The true pass rate behind an observed one, given the judge's sensitivity and specificity on gold:
    (p + spec - 1) / (sens + spec - 1), clipped to [0, 1]; undefined when the judge is no better than chance."""
    j = sensitivity + specificity - 1.0
    if j <= 0:
        return None
    return float(min(1.0, max(0.0, (p_obs + specificity - 1.0) / j)))


def confusion_intervals(conf: np.ndarray, kind: str | None, replicates: int = B_DEFAULT,
                        seed: int = 0) -> tuple[Interval, Interval]:
    """(percent, kappa) intervals from a confusion matrix (rows one rater, columns the other): both
    numbers are functions of the matrix alone, so its cells are the cases to resample."""
    conf = np.asarray(conf, dtype=np.int64)
    k = conf.shape[0]
    rows, cols = np.nonzero(conf)
    reps = conf[rows, cols]
    return agreement_vs(np.repeat(rows, reps), np.repeat(cols, reps), k, kind, replicates, seed)


def band(interval: Interval) -> str:
    """The Landis-Koch word for a coefficient only when its whole interval lies in one band, else
    the span ("fair to almost perfect"): the point alone does not earn a word."""
    from labeler.stats.agreement import landis_koch

    if interval.low is None:
        return "undefined"
    lo, hi = landis_koch(interval.low), landis_koch(interval.high)
    return lo if lo == hi else f"{lo} to {hi}"
