"""Grade labeler's promptfoo export with the real promptfoo, against a local grader: no edits, no live calls.

    cd /tmp/pf && npm install node@22 promptfoo        # once (promptfoo needs Node >= 22)
    python examples/promptfoo_check.py --promptfoo /tmp/pf

It copies the shipped example, runs `labeler export --format promptfoo --out DIR/tests.jsonl --grader
openai:chat:grader`, points promptfoo's OpenAI provider at a fake grader on 127.0.0.1 (tests/fake_openai.py)
and runs `promptfoo eval` on the written promptfooconfig.yaml. The grader answers score 1.0 for a case
whose gold passes the criterion and 0.5 for the rest, always with `pass: true`, so the check shows that
(1) every grading prompt carries the case's input (and reference when there is one), (2) the pass point
reaches promptfoo as a threshold (a 0.5 fails), (3) no model is called for the outputs (echo provider and
providerOutput), and promptfoo's verdicts per assertion equal gold's. Prints a summary; exit 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_openai import FakeOpenAI  # noqa: E402


class Grader(FakeOpenAI):
    """Answers promptfoo's llm-rubric prompts with {reason, pass, score}; records every prompt."""

    def __init__(self, verdicts: dict[tuple[str, str], bool]):
        super().__init__()
        self.verdicts = verdicts
        self.prompts: list[str] = []

    def answer(self, body: dict) -> tuple[int, dict]:
        prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []))
        with self.lock:
            self.prompts.append(prompt)
        m = re.search(r"<Output>\n(.*?)\n</Output>", prompt, re.S)
        output = m.group(1) if m else ""
        ok = any(v for (out, question), v in self.verdicts.items() if out == output and f"Criterion: {question}" in prompt)
        content = json.dumps({"reason": "fake grader", "pass": True, "score": 1.0 if ok else 0.5})
        return 200, {"id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time()),
                     "model": body.get("model", "grader"), "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--promptfoo", default="/tmp/pf", help="folder with node_modules holding node@22 and promptfoo")
    ap.add_argument("--limit", type=int, default=12, help="grade only the first N tests (each is one grader call per criterion)")
    a = ap.parse_args()
    pf = Path(a.promptfoo)
    node, cli = pf / "node_modules/.bin/node", pf / "node_modules/promptfoo/dist/src/main.js"
    if not node.exists() or not cli.exists():
        sys.stderr.write(f"{pf}: no node_modules/.bin/node or promptfoo: run `npm install node@22 promptfoo` there\n")
        return 2
    version = json.loads((pf / "node_modules/promptfoo/package.json").read_text())["version"]
    from labeler.stats.numbers import gold
    from labeler.truth.export import pass_point
    from labeler.dataset import open_dataset

    work = Path(tempfile.mkdtemp(prefix="pf-check-"))
    shutil.copytree(ROOT / "tests/fixtures/example", work / "ws")
    out = work / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "labeler", "export", "support-summary", "--format", "promptfoo",
                    "--out", str(out / "tests.jsonl"), "--grader", "openai:chat:grader"], cwd=work / "ws", env=env, check=True)
    tests = [json.loads(x) for x in (out / "tests.jsonl").read_text().splitlines()][: a.limit]
    (out / "tests.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tests))
    ds = open_dataset(work / "ws/datasets/support-summary")
    rubric, g = ds.rubric(), gold(ds)
    want: dict[tuple[str, str], bool] = {}
    expected: dict[tuple[str, str], bool] = {}
    for t in tests:
        for c, crit in rubric.criteria.items():
            v = g.get(t["description"], {}).get(c)
            ok = v is not None and v.value == pass_point(crit)
            want[(t["providerOutput"], crit.question)] = ok
            expected[(t["description"], c)] = ok
    with Grader(want) as server:
        penv = {**os.environ, "OPENAI_API_KEY": "sk-local", "OPENAI_BASE_URL": server.base_url,
                "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_CONFIG_DIR": str(work / "pfhome"),
                "PATH": f"{node.parent}:{os.environ.get('PATH', '')}"}
        r = subprocess.run([str(node), str(cli), "eval", "-c", str(out / "promptfooconfig.yaml"), "-o", str(out / "results.json"),
                            "--no-cache", "--no-progress-bar", "--no-table"], cwd=out, env=penv, capture_output=True, text=True, timeout=600)
        prompts = list(server.prompts)
    if not (out / "results.json").exists():
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        return 1
    results = json.loads((out / "results.json").read_text())["results"]["results"]
    got, problems = {}, []
    for res in results:
        cid = res["testCase"]["description"]
        for comp in (res.get("gradingResult") or {}).get("componentResults") or []:
            got[(cid, comp["assertion"]["metric"])] = comp["pass"]
    by_input = {t["vars"]["input"]: t for t in tests}
    missing_input = sum(1 for p in prompts if not any(inp in p for inp in by_input))
    if missing_input:
        problems.append(f"{missing_input} grading prompt(s) without the case's input")
    mismatched = [k for k, v in expected.items() if k in got and got[k] != v]
    if mismatched:
        problems.append(f"promptfoo's verdict differs from gold on {len(mismatched)}: {mismatched[:3]}")
    if len(got) != len(expected):
        problems.append(f"promptfoo graded {len(got)} assertion(s), expected {len(expected)}")
    print(f"promptfoo {version}: {len(tests)} test(s), {len(prompts)} grading call(s) (no other calls), "
          f"{len(got)} assertion(s) graded: {sum(got.values())} pass, {len(got) - sum(got.values())} fail; "
          f"every prompt carried the input: {not missing_input}; verdicts equal gold's: {not mismatched}")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
