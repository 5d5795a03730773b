"""Do the report's 95% intervals cover 95%? Simulated datasets with a known population value.

    python benchmarks/coverage.py                       # 200 datasets x 3 designs at 25 cases (a few minutes)
    python benchmarks/coverage.py --datasets 10 --replicates 200 --json  # seconds (the smoke test)

Three designs on a 3-point ordinal scale (each rater gives the true value with chance 0.75, else a uniform
draw; the judge with chance 0.8): 2 raters on every case, 3 raters on every case, and partial overlap (4
raters, 2 of them on each case). Six statistics, through labeler's own interval code: alpha, percent
agreement, mean pairwise kappa, the judge against gold (percent and kappa; gold is the true value, as
if adjudicated) and the judge's pass rate (top point). The population value of each is the statistic
on 200,000 cases of the same design; coverage is the share of datasets whose interval holds it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labeler.stats.agreement import MISSING, cohen_kappa, krippendorff_alpha, percent_agreement  # noqa: E402
from labeler.stats.bootstrap import (agreement_vs, alpha_interval, mean_interval, mean_kappa_interval,  # noqa: E402
                                     percent_interval)

DESIGNS = {"2 raters": (2, 2), "3 raters": (3, 3), "partial overlap": (4, 2)}
"""name -> (raters, labels per case)."""
P = [0.2, 0.3, 0.5]


def draw(n: int, design: str, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raters x cases labels with MISSING, the true value per case, the judge's value per case)."""
    raters, per_case = DESIGNS[design]
    z = rng.choice(3, size=n, p=P)
    data = np.stack([np.where(rng.random(n) < 0.75, z, rng.integers(0, 3, n)) for _ in range(raters)])
    if per_case < raters:
        keep = np.argsort(rng.random((raters, n)), axis=0) < per_case
        data = np.where(keep, data, MISSING)
    judge = np.where(rng.random(n) < 0.8, z, rng.integers(0, 3, n))
    return data, z, judge


def mean_kappa(data: np.ndarray) -> float | None:
    ks = [cohen_kappa(data[i], data[j], 3, "quadratic").value for i in range(len(data)) for j in range(i + 1, len(data))]
    ks = [k for k in ks if k is not None]
    return float(np.mean(ks)) if ks else None


def statistics(data, z, judge) -> dict:
    return {"alpha": krippendorff_alpha(data, 3, "ordinal").value, "percent agreement": percent_agreement(data, 3).value,
            "mean kappa": mean_kappa(data), "judge vs gold percent": float((judge == z).mean()),
            "judge vs gold kappa": cohen_kappa(judge, z, 3, "quadratic").value, "judge pass rate": float((judge == 2).mean())}


def intervals(data, z, judge, replicates: int, seed: int) -> dict:
    pct, kap = agreement_vs(judge, z, 3, "quadratic", replicates, seed)
    return {"alpha": alpha_interval(data, 3, "ordinal", replicates, seed), "percent agreement": percent_interval(data, 3, replicates, seed),
            "mean kappa": mean_kappa_interval(data, 3, "quadratic", replicates, seed), "judge vs gold percent": pct,
            "judge vs gold kappa": kap, "judge pass rate": mean_interval((judge == 2).astype(float), replicates, seed)}


def coverage(n: int, design: str, datasets: int, replicates: int, seed: int) -> dict:
    truth = statistics(*draw(200_000, design, np.random.default_rng(12345)))
    rng = np.random.default_rng(seed)
    hit = {k: 0 for k in truth}
    above = {k: 0 for k in truth}
    undefined = {k: 0 for k in truth}
    for s in range(datasets):
        for k, ci in intervals(*draw(n, design, rng), replicates, s).items():
            if ci.low is None:
                undefined[k] += 1
            elif ci.low <= truth[k] <= ci.high:
                hit[k] += 1
            elif truth[k] > ci.high:
                above[k] += 1
    return {k: {"coverage": round(hit[k] / max(1, datasets - undefined[k]), 4), "truth_above": above[k],
                "undefined": undefined[k], "population": round(truth[k], 4)} for k in truth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, nargs="+", default=[25])
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"datasets": a.datasets, "replicates": a.replicates, "method": "BCa bootstrap over cases, 95%",
           "results": [{"cases": n, "design": d, "statistics": coverage(n, d, a.datasets, a.replicates, a.seed)}
                       for n in a.cases for d in DESIGNS]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"coverage of 95% BCa intervals ({a.datasets} datasets each, {a.replicates} replicates)")
    for r in out["results"]:
        cells = ", ".join(f"{k} {v['coverage']:.1%}" for k, v in r["statistics"].items())
        print(f"  {r['cases']} cases, {r['design']}: {cells}")
    low = min(v["coverage"] for r in out["results"] for v in r["statistics"].values())
    print(f"lowest coverage: {low:.1%}")


if __name__ == "__main__":
    main()
