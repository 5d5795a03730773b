"""The tightening loop: bump a rubric to a new version, with a changelog naming the cases that forced it.

A version that labels reference never changes in place: every edit is a new file v<N+1>.yaml,
copied from the latest (comments kept), with a changelog entry. Datasets on the old version move
to the new one; labels on unchanged criteria carry over, the others become stale.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from labeler.errors import LabelerError
from labeler.truth.models import DatasetConfig, Rubric
from labeler.derived.staleness import changed_criteria
from labeler.dataset import Dataset, Workspace
from labeler.truth.store import load_rubric_file, save_model_rt
from labeler.truth.yamlio import MAX_HAND_EDITED, atomic_write, dump_rt, fsync_dir, literal_blocks, load_rt


@dataclass
class Evidence:
    """Why a criterion needs tightening: cases marked "rubric gap" by a lead or flagged "rubric unclear"."""

    case: str
    criterion: str | None
    kind: str
    """'rubric_gap' or 'rubric_unclear'."""
    who: str
    reason: str


def collect_evidence(ds: Dataset, since_version: int | None = None) -> list[Evidence]:
    """Gap marks and unclear flags made under the rubric version in force (or `since_version`)."""
    v = since_version or ds.config.rubric_version
    out: list[Evidence] = []
    t = ds.table
    latest = {int(r) for arr in t.latest.values() for r in arr[arr >= 0]} if t.extras else set()
    for row, extra in sorted(t.extras.items(), key=lambda x: (t.annotators[t.ann.a[x[0]]], x[0])):
        if row not in latest or int(t.version.a[row]) != v:
            continue
        for f in extra.get("flags", []):
            if f.get("kind", "rubric_unclear") == "rubric_unclear":
                out.append(Evidence(t.case_ids[int(t.case.a[row])], f.get("criterion"), "rubric_unclear",
                                    t.annotators[t.ann.a[row]], f.get("reason", "")))
    for cid, c, note in sorted(ds.adjudications.all_gaps(), key=lambda x: (x[0], x[1])):
        if note.rubric == v:
            out.append(Evidence(cid, c, "rubric_gap", note.lead, note.text))
    return out


def resolves_from(evidence: list[Evidence], criterion: str | None = None) -> list[str]:
    """Case ids (sorted, unique) behind the evidence, optionally for one criterion."""
    return sorted({e.case for e in evidence if criterion is None or e.criterion in (None, criterion)})


@dataclass
class Bump:
    path: Path
    rubric: Rubric
    moved: list[str] = field(default_factory=list)
    """Datasets moved to the new version."""


def latest_version(ws: Workspace, name: str) -> int:
    versions = ws.rubric_versions(name)
    if not versions:
        raise LabelerError(f"{ws.rubric_dir(name)}: no rubric versions (v1.yaml, ...)")
    return max(versions)


def new_version_text(ws: Workspace, name: str, *, author: str, summary: str, resolves: list[str],
                     edits: dict[str, dict[str, Any]] | None = None, today: date | None = None) -> tuple[int, str]:
    """The text of v<N+1>.yaml: the latest version with its comments, `edits` applied, a changelog entry added.

    `edits` maps criterion id -> {"description": str, "question": str, "points": {value: when}}.
    """
    n = latest_version(ws, name)
    src = ws.rubric_dir(name) / f"v{n}.yaml"
    doc = load_rt(src)
    doc["version"] = n + 1
    for cid, change in (edits or {}).items():
        crit = doc["criteria"].get(cid)
        if crit is None:
            raise LabelerError(f"{src}: no criterion {cid!r} to edit")
        for key in ("question", "description"):
            if key in change and change[key] is not None:
                crit[key] = literal_blocks(change[key].rstrip() + "\n") if "\n" in change[key].strip() or key == "description" else change[key]
        for value, when in (change.get("points") or {}).items():
            points = crit["scale"]["points"]
            key = next((k for k in points if str(k) == str(value)), None)
            if key is None:
                raise LabelerError(f"{src}: criterion {cid} has no scale point {value!r}")
            points[key]["when"] = when
    entry = {"version": n + 1, "date": (today or date.today()), "author": author, "summary": literal_blocks(summary.rstrip() + "\n") if "\n" in summary.strip() else summary.strip()}
    if resolves:
        entry["resolves"] = list(resolves)
    doc.setdefault("changelog", [])
    doc["changelog"].append(entry)
    from ruamel.yaml.comments import CommentedSeq

    if isinstance(doc["changelog"][-1].get("resolves"), list):
        seq = CommentedSeq(doc["changelog"][-1]["resolves"])
        seq.fa.set_flow_style()
        doc["changelog"][-1]["resolves"] = seq
    return n + 1, dump_rt(doc)


PENDING = ".bump-pending.json"
"""In a rubric's folder while a bump is under way: the new version's text and the datasets to move, so a
rerun after a crash (kill -9 between files) finishes the same bump instead of starting another."""


def write_version(ws: Workspace, name: str, version: int, text: str, move_datasets: bool = True) -> Bump:
    """Write v<version>.yaml (refusing to overwrite), check it, and move datasets on the previous version.

    Several files change, so the plan is written first (PENDING) and removed last: `finish_pending`
    completes an interrupted bump from it."""
    path = ws.rubric_dir(name) / f"v{version}.yaml"
    if path.exists():
        raise LabelerError(f"{path}: already exists; versions are never overwritten")
    move = []
    if move_datasets:
        for ds_name in ws.dataset_names():
            cfg = _config(ws, ds_name)
            if cfg is not None and cfg.rubric == name and cfg.rubric_version == version - 1:
                move.append(ds_name)
    atomic_write(ws.rubric_dir(name) / PENDING, json.dumps({"version": version, "text": text, "move": move}))
    return _finish(ws, name)


def finish_pending(ws: Workspace, name: str) -> Bump | None:
    """Finish a bump of `name` that a crash interrupted (None when there is none)."""
    if not (ws.rubric_dir(name) / PENDING).is_file():
        return None
    return _finish(ws, name)


def _finish(ws: Workspace, name: str) -> Bump:
    from labeler.truth.lock import dataset_lock

    pending = ws.rubric_dir(name) / PENDING
    try:
        plan = json.loads(pending.read_text(encoding="utf-8"))
        version, text, move = int(plan["version"]), str(plan["text"]), list(plan["move"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise LabelerError(f"{pending}: an interrupted bump's plan does not read ({e}); delete it and bump again") from None
    path = ws.rubric_dir(name) / f"v{version}.yaml"
    if not path.exists():
        atomic_write(path, text)
    rubric = load_rubric_file(path)  # raises path:line if the edit broke it; the file and the plan stay for fixing
    bump = Bump(path, rubric)
    for ds_name in move:
        ds_path = ws.datasets_dir / ds_name
        with dataset_lock(ds_path, f"labeler rubric bump {name}"):
            cfg = _config(ws, ds_name)
            if cfg is not None and cfg.rubric == name and cfg.rubric_version == version - 1:
                cfg.rubric_version = version
                save_model_rt(ds_path / "dataset.yaml", cfg)
        bump.moved.append(ds_name)
    pending.unlink()
    fsync_dir(pending.parent)
    return bump


def _config(ws: Workspace, ds_name: str) -> DatasetConfig | None:
    """A dataset's dataset.yaml (None when it does not read: that is reported where the dataset is opened)."""
    path = ws.datasets_dir / ds_name / "dataset.yaml"
    try:
        doc = load_rt(path, max_bytes=MAX_HAND_EDITED)
        return DatasetConfig.model_validate(doc)
    except Exception:  # FileFormatError, ValidationError
        return None


# ---------------------------------------------------------------- diff


@dataclass
class CriterionDiff:
    criterion: str
    status: str
    """'added', 'removed', 'changed' or 'same'."""
    fields: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """question/description -> word diff, for changed text."""
    points: dict[str, str] = field(default_factory=dict)
    """scale value -> 'added' | 'removed' | 'changed'."""
    scale_type: tuple[str, str] | None = None


def diff_rubrics(a: Rubric, b: Rubric) -> list[CriterionDiff]:
    """Criterion by criterion, what changed from version a to version b."""
    what = changed_criteria(a, b)
    out = []
    for cid in list(b.criteria) + [c for c in a.criteria if c not in b.criteria]:
        status = what.get(cid, "same")
        d = CriterionDiff(cid, status)
        if status == "changed":
            ca, cb = a.criteria[cid], b.criteria[cid]
            for key in ("question", "description"):
                if getattr(ca, key) != getattr(cb, key):
                    d.fields[key] = word_diff(getattr(ca, key), getattr(cb, key))
            if ca.scale.type != cb.scale.type:
                d.scale_type = (ca.scale.type.value, cb.scale.type.value)
            pa, pb = ca.scale.points, cb.scale.points
            for v in list(pb) + [v for v in pa if v not in pb]:
                if v not in pa:
                    d.points[str(v)] = "added"
                elif v not in pb:
                    d.points[str(v)] = "removed"
                elif pa[v] != pb[v]:
                    d.points[str(v)] = "changed"
        out.append(d)
    return out


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op in '=', '-', '+': a word-level diff for showing description edits."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        else:
            if i2 > i1:
                out.append(("-", " ".join(a[i1:i2])))
            if j2 > j1:
                out.append(("+", " ".join(b[j1:j2])))
    return out
