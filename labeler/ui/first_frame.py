"""The first frame of a label session, left by the last one: the case is on screen before the dataset loads.

A label session leaves `.cache/sessions/<annotator>.first.json` (git-ignored, JSON, never pickle): the case
it will open next time (its text), the rubric's criteria with their keys, and the size and mtime of every
file that decides them (dataset.yaml, cases.yaml, the annotator's label log, the resume place, each rubric
version; the resume place by its content). A record whose stamps all match is painted with nothing but textual and json imported; the
dataset opens in a worker meanwhile. Any mismatch, or a record that is not exactly this shape: ignored, and
the app starts as it always did. Imports nothing heavy (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from labeler.safetext import display, one_line

VERSION = 1
MAX_BYTES = 2_000_000
"""A record bigger than this was not written by labeler (a case is clipped for display long before)."""


def record_path(ds_path: Path, annotator: str) -> Path:
    return Path(ds_path) / ".cache" / "sessions" / f"{annotator}.first.json"


def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _text(path: Path) -> str | None:
    """A small file by its content: the session rewrites its resume place at every start, mostly unchanged."""
    try:
        return path.read_text(encoding="utf-8")[:10_000]
    except (OSError, ValueError):
        return None


def stamps(ds_path: Path, annotator: str, rubric: str) -> dict:
    """Size and mtime of every file whose change could change the first frame (missing files too)."""
    ds_path = Path(ds_path)
    rubric_dir = ds_path.parent.parent / "rubrics" / rubric
    try:
        versions = sorted(p.name for p in rubric_dir.iterdir() if p.suffix == ".yaml")
    except OSError:
        versions = []
    return {"dataset": _stamp(ds_path / "dataset.yaml"), "cases": _stamp(ds_path / "cases.yaml"),
            "labels": _stamp(ds_path / "labels" / f"{annotator}.yaml"),
            "place": _text(ds_path / ".cache" / "sessions" / f"{annotator}.place.json"),
            "rubric": {name: _stamp(rubric_dir / name) for name in versions}}


def _strs(x, keys: tuple[str, ...]) -> bool:
    return isinstance(x, dict) and all(isinstance(x.get(k), str) for k in keys)


def _valid(r) -> bool:
    """Exactly the shape `write` makes: anything else (an old version, a hand edit, a torn write) is not used."""
    if not isinstance(r, dict) or r.get("version") != VERSION:
        return False
    if not _strs(r, ("annotator", "rubric", "title", "sub_title")):
        return False
    case = r.get("case")
    if not _strs(case, ("id", "tier", "input", "output")) or not all(
            isinstance(case.get(k), (str, type(None))) for k in ("difficulty", "context", "reference", "notes")):
        return False
    if not isinstance(case.get("tags"), list) or not all(isinstance(t, str) for t in case["tags"]):
        return False
    crits = r.get("criteria")
    return (isinstance(crits, list) and bool(crits) and all(_strs(c, ("name", "question", "keys")) for c in crits)
            and isinstance(r.get("stamps"), dict))


def read_fresh(ds_path: Path, annotator: str) -> dict | None:
    """The record for (dataset, annotator) when it is valid and every stamp still matches, else None."""
    path = record_path(ds_path, annotator)
    try:
        if os.stat(path).st_size > MAX_BYTES:
            return None
        r = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not _valid(r) or r["annotator"] != annotator:
        return None
    if "/" in r["rubric"] or r["rubric"].startswith(".") or r["stamps"] != stamps(ds_path, annotator, r["rubric"]):
        return None
    return r


def write(ds_path: Path, annotator: str, rubric: str, case: dict, criteria: list[dict], title: str, sub_title: str) -> None:
    """Leave the record (atomic replace); stamps are taken now, after the files they describe were written."""
    path = record_path(ds_path, annotator)
    r = {"version": VERSION, "annotator": annotator, "rubric": rubric, "title": title, "sub_title": sub_title,
         "case": case, "criteria": criteria, "stamps": stamps(ds_path, annotator, rubric)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(r), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only checkout: the next start is just not as quick


def forget(ds_path: Path, annotator: str) -> None:
    """No record: the next start cannot know its first case without the dataset (an edited label, a filter)."""
    try:
        record_path(ds_path, annotator).unlink()
    except OSError:
        pass


class Pane(VerticalScroll, can_focus=False):
    """Scrolls, never takes a key: every key goes to the screen, which keeps it for the real one."""


class FirstFrameScreen(Screen):
    """The case and the rubric from the record, while the dataset loads; every key pressed is kept, in order,
    for the label screen to apply to this case (`keys`), never dropped and never run before the case is there."""

    def __init__(self, record: dict, then=None) -> None:
        """`then`: called a moment after the frame is on screen (the load: a worker holding the GIL beside the
        paint made the first frame twice as slow)."""
        super().__init__()
        self.record = record
        self.then = then
        self.keys: list[str] = []

    def compose(self) -> ComposeResult:
        r, case = self.record, self.record["case"]
        yield Static(Text(one_line(f"{r['title']} — {r['sub_title']}", 200), style="bold"), id="first-title")  # no Header: it
        # mounts its parts late, and this screen may be gone by then
        yield Static(Text(f" {one_line(r['annotator'], 40)}   loading the dataset (keys are kept)...", style="dim"),
                     id="progress")
        with Horizontal(id="label-main"):
            with Pane(id="case"):
                meta = Text(one_line(case["id"], 60), style="bold")
                meta.append(f"  {one_line(case['tier'], 20)}", style="italic")
                if case.get("difficulty"):
                    meta.append(f"  {one_line(case['difficulty'], 20)}")
                if case["tags"]:
                    meta.append("  tags: " + one_line(", ".join(case["tags"]), 60), style="dim")
                yield Static(meta)
                for s in ("input", "output", "reference", "context", "notes"):
                    text = case.get(s)
                    if text is None or (text == "" and s not in ("input", "output")):
                        continue
                    yield Static(Text(s.upper(), style="bold"))
                    yield Static(Text(display(text)))
            with Pane(id="rubric-scroll"):
                t = Text()
                for i, c in enumerate(r["criteria"]):
                    t.append(("> " if i == 0 else "  ") + one_line(c["name"], 60), style="bold" if i == 0 else "")
                    t.append(f"  [{one_line(c['keys'], 30)}]\n", style="dim")
                    t.append(f"    {display(c['question'], 500)}\n")
                yield Static(t, id="rubric")
        yield Static(id="message")

    def on_mount(self) -> None:
        if self.then is not None:
            self.call_after_refresh(self.set_timer, 0.1, self.then)

    def on_key(self, event) -> None:
        self.keys.append(event.key)
        event.stop()
        event.prevent_default()
