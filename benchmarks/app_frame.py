"""The labeling app on a big dataset: start to first case, next case to a fully composed frame, memory.

Run as a separate process so its memory is the app's own:
    python benchmarks/app_frame.py DATASET_PATH
Prints JSON: start_s, next_case_ms (p50, p95), maxrss_mb.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import peak_mb  # noqa: E402

from labeler.vcs.identity import Identity  # noqa: E402
from labeler.dataset import open_dataset  # noqa: E402
from labeler.ui.app import LabelerApp  # noqa: E402


async def main(path: str) -> dict:
    app = LabelerApp(open_dataset(path), identity=Identity("frame-bench"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = time.perf_counter() - T0
        screen = app.screen
        frames = []
        for _ in range(60):
            t = time.perf_counter()
            screen.action_skip()  # the handler: session step + widget updates
            screen._refresh_layout(screen.size)  # reflow
            screen._compositor.render_full_update()  # every visible line rendered
            frames.append((time.perf_counter() - t) * 1000)
            await pilot.pause()
    q = statistics.quantiles(frames, n=20)
    return {"start_s": round(start, 3), "next_case_ms_p50": round(statistics.median(frames), 2),
            "next_case_ms_p95": round(q[18], 2),
            "maxrss_mb": peak_mb()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
