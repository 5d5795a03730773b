"""A judge run made from another tool's model suggestions (Argilla): calibrated and audited like any run."""

from __future__ import annotations

from datetime import datetime, timezone

from labeler.truth.logs import LogWriter
from labeler.truth.models import JudgeRun, Rubric, Verdict
from labeler.dataset import Dataset
from labeler.truth.store import save_model_rt


def save_imported_run(ds: Dataset, run: str, rubric: Rubric, verdicts: list[Verdict], agents: set[str], source: str) -> None:
    """run.yaml says where the verdicts came from (no prompt: "(imported from ...)"); verdicts are appended."""
    folder = ds.judge_dir / run
    path = folder / "run.yaml"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    if not path.exists():
        meta = JudgeRun(name=run, model=", ".join(sorted(a for a in agents if a)) or "unknown", endpoint_host="",
                        rubric=rubric.name, rubric_version=rubric.version, rubric_hash=rubric.content_hash(),
                        prompt_template=f"(imported from {source})", started=now, finished=now)
        save_model_rt(path, meta, header=f"# Judge run {run}: model suggestions imported from {source}.\n")
    writer = LogWriter(folder / "verdicts.yaml", f"verdicts of judge run {run}: imported suggestions, one case per line")
    writer.append_many([{"case": v.case, **v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)} for v in verdicts])
