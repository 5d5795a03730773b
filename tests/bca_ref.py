"""A textbook BCa interval (Efron and Tibshirani 1993, 14.3) for tests: an independent reference."""

import numpy as np
from scipy.stats import norm, t


def bca_reference(point: float, boot, jack) -> tuple[float, float]:
    """From the statistic on the data, on resamples, and with each of its n cases left out; the normal
    quantiles widened to sqrt(n / (n - 1)) t_{n-1} (Hesterberg's expanded percentile)."""
    boot = np.asarray(boot, dtype=float)
    boot = boot[np.isfinite(boot)]
    z0 = norm.ppf(np.mean(boot < point) + 0.5 * np.mean(boot == point))
    d = np.mean(jack) - np.asarray(jack, dtype=float)
    acc = (d ** 3).sum() / (6 * ((d ** 2).sum()) ** 1.5) if (d ** 2).sum() else 0.0
    n = len(jack)
    zs = np.sqrt(n / (n - 1)) * t.ppf([0.025, 0.975], n - 1)
    q = [norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))) for z in zs]
    return tuple(np.percentile(boot, [100 * x for x in q]))
