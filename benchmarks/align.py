"""`labeler judge examples` and `labeler calibrate --vs` at 100,000 cases and 5 judge runs (issue #24: under 2 s).

    python benchmarks/align.py                          # 100,000 cases x 5 annotators, 5 runs
    python benchmarks/align.py --cases 2000 --smoke     # seconds

Prints, for each command, the median wall time of the whole CLI process (warm parse cache) and its CPU
time (user + system: steadier than wall time on a shared machine), and the work inside it once the
dataset is open (pick examples; compare two runs with 1,000 replicates), beside two floors measured in
the same run: `status` (opening 100,000 cases, what every command pays) and plain `calibrate --run`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from generate import generate  # noqa: E402

from labeler.truth.logs import LogWriter  # noqa: E402

CRITERIA = {"action_items": [0, 1, 2], "tone": [0, 1, 2], "no_hallucinated_resolution": [0, 1, 2],
            "under_80_words": ["pass", "fail"], "grounded": [0, 1, 2]}


def add_runs(ds: Path, n_cases: int, runs: int, audits: int, seed: int = 3) -> None:
    """Runs 2..runs as noisy copies of the synthetic one, and audits of the first."""
    rng = random.Random(seed)
    base = (ds / "judge" / "synthetic" / "run.yaml").read_text()
    for k in range(1, runs):
        name = f"run{k}"
        folder = ds / "judge" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "run.yaml").write_text(base.replace("name: synthetic", f"name: {name}"))
        LogWriter(folder / "verdicts.yaml", "synthetic").append_many([
            {"case": f"c-{i:05d}", "values": {c: {"value": rng.choice(v), "rationale": "synthetic"} for c, v in CRITERIA.items()},
             "at": "2026-11-02T10:00:00Z"} for i in range(n_cases)])
    LogWriter(ds / "judge" / "synthetic" / "audits" / "lead.yaml", "synthetic").append_many([
        {"case": f"c-{rng.randrange(n_cases):05d}", "criterion": rng.choice(list(CRITERIA)), "correct": False,
         "reason": "judge_misread", "note": "the ticket asks for more", "example": rng.random() < 0.1, "by": "lead"}
        for _ in range(audits)])


def timed(args: list[str], cwd: Path, repeat: int) -> tuple[float, str, float]:
    """(median wall seconds, the last stdout, median CPU seconds of the child process)."""
    import os

    times, cpu, out = [], [], ""
    for _ in range(repeat):
        before = os.times()
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
        if r.returncode not in (0, 1) or not r.stdout.strip():
            raise SystemExit(f"{' '.join(args)} failed: {r.stderr[-500:]}")
        out = r.stdout
    return statistics.median(times), out, statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--annotators", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--audits", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="one repeat, for the test suite")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    repeat = 1 if a.smoke else a.repeat
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        ds = generate(root, a.cases, a.annotators)
        add_runs(ds, a.cases, a.runs, a.audits)
        subprocess.run([sys.executable, "-m", "labeler", "judge", "prompt", "bump", "big"], cwd=root, check=True, capture_output=True)
        # warm the parse cache once, as a second command in a real session would find it
        subprocess.run([sys.executable, "-m", "labeler", "validate", "datasets/big"], cwd=root, capture_output=True)
        ex_s, ex_out, ex_cpu = timed(["judge", "examples", "big", "--from", "synthetic", "--into", "2", "--per-criterion", "5", "--json"],
                             root, repeat)
        last = ds / "judge" / f"run{a.runs - 1}" / "run.yaml"  # the last run used the prompt with the examples
        last.write_text(last.read_text() + "prompt_version: 2\n")
        vs_s, vs_out, vs_cpu = timed(["calibrate", "big", "--run", f"run{a.runs - 1}", "--vs", "synthetic", "--json"], root, repeat)
        floor_s, _, floor_cpu = timed(["calibrate", "big", "--run", "synthetic", "--json"], root, repeat)  # the command before #24
        open_s, _, open_cpu = timed(["status", "big"], root, repeat)  # opening the dataset: every command's floor

        from labeler.judge import examples
        from labeler.stats.calibrate import compare_runs
        from labeler.judge.prompts import held_out
        from labeler.dataset import open_dataset

        d = open_dataset(ds)
        t = time.perf_counter()
        examples.pick(d, "synthetic", per_criterion=5)
        pick_s = time.perf_counter() - t
        new_meta, new = d.judge_run(f"run{a.runs - 1}")
        old_meta, old = d.judge_run("synthetic")
        t = time.perf_counter()
        keep, _ = held_out(d, [new_meta, old_meta])
        compare_runs(d, new, old, keep)
        cmp_s = time.perf_counter() - t
    made, vs = json.loads(ex_out), json.loads(vs_out)
    result = {"cases": a.cases, "annotators": a.annotators, "runs": a.runs, "audits": a.audits,
              "judge_examples_cli_s": round(ex_s, 3), "judge_examples_cpu_s": round(ex_cpu, 3),
              "pick_in_process_s": round(pick_s, 3), "examples": made["examples"],
              "calibrate_vs_cli_s": round(vs_s, 3), "calibrate_vs_cpu_s": round(vs_cpu, 3),
              "compare_in_process_s": round(cmp_s, 3),
              "open_floor_status_cli_s": round(open_s, 3), "open_floor_status_cpu_s": round(open_cpu, 3),
              "plain_calibrate_cli_s": round(floor_s, 3), "plain_calibrate_cpu_s": round(floor_cpu, 3),
              "held_out_cases": vs["held_out_cases"], "excluded_examples": vs["excluded_examples"]}
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")


if __name__ == "__main__":
    main()
