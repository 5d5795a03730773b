"""The review screen on a big dataset: a gold key (settling a case) to the next fully composed frame.

    python benchmarks/review_frame.py DATASET_PATH
Prints JSON: start_s, key_ms_p50, key_ms_p95, maxrss_mb.
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
    app = LabelerApp(open_dataset(path), mode="review", identity=Identity("review-bench"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = time.perf_counter() - T0
        screen = app.screen
        keys = []
        for i in range(60):
            s = screen.session
            d = s.current
            crit = s.rubric.criteria[s.focused]
            key = crit.scale.keys()[crit.scale.values()[0]]
            action = (lambda: screen.action_gold(key)) if i % 3 else (lambda: screen.action_case(1))
            t = time.perf_counter()
            action()  # the handler: session step + widget updates
            screen._refresh_layout(screen.size)
            screen._compositor.render_full_update()
            keys.append((time.perf_counter() - t) * 1000)
            await pilot.pause()
            assert d is not None
    q = statistics.quantiles(keys, n=20)
    return {"start_s": round(start, 3), "key_ms_p50": round(statistics.median(keys), 2), "key_ms_p95": round(q[18], 2),
            "maxrss_mb": peak_mb()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
