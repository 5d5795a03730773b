"""The statistics on plain arrays: agreement, calibration and regression numbers computed from numpy
matrices and vectors alone (no dataset, no rubric), against independent oracles (krippendorff, sklearn,
plain Python loops)."""

from __future__ import annotations

from itertools import combinations

import krippendorff  # GPL: a test oracle only
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from labeler.stats.agreement import CONFLICT, MISSING, agreement_of, gold_of
from labeler.stats.calibrate import judge_vs_gold
from labeler.stats.regress import paired_change


def _matrix(seed: int, coders: int = 4, units: int = 60, values: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, values, units)
    data = np.where(rng.random((coders, units)) < 0.7, truth, rng.integers(0, values, (coders, units)))
    data[rng.random((coders, units)) < 0.3] = MISSING
    data[0, 0], data[1, 0] = 0, values - 1
    return data


def _kappa(a: np.ndarray, b: np.ndarray, values: int, weights) -> float:
    both = (a != MISSING) & (b != MISSING)
    return cohen_kappa_score(a[both], b[both], labels=list(range(values)), weights=weights)


def _consensus(column: list[int]) -> int:
    """Gold by the consensus rule, the slow way: two or more labels, all equal."""
    vals = [v for v in column if v != MISSING]
    return vals[0] if len(vals) >= 2 and len(set(vals)) == 1 else MISSING


def _majority(column: list[int]) -> int:
    vals = [v for v in column if v != MISSING]
    best = max(set(vals), key=vals.count) if vals else None
    return best if len(vals) >= 2 and vals.count(best) * 2 > len(vals) else MISSING


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level,weights", [("nominal", None), ("ordinal", "quadratic")])
def test_agreement_of_a_matrix(seed: int, level: str, weights):
    data = _matrix(seed)
    raters = ["w", "x", "y", "z"]
    got = agreement_of(data, 3, level, weights, raters, gold_rule="consensus")
    d = data.astype(float)
    d[data == MISSING] = np.nan
    assert got["alpha"].value == pytest.approx(krippendorff.alpha(reliability_data=d, level_of_measurement=level,
                                                                   value_domain=[0, 1, 2]), abs=1e-9)
    assert got["labels"] == int((data != MISSING).sum())
    for (a, b), k in got["kappas"].items():
        i, j = raters.index(a), raters.index(b)
        assert k.value == pytest.approx(_kappa(data[i], data[j], 3, weights), abs=1e-9)
    shared = {(a, b): int(((data[raters.index(a)] != MISSING) & (data[raters.index(b)] != MISSING)).sum())
              for a, b in combinations(raters, 2)}
    mean = sum(got["kappas"][p].value * shared[p] for p in shared) / sum(shared.values())
    assert got["mean_kappa"].value == pytest.approx(mean, abs=1e-12)
    pairs = []
    for col in data.T:
        vals = [v for v in col if v != MISSING]
        if len(vals) >= 2:
            pairs.append(np.mean([x == y for x, y in combinations(vals, 2)]))
    assert got["percent"].value == pytest.approx(np.mean(pairs)) and got["percent"].n == len(pairs)
    for i, r in enumerate(raters):  # each rater against consensus gold made without them
        others = np.delete(data, i, axis=0)
        gold = np.array([_consensus(list(col)) for col in others.T])
        both = (data[i] != MISSING) & (gold != MISSING)
        assert got["vs_gold"][r][0].value == pytest.approx((data[i][both] == gold[both]).mean())
        assert got["vs_gold"][r][1].value == pytest.approx(_kappa(data[i], gold, 3, weights), abs=1e-9)


@pytest.mark.parametrize("rule,oracle", [("consensus", _consensus), ("majority", _majority)])
def test_gold_of_a_matrix(rule: str, oracle):
    data = _matrix(3, coders=5, units=80)
    adjudicated = np.full(80, MISSING)
    adjudicated[:5], adjudicated[5:8] = 2, CONFLICT
    want = np.array([oracle(list(col)) for col in data.T])
    assert gold_of(data, 3, rule).tolist() == want.tolist()
    got = gold_of(data, 3, rule, adjudicated)
    assert got[:5].tolist() == [2] * 5 and got[5:8].tolist() == [MISSING] * 3 and got[8:].tolist() == want[8:].tolist()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_judge_vs_gold_of_arrays(seed: int, weights):
    data = _matrix(seed + 50, coders=3, units=70)
    rng = np.random.default_rng(seed)
    judge = np.where(rng.random(70) < 0.75, data.max(axis=0).clip(0), rng.integers(0, 3, 70))
    judge[rng.random(70) < 0.1] = MISSING
    adjudicated = np.full(70, MISSING)
    adjudicated[:4] = 1
    got = judge_vs_gold(data, judge, adjudicated, 3, "consensus", weights, weights is not None, ["a", "b", "c"])
    gold = np.array([_consensus(list(col)) for col in data.T])
    gold[:4] = 1
    scored = (judge != MISSING) & (gold != MISSING)
    assert got.percent.n == int(scored.sum())
    assert got.percent.value == pytest.approx((judge[scored] == gold[scored]).mean())
    assert got.kappa.value == pytest.approx(cohen_kappa_score(judge[scored], gold[scored], labels=[0, 1, 2], weights=weights), abs=1e-9)
    assert got.confusion == confusion_matrix(judge[scored], gold[scored], labels=[0, 1, 2]).tolist()
    assert got.no_gold == int(((judge != MISSING) & (gold == MISSING)).sum())
    for i, who in enumerate("abc"):
        g_i = np.array([_consensus(list(col)) for col in np.delete(data, i, axis=0).T])
        g_i[:4] = 1
        g_i[judge == MISSING] = MISSING
        both = (data[i] != MISSING) & (g_i != MISSING)
        assert got.humans[who][0].value == pytest.approx((data[i][both] == g_i[both]).mean())
        assert got.humans[who][1].value == pytest.approx(_kappa(data[i], g_i, 3, weights), abs=1e-9)
    assert [c.annotator for c in got.alt.comparisons] == ["a", "b", "c"]


def test_paired_change_of_arrays():
    rng = np.random.default_rng(7)
    base = rng.integers(0, 3, 120)
    cand = np.clip(base + rng.integers(-1, 2, 120), 0, 2)
    got, worse = paired_change(base, cand, base >= 1, cand >= 1, ordinal=True, replicates=500, seed=1)
    assert got["cases"] == 120
    assert got["mean_base"] == round(base.mean(), 4) and got["mean_candidate"] == round(cand.mean(), 4)
    assert got["pass_base"] == round((base >= 1).mean(), 4) and got["pass_candidate"] == round((cand >= 1).mean(), 4)
    assert got["pass_diff"] == round((cand >= 1).mean() - (base >= 1).mean(), 4)
    for k in ("pass_base", "pass_candidate", "pass_diff"):
        ci = got[f"{k}_ci95"]
        assert ci["low"] <= got[k] <= ci["high"] and ci["high"] - ci["low"] < 0.3
    assert worse == [i for i in range(120) if cand[i] < base[i]]
    labels = np.array(["billing", "tech", "other"])
    a, b = labels[rng.integers(0, 3, 30)], labels[rng.integers(0, 3, 30)]
    got, worse = paired_change(a, b)  # categorical, no pass values: every change, counted
    assert worse == [i for i in range(30) if a[i] != b[i]] and got == {"cases": 30, "changed": len(worse)}
