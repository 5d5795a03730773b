"""Textual's Footer that never cuts a key in half.

Textual's Footer lays its keys out in one row and lets the row run off the right edge, with the
ctrl+p key docked over whatever is there ("f Flag unclea▏^p palette" at 120 columns). This one picks
the roomy spacing only when every key fits, else the compact one; keys that still do not fit are left
out whole from the right (the screens list their keys most used first, and ? lists them all), and the
ctrl+p key shows only when there is room for it (ctrl+p works either way).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ROOMY_PADDING = 2
"""Extra cells per key in Textual's roomy footer (the key's padding 0 1; no margin between keys)."""
COMPACT_MARGIN = 1
"""Cells after each key in Textual's compact footer (FooterKey's margin-right: 1)."""
PALETTE_WIDTH = 12
"""The docked ctrl+p key: "▏^p palette " and its padding, in either spacing."""


def key_width(key: FooterKey) -> int:
    """Cells a key takes in the compact spacing: "key description"."""
    return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)


def fit(widths: list[int], room: int) -> tuple[bool, int, bool]:
    """(compact?, how many keys from the left to show, show the ctrl+p key?) for compact key widths."""
    roomy = sum(widths) + ROOMY_PADDING * len(widths)
    if roomy + PALETTE_WIDTH <= room:
        return False, len(widths), True
    shown, used = 0, 0
    for w in widths:
        if used + w > room:
            break
        shown, used = shown + 1, used + w + COMPACT_MARGIN
    return True, shown, shown == len(widths) and used + PALETTE_WIDTH <= room


class FittingFooter(Footer):
    """A Footer that shows whole keys only (see the module docstring)."""

    def compose(self):
        yield from super().compose()
        self.call_after_refresh(self.refit)

    def on_resize(self) -> None:
        self.refit()

    def refit(self) -> None:
        keys = [k for k in self.query_children(FooterKey) if not k.has_class("-command-palette")]
        palette = [k for k in self.query_children(FooterKey) if k.has_class("-command-palette")]
        compact, shown, with_palette = fit([key_width(k) for k in keys], self.size.width)
        self.compact = compact
        for i, k in enumerate(keys):
            k.display = i < shown
        for k in palette:
            k.display = with_palette
