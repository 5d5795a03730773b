"""The lead's review screen through Pilot: adjudicate, read the file back, the queue moves on."""

from __future__ import annotations

from pathlib import Path

from labeler.vcs.identity import Identity
from labeler.truth.logs import read_log
from labeler.derived.staleness import VersionIndex
from labeler.dataset import open_dataset
from labeler.ui.app import LabelerApp


async def test_adjudicate_through_the_screen(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, mode="review", identity=Identity("lee"))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.screen.session
        before = len(s.queue)
        first = s.current
        split = list(first.criteria)
        for c in split:
            s.focus = s.criteria.index(c)
            key = s.rubric.criteria[c].scale.keys()[s.rubric.criteria[c].scale.values()[0]]
            if c == split[0]:
                await pilot.press("r")
                await pilot.press(*"ticket says so")
                await pilot.press("enter")
                await pilot.press("f")
                await pilot.press(*"unclear anchor")
                await pilot.press("enter")
            await pilot.press(key)
        await pilot.pause()
        assert len(s.queue) == before - 1
        assert s.current is None or s.current.case != first.case
        header = str(app.screen.query_one("#numbers").render())
        assert "α" in header
    recs = [r for _, r in read_log(example_ds / "adjudications" / "lee.yaml").records]
    assert all(r["case"] == first.case and r["by"] == "lee" and r["rubric"] == 2 for r in recs)
    ds = open_dataset(example_ds)
    merged = ds.adjudications
    assert set(merged.gold_values(first.case, VersionIndex(ds).holds)) >= set(split)
    assert merged.reason(first.case, split[0]).text == "ticket says so"
    assert merged.gap(first.case, split[0]).text == "unclear anchor"


# ---- keys, small terminals, progress (issue #23)

from screens_text import screen_text  # noqa: E402


async def test_review_arrows_move_criteria_and_80x24_shows_gold_and_every_annotator(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("lee"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        s = app.screen.session
        view = app.screen.query_one("CaseView")
        text = screen_text(app)
        header = next(ln for ln in text.splitlines() if "criterion" in ln)
        assert header.split() == ["criterion", "gold", "alice", "bob", "chen"]  # names whole, on one line
        for c in s.criteria:  # every criterion in view, whole
            assert c in text
        crit = s.rubric.criteria[s.focused]
        for v, p in crit.scale.points.items():
            assert f"{v}  {p.label} — " in text
        assert "OUTPUT" in text and "█ " in text
        footer = text.splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer
        start = s.focus
        await pilot.press("pagedown")
        await pilot.press("up")
        assert s.focus == (start - 1) % len(s.criteria)
        await pilot.press("down", "down")
        assert s.focus == (start + 1) % len(s.criteria)
        assert view.scroll_y >= 0


async def test_review_counts_what_is_left_jumps_and_reopens_where_the_lead_left_off(example_ds: Path):
    ds = open_dataset(example_ds)
    app = LabelerApp(ds, mode="review", identity=Identity("lee"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        s = app.screen.session
        two = next(i for i, d in enumerate(s.queue) if len(d.criteria) == 2)
        s.select(two)
        app.screen.refresh_all()
        await pilot.pause()
        case = s.current.case
        key = s.rubric.criteria[s.focused].scale.keys()[s.rubric.criteria[s.focused].scale.values()[0]]
        await pilot.press(key)
        await pilot.pause()
        assert s.current.case == case  # one of two set: still open
        assert str(app.screen.query_one("#queue").render_line(two * 2 + 1 - int(app.screen.query_one("#queue").scroll_offset.y))
                   .text).strip().startswith("1 split")
        ids = [ln.split("│")[0].strip() for ln in screen_text(app).splitlines()[2:] if "│" in ln]
        shown = [i for i in ids if i.startswith("accessibil")]
        assert len(shown) == len(set(shown)) >= 2  # two cases with a common prefix stay two different names
        target = s.queue[-1].case
        await pilot.press("ctrl+p")
        await pilot.press(*f"jump to case {target}")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert s.current.case == target
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("lee"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.session.current.case == target
        numbers = str(app.screen.query_one("#numbers").render())
        for c, (alpha, _) in app.screen.session.header_numbers().items():  # every criterion with its number
            assert f"{c} α {alpha.value:.2f}" in numbers


async def test_audit_80x24_shows_judge_gold_annotators_and_the_points(example_ds: Path):
    app = LabelerApp(open_dataset(example_ds), mode="audit", identity=Identity("lee"), audit_runs=("llama-3.1-8b-local", None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n", "1", "enter")  # a mark on a criterion: the judge column keeps its width
        await pilot.pause()
        s = app.screen.session
        text = screen_text(app)
        header = next(ln for ln in text.splitlines() if "criterion" in ln)
        assert header.split() == ["criterion", "audit", "judge", "gold", "alice", "bob", "chen"]
        first = s.rows(s.current)[0]
        row = next(ln for ln in text.splitlines() if "✗ misread" in ln).replace("▶", "").split()
        assert row[:4] == [first.criterion, "✗", "misread", str(first.judge.value)]
        await pilot.press("down")
        await pilot.pause()
        text = screen_text(app)
        crit = s.rubric.criteria[s.focused]
        for v, p in crit.scale.points.items():
            assert f"{v}  {p.label} — " in text
        assert "OUTPUT" in text and "█ " in text
        footer = text.splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer


async def test_a_gap_marked_right_after_the_gold_that_settles_a_case_stays_on_that_case(example_ds: Path):
    """The README: `f` marks a rubric gap for the criterion whose gold you just set. When that gold settled the
    case, the queue has moved on; the mark is still for the settled case (it went to the next case's criterion)."""
    app = LabelerApp(open_dataset(example_ds), mode="review", identity=Identity("lee"))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.screen.session
        first = s.current
        last = None
        for c in s.open_criteria(first):
            s.focus = s.criteria.index(c)
            crit = s.rubric.criteria[c]
            await pilot.press(crit.scale.keys()[crit.scale.values()[0]])
            last = c
        assert s.current.case != first.case  # settled: the queue moved on
        nxt = s.current.case
        await pilot.press("f")
        await pilot.pause()
        assert f"{last} of {first.case}" in str(app.screen.query_one("Label").render())
        await pilot.press(*"anchor missing", "enter")
        await pilot.press("r", *"ticket says so", "enter")
        await pilot.pause()
    merged = open_dataset(example_ds).adjudications
    assert merged.gap(first.case, last).text == "anchor missing"
    assert merged.reason(first.case, last).text == "ticket says so"
    assert all(merged.gap(nxt, c) is None for c in s.criteria)
