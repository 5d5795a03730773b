"""How often each CI gate is wrong, by simulation through the gates' own code.

    python benchmarks/gates_sim.py                 # about five minutes
    python benchmarks/gates_sim.py --sims 20 --json  # seconds (the smoke test)

- regress --max-drop: a paired design (each case has its own chance to pass, both sides drawn from it),
  judged by the point rule (fail when the estimate falls more than the margin) and by the interval rule
  labeler uses (fail when the whole 95% interval is beyond the margin): the false-alarm rate when nothing
  changed, and the power (the rate of failing) for a true drop of a given size at a given n.
- calibrate --vs: the same paired design as right or wrong against gold for an old and a new judge run; how
  often a significant loss (the whole 95% interval of the agreement difference below 0) is called.
- agreement --min-alpha and calibrate --min: how often a gate passes when the truth is under its bar
  (a false pass) and fails when the truth is over it, on the point estimate and on the lower bound.
- drift --max-drift 0: how often it alarms when production is drawn like the golden set (5 to 200
  inputs), and when half of 60 inputs are on a topic the golden set never had; and the covered share
  with no drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labeler.stats.agreement import krippendorff_alpha  # noqa: E402
from labeler.stats.bootstrap import alpha_interval, confusion_intervals, mean_interval, paired_change  # noqa: E402
from labeler.stats.calibrate import Change  # noqa: E402
from labeler.stats.drift import analyse, local_embed, local_tf  # noqa: E402
from labeler.stats.regress import gates  # noqa: E402


def paired(n: int, drop: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Pass (1) or fail of base and candidate per case: 60% of cases are clear (always pass or always fail),
    40% are borderline (the judge says pass half the time); the candidate loses `drop` of pass rate."""
    p = np.where(rng.random(n) < 0.6, (rng.random(n) < 0.5).astype(float), 0.5)
    keep = 1.0 - drop / max(p.mean(), 1e-9)
    return (rng.random(n) < p).astype(float), (rng.random(n) < p * max(keep, 0.0)).astype(float)


def drop_gate(n: int, drop: float, margin: float, sims: int, replicates: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    point = interval = 0
    for s in range(sims):
        a, b = paired(n, drop, rng)
        d = b - a
        item = {"cases": n, "pass_base": a.mean(), "pass_candidate": b.mean(), "pass_diff": d.mean(),
                "pass_diff_ci95": mean_interval(d, replicates, s, (-1.0, 1.0)).as_dict()}
        point += d.mean() < -margin
        interval += bool(gates({"groups": [{"group": "all cases", "criteria": {"c": item}}]}, margin, {}))
    return {"n": n, "true_drop": drop, "margin": margin, "fail_rate_point_rule": point / sims,
            "fail_rate_interval_rule": interval / sims}


def vs_gate(n: int, drop: float, sims: int, replicates: int, seed: int) -> dict:
    """calibrate --vs: the same paired design, as right (1) or wrong against gold per case for the old and the
    new run; the gate fails on a significant loss (Change.significant_loss: the whole 95% interval of the
    agreement difference below 0)."""
    rng = np.random.default_rng(seed)
    failed = 0
    for s in range(sims):
        old_right, new_right = paired(n, drop, rng)
        gold = np.zeros(n, dtype=np.int64)
        pct, kap = paired_change(1 - new_right.astype(np.int64), 1 - old_right.astype(np.int64), gold, 2, None, replicates, s)
        change = Change("c", n, None, None, None, None, (pct.low, pct.high), (kap.low, kap.high), [], [])
        failed += change.significant_loss
    return {"n": n, "true_drop": drop, "fail_rate": failed / sims}


def two_raters(n: int, q: float, rng) -> np.ndarray:
    """Two raters on a 3-point ordinal scale: each reports the true value with chance q, else a uniform draw."""
    z = rng.choice(3, size=n, p=[0.2, 0.3, 0.5])
    return np.stack([np.where(rng.random(n) < q, z, rng.integers(0, 3, n)) for _ in range(2)])


def q_for_alpha(target: float, rng) -> float:
    """The reliability q whose population alpha is `target` (bisection on a large sample)."""
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        a = krippendorff_alpha(two_raters(200_000, mid, np.random.default_rng(1)), 3, "ordinal").value
        lo, hi = (mid, hi) if a < target else (lo, mid)
    return (lo + hi) / 2


def alpha_gate(n: int, true_alpha: float, bar: float, sims: int, replicates: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    q = q_for_alpha(true_alpha, rng)
    passed_point = passed_lower = 0
    for s in range(sims):
        data = two_raters(n, q, rng)
        a = krippendorff_alpha(data, 3, "ordinal").value
        ci = alpha_interval(data, 3, "ordinal", replicates, s)
        passed_point += a is not None and a >= bar
        passed_lower += ci.low is not None and ci.low >= bar
    return {"n": n, "true_alpha": true_alpha, "bar": bar, "pass_rate_point": passed_point / sims,
            "pass_rate_lower": passed_lower / sims}


def agreement_gate(n: int, true_rate: float, bar: float, sims: int, replicates: int, seed: int) -> dict:
    """calibrate --min: the judge agrees with gold on each case with chance `true_rate` (binary scale)."""
    rng = np.random.default_rng(seed)
    passed_point = passed_lower = 0
    for s in range(sims):
        gold = (rng.random(n) < 0.6).astype(int)
        judge = np.where(rng.random(n) < true_rate, gold, 1 - gold)
        conf = np.zeros((2, 2), dtype=int)
        np.add.at(conf, (judge, gold), 1)
        pct, _ = confusion_intervals(conf, None, replicates, s)
        passed_point += (judge == gold).mean() >= bar
        passed_lower += pct.low is not None and pct.low >= bar
    return {"n": n, "true_agreement": true_rate, "bar": bar, "pass_rate_point": passed_point / sims,
            "pass_rate_lower": passed_lower / sims}


WORDS = {t: [f"{t}{k}" for k in range(40)] for t in ("alpha", "bravo", "charlie", "delta", "echo")}
SEEN = ["alpha", "bravo", "charlie", "delta"]


def texts(rng, n: int, topics: list[str]) -> list[str]:
    """Synthetic inputs: 8 words from one topic's vocabulary each."""
    return [" ".join(rng.choice(WORDS[topics[int(rng.integers(len(topics)))]], size=8)) for _ in range(n)]


def drift_gate(n: int, shifted: int, sims: int, seed: int) -> dict:
    """A golden set of 120 inputs on four topics; n production inputs, `shifted` of them on a fifth."""
    rng = np.random.default_rng(seed)
    golden = texts(np.random.default_rng(10_000 + seed), 120, SEEN)
    alarms, covered = 0, []
    for s in range(sims):
        prod = texts(rng, n - shifted, SEEN) + texts(rng, shifted, ["echo"])
        g, p = local_embed([golden, prod])
        r = analyse(prod, p, g, [str(i) for i in range(len(g))], None, seed=s, golden_tf=local_tf(golden))
        alarms += r.score > r.reference
        covered.append(r.covered_share)
    return {"n": n, "shifted": shifted, "alarm_rate": alarms / sims, "mean_covered_share": round(float(np.mean(covered)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=400)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    s, b = a.sims, a.replicates
    out = {"sims": s, "replicates": b,
           "regress_max_drop": [drop_gate(n, d, m, s, b, a.seed + k) for k, (n, d, m) in enumerate(
               [(100, 0.0, 0.0), (100, 0.0, 0.01), (400, 0.0, 0.01), (100, 0.05, 0.01), (100, 0.10, 0.01),
                (100, 0.15, 0.01), (400, 0.05, 0.01), (400, 0.10, 0.01)])],
           "calibrate_vs": [vs_gate(n, d, s, b, a.seed + 50 + k) for k, (n, d) in enumerate(
               [(100, 0.0), (400, 0.0), (100, 0.05), (100, 0.10), (100, 0.15), (400, 0.05), (400, 0.10)])],
           "agreement_min_alpha": [alpha_gate(n, t, 0.8, s // 2, b // 2, a.seed + k) for k, (n, t) in enumerate(
               [(60, 0.7), (60, 0.8), (60, 0.9), (200, 0.7), (200, 0.9)])],
           "calibrate_min": [agreement_gate(n, t, 0.8, s, b, a.seed + k) for k, (n, t) in enumerate(
               [(60, 0.75), (60, 0.8), (60, 0.9), (200, 0.75), (200, 0.9)])],
           "drift_max_drift_0": [drift_gate(n, k, max(2, s // 8), a.seed + i) for i, (n, k) in enumerate(
               [(5, 0), (10, 0), (60, 0), (200, 0), (60, 30)])]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"regress --max-drop ({s} simulated runs each; fail rate = false alarm when the true drop is 0, else power)")
    for r in out["regress_max_drop"]:
        print(f"  n={r['n']:<4} true drop {r['true_drop']:.0%}  margin {r['margin']:.0%}:  point rule fails "
              f"{r['fail_rate_point_rule']:.1%}, interval rule fails {r['fail_rate_interval_rule']:.1%}")
    print(f"calibrate --vs ({s} runs each; fail rate = false alarm when the true drop is 0, else power)")
    for r in out["calibrate_vs"]:
        print(f"  n={r['n']:<4} true drop {r['true_drop']:.0%}: a significant loss in {r['fail_rate']:.1%}")
    print(f"agreement --min-alpha 0.8 ({s // 2} runs each, {b // 2} replicates): how often the gate passes")
    for r in out["agreement_min_alpha"]:
        print(f"  n={r['n']:<4} true alpha {r['true_alpha']:.2f}: on the point {r['pass_rate_point']:.1%}, "
              f"on the lower bound {r['pass_rate_lower']:.1%}")
    print(f"calibrate --min 0.8 ({s} runs each): how often the gate passes")
    for r in out["calibrate_min"]:
        print(f"  n={r['n']:<4} true agreement {r['true_agreement']:.0%}: on the point {r['pass_rate_point']:.1%}, "
              f"on the lower bound {r['pass_rate_lower']:.1%}")
    print(f"drift --max-drift 0 ({max(2, s // 8)} runs each): how often it alarms")
    for r in out["drift_max_drift_0"]:
        what = "drawn like the golden set" if not r["shifted"] else f"{r['shifted']} on a new topic"
        print(f"  n={r['n']:<4} {what}: alarms {r['alarm_rate']:.1%}, covered share {r['mean_covered_share']:.1%}")


if __name__ == "__main__":
    main()
