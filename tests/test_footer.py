"""The footer shows whole keys only: none cut in half, none under the ctrl+p key, at any width."""

from __future__ import annotations

import pytest

from labeler.dataset import open_dataset
from labeler.ui.app import LabelerApp
from labeler.ui.widgets.fitting_footer import fit
from labeler.vcs.identity import Identity


def test_fit_prefers_roomy_then_compact_then_fewer_keys():
    widths = [10, 10, 10]  # roomy: 12 each = 36, +12 for ctrl+p = 48
    assert fit(widths, 48) == (False, 3, True)
    assert fit(widths, 47) == (True, 3, True)  # compact: 11 + 11 + 11 + 12 = 45
    assert fit(widths, 44) == (True, 3, False)  # all keys, no room for ctrl+p
    assert fit(widths, 32) == (True, 3, False)  # 10 + 1 + 10 + 1 + 10
    assert fit(widths, 31) == (True, 2, False)
    assert fit(widths, 9) == (True, 0, False)


@pytest.mark.parametrize("width", [80, 100, 120, 140, 170])
async def test_every_visible_key_is_whole_and_clear_of_the_palette(example_ds, width):
    from textual.widgets._footer import FooterKey

    app = LabelerApp(open_dataset(example_ds), identity=Identity("zed"))
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = [k for k in app.screen.query(FooterKey) if k.display]
        palette = [k for k in keys if k.has_class("-command-palette")]
        plain = [k for k in keys if not k.has_class("-command-palette")]
        assert plain and plain[0].description == "Set value"  # the essential keys come first
        right_edge = palette[0].region.x if palette else width
        for k in plain:
            assert k.region.width > 0 and k.region.right <= right_edge, (width, k.description, k.region)
        hidden = [k for k in app.screen.query(FooterKey) if not k.display]
        if width >= 170:  # the roomy footer fits every key and ctrl+p
            assert not hidden and palette and not app.screen.query_one("FittingFooter").compact
        if width == 80:
            assert hidden and not palette
