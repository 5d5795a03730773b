"""Does `labeler drift --max-drift 0` alarm about 5% of the time when nothing moved, at every n? By simulation
through the command's own code (labeler.stats.drift.analyse on the local embedding).

    python benchmarks/drift_sim.py                  # a few minutes
    python benchmarks/drift_sim.py --sims 10 --json # seconds (the smoke test)

A golden set of 120 inputs on four topics (8 words each from a topic's 40); each simulated run draws a new
golden set and n production inputs from the same four topics (no drift: the false-alarm rate, with its
Wilson 95% interval, at n = 5, 10, 30, 60, 200), or with half of them on a fifth topic the golden set never
had (a real shift: the power, at n = 30 and 60), or a tenth of them (a small shift, at n = 60 and 200). Also the covered share with no drift (the default
threshold means "as close as golden cases are to each other": about 95%).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labeler.stats.drift import analyse, local_embed, local_tf  # noqa: E402

WORDS = {t: [f"{t}{k}" for k in range(40)] for t in ("alpha", "bravo", "charlie", "delta", "echo")}
SEEN = ["alpha", "bravo", "charlie", "delta"]


def texts(rng, n: int, topics: list[str]) -> list[str]:
    """Synthetic inputs: 8 words from one topic's vocabulary each."""
    return [" ".join(rng.choice(WORDS[topics[int(rng.integers(len(topics)))]], size=8)) for _ in range(n)]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def run(n: int, shifted: int, sims: int, seed: int, golden_size: int = 120) -> dict:
    rng = np.random.default_rng(seed)
    alarms, covered, scores, refs = 0, [], [], []
    for s in range(sims):
        golden = texts(rng, golden_size, SEEN)
        prod = texts(rng, n - shifted, SEEN) + texts(rng, shifted, ["echo"])
        g, p = local_embed([golden, prod])
        r = analyse(prod, p, g, [str(i) for i in range(len(g))], None, seed=s, golden_tf=local_tf(golden))
        alarms += r.score > r.reference
        covered.append(r.covered_share)
        scores.append(r.score)
        refs.append(r.reference)
    lo, hi = wilson(alarms, sims)
    return {"n": n, "shifted": shifted, "runs": sims, "alarm_rate": alarms / sims, "alarm_ci95": [round(lo, 4), round(hi, 4)],
            "mean_score": round(float(np.mean(scores)), 4), "mean_reference": round(float(np.mean(refs)), 4),
            "mean_covered_share": round(float(np.mean(covered)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"sims": a.sims,
           "no_drift": [run(n, 0, a.sims, a.seed + n) for n in (5, 10, 30, 60, 200)],
           "shift": [run(n, n // 2, a.sims, a.seed + 1000 + n) for n in (30, 60)],
           "small_shift": [run(n, n // 10, a.sims, a.seed + 2000 + n) for n in (60, 200)]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"drift --max-drift 0, golden set of 120 ({a.sims} simulated runs each)")
    print("  nothing moved: false alarms (target about 5%)")
    for r in out["no_drift"]:
        print(f"    n={r['n']:<4} {r['alarm_rate']:6.1%} [{r['alarm_ci95'][0]:.1%}, {r['alarm_ci95'][1]:.1%}]   "
              f"score {r['mean_score']:.3f} vs reference {r['mean_reference']:.3f}, covered {r['mean_covered_share']:.1%}")
    print("  half (then a tenth) of the inputs on a topic the golden set never had: power")
    for r in out["shift"] + out["small_shift"]:
        print(f"    n={r['n']:<4} {r['shifted']:>3} new {r['alarm_rate']:6.1%} [{r['alarm_ci95'][0]:.1%}, {r['alarm_ci95'][1]:.1%}]   "
              f"score {r['mean_score']:.3f} vs reference {r['mean_reference']:.3f}, covered {r['mean_covered_share']:.1%}")


if __name__ == "__main__":
    main()
