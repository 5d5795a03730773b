"""The docs run: every bash block in README.md and docs/*.md, the CI workflow, and a reference that is never stale.

How the blocks are marked and run: tests/docs_runner.py.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from docs_runner import ROOT, Workspace, blocks, check_file, doc_files, mismatch, workflow_steps
from fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as srv:
        yield srv


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: p.name)
def test_every_bash_block_runs(doc: Path, tmp_path: Path, server) -> None:
    """Each block exits as the doc says and prints what the doc shows, in a fresh copy of the example."""
    failures = check_file(doc, Workspace.create(tmp_path, server.base_url))
    assert not failures, "\n\n".join(failures)


def _gen():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_cli_reference_is_current() -> None:
    """docs/cli.md is what the parser says now: regenerate it with `python scripts/gen_cli_docs.py`."""
    gen = _gen()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == gen.render(), \
        "docs/cli.md is stale: run `python scripts/gen_cli_docs.py`"


def test_cli_reference_has_the_judge_subcommands_and_calibrate_vs() -> None:
    """Nested subcommands get their own section (the generator walks every level): `judge prompt list` etc."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for prog in ("judge compare", "judge status", "judge drop", "judge prompt", "judge prompt list", "judge prompt show",
                 "judge prompt diff", "judge prompt bump", "judge examples"):
        assert f"\n## labeler {prog}\n\n```text\nusage: labeler {prog} [-h]" in text, prog
    calibrate = text.split("\n## labeler calibrate\n", 1)[1].split("\n## ", 1)[0]
    assert "--vs OLD_RUN" in calibrate and "--min-gain MIN_GAIN" in calibrate


def test_every_command_has_a_guide() -> None:
    """Every command and subcommand is explained in a guide (docs/*.md other than the generated cli.md)."""
    from labeler.cli.main import build_parser

    guides = "\n".join(p.read_text(encoding="utf-8") for p in doc_files() if p.name != "cli.md")
    missing = [p.prog for p in _gen()._commands(build_parser())[1:] if p.prog not in guides]
    assert not missing, f"commands no guide mentions: {missing}"


def test_readme_is_a_page_a_person_reads() -> None:
    """The README stays short: reference material belongs in docs/ (issue #27: under about 6 KB)."""
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 6144, f"README.md is {size} bytes (the aim is 6 KB): move reference material into docs/"


def test_the_workflow_is_run_step_by_step(tmp_path: Path, server) -> None:
    """The CI recipe in docs/ci.md is the workflow file itself, and a transcript of running it is checked."""
    marks = [b.mark for p in doc_files() for b in blocks(p)]
    assert "same as examples/labeler-ci.yml" in marks
    assert "workflow examples/labeler-ci.yml" in marks
    steps = workflow_steps(ROOT / "examples" / "labeler-ci.yml")
    assert steps and all(s.startswith("labeler ") for s in steps)


# ---- the runner itself, on small hand-written docs (each of these failed before the runner checked it)

def _doc(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "doc.md"
    p.write_text(text)
    return p


def test_runner_catches_a_wrong_exit_a_wrong_number_and_a_drifted_copy(tmp_path: Path, server) -> None:
    doc = _doc(tmp_path, "\n".join([
        "```bash", "labeler validate", "```",                                             # fine
        "```bash", "labeler agreement support-summary --min-alpha 0.8", "```",            # exits 1, says 0
        "```bash", "# docs-test: exit 1", "labeler agreement support-summary --min-alpha 0.8", "```",
        "```bash", "labeler validate", "```",
        "<!-- docs-test: output -->", "```text", "ok: everything validates, twice", "```",  # not what it prints
        "```bash", "# docs-test: skip (needs a real API key)", "exit 3", "```",
        "<!-- docs-test: same as examples/labeler-ci.yml -->", "```yaml", "name: something else", "```", ""]))
    failures = check_file(doc, Workspace.create(tmp_path / "ws", server.base_url))
    assert len(failures) == 3, failures
    assert re.match(r".*doc\.md:4: exit 1, the doc says 0", failures[0])
    assert "doc.md:15: the output has no line 'ok: everything validates, twice'" in failures[1]
    assert "doc.md:23: the block is not examples/labeler-ci.yml" in failures[2]


def test_blocks_of_a_file_build_on_each_other_in_a_git_workspace(tmp_path: Path, server) -> None:
    """A tour is a sequence: a case labeled by one block is there for the next; git and the judge server work."""
    doc = _doc(tmp_path, "\n".join([
        "```bash", "labeler init tour-test", "git status --short | grep -q tour-test", "```",
        "```bash", "test -f rubrics/tour-test/v1.yaml && git remote get-url origin", "```",
        "```bash", "labeler judge support-summary --model m --run docs-judge --limit 2", "```",
        "<!-- docs-test: output -->", "```text", "...", "```",
        "```bash", "ls datasets/support-summary/judge/docs-judge", "```",
        "<!-- docs-test: output -->", "```text", "run.yaml", "verdicts.yaml", "```", ""]))
    assert check_file(doc, Workspace.create(tmp_path / "ws", server.base_url)) == []
    assert server.total >= 2  # the judge asked the local server, not the network


def test_output_lines_match_in_order_with_elision() -> None:
    out = "a table\n  │ tone │ 0.716 │  \nfooter\n"
    assert mismatch("│ tone │ 0.716 │\n...\nfooter", out) is None
    assert mismatch("footer\n│ tone │ 0.716 │", out) == "│ tone │ 0.716 │"  # order matters


def test_every_file_kind_is_in_formats() -> None:
    """docs/formats.md names every kind of file labeler writes (the one list in truth/layout.py)."""
    from labeler.truth.layout import KINDS

    text = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    assert not [k.name for k in KINDS if k.name not in rows], "add a row to the table in docs/formats.md"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_docs_lands() -> None:
    """Relative links in README.md and docs/*.md point at a file that exists and, with #anchor, a heading in it."""
    broken = []
    for doc in doc_files():
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{doc.name}: {target}")
            elif anchor and dest.suffix == ".md":
                heads = {_anchor(h) for h in re.findall(r"^#+ (.+)$", dest.read_text(encoding="utf-8"), re.M)}
                if anchor not in heads:
                    broken.append(f"{doc.name}: {target}")
    assert not broken, broken
