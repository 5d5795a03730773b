"""Measure the store, agreement and the labeling app on a generated 10,000 x 5 dataset; prints a table.

    python benchmarks/run.py [--cases 10000] [--annotators 5]
"""

from __future__ import annotations

import argparse
import asyncio
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
        load = f"import time; t=time.perf_counter(); from labeler.store import open_dataset; ds=open_dataset({str(ds_path)!r}); print(time.perf_counter()-t)"
        cold = in_subprocess(load)
        warm = statistics.median(in_subprocess(load) for _ in range(3))
        rows.append(("load, cold (no cache; includes imports)", f"{cold * 1000:.0f} ms", "shows progress"))
        rows.append(("load, cached (unchanged files; includes imports)", f"{warm * 1000:.0f} ms", "< 300 ms"))

        from labeler.models import Label
        from labeler.report import agreement_groups
        from labeler.session import LabelSession
        from labeler.store import open_dataset

        ds = open_dataset(ds_path)
        times = []
        for i in range(200):
            lab = Label(case=f"c-{i:05d}", rubric=2, values={"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"})
            t = time.perf_counter()
            ds.save_label("bench", lab)
            times.append(time.perf_counter() - t)
        rows.append(("label save incl. fsync, p95 (200 saves)", f"{p95(times) * 1000:.2f} ms", "< 10 ms"))

        t = time.perf_counter()
        agreement_groups(ds, "criterion")
        rows.append((f"agreement, {a.cases} cases x {a.annotators} annotators x 4 criteria", f"{(time.perf_counter() - t) * 1000:.0f} ms", "< 500 ms"))

        # the session: key to durable label, and next case
        s = LabelSession(ds, "bench2")
        keys, nexts = [], []
        for _ in range(100):
            for k in ("2", "1", "2"):
                s.press(k)
            t = time.perf_counter()
            out = s.press("y")
            keys.append(time.perf_counter() - t)
            assert out.saved
        for _ in range(100):
            t = time.perf_counter()
            s.skip()
            nexts.append(time.perf_counter() - t)
        rows.append(("last key -> label durable + queue updated, p95 (session)", f"{p95(keys) * 1000:.2f} ms", "< 10 ms"))
        rows.append(("next case (session), p95", f"{p95(nexts) * 1000:.2f} ms", "< 16 ms"))

        # the app: start to first case on screen, and next case on screen
        code = f"""
import time, asyncio
t0 = time.perf_counter()
from labeler.store import open_dataset
from labeler.identity import Identity
from labeler.ui.app import LabelerApp
ds = open_dataset({str(ds_path)!r})
app = LabelerApp(ds, identity=Identity("bench3"))
async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - t0)
asyncio.run(main())
"""
        start = in_subprocess(code)
        rows.append(("app start -> first case on screen (headless)", f"{start * 1000:.0f} ms", "< 1 s"))

        from labeler.identity import Identity
        from labeler.ui.app import LabelerApp

        async def ui_next() -> list[float]:
            app = LabelerApp(open_dataset(ds_path), identity=Identity("bench4"))
            out = []
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                for _ in range(30):
                    t = time.perf_counter()
                    await pilot.press("s")
                    await pilot.pause()
                    out.append(time.perf_counter() - t)
            return out

        ui = asyncio.run(ui_next())
        rows.append(("app: key -> next case rendered (Pilot, incl. its pause), p95", f"{p95(ui) * 1000:.1f} ms", "< 16 ms"))
        rows.append(("peak memory (this process)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", "< 300 MB"))

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
