"""The shipped CI recipe does what docs/ci.md says: its own commands (read from examples/labeler-ci.yml),
run step by step on a fresh copy of the shipped example, past the first failing step too. (That docs/ci.md
shows the file as it is, and the transcript up to the failing step, is checked by tests/test_docs.py.)"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def recipe() -> list[str]:
    """The `labeler ...` commands of the workflow, in order (a shell redirect cut off)."""
    lines = re.findall(r"^\s*- run: (labeler .*)$", (ROOT / "examples" / "labeler-ci.yml").read_text(), re.M)
    return [line.split(" >>")[0].strip() for line in lines]


def test_the_recipe_stops_where_the_docs_say(example: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    codes = {}
    for command in recipe():
        args = shlex.split(command)[1:]
        r = subprocess.run([sys.executable, "-m", "labeler", *args], cwd=example, env=env, capture_output=True, text=True,
                           timeout=300)
        assert "Traceback" not in r.stderr
        codes[args[0]] = (r.returncode, r.stdout + r.stderr)
    steps = [shlex.split(c)[1] for c in recipe()]
    first_failure = next(s for s in steps if codes[s][0] != 0)
    assert first_failure == "agreement" and steps.index("agreement") == 1  # the second step, as docs/ci.md says
    code, text = codes["agreement"]
    assert code == 1 and "gate failed: tone: alpha 0.716 < 0.80" in text and "gate failed: under_80_words: alpha -0.035" in text
    assert "action_items: alpha" not in text and "no_hallucinated_resolution: alpha" not in text
    assert codes["calibrate"][0] == 0 and "every criterion at or above 80%" in codes["calibrate"][1]
    code, text = codes["regress"]
    assert code == 1 and "gate failed: action_items: pass rate fell 13.3%" in text
    assert [line for line in text.splitlines() if line.startswith("gate failed")] == [
        line for line in text.splitlines() if line.startswith("gate failed: action_items")]
    assert codes["report"][0] == 0 and codes["validate"][0] == 0
    docs = " ".join((ROOT / "docs" / "ci.md").read_text().split())
    assert "the job stops at its second step" in docs and "`regress` fails on `action_items`" in docs
