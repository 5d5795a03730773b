"""SVG snapshots of the screens (slow: kept few). Update with: pytest tests/test_snapshots.py --snapshot-update"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import copy_example
from screens_text import screen_text
from labeler.vcs.identity import Identity
from labeler.dataset import open_dataset
from labeler.ui.app import LabelerApp



@pytest.fixture(autouse=True)
def _scratch(tmp_path_factory):
    """Each snapshot's copy of the example lives in pytest's temporary folders (cleaned up by pytest)."""
    global _ROOT
    _ROOT = tmp_path_factory.mktemp("labeler-snap")
    yield


_ROOT: Path | None = None


def _app(mode: str = "label", dataset: str = "support-summary", **kw) -> LabelerApp:
    """The shipped example, copied outside any git repo so the screen's git line is the same everywhere."""
    root = _ROOT
    copy_example(root)
    ds = open_dataset(root / "datasets" / dataset)
    return LabelerApp(ds, mode=mode, identity=Identity("snap"), clock=lambda: 1000.0, **kw)


async def _essentials(pilot, columns: tuple[str, ...] = (), pane: str = "#rubric-scroll") -> None:
    """What the picture must show, asserted on the screen's text: the focused criterion's question and
    every point's meaning, part of the output, ? and q in the footer, and the named columns whole."""
    await pilot.pause()
    await pilot.pause()
    screen = pilot.app.screen
    text = screen_text(pilot.app)
    s = screen.session
    crit = s.rubric.criteria[s.focused]
    detail = screen_text(pilot.app, pane).replace("│", " ")  # a pane's border is no text
    assert crit.question in " ".join(detail.split())
    for v, p in crit.scale.points.items():
        key = crit.scale.keys()[v]
        assert (f"{key}  {p.label} — " if key == str(v) else f"{key}  {v}: {p.label} — ") in detail, (v, detail)
    case = screen_text(pilot.app, "#case")
    assert "OUTPUT" in case and "█ " in case.split("OUTPUT", 1)[1]
    assert "? Help" in text.splitlines()[-1] and "q Quit" in text.splitlines()[-1]
    if columns:
        header = next(ln for ln in detail.splitlines() if ln.split()[:1] == ["criterion"])
        assert header.split()[: len(columns)] == list(columns), header


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)])
def test_label_screen(snap_compare, size):
    assert snap_compare(_app(), terminal_size=size, run_before=_essentials)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_pairwise_label_screen(snap_compare, size):
    """Two outputs side by side (stacked at 80 columns), keys by position, no hint of which version is which."""
    assert snap_compare(_app(dataset="support-pairwise"), terminal_size=size)


@pytest.mark.snapshot
def test_label_screen_hostile_case(snap_compare):
    async def open_hostile(pilot):
        pilot.app.screen.jump_to("adv-markup-injection")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(100, 30), run_before=open_hostile)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (140, 40)])
def test_review_screen(snap_compare, size):
    async def check(pilot):
        await _essentials(pilot, ("criterion", "gold", "alice", "bob", "chen"), "#opinions-scroll")

    assert snap_compare(_app("review"), terminal_size=size, run_before=check)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_audit_screen(snap_compare, size):
    async def check(pilot):
        await _essentials(pilot, ("criterion", "audit", "judge", "gold", "alice", "bob", "chen"), "#opinions-scroll")

    assert snap_compare(_app("audit", audit_runs=("llama-3.1-8b-local", None)), terminal_size=size, run_before=check)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_dashboard_screen(snap_compare, size):
    async def open_dashboard(pilot):
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=open_dashboard)
