"""Do the report's 95% intervals cover 95%? Simulated datasets with a known population value.

    python benchmarks/coverage.py                       # 200 datasets x 3 designs at 25 cases (a few minutes)
    python benchmarks/coverage.py --datasets 10 --replicates 200 --json  # seconds (the smoke test)
    python benchmarks/coverage.py --datasets 1000 --designs "2 raters"  # one design

Three designs on a 3-point ordinal scale (each rater gives the true value with chance 0.75, else a uniform
draw; the judge with chance 0.8): 2 raters on every case, 3 raters on every case, and partial overlap (4
raters, 2 of them on each case). Every statistic `labeler report` prints with an interval, each through
labeler's own code for both the point and the interval: alpha, percent agreement, mean pairwise kappa
(weighted by shared cases), the first annotator against gold made without them (3 raters: the others'
consensus), the judge against gold (percent and kappa; gold is the true value, as if adjudicated), and
the judge's pass rates (top point): sensitivity, specificity, and the Rogan-Gladen corrected pass rate
of as many judge-only cases again. The population value of each is the statistic on 200,000 cases of
the same design; coverage is the share of datasets whose interval holds it (a statistic undefined on a
dataset has no interval and is counted apart). Mean width is in the statistic's units.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labeler.stats.agreement import MISSING, Ratings, cohen_kappa  # noqa: E402
from labeler.stats.bootstrap import agreement_vs, alpha_interval, mean_kappa_interval, percent_interval  # noqa: E402
from labeler.stats.report import pass_rates  # noqa: E402
from labeler.truth.models import Criterion  # noqa: E402

DESIGNS = {"2 raters": (2, 2), "3 raters": (3, 3), "partial overlap": (4, 2)}
"""name -> (raters, labels per case)."""
P = [0.2, 0.3, 0.5]
CRITERION = Criterion.model_validate({"question": "q", "scale": {"type": "ordinal", "points": {0: {"label": "bad"}, 1: {"label": "ok"},
                                                                                              2: {"label": "good"}}}})


def draw(n: int, design: str, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(raters x cases labels with MISSING, the true value per case, the judge's value per case, and the
    judge's value on n more cases that have no gold)."""
    raters, per_case = DESIGNS[design]
    z = rng.choice(3, size=n, p=P)
    data = np.stack([np.where(rng.random(n) < 0.75, z, rng.integers(0, 3, n)) for _ in range(raters)])
    if per_case < raters:
        keep = np.argsort(rng.random((raters, n)), axis=0) < per_case
        data = np.where(keep, data, MISSING)
    judge = np.where(rng.random(n) < 0.8, z, rng.integers(0, 3, n))
    z2 = rng.choice(3, size=n, p=P)
    judge_only = np.where(rng.random(n) < 0.8, z2, rng.integers(0, 3, n))
    return data, z, judge, judge_only


def _judge_columns(z, judge, judge_only):
    """The report's inputs for pass rates: judge and gold over gold cases then judge-only cases."""
    n = len(z)
    jp = np.concatenate([judge, judge_only]) == 2
    gp = np.concatenate([z == 2, np.zeros(n, dtype=bool)])
    both = np.arange(2 * n) < n
    return jp, gp, both, ~both


def numbers(data, z, judge, judge_only, replicates: int, seed: int) -> dict:
    """statistic -> (point, (low, high) or None), exactly as `labeler report` computes them (points only
    when replicates is 0)."""
    def iv(interval):
        return (interval.low, interval.high) if replicates else None

    r = Ratings.from_matrix("q", CRITERION, [f"r{i}" for i in range(len(data))], [f"c{j}" for j in range(data.shape[1])], data)
    out = {"alpha": (r.alpha().value, replicates and iv(alpha_interval(r.data, 3, "ordinal", replicates, seed))),
           "percent agreement": (r.percent().value, replicates and iv(percent_interval(r.data, 3, replicates, seed))),
           "mean kappa": (r.mean_kappa().value, replicates and iv(mean_kappa_interval(r.data, 3, "quadratic", replicates, seed)))}
    if ((data != MISSING).sum(axis=0) >= 3).all():  # gold made without the first annotator needs two others
        p, k = r.vs_gold("consensus")[r.raters[0]]
        pi, ki = agreement_vs(r.data[0], r.gold("consensus", without=0), 3, "quadratic", replicates, seed) if replicates else (None, None)
        out.update({"annotator vs gold percent": (p.value, replicates and iv(pi)),
                    "annotator vs gold kappa": (k.value, replicates and iv(ki))})
    pi, ki = agreement_vs(judge, z, 3, "quadratic", replicates, seed) if replicates else (None, None)
    out["judge vs gold percent"] = (float((judge == z).mean()), replicates and iv(pi))
    out["judge vs gold kappa"] = (cohen_kappa(judge, z, 3, "quadratic").value, replicates and iv(ki))
    rates = pass_rates(*_judge_columns(z, judge, judge_only), replicates, seed) if replicates else pass_rates(
        *_judge_columns(z, judge, judge_only), 1, 0)
    for name, key in (("sensitivity", "sensitivity"), ("specificity", "specificity"), ("corrected pass rate", "corrected_pass_rate")):
        c = rates[key]
        ci = c.get("ci95")
        out[name] = (c["value"], None if ci is None or not replicates else (ci["low"], ci["high"]))
    return out


def coverage(n: int, design: str, datasets: int, replicates: int, seed: int) -> dict:
    truth = {k: v for k, (v, _) in numbers(*draw(200_000, design, np.random.default_rng(12345)), 0, 0).items()}
    rng = np.random.default_rng(seed)
    hit = {k: 0 for k in truth}
    above = {k: 0 for k in truth}
    undefined = {k: 0 for k in truth}
    width = {k: 0.0 for k in truth}
    for s in range(datasets):
        for k, (_, ci) in numbers(*draw(n, design, rng), replicates, s).items():
            lo, hi = ci if ci else (None, None)
            if lo is None or truth[k] is None:
                undefined[k] += 1
                continue
            width[k] += hi - lo
            if lo <= truth[k] <= hi:
                hit[k] += 1
            elif truth[k] > hi:
                above[k] += 1
    return {k: {"coverage": round(hit[k] / max(1, datasets - undefined[k]), 4), "truth_above": above[k],
                "undefined": undefined[k], "mean_width": round(width[k] / max(1, datasets - undefined[k]), 4),
                "population": round(truth[k], 4)} for k in truth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, nargs="+", default=[25])
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--designs", nargs="+", choices=list(DESIGNS), default=list(DESIGNS), metavar="DESIGN",
                    help=f"designs to run (default all: {', '.join(map(repr, DESIGNS))})")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"datasets": a.datasets, "replicates": a.replicates, "method": "BCa bootstrap over cases, 95%, widened for small n",
           "results": [{"cases": n, "design": d, "statistics": coverage(n, d, a.datasets, a.replicates, a.seed)}
                       for n in a.cases for d in a.designs]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    se = 100 * np.sqrt(0.95 * 0.05 / a.datasets)
    print(f"coverage of 95% intervals ({a.datasets} datasets each, {a.replicates} replicates; "
          f"Monte-Carlo standard error of a 95% coverage: {se:.1f} points); mean width in brackets")
    for r in out["results"]:
        print(f"  {r['cases']} cases, {r['design']}:")
        for k, v in r["statistics"].items():
            print(f"    {k:26s} {v['coverage']:6.1%}  [{v['mean_width']:.3f}]  truth above {v['truth_above']:3d}"
                  f"  undefined {v['undefined']:3d}  population {v['population']:.4f}")
    low = min(v["coverage"] for r in out["results"] for v in r["statistics"].values())
    print(f"lowest coverage: {low:.1%}")


if __name__ == "__main__":
    main()
