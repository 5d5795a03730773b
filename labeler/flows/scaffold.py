"""`labeler init` and new datasets made like an existing one."""

from __future__ import annotations

import json
from pathlib import Path

from labeler.errors import LabelerError
from labeler.judge.run import DEFAULT_TEMPLATE
from labeler.truth.models import DatasetConfig
from labeler.names import check_safe_name
from labeler.dataset import Dataset
from labeler.truth.store import save_model_rt

RUBRIC_TEMPLATE = """# Rubric {name}, version 1. Once labels reference a version it must not change in place:
# make the next version with `labeler rubric bump {name}`.
name: {quoted}
version: 1
task: |
  Describe what is judged and for whom: who reads the model output, and what they need from it.
criteria:
  correct:
    question: Is the output factually correct with respect to the input?
    description: |
      Say exactly what counts as an error, with an example of a borderline case.
    scale:
      type: ordinal
      points:
        0:
          label: wrong
          when: At least one statement contradicts the input.
        1:
          label: partly
          when: Nothing contradicts the input, but something important is missing or vague.
        2:
          label: correct
          when: Every statement is supported by the input and nothing important is missing.
  follows_format:
    question: Does the output follow the required format?
    description: |
      State the format (length, structure) the output must have.
    scale:
      type: binary
      points:
        pass:
          label: follows
          when: The format is followed.
        fail:
          label: breaks
          when: The format is not followed.
changelog:
  - version: 1
    summary: First version.
"""



def scaffold(root: Path, name: str, overlap: int = 2) -> list[Path]:
    """Create rubrics/NAME/v1.yaml, rubrics/NAME/judge.md and datasets/NAME/; never overwrite."""
    check_safe_name(name, "name")
    rubric_dir = root / "rubrics" / name
    ds_dir = root / "datasets" / name
    targets = [rubric_dir / "v1.yaml", rubric_dir / "judge.md", ds_dir / "dataset.yaml", ds_dir / "cases.yaml"]
    existing = [p for p in targets if p.exists()]
    if existing:
        raise LabelerError(f"{existing[0]}: already exists; refusing to overwrite")
    rubric_dir.mkdir(parents=True, exist_ok=True)
    ds_dir.mkdir(parents=True, exist_ok=True)
    # quoted: `007`, `null`, `%x` and the like would read back as a number, nothing, or an error
    targets[0].write_text(RUBRIC_TEMPLATE.format(name=name, quoted=json.dumps(name, ensure_ascii=False)), encoding="utf-8")
    targets[1].write_text(DEFAULT_TEMPLATE, encoding="utf-8")
    cfg = DatasetConfig(name=name, description="", rubric=name, rubric_version=1, overlap=overlap)
    save_model_rt(targets[2], cfg, header=f"# Dataset {name}: cases in cases.yaml, labels in labels/<annotator>.yaml.\n")
    targets[3].write_text("# Cases to label: id -> input, output, reference, context, tier, tags, ...\n", encoding="utf-8")
    from labeler.workspace import mark_workspace

    mark_workspace(root)  # found from any folder below (labeler/workspace.py)
    return targets


def dataset_like(src: Dataset, name: str) -> Dataset:
    """Open datasets/NAME, creating it with `src`'s rubric and overlap when it does not exist."""
    check_safe_name(name, "dataset name")
    folder = src.ws.datasets_dir / name
    if not (folder / "dataset.yaml").exists():
        cfg = DatasetConfig(name=name, description=f"Sampled from {src.name}.", rubric=src.config.rubric,
                            rubric_version=src.config.rubric_version, overlap=src.config.overlap)
        save_model_rt(folder / "dataset.yaml", cfg)
    return Dataset.open(src.ws, folder)
