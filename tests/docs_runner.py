"""Run the docs: every fenced ```bash block of README.md and docs/*.md, in a fresh copy of the shipped example.

Docs that are not executed drift, so they are executed (tests/test_docs.py). The markers, all visible in the
Markdown source:

- `# docs-test: skip (why)` as a line of a bash block: not run (it needs a real API key, a remote, a person).
- `# docs-test: exit N` as a line of a bash block: the block must exit N (default 0). A block runs as
  `bash -e -o pipefail`, so it stops at its first failing command.
- `<!-- docs-test: output -->` right before a ```text block that follows a bash block: each of its lines
  must appear in that block's output (stdout and stderr), in order, compared without surrounding spaces;
  a line `...` stands for any number of lines. So a number in the docs is the number the tool prints.
- `<!-- docs-test: same as PATH -->` right before a block: the block is that file, character for character.
- `<!-- docs-test: workflow PATH -->` right before a ```text block: the GitHub Actions workflow PATH is run
  step by step (its `run:` steps after `pip install`), as Actions does, and the block is checked against
  the transcript (`$ command`, its output, `(exit N)` for a failing step, which ends the job).

The blocks of one file run in order in one workspace (a tour is a sequence): a git repo holding the example
(rubrics/, datasets/, examples/, tests/fake_openai.py) with a bare remote as `origin`, `labeler` and `python` running the code under test, a local OpenAI-compatible
server (tests/fake_openai.py) as OPENAI_BASE_URL. `python tests/docs_runner.py --update FILE...` rewrites
the output blocks that no longer match with what the tool prints now.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
SKIP = re.compile(r"^#\s*docs-test:\s*skip\s*\((.+)\)\s*$", re.M)
EXIT = re.compile(r"^#\s*docs-test:\s*exit\s+(\d+)\b", re.M)
TIMEOUT = 120


@dataclass
class Block:
    path: Path
    line: int
    """1-based line of the opening fence."""
    lang: str
    text: str
    mark: str = ""
    """The `<!-- docs-test: ... -->` right before the fence, if any."""
    end: int = 0
    """1-based line of the closing fence."""
    output: "Block | None" = None
    """The checked ```text block showing this bash block's output."""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"

    @property
    def skip(self) -> str | None:
        m = SKIP.search(self.text)
        return m.group(1) if m else None

    @property
    def exit(self) -> int:
        m = EXIT.search(self.text)
        return int(m.group(1)) if m else 0


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their markers; output blocks hang off their bash block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)", lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group(2), i
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = MARK.match(lines[k]) if k >= 0 else None
        found.append(Block(path, start + 1, m.group(3).lower(), "\n".join(lines[start + 1:j]) + "\n",
                           mark.group(1) if mark else "", j + 1))
        i = j + 1
    for prev, b in zip(found, found[1:]):
        if b.mark == "output":
            if prev.lang != "bash":
                raise ValueError(f"{b.where}: an output block must follow a bash block")
            prev.output = b
    return found


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Workspace:
    """A fresh copy of the shipped example, set up as a reader's checkout would be."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, tmp: Path, base_url: str) -> "Workspace":
        from conftest import copy_example

        ws = tmp / "work"
        ws.mkdir(parents=True)
        copy_example(ws)
        shutil.copytree(ROOT / "examples", ws / "examples")  # as in a checkout: the examples and their
        (ws / "tests").mkdir()                                 # stand-in server (examples/align_loop.py)
        shutil.copy(ROOT / "tests" / "fake_openai.py", ws / "tests" / "fake_openai.py")
        shutil.copy(ROOT / ".gitignore", ws / ".gitignore")
        bin_dir, home = tmp / "bin", tmp / "home"
        bin_dir.mkdir()
        home.mkdir()
        for name, run in (("labeler", f'"{sys.executable}" -m labeler'), ("python", f'"{sys.executable}"'),
                          ("python3", f'"{sys.executable}"')):
            shim = bin_dir / name
            shim.write_text(f'#!/bin/sh\nexec {run} "$@"\n')
            shim.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GIT_", "PYTEST_"))}
        env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT), HOME=str(home),
                   OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-docs-test", COLUMNS="100", NO_COLOR="1",
                   GIT_CONFIG_NOSYSTEM="1", EDITOR="true", VISUAL="true", LC_ALL="C.UTF-8", TZ="UTC")
        git = lambda *a, cwd=ws: subprocess.run(["git", *a], cwd=cwd, env=env, check=True, capture_output=True)
        git("config", "--global", "user.name", "you")
        git("config", "--global", "user.email", "you@example.com")
        git("config", "--global", "init.defaultBranch", "main")
        git("init", "-q")
        git("add", "-A")
        git("commit", "-q", "-m", "The shipped example")
        git("init", "-q", "--bare", str(tmp / "origin.git"))
        git("remote", "add", "origin", str(tmp / "origin.git"))
        git("push", "-q", "-u", "origin", "main")
        return cls(ws, env)

    def run(self, script: str, timeout: float = TIMEOUT) -> tuple[int, str]:
        """Run a bash script here; its exit code and its output (stdout and stderr, interleaved)."""
        p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=self.root, env=self.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")


def mismatch(expected: str, output: str) -> str | None:
    """None when every line of `expected` appears in `output` in order (`...` skips lines); else the first miss."""
    got = [line.strip() for line in output.splitlines()]
    at = 0
    for want in (line.strip() for line in expected.splitlines()):
        if not want or want == "...":
            continue
        try:
            at = got.index(want, at) + 1
        except ValueError:
            return want
    return None


def workflow_steps(path: Path) -> list[str]:
    """The `run:` steps of a GitHub Actions workflow after the one that installs the project."""
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    runs = [s["run"] for job in doc["jobs"].values() for s in job["steps"] if "run" in s]
    first = next(i for i, r in enumerate(runs) if "pip install" in r) + 1
    return runs[first:]


def run_workflow(ws: Workspace, path: Path) -> str:
    """Run the workflow's steps as Actions does (each with bash -e, stopping at the first failure): a transcript."""
    summary = ws.root.parent / "step-summary.md"
    ws.env["GITHUB_STEP_SUMMARY"] = str(summary)
    out: list[str] = []
    for step in workflow_steps(path):
        code, text = ws.run(step)
        out += [f"$ {step.strip()}", text.rstrip("\n")]
        if code:
            out.append(f"(exit {code})")
            break
    return "\n".join(out) + "\n"


def check_file(path: Path, ws: Workspace, update: bool = False) -> list[str]:
    """Run a doc's blocks in order in `ws`; the failures, each with its file:line (empty when all is well)."""
    failures: list[str] = []
    rewrites: list[tuple[Block, str]] = []
    for b in blocks(path):
        if b.mark.startswith("same as "):
            want = (ROOT / b.mark.removeprefix("same as ").strip()).read_text(encoding="utf-8")
            if b.text != want:
                failures.append(f"{b.where}: the block is not {b.mark.removeprefix('same as ')} (copy the file in)")
        elif b.mark.startswith("workflow "):
            got = run_workflow(ws, ROOT / b.mark.removeprefix("workflow ").strip())
            if (miss := mismatch(b.text, got)) is not None:
                failures.append(f"{b.where}: the workflow's transcript has no line {miss!r}; it was:\n{got}")
                rewrites.append((b, got))
        elif b.lang == "bash" and not b.skip:
            try:
                code, got = ws.run(b.text)
            except subprocess.TimeoutExpired:
                failures.append(f"{b.where}: still running after {TIMEOUT} s")
                continue
            if code != b.exit:
                failures.append(f"{b.where}: exit {code}, the doc says {b.exit}\n{b.text}--- output:\n{got[-3000:]}")
            elif b.output and (miss := mismatch(b.output.text, got)) is not None:
                failures.append(f"{b.output.where}: the output has no line {miss!r}; it was:\n{got}")
                rewrites.append((b.output, got))
    if update and rewrites:
        lines = path.read_text(encoding="utf-8").splitlines()
        for b, got in sorted(rewrites, key=lambda r: -r[0].line):
            lines[b.line:b.end - 1] = [line.rstrip() for line in got.rstrip("\n").splitlines()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return failures


if __name__ == "__main__":  # python tests/docs_runner.py [--update] [FILE...]
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    from fake_openai import FakeOpenAI

    args = sys.argv[1:]
    update = "--update" in args
    files = [Path(a).resolve() for a in args if a != "--update"] or doc_files()
    bad = 0
    with FakeOpenAI() as server:
        for f in files:
            with tempfile.TemporaryDirectory() as tmp:
                problems = check_file(f, Workspace.create(Path(tmp), server.base_url), update)
            for p in problems:
                print(p, file=sys.stderr)
            print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}: {'ok' if not problems else f'{len(problems)} problem(s)'}"
                  + (" (output blocks rewritten)" if update and problems else ""))
            bad += bool(problems)
    sys.exit(1 if bad else 0)
