"""SVG snapshots of the screens (slow: kept few). Update with: pytest tests/test_snapshots.py --snapshot-update"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import copy_example
from labeler.vcs.identity import Identity
from labeler.truth.store import open_dataset
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


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)])
def test_label_screen(snap_compare, size):
    assert snap_compare(_app(), terminal_size=size)


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
    assert snap_compare(_app("review"), terminal_size=size)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_audit_screen(snap_compare, size):
    assert snap_compare(_app("audit", audit_runs=("llama-3.1-8b-local", None)), terminal_size=size)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_dashboard_screen(snap_compare, size):
    async def open_dashboard(pilot):
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=open_dashboard)
