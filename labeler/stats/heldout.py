"""Which cases a judge run may be measured on: not the ones its prompt version showed as graded examples.

The examples file of prompt version N is rubrics/<rubric>/judge-examples/vN.yaml (judge/prompts.py
writes and versions them); every number about a judge leaves those cases out.
"""

from __future__ import annotations

from pathlib import Path

from labeler.dataset import Dataset
from labeler.errors import FileFormatError, LabelerError
from labeler.truth.models import ExampleSet, JudgeRun
from labeler.truth.store import validate_model


def examples_path(ds: Dataset, version: int) -> Path:
    return ds.ws.rubric_dir(ds.config.rubric) / "judge-examples" / f"v{version}.yaml"


def load_examples(ds: Dataset, version: int) -> tuple[ExampleSet | None, str]:
    """A version's examples (None: it has none) and the file's text."""
    from labeler.truth.yamlio import MAX_HAND_EDITED, load_fast, read_text

    path = examples_path(ds, version)
    if not path.is_file():
        return None, ""
    text = read_text(path, MAX_HAND_EDITED)
    data = load_fast(path, text)
    if not isinstance(data, dict):
        raise FileFormatError(path, 1, "an examples file must be a mapping (version, dataset, examples)")
    got = validate_model(ExampleSet, data, path, base_line=1)
    if got.version != version:
        raise FileFormatError(path, 1, f"version {got.version} does not match file name {path.name}")
    return got, text


def example_cases(ds: Dataset, version: int | None) -> set[str]:
    """The cases a version showed the judge as examples (none for runs made before versions)."""
    if version is None:
        return set()
    got, _ = load_examples(ds, version)
    return got.cases if got else set()


def held_out(ds: Dataset, metas: list[JudgeRun], cases: list[str] | None = None) -> tuple[list[str], int]:
    """The cases the runs may be measured on (none used as an example by any of their prompt
    versions), and how many were excluded."""
    cases = list(ds.cases.ids) if cases is None else cases
    shown: set[str] = set()
    for m in metas:
        shown |= example_cases(ds, m.prompt_version)
    if not shown:
        return cases, 0
    keep = [c for c in cases if c not in shown]
    return keep, len(cases) - len(keep)


def used(ds: Dataset) -> dict[int, list[tuple[str, str]]]:
    """version -> (run, the prompt hash it recorded) for every run that names its prompt version
    (read from run.yaml alone: no run's verdicts are loaded to say which prompt it used)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for run in ds.judge_runs():
        try:
            meta = ds.judge_meta(run)
        except LabelerError:
            continue  # validate reports it
        if meta.prompt_version is not None:
            out.setdefault(meta.prompt_version, []).append((run, meta.prompt_hash))
    return out
