"""`labeler validate`: every rubric, dataset, label and reference, reported as path:line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labeler.errors import FileFormatError, LabelerError
from labeler.dataset import Dataset, Workspace
from labeler.truth.store import load_rubric_file


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
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    """Each finding once (a broken rubric is seen by its own check and by every dataset using it)."""
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.path.resolve() if f.path.is_absolute() else f.path, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


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
    """Everything the store reports when it opens the dataset (the same rule the app and every
    command use), plus what only a full check can see: rubrics edited in place, leads' conflicts,
    judge runs and audits."""
    try:
        ds = Dataset.open(ws, folder)
    except FileFormatError as e:
        out = [Finding(e.path, e.line, e.message)]
        logs = [p for sub in ("labels", "adjudications") for p in sorted((folder / sub).glob("*.yaml"))]
        if logs:
            out.append(Finding(folder, None, f"{len(logs)} label and adjudication log(s) not checked until this is fixed", "warning"))
        return out
    except LabelerError as e:
        return [Finding(folder, None, str(e))]
    out = [Finding(p.path, p.line, p.message, p.severity) for p in ds.problems]
    t = ds.table
    for v in (int(x) for x in np.unique(t.version.v)) if len(t) else []:
        try:
            want = ds.rubric(v).content_hash()  # once per version, not once per label
        except LabelerError:
            continue
        rows = np.flatnonzero((t.version.v == v) & ~t.retract.v)
        for a in np.unique(t.ann.a[rows]):
            mine = rows[t.ann.a[rows] == a]
            bad = mine[[(h := t.hashes.items[int(c)]) is not None and h != want for c in t.hash.a[mine]]]
            if len(bad):
                r = int(bad[0])
                out.append(Finding(ds.ws.rubric_dir(ds.config.rubric) / f"v{v}.yaml", None,
                                   f"rubric v{v} was edited in place after labels used it ({t.annotators[a]}.yaml: the label of "
                                   f"{t.case_ids[int(t.case.a[r])]} was made under hash {t.hashes.items[int(t.hash.a[r])]}, "
                                   f"the file now hashes to {want}); restore it and use `labeler rubric bump`"))
    versions = ds.versions
    for cid, c, decisions in sorted(ds.adjudications.conflicts(versions.holds), key=lambda x: (x[0], x[1])):
        said = ", ".join(f"{d.lead} says {d.value}" + (f" ({d.at:%Y-%m-%d %H:%M})" if d.at else "") for d in decisions)
        out.append(Finding(ds.adjudications_dir, None, f"leads disagree on the gold of {cid} / {c}: {said}; "
                                                       "settle it in `labeler review`"))
    for name in ds.candidate_names():
        try:
            cand = ds.candidate(name)
        except FileFormatError as e:
            out.append(Finding(e.path, e.line, e.message))
            continue
        gone = [cid for cid in cand.outputs if cid not in ds.cases]
        if gone:
            out.append(Finding(ds.candidates_dir / f"{name}.yaml", None,
                               f"{len(gone)} output(s) for cases not in cases.yaml (first: {gone[0]!r}); they are not used", "warning"))
    from labeler.judge.run import template_path, template_problems

    try:
        out += [Finding(template_path(ds), line, msg) for line, msg in template_problems(ds)]
        from labeler.judge.prompts import edited_in_place

        out += [Finding(path, None, msg) for path, msg in edited_in_place(ds)]
    except FileFormatError as e:  # an examples file that does not parse
        out.append(Finding(e.path, e.line, e.message))
    except LabelerError:  # the rubric itself does not load: reported with it
        pass
    for run in ds.judge_runs():
        try:
            meta, _ = ds.judge_run(run)
            if meta.candidate and meta.candidate not in ds.candidate_names():
                out.append(Finding(ds.judge_dir / run / "run.yaml", None, f"run scored candidate {meta.candidate!r}, "
                                                                          "which has no file in candidates/"))
            ds.audits(run)
        except FileFormatError as e:
            out.append(Finding(e.path, e.line, e.message))
        except LabelerError as e:
            out.append(Finding(ds.judge_dir / run, None, str(e)))
    out += _layout_findings(folder)
    from labeler.rubrics.tighten import PENDING

    pending = ds.ws.rubric_dir(ds.config.rubric) / PENDING
    if pending.is_file():
        out.append(Finding(pending, None, f"a `labeler rubric bump {ds.config.rubric}` was interrupted: run it again to "
                                          "finish it (it writes the same version and moves the same datasets)"))
    known = {(f.path, f.line, f.message) for f in out}
    out += [Finding(p.path, p.line, p.message, p.severity) for p in ds.problems if (p.path, p.line, p.message) not in known]
    return sorted(out, key=lambda f: (str(f.path), f.line or 0))


def _layout_findings(folder: Path) -> list[Finding]:
    """Files in the dataset's folders that are no kind labeler reads or commits (truth/layout.py), and lines
    set aside to `.torn` after a crash: both are easy to miss, and neither is in any number."""
    from labeler.truth.layout import stray_files

    out = [Finding(p, None, "not a kind of file labeler reads or commits (labels/<name>.yaml, judge/<run>/..., "
                            "candidates/<name>.yaml, ...): ignored", "warning") for p in stray_files(folder)]
    for torn in sorted(p for p in folder.rglob("*.torn") if ".cache" not in p.parts):
        try:
            n = sum(1 for ln in torn.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip())
        except OSError:
            continue
        out.append(Finding(torn, None, f"{n} incomplete line(s) cut off {torn.name[:-5]} after a crash mid-save: not in any "
                                       "number; re-save what is still wanted, then delete this file", "warning"))
    return out
