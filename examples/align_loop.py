"""The judge alignment loop on the shipped example, with a scripted judge (no API key, no network).

    python examples/align_loop.py audit DATASET RUN --auditor NAME
        marks every verdict of RUN that differs from gold as wrong, with a note: what a lead does
        in `labeler audit` with n (this script calls the same code as the screen)
    python examples/align_loop.py serve DATASET RUN
        serves an OpenAI-compatible judge on 127.0.0.1 (prints its base URL; Ctrl-C stops it) that
        answers every case as RUN did, except on the criteria its prompt shows examples of: there it
        answers the human gold. A stand-in for a judge that learns from examples, to show the loop;
        the numbers it produces say nothing about a real model.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from labeler.dataset import open_dataset  # noqa: E402


def audit(a) -> None:
    from labeler.flows.audit import AuditSession

    s = AuditSession(open_dataset(a.dataset), a.auditor, a.run, only_disagreements=True)
    n = 0
    for i in range(len(s.queue)):
        s.index = i
        cid = s.current
        for k, c in enumerate(s.criteria):
            j, g = s.judge.get(cid, {}).get(c), s.gold.get(cid, {}).get(c)
            if j is not None and g is not None and j.value is not None and j.value != g.value:
                s.focus = k
                s.mark(False, "1", f"gold is {g.value}: the judge missed what the ticket says about {c.replace('_', ' ')}")
                n += 1
    print(f"marked {n} verdict(s) of {a.run} wrong")


FENCE = re.compile(r"<<<BEGIN (\w+) (input|output)>>>\n(.*?)\n<<<END \1 \2>>>", re.S)


def serve(a) -> None:
    from fake_openai import FakeOpenAI

    from labeler.judge.run import first_values
    from labeler.stats.numbers import gold

    ds = open_dataset(a.dataset)
    _, verdicts = ds.judge_run(a.run)
    before = first_values(verdicts)
    g = gold(ds)
    by_text = {(c.input, c.output): c.id for c in (ds.cases[i] for i in ds.cases.ids)}

    def answer(prompt: str, allowed: dict) -> dict:
        texts = {m.group(2): m.group(3) for m in FENCE.finditer(prompt)}
        cid = by_text.get((texts.get("input"), texts.get("output")))
        taught = set(re.findall(r"^- (\w+): ", prompt.split("--- EXAMPLES", 1)[1], re.M)) if "--- EXAMPLES" in prompt else set()
        out = {}
        for c, vals in allowed.items():
            if c in taught and c in g.get(cid, {}):
                out[c] = (g[cid][c].value, f"as the team's examples for {c} show")
            else:
                out[c] = (before.get(cid, {}).get(c, vals[-1]), "as before")
        return out

    with FakeOpenAI(answerer=answer) as srv:
        print(srv.base_url, flush=True)
        try:
            srv.thread.join()
        except KeyboardInterrupt:
            pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["audit", "serve"])
    p.add_argument("dataset")
    p.add_argument("run")
    p.add_argument("--auditor", default="maya")
    a = p.parse_args()
    audit(a) if a.step == "audit" else serve(a)


if __name__ == "__main__":
    main()
