"""labeler at 10,000 and 100,000 cases, as ratios to floors measured in the same run.

    python benchmarks/scale.py                      # 10k and 100k x 5 annotators (a few minutes)
    python benchmarks/scale.py --sizes 300 --smoke  # seconds: what the test suite runs so this cannot rot

Floors: a bare append + fsync on the same disk; a hello-world Textual app (start to first frame,
headless and in a real terminal through tmux when tmux is installed); `python -c "import textual"` (for
`labeler --help` and a warm `labeler status`). Every figure is printed with
its floor and the ratio; --json prints the same for a script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

PY = sys.executable


def p(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def fsync_floor(folder: Path, n: int = 200) -> float:
    """Median seconds of appending one 230-byte line and fsyncing it."""
    path = folder / "floor.log"
    line = b"- " + b"x" * 226 + b"\n"
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, line)
        os.fsync(fd)
        os.close(fd)
        times.append(time.perf_counter() - t)
    path.unlink()
    return statistics.median(times)


def run_cpu(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one command in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), r.returncode


def in_tmux(command: str, marker: str, cwd: Path, runs: int) -> float | None:
    """Median seconds from starting `command` in a 120x40 tmux terminal to `marker` on screen."""
    if not shutil.which("tmux"):
        return None
    times = []
    for _ in range(runs):
        subprocess.run(["tmux", "kill-session", "-t", "lscale"], capture_output=True)
        for attempt in range(5):  # the server may still be exiting after the last kill: try again
            t0 = time.perf_counter()
            started = subprocess.run(["tmux", "new-session", "-d", "-s", "lscale", "-x", "120", "-y", "40", "-c", str(cwd),
                                      f"{command}; sleep 30"], capture_output=True)
            if started.returncode == 0:
                break
            time.sleep(0.5)
        deadline = t0 + 60
        while time.perf_counter() < deadline:
            out = subprocess.run(["tmux", "capture-pane", "-p", "-t", "lscale"], capture_output=True, text=True).stdout
            if marker in out:
                break
            time.sleep(0.01)
        times.append(time.perf_counter() - t0)
    subprocess.run(["tmux", "kill-session", "-t", "lscale"], capture_output=True)
    return statistics.median(times)


def json_of(args: list[str]) -> dict:
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(root: Path, n: int, annotators: int, floors: dict, smoke: bool) -> dict:
    ds_path = generate(root / f"ws{n}", n, annotators)
    ws = ds_path.parent.parent
    labeler = [PY, "-m", "labeler"]
    out: dict = {"cases": n, "annotators": annotators}
    shutil.rmtree(ds_path / ".cache", ignore_errors=True)
    out["cold_open_s"], _, _ = run_cpu(labeler + ["status", "big", "--json"], ws)
    out["warm_open_s"] = statistics.median(run_cpu(labeler + ["status", "big", "--json"], ws)[0] for _ in range(1 if smoke else 3))
    out["status_vs_import_textual"] = round(out["warm_open_s"] / floors["import_textual_s"], 2)
    out["help_s"] = statistics.median(run_cpu(labeler + ["--help"], ws)[0] for _ in range(1 if smoke else 3))
    out["help_vs_import_textual"] = round(out["help_s"] / floors["import_textual_s"], 2)
    for cmd in ("agreement", "status", "calibrate", "validate"):
        args = {"agreement": ["agreement", "big", "--json"], "status": ["status", "big", "--json"],
                "calibrate": ["calibrate", "big", "--run", "synthetic", "--json"], "validate": ["validate"]}[cmd]
        first, _, _ = run_cpu(labeler + args, ws)  # may build a cache (a judge run's verdicts, say)
        wall, cpu, code = run_cpu(labeler + args, ws)
        out[f"{cmd}_first_s"], out[f"{cmd}_wall_s"], out[f"{cmd}_cpu_s"] = round(first, 3), round(wall, 3), round(cpu, 3)
    app = json_of([PY, str(HERE / "app_frame.py"), str(ds_path)])
    out["app_start_headless_s"], out["label_key_frame_ms_p95"], out["app_peak_mb"] = app["start_s"], app["next_case_ms_p95"], app["maxrss_mb"]
    review = json_of([PY, str(HERE / "review_frame.py"), str(ds_path)])
    out["review_key_frame_ms_p95"], out["review_peak_mb"] = review["key_ms_p95"], review["maxrss_mb"]
    # a label made durable, against the bare append + fsync floor measured on the same disk
    sys.path.insert(0, str(HERE.parent))
    from labeler.truth.models import Label
    from labeler.dataset import open_dataset

    ds = open_dataset(ds_path)
    times = []
    for i in range(50 if smoke else 200):
        lab = Label(case=f"c-{i % n:05d}", rubric=1, values={"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2,
                                                              "under_80_words": "pass", "grounded": 2})
        t = time.perf_counter()
        ds.save_label("bench", lab)
        times.append(time.perf_counter() - t)
    out["label_durable_ms_p50"] = round(statistics.median(times) * 1000, 3)
    out["label_durable_vs_fsync"] = round(statistics.median(times) / floors["fsync_s"], 2)
    if floors.get("hello_tmux_s"):
        t = in_tmux(f"{PY} -m labeler label big --annotator tmuxbench", "INPUT", ws, 1 if smoke else 5)
        out["warm_start_tmux_s"] = round(t, 3)
        out["warm_start_vs_hello"] = round(t / floors["hello_tmux_s"], 2)
    out["app_start_vs_hello_headless"] = round(out["app_start_headless_s"] / floors["hello_headless_s"], 2)
    shutil.rmtree(ws)
    return out


def hello_headless() -> float:
    code = ("import time; t=time.perf_counter(); import asyncio, sys; sys.path.insert(0, %r); from hello_app import Hello\n"
            "async def m():\n    async with Hello().run_test(size=(120, 40)) as p:\n        await p.pause()\n"
            "        print(time.perf_counter()-t)\nasyncio.run(m())" % str(HERE))
    return float(subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--annotators", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="few repeats, no terminal runs: checks the script works")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=os.environ.get("LABELER_BENCH_DIR")) as tmp:
        root = Path(tmp)
        floors = {"fsync_s": fsync_floor(root, 50 if a.smoke else 200),
                  "hello_headless_s": statistics.median(hello_headless() for _ in range(1 if a.smoke else 3)),
                  "import_textual_s": statistics.median(run_cpu([PY, "-c", "import textual"], root)[0]
                                                        for _ in range(1 if a.smoke else 3))}
        if not a.smoke:
            floors["hello_tmux_s"] = in_tmux(f"{PY} {HERE / 'hello_app.py'}", "HELLO-FLOOR", root, 5)
        results = [measure(root, n, a.annotators, floors, a.smoke) for n in sizes]
    growth = {}
    if len(results) >= 2:
        lo, hi = results[0], results[-1]
        for k in ("warm_open_s", "cold_open_s", "warm_start_tmux_s", "label_key_frame_ms_p95", "review_key_frame_ms_p95",
                  "agreement_cpu_s", "status_cpu_s", "calibrate_cpu_s", "validate_cpu_s", "app_peak_mb"):
            if lo.get(k) and hi.get(k):
                growth[k] = round(hi[k] / lo[k], 2)
    report = {"cpus": os.cpu_count(), "floors": floors, "results": results, "growth": growth}
    if a.json:
        print(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"labeler at scale ({os.cpu_count()} cores); floors: fsync {floors['fsync_s'] * 1000:.2f} ms, "
                    f"hello-world Textual {floors['hello_headless_s']:.2f} s headless"
                    + (f", {floors['hello_tmux_s']:.2f} s in tmux" if floors.get("hello_tmux_s") else ""))
    t.add_column("measure")
    for r in results:
        t.add_column(f"{r['cases']:,} cases", justify="right")
    if growth:
        t.add_column("growth", justify="right")
    for k in results[0]:
        if k in ("cases", "annotators"):
            continue
        t.add_row(k, *[str(r.get(k, "-")) for r in results], *([str(growth.get(k, ""))] if growth else []))
    Console().print(t)


if __name__ == "__main__":
    main()
