"""An independent BCa reference for tests: scipy.stats.bootstrap(method='BCa'), at the confidence level
labeler's expanded quantiles amount to (Hesterberg's sqrt(n / (n - 1)) t_{n-1}, from scipy's t), with its
own random draws: agreement is only up to Monte-Carlo error, which `tail_error` estimates."""

import numpy as np
from scipy import stats


def expanded_level(n: int, level: float = 0.95) -> float:
    """The two-sided normal level whose quantile is sqrt(n / (n - 1)) t_{n-1}((1 + level) / 2)."""
    z = np.sqrt(n / (n - 1)) * stats.t.ppf((1 + level) / 2, n - 1)
    return float(2 * stats.norm.cdf(z) - 1)


def scipy_bca(stat_of_cases, n: int, resamples: int = 4000, seed: int = 1) -> tuple[float, float, float]:
    """(low, high, bootstrap standard error) of stat_of_cases(case indexes) by scipy's BCa."""
    res = stats.bootstrap((np.arange(n),), stat_of_cases, vectorized=False, method="BCa", n_resamples=resamples,
                          confidence_level=expanded_level(n), random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high), float(res.standard_error)


def tail_error(se: float, n: int, replicates: int) -> float:
    """Standard error of a bootstrap tail quantile at the expanded level from `replicates` draws, for a
    roughly normal statistic with standard error se: se sqrt(q (1 - q) / B) / phi(z_q)."""
    q = (1 - expanded_level(n)) / 2
    return float(se * np.sqrt(q * (1 - q) / replicates) / stats.norm.pdf(stats.norm.ppf(q)))
