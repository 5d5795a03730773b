"""Pairwise datasets at 10,000 and 100,000 cases: the commands and the labeling screen, against the same floors.

    python benchmarks/pairwise.py                    # 10k and 100k x 3 annotators (a couple of minutes)
    python benchmarks/pairwise.py --sizes 300 --json # seconds

Measures (first call, then warm) `status`, `agreement`, `winrate` (gold and one judge run, three sources, Bradley-Terry) and
`calibrate` (with position consistency), and the labeling app (start, next-case frame p95, memory) on
pairwise cases shown side by side. Floors: a hello-world Textual app, headless, in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate_pairwise  # noqa: E402
from scale import PY, hello_headless, json_of, run_cpu  # noqa: E402


def measure(size: int, annotators: int, repeats: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="labeler-pairs-"))
    ds = generate_pairwise(root, size, annotators)
    labeler = [PY, "-m", "labeler"]
    out: dict = {"cases": size, "annotators": annotators}
    run_cpu(labeler + ["status", "pairs", "--json"], root)  # builds the caches (the cold open)
    for name, args in (("status", ["status", "pairs", "--json"]), ("agreement", ["agreement", "pairs", "--json"]),
                       ("winrate", ["winrate", "pairs", "--json"]), ("calibrate", ["calibrate", "pairs", "--run", "pairjudge", "--json"])):
        out[f"{name}_first_s"] = round(run_cpu(labeler + args, root)[0], 3)  # may build a cache (a judge run's columns)
        runs = [run_cpu(labeler + args, root) for _ in range(repeats)]
        out[f"{name}_wall_s"] = round(statistics.median(r[0] for r in runs), 3)
        out[f"{name}_cpu_s"] = round(statistics.median(r[1] for r in runs), 3)
        out[f"{name}_exit"] = runs[0][2]
    app = json_of([PY, str(HERE / "app_frame.py"), str(ds)])
    out["app_start_headless_s"], out["label_key_frame_ms_p95"], out["app_peak_mb"] = app["start_s"], app["next_case_ms_p95"], app["maxrss_mb"]
    shutil.rmtree(root)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--annotators", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    hello = statistics.median(hello_headless() for _ in range(3))
    results = [measure(int(n), a.annotators, a.repeats) for n in a.sizes.split(",")]
    for r in results:
        r["app_start_vs_hello_headless"] = round(r["app_start_headless_s"] / hello, 2)
    report = {"floors": {"hello_headless_s": round(hello, 3)}, "results": results}
    if a.json:
        print(json.dumps(report, indent=2))
        return
    print(f"floor: hello-world Textual app, headless: {hello:.3f} s")
    for r in results:
        print(f"{r['cases']:>7} cases x {r['annotators']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("cases", "annotators")))


if __name__ == "__main__":
    main()
