"""The scale benchmark runs (on a small dataset) so it cannot rot; its real run is `python benchmarks/scale.py`."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "scale.py"


def test_scale_benchmark_smoke(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH), "--sizes", "200", "--annotators", "3", "--smoke", "--json"],
                         capture_output=True, text=True, timeout=300, env={**__import__("os").environ, "LABELER_BENCH_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    r = report["results"][0]
    assert report["floors"]["fsync_s"] > 0 and report["floors"]["hello_headless_s"] > 0
    assert r["cases"] == 200 and r["warm_open_s"] > 0 and r["label_durable_vs_fsync"] > 0
    for k in ("agreement_cpu_s", "status_cpu_s", "calibrate_cpu_s", "validate_cpu_s", "label_key_frame_ms_p95",
              "review_key_frame_ms_p95", "app_peak_mb"):
        assert r[k] > 0, k


def test_pairwise_benchmark_smoke():
    bench = BENCH.parent / "pairwise.py"
    out = subprocess.run([sys.executable, str(bench), "--sizes", "150", "--repeats", "1", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)["results"][0]
    assert r["cases"] == 150
    for k in ("status", "agreement", "winrate", "calibrate"):
        assert r[f"{k}_exit"] == 0 and r[f"{k}_cpu_s"] > 0, k
    assert r["label_key_frame_ms_p95"] > 0 and r["app_peak_mb"] > 0


def test_gates_simulation_smoke():
    """benchmarks/gates_sim.py, tiny: its real run prints the false-alarm rates and power quoted in docs/numbers.md."""
    out = subprocess.run([sys.executable, str(BENCH.parent / "gates_sim.py"), "--sims", "6", "--replicates", "100", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    drops = r["regress_max_drop"]
    assert [d["true_drop"] for d in drops][:2] == [0.0, 0.0] and all(0 <= d["fail_rate_interval_rule"] <= 1 for d in drops)
    assert drops[0]["fail_rate_point_rule"] > 0  # nothing changed, yet the point rule fails some runs
    for key in ("agreement_min_alpha", "calibrate_min"):
        assert all(x["pass_rate_lower"] <= x["pass_rate_point"] for x in r[key]), key
    vs = r["calibrate_vs"]  # calibrate --vs's significant-loss gate: false alarms, then power
    assert [x["true_drop"] for x in vs][:2] == [0.0, 0.0] and all(0 <= x["fail_rate"] <= 1 for x in vs)


def test_coverage_benchmark_smoke():
    """benchmarks/coverage.py, tiny: every design and statistic comes out with a coverage in [0, 1]."""
    out = subprocess.run([sys.executable, str(BENCH.parent / "coverage.py"), "--datasets", "4", "--replicates", "100",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    assert [x["design"] for x in r["results"]] == ["2 raters", "3 raters", "partial overlap"]
    every = {"alpha", "percent agreement", "mean kappa", "judge vs gold percent", "judge vs gold kappa", "sensitivity",
             "specificity", "corrected pass rate"}
    for x in r["results"]:
        gold_without = {"annotator vs gold percent", "annotator vs gold kappa"} if x["design"] == "3 raters" else set()
        assert set(x["statistics"]) == every | gold_without
        assert all(0 <= s["coverage"] <= 1 and s["mean_width"] >= 0 for s in x["statistics"].values())
    one = subprocess.run([sys.executable, str(BENCH.parent / "coverage.py"), "--datasets", "2", "--replicates", "50",
                          "--designs", "2 raters", "--json"], capture_output=True, text=True, timeout=300)
    assert [x["design"] for x in json.loads(one.stdout)["results"]] == ["2 raters"], one.stderr[-2000:]


def test_alttest_simulation_smoke():
    """benchmarks/alttest_sim.py, tiny: its real run prints the coin-flip pass rates quoted in docs/numbers.md."""
    out = subprocess.run([sys.executable, str(BENCH.parent / "alttest_sim.py"), "--sims", "2", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)["results"]
    assert r[0]["people"] == 3 and r[0]["judge_accuracy"] == 0.5
    assert all(x["pass_rate"] <= x["paper_rule_pass_rate"] for x in r)


def test_every_mutant_still_matches_the_code_exactly_once():
    """benchmarks/mutants.py refuses to run with a stale mutant (exit 2): a refactor must update them, not
    quietly shrink the mutation check."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mutants", BENCH.parent / "mutants.py")
    mutants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mutants)
    stale = [what for path, old, _, what in mutants.MUTANTS if (mutants.ROOT / path).read_text().count(old) != 1]
    assert stale == [] and len(mutants.MUTANTS) >= 30
