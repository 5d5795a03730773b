"""How often does the alternative annotator test say a judge can replace a person? By simulation through
labeler.stats.alttest: a binary criterion, people who give the true label with chance 0.75, judges that flip
a coin or are as good as or better than the people.

    python benchmarks/alttest_sim.py                  # about a minute
    python benchmarks/alttest_sim.py --sims 5 --json  # seconds (the smoke test)

For each design it prints the share of runs where the paper's rule passes (winning rate >= 0.5 at epsilon
0.2: what labeler reported before), where labeler's verdict passes (the paper's rule and better than the
judge's own labels shuffled), and where the result carries the "too coarse" warning, each with a Wilson 95%
interval.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labeler.stats.alttest import alt_test  # noqa: E402


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    p = k / n
    mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, mid - half), 4), round(min(1.0, mid + half), 4)]


def design(people: int, judge_acc: float, cases: int, sims: int, seed: int, acc: float = 0.75) -> dict:
    rng = np.random.default_rng(seed)
    paper = passed = warned = quiet = 0
    for s in range(sims):
        truth = rng.integers(0, 2, cases)
        data = np.where(rng.random((people, cases)) < acc, truth, 1 - truth)
        judge = np.where(rng.random(cases) < judge_acc, truth, 1 - truth)
        r = alt_test(data, judge, [f"p{k}" for k in range(people)], 2, False, seed=s)
        paper += bool(r.paper_rule)
        passed += bool(r.passed)
        warned += r.warning is not None
        quiet += bool(r.passed) and r.warning is None
    return {"people": people, "judge_accuracy": judge_acc, "cases": cases, "runs": sims,
            "paper_rule_pass_rate": paper / sims, "paper_rule_ci95": wilson(paper, sims),
            "pass_rate": passed / sims, "pass_ci95": wilson(passed, sims), "warning_rate": warned / sims,
            "passes_without_warning_rate": quiet / sims}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {"sims": a.sims, "people_accuracy": 0.75,
           "results": [design(p, j, n, a.sims, a.seed + k) for k, (p, j, n) in enumerate(
               [(3, 0.5, 100), (3, 0.5, 400), (5, 0.5, 100), (3, 0.75, 100), (3, 0.91, 100), (3, 0.91, 400)])]}
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"alternative annotator test, binary scale, people 75% accurate, epsilon 0.2 ({a.sims} runs each)")
    for r in out["results"]:
        print(f"  {r['people']} people, judge {r['judge_accuracy']:.0%} accurate, {r['cases']} cases: paper's rule passes "
              f"{r['paper_rule_pass_rate']:6.1%} [{r['paper_rule_ci95'][0]:.1%}, {r['paper_rule_ci95'][1]:.1%}], "
              f"labeler passes {r['pass_rate']:6.1%} [{r['pass_ci95'][0]:.1%}, {r['pass_ci95'][1]:.1%}], "
              f"warned {r['warning_rate']:.0%}, passes unwarned {r['passes_without_warning_rate']:.1%}")


if __name__ == "__main__":
    main()
