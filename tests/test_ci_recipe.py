"""The shipped CI recipe does what the README says: its own commands (read from examples/labeler-ci.yml),
run step by step on a fresh copy of the shipped example."""

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


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## In CI\n.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line.split(" >>")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_shows_the_recipe_as_it_is():
    assert readme_commands() == recipe()


def test_the_recipe_stops_where_the_readme_says(example: Path):
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
    assert first_failure == "agreement" and steps.index("agreement") == 1  # the second step, as the README says
    code, text = codes["agreement"]
    assert code == 1 and "gate failed: tone: alpha 0.716 < 0.80" in text and "gate failed: under_80_words: alpha -0.035" in text
    assert "action_items: alpha" not in text and "no_hallucinated_resolution: alpha" not in text
    assert codes["calibrate"][0] == 0 and "every criterion at or above 80%" in codes["calibrate"][1]
    code, text = codes["regress"]
    assert code == 1 and "gate failed: action_items: pass rate fell 13.3%" in text
    assert [line for line in text.splitlines() if line.startswith("gate failed")] == [
        line for line in text.splitlines() if line.startswith("gate failed: action_items")]
    assert codes["report"][0] == 0 and codes["validate"][0] == 0
    readme = (ROOT / "README.md").read_text()
    assert "the job stops at its second step" in readme and "`regress` fails on\n`action_items`" in readme
