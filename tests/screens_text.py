"""The screen as plain text, for assertions on what a person sees (not only a stored picture)."""

from __future__ import annotations


def screen_text(app, selector: str | None = None) -> str:
    """Every line of the app's current screen (modal screens over it included), as characters; with
    `selector`, only the lines and columns of that widget's region (a pane beside another)."""
    strips = app.screen._compositor.render_strips()
    lines = ["".join(seg.text for seg in strip) for strip in strips]
    if selector is not None:
        r = app.screen.query_one(selector).region
        lines = [ln[r.x: r.x + r.width] for ln in lines[r.y: r.y + r.height]]
    return "\n".join(ln.rstrip() for ln in lines)
