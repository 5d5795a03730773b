"""The lead's review screen through Pilot: adjudicate, read the file back, the queue moves on."""

from __future__ import annotations

from pathlib import Path

from labeler.vcs.identity import Identity
from labeler.truth.logs import read_log
from labeler.derived.staleness import VersionIndex
from labeler.truth.store import open_dataset
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
