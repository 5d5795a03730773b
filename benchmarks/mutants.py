"""A small mutation check: apply hand-made mutants, one at a time, to a copy of the code and run the tests
that should notice. Prints each mutant killed or survived, and the kill rate.

    python benchmarks/mutants.py                  # this checkout's tests
    python benchmarks/mutants.py --tests-from REV # the same mutants against the tests of a git revision

Each mutant is a (file, old text, new text) replacement that must match the current code exactly once:
before anything runs, every mutant is checked and each stale one is named (exit 2), so a refactor cannot
quietly shrink the list. The copy lives in a temp folder; the checkout is never touched.
    python benchmarks/mutants.py --only fsync     # the mutants whose description holds "fsync"
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
A, W, L, C, N, R, D, T = ("labeler/stats/agreement.py", "labeler/stats/winrate.py", "labeler/truth/logs.py",
                          "labeler/stats/calibrate.py", "labeler/stats/numbers.py", "labeler/stats/regress.py",
                          "labeler/stats/drift.py", "labeler/stats/alttest.py")
TESTS = {
    A: ["test_agreement.py", "test_baseline.py", "test_pins.py", "test_trust.py", "test_report.py"],
    W: ["test_pairwise.py", "test_pins.py", "test_baseline.py"],
    L: ["test_store.py", "test_pins.py"],
    C: ["test_calibrate_audit.py", "test_baseline.py", "test_pins.py"],
    N: ["test_agreement.py", "test_pins.py", "test_trust.py", "test_cli.py"],
    R: ["test_pins.py", "test_gates.py", "test_regress_export.py"],
    D: ["test_drift.py"],
    T: ["test_baseline.py"],
}
MUTANTS = [
    (A, "    if x <= 0.20:", "    if x < 0.20:", "Landis-Koch: 0.20 is fair"),
    (A, "    if x <= 0.80:", "    if x < 0.80:", "Landis-Koch: 0.80 is almost perfect"),
    (A, '"labels": int((data != MISSING).sum())', '"labels": int(data.size)', "labels count includes empty cells"),
    (A, "out = np.where(adjudicated >= 0, adjudicated, np.where(adjudicated == CONFLICT, MISSING, out))",
     "out = np.where(out != MISSING, out, np.where(adjudicated >= 0, adjudicated, MISSING))", "consensus beats an adjudication"),
    (A, "np.where(adjudicated == CONFLICT, MISSING, out))", "out)", "leads' conflict falls back to the consensus"),
    (A, "counts[np.flatnonzero(has), mine[has]] -= 1.0", "pass", "annotator scored against gold with their own label"),
    (A, "ok = (n >= 2) & (top == n)", "ok = (n >= 1) & (top == n)", "one label is consensus"),
    (A, "ok = (n >= 2) & (top * 2 > n)", "ok = (n >= 2) & (top * 2 >= n)", "half is a majority"),
    (A, "expected = np.outer(conf.sum(axis=1), conf.sum(axis=0)) / n", "expected = np.outer(conf.sum(axis=1), conf.sum(axis=0)) / (n + 1)",
     "kappa's chance term off"),
    (A, "        total += k.value * k.n\n        weight += k.n", "        total += k.value\n        weight += 1",
     "mean kappa unweighted"),
    (W, "ties = count(a, out == 2) + count(b, out == 2)", "ties = count(a, out == 2)", "ties credited to side A only"),
    (W, "bad2 = count(a, out == 3) + count(b, out == 3)", "bad2 = count(a, out == 3)", "both bad credited to side A only"),
    (W, "idx = r.gold(gold_rule, adjudicated_of(cur, r)).astype(np.int64)", "idx = r.gold(gold_rule).astype(np.int64)",
     "win tables ignore adjudicated gold"),
    (W, "centre = (p + z * z / (2 * n)) / denom", "centre = p", "Wilson interval centred on p"),
    (W, "informative = [m for m in matchups if m.a_wins + m.b_wins + m.ties]", "informative = list(matchups)",
     "both-bad connects sources for Bradley-Terry"),
    (W, "t.ranking = [bradley_terry(g) for g in connected(list(t.matchups.values()))] or None",
     "t.ranking = [bradley_terry(list(t.matchups.values()))]", "Bradley-Terry across unconnected sources"),
    (L, "                    view = view[n:]\n                os.fsync(fd)", "                    view = view[n:]",
     "append not fsynced"),
    (L, "            if new:\n                fsync_dir(self.path.parent)", "            if new:\n                pass",
     "new log's folder not fsynced"),
    (L, "            f.write(b\"\\n\")\n            f.flush()\n            os.fsync(f.fileno())",
     "            f.write(b\"\\n\")\n            f.flush()", "completing newline not fsynced"),
    (L, "            side.flush()\n            os.fsync(side.fileno())", "            side.flush()", "torn bytes not fsynced"),
    (L, "        f.truncate(cut)\n        f.flush()\n        os.fsync(f.fileno())", "        f.truncate(cut)\n        f.flush()",
     "cut not fsynced"),
    (L, "                repair_tail(self.path)\n", "                pass\n", "torn tail not repaired before an append"),
    (C, "g_i = np.where(judged, gold_of(data, n_values, rule, adjudicated, without=i), MISSING)",
     "g_i = np.where(scored, gold_of(data, n_values, rule, adjudicated, without=i), MISSING)",
     "annotators scored only where everyone's gold exists"),
    (C, "elif c.judge_percent.value < bar:", "elif c.judge_percent.value <= bar:", "calibrate gate fails at the bar"),
    (N, "            elif coef.value < bar:", "            elif coef.value <= bar:", "agreement/alpha gate fails at the bar"),
    (N, "                elif ci.low < bar:", "                elif ci.low <= bar:", "gate on the lower bound fails at the bar"),
    (N, "                if ci is None or ci.low is None:", "                if ci is None:", "a lower bound of None passes the gate"),
    (R, "c.judge_percent.value is not None and c.judge_percent.value < bar]",
     "c.judge_percent.value is not None and c.judge_percent.value <= bar]", "calibration_warnings: at the bar is weak"),
    (R, "unmeasured = sorted(c.criterion for c in cal if c.judge_percent.value is None)", "unmeasured = []",
     "calibration_warnings: a judge with no gold to compare with is fine"),
    (R, "    if not peers:\n", "    if False:\n", "calibration_warnings: an uncalibrated judge goes unsaid"),
    (D, "    q = golden if golden_tf is None else new_text_vectors(golden_tf)", "    q = golden",
     "drift reference without the IDF refit (drawn cases weighed as golden, not as new)"),
    (D, "s_pg = mean_over_different(dot(sp, sg), cp, cg, qg, n * g)", "s_pg = dot(sp, sg) / (n * g)",
     "drift reference compares a drawn case with itself"),
    (D, "cg[r] = np.bincount(rng.integers(0, g, g), minlength=g)", "cg[r] = 1.0",
     "drift reference leaves out the golden set's own noise"),
    (T, "        return None if rule is None else bool(rule and self.beats_chance)", "        return rule",
     "alt-test passes a judge no better than chance"),
    (T, "        if self.chance_pass_rate is None or self.chance_pass_rate <= CHANCE_LEVEL:", "        if True:",
     "alt-test never warns that it is too coarse"),
]


def run(work: Path, tests: list[str]) -> bool:
    """True when the tests fail (the mutant is killed)."""
    env = {**os.environ, "PYTHONPATH": str(work)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                        *[f"tests/{t}" for t in tests if (work / "tests" / t).exists()]],
                       cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    return r.returncode != 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests-from", help="take tests/ from this git revision (the mutants still apply to this checkout's code)")
    ap.add_argument("--only", default="", help="run only the mutants whose description holds this text")
    a = ap.parse_args()
    stale = [f"{path}: {what}" for path, old, _, what in MUTANTS if (ROOT / path).read_text().count(old) != 1]
    if stale:
        print("stale mutants (their text is not in the code exactly once; update them to the code):\n  " + "\n  ".join(stale))
        return 2
    chosen = [m for m in MUTANTS if a.only in m[3]]
    if not chosen:
        print(f"no mutant's description holds {a.only!r}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "labeler", work / "labeler", ignore=shutil.ignore_patterns("__pycache__"))
        for f in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / f, work / f)
        for d in ("datasets", "rubrics", "benchmarks"):
            shutil.copytree(ROOT / d, work / d)
        if a.tests_from:
            (work / "tests").mkdir()
            tar = subprocess.run(["git", "archive", a.tests_from, "tests"], cwd=ROOT, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(work)], input=tar, check=True)
        else:
            shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        if run(work, sorted({t for p, *_ in chosen for t in TESTS[p]})):
            print("the tests fail before any mutant: fix them first")
            return 2
        killed = 0
        for path, old, new, what in chosen:
            src = (work / path).read_text()
            (work / path).write_text(src.replace(old, new))
            try:
                dead = run(work, TESTS[path])
            finally:
                (work / path).write_text(src)
            killed += dead
            print(f"{'killed  ' if dead else 'SURVIVED'}  {path}: {what}", flush=True)
        print(f"kill rate: {killed}/{len(chosen)} = {killed / max(len(chosen), 1):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
