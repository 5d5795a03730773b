"""A textbook BCa interval (Efron and Tibshirani 1993, 14.3) for tests: an independent reference."""

import numpy as np
from scipy.stats import norm


def bca_reference(point: float, boot, jack) -> tuple[float, float]:
    """From the statistic on the data, on resamples, and with each case left out."""
    boot = np.asarray(boot, dtype=float)
    boot = boot[np.isfinite(boot)]
    z0 = norm.ppf(np.mean(boot < point) + 0.5 * np.mean(boot == point))
    d = np.mean(jack) - np.asarray(jack, dtype=float)
    acc = (d ** 3).sum() / (6 * ((d ** 2).sum()) ** 1.5) if (d ** 2).sum() else 0.0
    q = [norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))) for z in norm.ppf([0.025, 0.975])]
    return tuple(np.percentile(boot, [100 * x for x in q]))
