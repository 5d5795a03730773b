"""The real labeling app through Pilot, with the label file read back from disk."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


from labeler.vcs.identity import Identity
from labeler.truth.logs import read_log
from labeler.truth.models import Case
from labeler.dataset import open_dataset
from labeler.ui.app import LabelerApp


async def test_label_cases_by_keys_alone(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, identity=Identity("dora"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        first = screen.session.case_id
        await pilot.press("2", "1", "2", "y")
        second = screen.session.case_id
        await pilot.press("0", "0", "2", "n")
        await pilot.press("1", "2", "0", "y")
        await pilot.pause()
    records = [r for _, r in read_log(example_ds / "labels" / "dora.yaml").records]
    assert [r["case"] for r in records][:2] == [first, second]
    assert records[0]["values"] == {"action_items": 2, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"}
    assert records[1]["values"] == {"action_items": 0, "tone": 0, "no_hallucinated_resolution": 2, "under_80_words": "fail"}
    assert records[2]["values"]["no_hallucinated_resolution"] == 0
    assert all(r["rubric"] == 2 for r in records)
    # blind: nothing on the screen names another annotator
    # (checked on the rendered text of the case and rubric panels)


async def test_blind_and_note_flag_undo_through_keys(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, identity=Identity("dora"))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.screen.session
        first = s.case_id
        await pilot.press("c")
        await pilot.press(*"see ticket")
        await pilot.press("enter")
        await pilot.press("down", "f")
        await pilot.press(*"urgency vs politeness")
        await pilot.press("enter", "up")
        await pilot.press("2", "2", "2", "y")
        assert s.case_id != first
        await pilot.press("u")
        assert s.case_id == first
        await pilot.press("s")
        assert s.case_id != first
        await pilot.press("p")
        assert s.case_id == first
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        for other in ("alice", "bob", "chen"):
            assert other not in text
    recs = [r for _, r in read_log(example_ds / "labels" / "dora.yaml").records]
    assert recs[0]["note"] == "see ticket"
    assert recs[0]["flags"] == [{"criterion": "tone", "reason": "urgency vs politeness"}]
    assert recs[1] == {**recs[1], "case": first, "retract": True}


async def test_stale_labels_come_back_marked(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, identity=Identity("chen"))
    async with app.run_test(size=(100, 30)) as pilot:
        s = app.screen.session
        stale = [cid for cid in s.queue.order if s.status_of(cid).value == "stale"]
        assert stale, "chen has v1 tone labels that v2 made stale"
        s.jump(stale[0])
        app.screen.refresh_case()
        await pilot.pause()
        assert s.draft.stale.keys() == {"tone"}
        assert s.focused == "tone"
        await pilot.press("1")
    lab = open_dataset(example_ds).labels["chen"][stale[0]]
    assert lab.rubric == 2 and lab.values["tone"] == 1


async def test_hostile_text_renders_literally(example_ds: Path):
    ds = open_dataset(example_ds)
    hostile = Case(id="hostile", input="[bold]x[/bold] [link=https://e.example]l[/link] [/] \x1b]0;title\x07 \x1b[2J \u202e",
                   output="A" * 1_000_000 + "[/]", tier="adversarial")
    ds.add_cases([hostile])
    app = LabelerApp(ds, identity=Identity("dora"))
    async with app.run_test(size=(80, 24)) as pilot:
        t0 = time.perf_counter()
        app.screen.session.jump("hostile")
        app.screen.refresh_case()
        await pilot.pause()
        assert time.perf_counter() - t0 < 5
        body = str(app.screen.query_one("#body-input").render())
        assert "[bold]x[/bold]" in body and "[/]" in body
        assert "\x1b" not in body and "␛]0;title␇" in body and "⟨U+202E⟩" in body
        out = str(app.screen.query_one("#body-output").render())
        assert "more characters not shown" in out and "\x1b" not in out
        await pilot.press("2", "2", "2", "n")


def test_sigkill_mid_case_keeps_every_completed_label(example: Path, example_ds: Path):
    """The real app in a pseudo-terminal: label two cases, start a third, SIGKILL; reopen resumes."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(example)
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "100", "30"
        os.execv(sys.executable, [sys.executable, "-m", "labeler", "label", "support-summary", "--annotator", "kim"])
    try:
        _drain(fd, 4.0)
        for keys in ("212y", "001n", "2"):
            for k in keys:
                os.write(fd, k.encode())
                _drain(fd, 0.15)
        deadline = time.time() + 10
        path = example_ds / "labels" / "kim.yaml"
        while time.time() < deadline and (not path.exists() or len(read_log(path).records) < 2):
            _drain(fd, 0.2)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    read = read_log(path)
    assert len(read.records) == 2 and read.torn_tail is None
    ds = open_dataset(example_ds)
    assert not ds.problems
    from labeler.flows.labeling import LabelSession

    s = LabelSession(ds, "kim")
    assert s.case_id not in {r["case"] for _, r in read.records}


def _drain(fd: int, seconds: float) -> None:
    import select

    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                os.read(fd, 65536)
            except OSError:
                return


async def test_asks_who_is_labeling_once_when_git_does_not_say(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"../evil")
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "TextPrompt"  # refused, asked again
        await pilot.press(*"nia")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("2", "1", "2", "y")
    assert (example_ds / "labels" / "nia.yaml").exists()
    assert not (example_ds.parent / "evil.yaml").exists()


async def test_another_annotators_broken_file_is_reported_and_labeling_goes_on(example_ds: Path):
    bob = example_ds / "labels" / "bob.yaml"
    broken = bob.read_text().replace('"rubric": 2', '"rubric": "[bold]two"', 1)
    bob.write_text(broken)
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("bob.yaml:3" in m for m in notes), notes
        await pilot.press("2", "1", "2", "y")
    assert (example_ds / "labels" / "dora.yaml").exists()
    assert bob.read_text() == broken


async def test_command_palette_jumps_and_filters(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=Identity("eve"))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.screen.session
        await pilot.press("ctrl+p")
        await pilot.press(*"jump to case gdpr-delete-missing")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert s.case_id == "gdpr-delete-missing"
        await pilot.press("ctrl+p")
        await pilot.press(*"filter tier adversarial")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert s.queue.order and all(s.ds.cases[c].tier.value == "adversarial" for c in s.queue.order)
        assert s.ds.cases[s.case_id].tier.value == "adversarial"


# ---- an annotator's keys and an 80x24 terminal (issue #23)

from screens_text import screen_text  # noqa: E402


async def test_arrows_move_between_criteria_whatever_overflows(example_ds: Path):
    """↑↓ change criterion even when the case text overflows its pane; the text scrolls with
    PageDown/PageUp instead."""
    for size in ((80, 24), (120, 40)):
        app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
        async with app.run_test(size=size) as pilot:
            app.screen.jump_to("adv-long-output")
            await pilot.pause()
            view = app.screen.query_one("CaseView")
            assert view.max_scroll_y > 0, "the text overflows its pane"
            s = app.screen.session
            await pilot.press("down", "down")
            assert s.draft.focus == 2
            await pilot.press("up")
            assert s.draft.focus == 1
            assert view.scroll_y == 0
            await pilot.press("pagedown")
            await pilot.pause()
            assert view.scroll_y > 0
            await pilot.press("up")
            assert s.draft.focus == 0


async def test_80x24_labeling_shows_the_points_the_output_and_the_keys(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.jump_to("adv-markup-injection")
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        text = screen_text(app)
        crit = app.screen.session.rubric.criteria["tone"]
        assert crit.question in " ".join(text.split())  # wrapped, but whole
        for v, p in crit.scale.points.items():
            assert f"{v}  {p.label} — " in text, (v, text)
        assert "OUTPUT" in text and "Action: verify the receipt" in text  # the output, not only its heading
        footer = text.splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer
        await pilot.press("i")  # the whole input, then its first lines again
        await pilot.pause()
        assert "i: first lines" in screen_text(app)


async def test_who_is_labeling_prompt_is_whole_at_80x24(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        flat = " ".join(screen_text(app).split())
        assert "(a short name: it becomes labels/<name>.yaml)" in flat.replace("│ ", "").replace(" │", "")


async def test_palette_filter_is_shown_and_cleared(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=Identity("eve"))
    async with app.run_test(size=(80, 24)) as pilot:
        s = app.screen.session
        everything = len(s.queue.order)
        for command in ("filter tag refund", "clear filters"):
            await pilot.press("ctrl+p")
            await pilot.press(*command)
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause()
            if command.startswith("filter"):
                assert 0 < len(s.queue.order) < everything
                assert "filter: tag refund" in screen_text(app).splitlines()[0]
        assert len(s.queue.order) == everything
        assert "filter:" not in screen_text(app).splitlines()[0]


async def test_judge_suggestion_stays_on_its_criterion_line_at_120x40(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"), suggest="llama-3.1-8b-local")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        names = list(app.screen.session.rubric.criteria)
        for name in names:  # every name whole, each with its scale on its own line
            line = next(ln for ln in text.splitlines() if f" {name} " in ln)
            assert "0 1 2" in line or "y=pass n=fail" in line
        assert "judge suggests" in text


async def test_dashboard_keys_summary_and_names_at_80x24_and_120x40(example_ds: Path):
    for size in ((80, 24), (120, 40)):
        app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
        async with app.run_test(size=size) as pilot:
            await pilot.press("ctrl+d")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            crits = screen.data["criteria"]
            text = screen_text(app)
            assert "60 cases · k=3" in text and f"focus {crits[0]}" in text  # the summary in view
            for c in crits:  # the agreement bars carry every criterion's whole name
                assert f"{c}┤" in text
            await pilot.press("right")
            await pilot.pause()
            assert screen.focus_index == 1 and screen.query_one("TabbedContent").active == "tab-agreement"
            assert f"focus {crits[1]}" in screen_text(app)
            await pilot.press("left", "tab")
            await pilot.pause()
            text = screen_text(app)
            assert screen.query_one("TabbedContent").active == "tab-versions"
            assert "1.25" not in text and "v1" in text and "v2" in text
            await pilot.press("tab")
            await pilot.pause()
            lines = [ln for ln in screen_text(app).splitlines() if "┤ ██ " in ln or "│ ██ " in ln]
            legend = [ln.split("██ ", 1)[1].split("  ")[0].rstrip(" │") for ln in lines]
            runs = list(screen.data["distributions"][crits[0]]["series"])
            assert legend == runs  # two runs of one model stay two different names
            assert all(ln.count("█") == 2 for ln in lines)  # and the legend covers no bar


async def test_dashboard_closed_before_its_numbers_arrive_leaves_the_app_running(example_ds: Path, monkeypatch):
    """Escape while the dashboard's thread still computes: the late numbers land nowhere, no crash."""
    import threading

    import labeler.ui.screens.dashboard as dashboard

    release, real = threading.Event(), dashboard.dashboard_data
    monkeypatch.setattr(dashboard, "dashboard_data", lambda ds, b: (release.wait(10), real(ds, b))[1])
    app = LabelerApp(open_dataset(example_ds), identity=Identity("dora"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+d")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "DashboardScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "LabelScreen"
        release.set()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and type(app.screen).__name__ == "LabelScreen"
    assert app.return_code in (None, 0)
