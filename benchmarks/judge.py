"""Judge speed against a local endpoint that answers after 100 ms: concurrency 16 vs 1 in the same run,
and labeler's own overhead per case (prompt, schema, validation, save).

    python benchmarks/judge.py [--cases 1000] [--delay 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

from labeler.judge.run import JudgeConfig, load_template, parse_answer, render_prompt, response_format, run_async  # noqa: E402
from labeler.truth.logs import LogWriter  # noqa: E402
from labeler.truth.models import Case, Verdict  # noqa: E402
from labeler.dataset import Dataset, Workspace  # noqa: E402


def workspace(root: Path, n: int) -> Dataset:
    import shutil

    shutil.copytree(HERE.parent / "rubrics", root / "rubrics")
    ds_dir = root / "datasets" / "jb"
    ds_dir.mkdir(parents=True)
    (ds_dir / "dataset.yaml").write_text("name: jb\nrubric: support-summary\nrubric_version: 2\noverlap: 2\n")
    ds = Dataset.open(Workspace(root), ds_dir)
    ds.add_cases([Case(id=f"j{i:05d}", input=f"Subject: ticket {i}\n\nPlease refund order {i}.", output=f"Refund order {i}.")
                  for i in range(n)])
    return Dataset.open(Workspace(root), ds_dir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--delay", type=float, default=0.1)
    a = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    # the server runs in its own process, so it does not share the client's GIL
    import subprocess

    proc = subprocess.Popen([sys.executable, str(HERE.parent / "tests" / "fake_openai.py"), str(a.delay)],
                            stdout=subprocess.PIPE, text=True)
    base_url = proc.stdout.readline().strip()
    try:
        measure(a, base_url)
    finally:
        proc.kill()


def measure(a, base_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ds = workspace(Path(tmp), a.cases)
        times = {}
        for conc in (16, 1):
            cfg = JudgeConfig(model="bench", run=f"c{conc}", base_url=base_url, concurrency=conc)
            t = time.perf_counter()
            s = asyncio.run(run_async(Dataset.open(ds.ws, ds.path), cfg))
            times[conc] = time.perf_counter() - t
            print(f"concurrency {conc:>2}: {a.cases} cases in {times[conc]:.1f} s ({s.done} ok, errors {dict(s.errors)})")
        print(f"speed-up: {times[1] / times[16]:.1f}x (target >= 10x)")

        # labeler's own work per case, no network: prompt, schema, validation, durable save
        rubric = ds.rubric()
        template = load_template(ds)
        answer = '{"action_items": {"value": 2, "rationale": "r"}, "tone": {"value": 2, "rationale": "r"}, ' \
                 '"no_hallucinated_resolution": {"value": 2, "rationale": "r"}, "under_80_words": {"value": "pass", "rationale": "r"}}'
        w = LogWriter(Path(tmp) / "overhead.yaml", "bench")
        per = []
        for case in list(ds.cases.values())[:500]:
            t = time.perf_counter()
            prompt = render_prompt(template, rubric, case)
            response_format(rubric)
            values = parse_answer(answer, rubric)
            v = Verdict(case=case.id, values=values, cache_key=str(len(prompt)))
            w.append({"case": v.case, **v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)})
            per.append((time.perf_counter() - t) * 1000)
        print(f"labeler overhead per case (prompt+schema+validate+fsynced save): median {statistics.median(per):.2f} ms, "
              f"p95 {statistics.quantiles(per, n=20)[18]:.2f} ms (target < 2 ms)")


if __name__ == "__main__":
    main()
