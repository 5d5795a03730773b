"""Agreement numbers against independent implementations and published examples."""

from __future__ import annotations

import krippendorff  # GPL: a test oracle only
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from labeler.stats.agreement import MISSING, Coefficient, cohen_kappa, krippendorff_alpha, landis_koch, percent_agreement


def _oracle_alpha(data: np.ndarray, level: str) -> float:
    d = data.astype(float)
    d[data == MISSING] = np.nan
    return krippendorff.alpha(reliability_data=d, level_of_measurement=level, value_domain=list(range(int(data.max()) + 1)))


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_alpha_matches_oracle_on_random_data_with_missing(seed: int, level: str):
    rng = np.random.default_rng(seed)
    coders, units, values = rng.integers(2, 6), rng.integers(5, 60), rng.integers(2, 5)
    truth = rng.integers(0, values, units)
    data = np.where(rng.random((coders, units)) < 0.7, truth, rng.integers(0, values, (coders, units)))
    data[rng.random((coders, units)) < 0.25] = MISSING
    data[0, 0], data[1, 0] = 0, values - 1  # at least some variation
    ours = krippendorff_alpha(data, int(values), level)
    assert ours.value == pytest.approx(_oracle_alpha(data, level), abs=1e-9)


def test_krippendorff_published_example():
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability': 4 coders, 12 units, missing values."""
    nan = MISSING
    raw = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    data = np.array([[v - 1 if v != nan else nan for v in row] for row in raw])
    assert round(krippendorff_alpha(data, 5, "nominal").value, 3) == 0.743
    assert round(krippendorff_alpha(data, 5, "ordinal").value, 3) == 0.815
    assert krippendorff_alpha(data, 5, "nominal").n == 11  # unit 12 has a single value


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_kappa_matches_sklearn(seed: int, weights):
    rng = np.random.default_rng(100 + seed)
    n, values = rng.integers(10, 80), int(rng.integers(2, 5))
    a = rng.integers(0, values, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, values, n))
    a[0], b[0] = 0, values - 1
    ours = cohen_kappa(a, b, values, weights).value
    assert ours == pytest.approx(cohen_kappa_score(a, b, labels=list(range(values)), weights=weights), abs=1e-9)


def test_textbook_kappa_2x2():
    """A 2x2 example: 50 items; yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.7, pe 0.5, kappa 0.4."""
    a = np.array([0] * 20 + [0] * 5 + [1] * 10 + [1] * 15)
    b = np.array([0] * 20 + [1] * 5 + [0] * 10 + [1] * 15)
    assert cohen_kappa(a, b, 2).value == pytest.approx(0.4)


def test_kappa_ignores_units_missing_either_rater():
    a = np.array([0, 1, MISSING, 1])
    b = np.array([0, 1, 1, MISSING])
    k = cohen_kappa(a, b, 2)
    assert k.n == 2 and k.value == pytest.approx(1.0)


def test_undefined_cases_are_reported_not_faked():
    one = np.array([[0, 1, 2, 1]])
    assert krippendorff_alpha(one, 3).value is None and "two labels" in krippendorff_alpha(one, 3).reason
    same = np.array([[1, 1, 1], [1, 1, 1]])
    a = krippendorff_alpha(same, 3)
    assert a.value is None and a.n == 3 and "same" in a.reason
    assert percent_agreement(same, 3).value == 1.0
    assert cohen_kappa(np.array([1, 1]), np.array([1, 1]), 3).value is None
    assert cohen_kappa(np.array([MISSING]), np.array([1]), 3).reason == "no case rated by both"
    assert Coefficient(None, 0, "x").band == "undefined"


def test_percent_agreement_pairs():
    data = np.array([[0, 0, 1], [0, 1, 1], [0, MISSING, 0]])
    # unit 0: 3 pairs agree (1.0); unit 1: 1 pair disagrees (0); unit 2: 1 of 3 pairs agree
    assert percent_agreement(data, 2).value == pytest.approx((1 + 0 + 1 / 3) / 3)


def test_landis_koch_bands():
    assert [landis_koch(x) for x in (-0.1, 0.1, 0.3, 0.5, 0.7, 0.9)] == ["poor", "slight", "fair", "moderate", "substantial", "almost perfect"]
