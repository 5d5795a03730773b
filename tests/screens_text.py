"""The screen as plain text, for assertions on what a person sees (not only a stored picture)."""

from __future__ import annotations


def screen_text(app) -> str:
    """Every line of the app's current screen (modal screens over it included), as characters."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip).rstrip() for strip in strips)
