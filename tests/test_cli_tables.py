"""CLI output a person reads at 80 columns: history in time order, tables that never cut a name to type,
and the workspace found as git finds its repository (issue #23)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from conftest import copy_example
from labeler.truth.models import Adjudication, Flag, Label
from labeler.dataset import open_dataset

V = {"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"}
ROOT = Path(__file__).resolve().parent.parent


def run(cwd: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def at(hour: int) -> datetime:
    return datetime(2026, 11, 3, hour, 0, tzinfo=timezone.utc)


def test_history_is_in_time_order_with_notes_flags_and_reasons_said(tmp_path: Path):
    copy_example(tmp_path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    ds = open_dataset(tmp_path / "datasets" / "support-summary")
    case = "wrong-item-good"
    ds.save_label("zoe", Label(case=case, rubric=2, values=V, at=at(9)))
    ds.save_label("amy", Label(case=case, rubric=2, values={**V, "tone": 2}, note="customer sounds calm", at=at(11),
                               flags=[Flag(kind="rubric_unclear", criterion="tone", reason="calm vs neutral")]))
    ds.save_adjudication("lead", Adjudication(case=case, rubric=2, gold={}, reasons={"tone": "ticket is calm"}, by="lead", at=at(10)))
    r = run(tmp_path, "history", "support-summary", case)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    order = [w for ln in lines for w in ("zoe", "lead", "amy") if f"   {w}   " in ln]
    assert order == ["zoe", "lead", "amy"], r.stdout  # who did what, when: not grouped by person
    text = " ".join(r.stdout.split())
    assert "note: customer sounds calm" in text and "flag tone: calm vs neutral" in text
    assert "reason tone: ticket is calm" in text and "(same values)" not in text
    assert all(len(ln) <= 80 for ln in lines)


def test_tables_at_80_columns_cut_no_name(example: Path):
    """Names a user types (criteria, runs, annotators) are never cut with "…" at 80 columns; long ones that
    head columns get a legend; a confusion matrix's caption stays on one line; no table runs off the edge."""
    outs = {}
    for args in (["agreement", "support-summary"], ["agreement", "support-summary", "--by", "annotator"],
                 ["calibrate", "support-summary", "--run", "llama-3.1-8b-local"], ["rubric", "list"]):
        r = run(example, *args)
        assert r.returncode in (0, 1), r.stderr
        outs[args[0] + " ".join(args[2:])] = r.stdout
        assert "…" not in r.stdout, r.stdout
        assert all(len(ln.rstrip()) <= 80 for ln in r.stdout.splitlines()), r.stdout
    assert "[1] no_hallucinated_resolution" in outs["agreement--by annotator"]
    assert "no_hallucinated_resolution: rows judge, columns gold" in outs["calibrate--run llama-3.1-8b-local"]
    assert "100%/un" not in outs["calibrate--run llama-3.1-8b-local"]


def test_workspace_is_found_as_git_finds_its_repo(tmp_path: Path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for args in (["status", "support-summary"], ["rubric", "list"], ["review", "support-summary"]):
        r = run(outside, *args)
        assert r.returncode == 1 and r.stderr.strip() == "error: not a labeler workspace (run labeler init NAME)", (args, r)
        assert r.stdout == ""
    old = tmp_path / "old"  # made before the marker: found by its datasets and rubrics
    copy_example(old)
    pkg = old / "tool" / "pkg"  # a source folder with a rubrics/ subpackage is not a workspace
    (pkg / "rubrics").mkdir(parents=True)
    (pkg / "rubrics" / "__init__.py").write_text("")
    r = run(pkg, "status", "support-summary", "--json")
    assert r.returncode == 0, r.stderr
    new = tmp_path / "new"
    new.mkdir()
    assert run(new, "init", "demo").returncode == 0
    assert (new / ".labeler").is_file()
    deep = new / "datasets" / "demo"
    r = run(deep, "rubric", "list")
    assert r.returncode == 0 and "demo" in r.stdout
