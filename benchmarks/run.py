"""Measure the store, agreement and the labeling app on a generated 10,000 x 5 dataset; prints a table.

    python benchmarks/run.py [--cases 10000] [--annotators 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18]


def in_subprocess(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--annotators", type=int, default=5)
    a = ap.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ds_path = generate(Path(tmp) / "ws", a.cases, a.annotators)
        load = f"import time; t=time.perf_counter(); from labeler.truth.store import open_dataset; ds=open_dataset({str(ds_path)!r}); print(time.perf_counter()-t)"
        cold = in_subprocess(load)
        warm = statistics.median(in_subprocess(load) for _ in range(3))
        rows.append(("load, cold (no cache; includes imports)", f"{cold * 1000:.0f} ms", "shows progress"))
        rows.append(("load, cached (unchanged files; includes imports)", f"{warm * 1000:.0f} ms", "< 300 ms"))

        from labeler.truth.models import Label
        from labeler.stats.numbers import agreement_groups
        from labeler.flows.labeling import LabelSession
        from labeler.truth.store import open_dataset

        ds = open_dataset(ds_path)
        times = []
        for i in range(200):
            lab = Label(case=f"c-{i:05d}", rubric=1, values={"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass", "grounded": 2})
            t = time.perf_counter()
            ds.save_label("bench", lab)
            times.append(time.perf_counter() - t)
        rows.append(("label save incl. fsync, p95 (200 saves)", f"{p95(times) * 1000:.2f} ms", "< 10 ms"))

        runs = []
        for _ in range(3):
            t = time.perf_counter()
            agreement_groups(ds, "criterion")
            runs.append(time.perf_counter() - t)
        rows.append((f"agreement, {a.cases} cases x {a.annotators} annotators x 5 criteria (first / median of 3)",
                     f"{runs[0] * 1000:.0f} / {statistics.median(runs) * 1000:.0f} ms", "< 500 ms"))

        # the session: key to durable label, and next case
        s = LabelSession(ds, "bench2")
        keys, nexts = [], []
        for _ in range(100):
            for k in ("2", "1", "2", "y"):
                s.press(k)
            t = time.perf_counter()
            out = s.press("2")
            keys.append(time.perf_counter() - t)
            assert out.saved
        for _ in range(100):
            t = time.perf_counter()
            s.skip()
            nexts.append(time.perf_counter() - t)
        rows.append(("last key -> label durable + queue updated, p95 (session)", f"{p95(keys) * 1000:.2f} ms", "< 10 ms"))
        rows.append(("next case (session), p95", f"{p95(nexts) * 1000:.2f} ms", "< 16 ms"))

        # the app in its own process: start to first case, next case to a composed frame, memory
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("app_frame.py")), str(ds_path)],
                             capture_output=True, text=True, check=True)
        app = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(("app start -> first case composed (headless, own process)", f"{app['start_s'] * 1000:.0f} ms", "< 1 s"))
        rows.append(("app: key -> next case, handler + reflow + full render, p95", f"{app['next_case_ms_p95']:.1f} ms", "< 16 ms"))
        rows.append(("app process peak memory", f"{app['maxrss_mb']} MB", "< 300 MB"))
        rows.append(("peak memory (benchmark process: two datasets, sessions)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", "< 300 MB"))

    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"labeler benchmarks: {a.cases} cases x {a.annotators} annotators ({os.cpu_count()} cores)")
    for col in ("what", "measured", "target"):
        t.add_column(col)
    for r in rows:
        t.add_row(*r)
    Console().print(t)


if __name__ == "__main__":
    main()
