"""What the tool costs of a labeling day, measured on the golden-set day scenario (tests/test_golden_day.py).

Runs that test (180 labels through the real app: 90 first labels of four keys, 90 relabels of one key after
the rubric moved to v2) and prints, per label, the app's own time from the last value key to the label line
appended and fsynced ("key to durable"), and to the next case on screen (Textual's Pilot returns from the
key press: the whole frame, headless), with the day's totals. Pilot's time is an upper bound on what a
person waits: it includes the test driver's own waits.

    python benchmarks/golden_day.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "golden_day.json"
        r = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_golden_day.py"), "-q", "-p", "no:xdist",
                            "-p", "no:cacheprovider", "--basetemp", str(Path(tmp) / "t")],
                           cwd=ROOT, capture_output=True, text=True, env={**os.environ, "LABELER_GOLDEN_DAY_OUT": str(out)})
        if r.returncode != 0 or not out.exists():
            sys.exit(f"the scenario failed:\n{r.stdout[-3000:]}{r.stderr[-2000:]}")
        return json.loads(out.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=1, help="run the scenario this many times (medians of the runs are shown)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    runs = [once() for _ in range(a.repeat)]
    if a.json:
        print(json.dumps(runs, indent=2))
        return
    med = lambda key, sub: statistics.median(r[key][sub] for r in runs)  # noqa: E731
    tot = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(f"golden-set day: {runs[0]['labels']} labels through the app, {a.repeat} run(s), {runs[0]['cpus']} CPUs, "
          f"load {runs[0]['load_avg_1m']}")
    print(f"  key to durable (append + fsync):  median {med('key_to_durable_ms', 'median'):.1f} ms, "
          f"p95 {med('key_to_durable_ms', 'p95'):.1f} ms; the day's total {tot('day_total_key_to_durable_s'):.2f} s")
    print(f"  key to next case on screen:       median {med('key_to_next_case_ms', 'median'):.0f} ms, "
          f"p95 {med('key_to_next_case_ms', 'p95'):.0f} ms; the day's total {tot('day_total_key_to_next_case_s'):.1f} s")
    print(f"  the whole scenario (CLI, app, git, judge): {tot('scenario_s'):.0f} s; steps: {runs[0]['steps_s']}")


if __name__ == "__main__":
    main()
