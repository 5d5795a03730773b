"""Warm start: the last session's first-frame record is painted before the dataset loads; keys pressed
meanwhile land, in order, on the case they were pressed on. A stale or malformed record is ignored."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from labeler.cli.screens import _warm_start
from labeler.truth.logs import read_log
from labeler.dataset import open_dataset
from labeler.ui.app import LabelerApp
from labeler.ui.first_frame import FirstFrameScreen, read_fresh, record_path
from labeler.vcs.identity import Identity
from screens_text import screen_text


def _args(ds: Path, who: str = "dora") -> argparse.Namespace:
    return argparse.Namespace(dataset=str(ds), annotator=who, tier=None, tag=None, suggest=None)


async def _leave_record(ds_path: Path, who: str = "dora") -> str:
    """A usual session that opens its first case and quits: it leaves the record; returns that case's id."""
    app = LabelerApp(open_dataset(ds_path), identity=Identity(who))
    async with app.run_test(size=(100, 30)) as pilot:
        first = app.screen.session.case_id
        await pilot.press("q")
    assert record_path(ds_path, who).is_file()
    return first


def _gated(app: LabelerApp) -> threading.Event:
    """Hold the worker's dataset open until the test says so: keys are certainly pressed before it is ready."""
    gate = threading.Event()
    load = app.loader

    def slow():
        assert gate.wait(30)
        return load()

    app.loader = slow
    return gate


async def test_keys_pressed_before_the_dataset_loads_land_on_the_painted_case(example_ds: Path):
    first = await _leave_record(example_ds)
    app = _warm_start(_args(example_ds))
    assert app is not None and app.ds is None
    gate = _gated(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstFrameScreen)
        shown = screen_text(app)  # painted from the record: the case, its input, the rubric's first criterion
        assert first in shown and "INPUT" in shown and "action_items" in shown
        await pilot.press("2", "1", "2", "y", "0", "0")  # a whole label, then two values of the next case
        assert not (example_ds / "labels" / "dora.yaml").exists()  # nothing applied before the case is loaded
        gate.set()
        for _ in range(400):  # up to 20 s: a loaded CI machine
            await pilot.pause(0.05)
            if not isinstance(app.screen, FirstFrameScreen) and app.screen.pending is None:
                break
        screen = app.screen
        second = screen.session.case_id
        assert second != first
        assert screen.session.draft.values == {"action_items": 0, "tone": 0}  # the next case has its two keys
        await pilot.press("2", "n")
        await pilot.pause()
    records = [r for _, r in read_log(example_ds / "labels" / "dora.yaml").records]
    assert [r["case"] for r in records] == [first, second]
    assert records[0]["values"] == {"action_items": 2, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"}
    assert records[1]["values"] == {"action_items": 0, "tone": 0, "no_hallucinated_resolution": 2, "under_80_words": "fail"}


async def test_keys_are_never_applied_to_another_case(example_ds: Path):
    """A record naming another case than the session opens (hand-edited here, stamps kept): its keys are
    reported, not applied to the case that did open."""
    await _leave_record(example_ds)
    path = record_path(example_ds, "dora")
    r = json.loads(path.read_text())
    r["case"]["id"] = "not-the-case-that-opens"
    path.write_text(json.dumps(r))
    app = _warm_start(_args(example_ds))
    assert app is not None
    gate = _gated(app)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(400):  # the first frame is up before the keys are pressed
            if isinstance(app.screen, FirstFrameScreen):
                break
            await pilot.pause(0.05)
        await pilot.press("2", "1", "2", "y")
        gate.set()
        for _ in range(400):  # up to 20 s: a loaded CI machine
            await pilot.pause(0.05)
            if not isinstance(app.screen, FirstFrameScreen) and app.screen.pending is None:
                break
        assert app.screen.session.draft.values == {}
        assert any("not applied" in n.message for n in app._notifications)
    assert not (example_ds / "labels" / "dora.yaml").exists()


async def test_a_stale_or_malformed_record_is_ignored(example_ds: Path):
    await _leave_record(example_ds)
    assert read_fresh(example_ds, "dora") is not None
    # another window of the same annotator saved a label: the log's stamp differs
    log = example_ds / "labels" / "dora.yaml"
    log.write_text("")
    assert read_fresh(example_ds, "dora") is None and _warm_start(_args(example_ds)) is None
    log.unlink()
    assert read_fresh(example_ds, "dora") is not None
    # the resume place: rewritten the same at every start (still fresh); naming another case (stale)
    place = example_ds / ".cache" / "sessions" / "dora.place.json"
    text = place.read_text()
    place.write_text(text)
    assert read_fresh(example_ds, "dora") is not None
    place.write_text(json.dumps({**json.loads(text), "skipped": [json.loads(text)["at"]]}))
    assert read_fresh(example_ds, "dora") is None
    place.write_text(text)
    # a new rubric version in force
    rubric = example_ds.parent.parent / "rubrics" / "support-summary"
    (rubric / "v3.yaml").write_text((rubric / "v2.yaml").read_text().replace("version: 2", "version: 3"))
    assert read_fresh(example_ds, "dora") is None
    (rubric / "v3.yaml").unlink()
    # cases.yaml changed (same size, new mtime)
    cases = example_ds / "cases.yaml"
    st = cases.stat()
    os.utime(cases, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert read_fresh(example_ds, "dora") is None
    os.utime(cases, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert read_fresh(example_ds, "dora") is not None
    # not the shape labeler writes: never used
    path = record_path(example_ds, "dora")
    good = json.loads(path.read_text())
    for bad in ("{", "[]", json.dumps({**good, "version": 99}), json.dumps({**good, "criteria": "x"}),
                json.dumps({**good, "case": {**good["case"], "input": 5}}), json.dumps({**good, "rubric": "../x"})):
        path.write_text(bad)
        assert read_fresh(example_ds, "dora") is None
    assert read_fresh(example_ds, "bob") is None  # another annotator has no record


async def test_a_labeled_case_leaves_no_record(example_ds: Path):
    """Quitting on a case already labeled: the next start's case depends on the queue, so no record."""
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "1", "2", "y", "p")  # back to the labeled case
        await pilot.press("q")
    assert not record_path(example_ds, "dora").exists()


def test_the_first_frame_needs_neither_the_dataset_nor_pydantic():
    code = ("import sys, labeler.cli.main, labeler.ui.app, labeler.ui.first_frame\n"
            "print(','.join(m for m in ('pydantic', 'numpy', 'labeler.truth.store', 'labeler.truth.models', 'ruamel')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


async def test_git_is_asked_after_the_first_frame_and_its_identity_still_recorded(example_ds: Path, monkeypatch):
    """--annotator names the record, so the first frame waits for no `git config`; the load asks it, and a
    label made in the warm session carries the annotator's own git identity as a usual session's does."""
    import labeler.vcs.identity as identity

    root = example_ds.parent.parent
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.name", "Dora"], cwd=root, check=True)
    subprocess.run(["git", "config", "user.email", "dora@example.com"], cwd=root, check=True)
    await _leave_record(example_ds)
    asked = []
    real = identity._git_config
    monkeypatch.setattr(identity, "_git_config", lambda key, cwd: asked.append(key) or real(key, cwd))
    app = _warm_start(_args(example_ds))
    assert app is not None and asked == []
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(400):  # up to 20 s: a loaded CI machine
            await pilot.pause(0.05)
            if not isinstance(app.screen, FirstFrameScreen) and app.screen.pending is None:
                break
        await pilot.press("2", "1", "2", "y")
        await pilot.pause()
    assert sorted(asked) == ["user.email", "user.name"]
    [(_, record)] = read_log(example_ds / "labels" / "dora.yaml").records
    assert (record["email"], record["git_name"]) == ("dora@example.com", "Dora")


def _looks(screen) -> list[tuple]:
    """Every widget of a screen with an id, by what its stylesheet decides: size, borders, padding, colours."""
    return [(w.id, str(w.styles.width), str(w.styles.height), str(w.styles.border), str(w.styles.padding),
             str(w.styles.background), str(w.styles.color), w.styles.display, str(w.size))
            for w in screen.query("*") if w.id]


async def test_the_first_frame_reads_only_its_own_css_and_the_label_screen_gets_all(example_ds: Path):
    """The first frame is painted with frame.tcss alone (app.tcss, every other screen's rules, is parsed
    after it); the label screen the load opens looks exactly as a usual start's, at 130 columns (wide) too."""
    await _leave_record(example_ds)
    for size in ((100, 30), (130, 40)):
        usual = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
        async with usual.run_test(size=size) as pilot:
            await pilot.pause()
            want = _looks(usual.screen)
        app = _warm_start(_args(example_ds))
        gate = _gated(app)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            read = {Path(p).name for p, _ in app.stylesheet.source if p.endswith(".tcss")}
            assert isinstance(app.screen, FirstFrameScreen) and read == {"frame.tcss"}
            gate.set()
            for _ in range(100):
                await pilot.pause(0.05)
                if not isinstance(app.screen, FirstFrameScreen) and app.screen.pending is None:
                    break
            await pilot.pause()
            assert {Path(p).name for p, _ in app.stylesheet.source if p.endswith(".tcss")} == {"frame.tcss", "app.tcss"}
            assert _looks(app.screen) == want and len(want) > 5
