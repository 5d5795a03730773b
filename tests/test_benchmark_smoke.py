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
