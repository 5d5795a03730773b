"""Shared fixtures: a real copy of the shipped example on disk, and tiny hand-made workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example"
"""A pristine copy of the shipped example: tests never read the working tree's datasets/, which a
user may have labeled (the README's first command does exactly that)."""


def copy_example(dest: Path) -> Path:
    """Copy the pristine example workspace (rubrics/ + datasets/) into `dest`."""
    for part in ("rubrics", "datasets"):
        shutil.copytree(EXAMPLE / part, dest / part, ignore=shutil.ignore_patterns(".cache"))
    return dest


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A writable copy of the shipped example workspace (rubrics/ + datasets/)."""
    return copy_example(tmp_path)


@pytest.fixture
def example_ds(example: Path) -> Path:
    return example / "datasets" / "support-summary"


SMALL_RUBRIC = """# a small rubric for tests
name: tiny
version: 1
task: Judge answers.
criteria:
  correct:
    question: Is it correct?
    scale:
      type: ordinal
      points:
        0: {label: wrong}
        1: {label: partly}
        2: {label: right}
  polite:
    question: Is it polite?
    scale:
      type: binary
      points:
        pass: {label: polite}
        fail: {label: rude}
  topic:
    question: What is it about?
    scale:
      type: categorical
      points:
        billing: {label: billing}
        tech: {label: technical}
        other: {label: other}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A workspace with rubric tiny v1 and dataset tiny (5 cases, overlap 2)."""
    (tmp_path / "rubrics" / "tiny").mkdir(parents=True)
    (tmp_path / "rubrics" / "tiny" / "v1.yaml").write_text(SMALL_RUBRIC)
    ds = tmp_path / "datasets" / "tiny"
    ds.mkdir(parents=True)
    (ds / "dataset.yaml").write_text("name: tiny\nrubric: tiny\nrubric_version: 1\noverlap: 2\n")
    cases = "".join(
        f"t{i}:\n  input: |\n    question {i}\n    second line\n  output: answer {i}\n  tier: {'golden' if i < 4 else 'adversarial'}\n"
        for i in range(1, 6)
    )
    (ds / "cases.yaml").write_text("# cases\n" + cases)
    return tmp_path
