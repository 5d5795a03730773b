"""`labeler validate`: every rubric, dataset, label and reference, reported as path:line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labeler.errors import FileFormatError, LabelerError
from labeler.logs import read_log
from labeler.models import Label, Rubric
from labeler.store import Dataset, Workspace, _parse_log, load_rubric_file


@dataclass
class Finding:
    path: Path
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.severity}: {self.message}"


def validate_paths(paths: list[Path]) -> list[Finding]:
    """Validate the workspaces, rubric folders, datasets or files named by `paths`."""
    findings: list[Finding] = []
    seen_ds: set[Path] = set()
    seen_rubrics: set[Path] = set()
    for p in paths:
        p = p.resolve()
        if not p.exists():
            findings.append(Finding(p, None, "no such file or folder"))
            continue
        if (p / "dataset.yaml").is_file() or (p.is_file() and _dataset_of(p)):
            folder = p if p.is_dir() else _dataset_of(p)
            if folder not in seen_ds:
                seen_ds.add(folder)
                findings += validate_dataset(Workspace(folder.parent.parent), folder)
        elif p.is_file() and p.suffix == ".yaml" and p.parent.parent.name == "rubrics":
            findings += _validate_rubric_file(p)
        elif p.is_dir() and p.parent.name == "rubrics":
            for f in sorted(p.glob("v*.yaml")):
                findings += _validate_rubric_file(f)
        else:
            ws = Workspace(p if p.is_dir() else p.parent)
            if not ws.rubrics_dir.is_dir() and not ws.datasets_dir.is_dir():
                findings.append(Finding(p, None, "not a labeler workspace, rubric or dataset (no rubrics/ or datasets/ here)"))
                continue
            for f in sorted(ws.rubrics_dir.glob("*/v*.yaml")) if ws.rubrics_dir.is_dir() else []:
                if f not in seen_rubrics:
                    seen_rubrics.add(f)
                    findings += _validate_rubric_file(f)
            for name in ws.dataset_names():
                folder = (ws.datasets_dir / name).resolve()
                if folder not in seen_ds:
                    seen_ds.add(folder)
                    findings += validate_dataset(ws, folder)
    return findings


def _dataset_of(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / "dataset.yaml").is_file():
            return folder
    return None


def _validate_rubric_file(path: Path) -> list[Finding]:
    try:
        load_rubric_file(path)
    except FileFormatError as e:
        return [Finding(e.path, e.line, e.message)]
    return []


def validate_dataset(ws: Workspace, folder: Path) -> list[Finding]:
    out: list[Finding] = []
    try:
        ds = Dataset.open(ws, folder)
    except FileFormatError as e:
        return [Finding(e.path, e.line, e.message)]
    except LabelerError as e:
        return [Finding(folder, None, str(e))]
    out += [Finding(p.path, p.line, p.message) for p in ds.problems]
    rubrics: dict[int, Rubric | None] = {}

    def rubric(v: int) -> Rubric | None:
        if v not in rubrics:
            try:
                rubrics[v] = ds.rubric(v)
            except FileFormatError as e:
                out.append(Finding(e.path, e.line, e.message))
                rubrics[v] = None
            except LabelerError:
                rubrics[v] = None
        return rubrics[v]

    if rubric(ds.config.rubric_version) is None and not any(f.path.name.startswith("v") for f in out):
        out.append(Finding(ds.path / "dataset.yaml", None,
                           f"rubric {ds.config.rubric} v{ds.config.rubric_version} does not exist in {ws.rubric_dir(ds.config.rubric)}"))
    for ann in ds.labels:
        path = ds.label_path(ann)
        torn = read_log(path).torn_tail
        if torn is not None:
            out.append(Finding(path, None, "the last line is incomplete (a crash mid-save); it is ignored and set aside on the next save", "warning"))
        used_hashes: dict[int, set[tuple[str, int]]] = {}
        for line, label in _parse_log(path, Label):  # every record, not only the latest per case
            cid = label.case
            if label.retract:
                continue
            if cid not in ds.cases:
                out.append(Finding(path, line, f"label for unknown case {cid!r}"))
                continue
            r = rubric(label.rubric)
            if r is None:
                out.append(Finding(path, line, f"label made under rubric v{label.rubric}, which does not exist"))
                continue
            if label.rubric_hash:
                used_hashes.setdefault(label.rubric, set()).add((label.rubric_hash, line or 0))
            out += _check_values(path, line, label.values, r, "label")
        for v, hashes in used_hashes.items():
            r = rubric(v)
            if r is None:
                continue
            for h, line in sorted(hashes):
                if h != r.content_hash():
                    out.append(Finding(ds.ws.rubric_dir(ds.config.rubric) / f"v{v}.yaml", None,
                                       f"rubric v{v} was edited in place after labels used it ({path.name}:{line} was made under "
                                       f"hash {h}, the file now hashes to {r.content_hash()}); restore it and use `labeler rubric bump`"))
                    break
    for cid, adj in ds.adjudications.items():
        path = ds.adjudications_dir
        if cid not in ds.cases:
            out.append(Finding(path, None, f"adjudication for unknown case {cid!r}"))
            continue
        r = rubric(adj.rubric)
        if r is None:
            out.append(Finding(path, None, f"adjudication of {cid} under rubric v{adj.rubric}, which does not exist"))
            continue
        out += _check_values(path, None, adj.gold, r, f"adjudication of {cid}")
    for run in ds.judge_runs():
        try:
            meta, verdicts = ds.judge_run(run)
        except FileFormatError as e:
            out.append(Finding(e.path, e.line, e.message))
            continue
        r = rubric(meta.rubric_version)
        vpath = ds.judge_dir / run / "verdicts.yaml"
        for cid, vs in verdicts.items():
            if cid not in ds.cases:
                out.append(Finding(vpath, None, f"verdict for unknown case {cid!r}"))
                continue
            for v in vs:
                if r is not None and v.error is None:
                    out += _check_values(vpath, None, {c: cv.value for c, cv in v.values.items()}, r, f"verdict for {cid}")
    return out


def _check_values(path: Path, line: int | None, values: dict, r: Rubric, what: str) -> list[Finding]:
    out = []
    for c, v in values.items():
        crit = r.criteria.get(c)
        if crit is None:
            out.append(Finding(path, line, f"{what}: unknown criterion {c!r} in rubric v{r.version} (known: {', '.join(r.criteria)})"))
            continue
        try:
            crit.scale.coerce(v)
        except ValueError as e:
            out.append(Finding(path, line, f"{what}: {c}: {e}"))
    return out
