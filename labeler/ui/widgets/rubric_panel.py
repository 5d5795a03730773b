"""The rubric in force: every criterion with its keys and value, the focused one explained."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from labeler.truth.models import Criterion, Rubric, ScaleKind, Value
from labeler.truth.pairs import POSITION_MEANING
from labeler.safetext import display


def short(text: str, width: int) -> str:
    """`text` cut to `width` characters with a visible ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


class RubricPanel(Static):
    """Renders criteria (one decision at a time: the focused one is bright, the rest quiet)."""

    DEFAULT_CSS = """
    RubricPanel { padding: 0 1; }
    """

    def show(self, rubric: Rubric, values: dict[str, Value], focus: int, stale: dict[str, Value] | None = None,
             flags: set[str] | None = None, suggestions: dict[str, Value] | None = None, title: str = "",
             note: str = "") -> None:
        stale = stale or {}
        flags = flags or set()
        t = Text()
        t.append(title or f"rubric {rubric.name} v{rubric.version}", style="bold")
        t.append("\n")
        ids = list(rubric.criteria)

        def label(crit, v) -> str:
            k = crit.scale.keys()[v]
            if crit.scale.type is ScaleKind.pairwise:  # positions, never A/B: the annotator is blind to which is which
                return k if v in ("A", "B") else f"{k}={PAIR_SHORT[v]}"
            return f"{v}" if k == str(v) else f"{k}={short(display(str(v), 40), 8)}"

        widest = max(sum(1 + len(label(c, v)) for v in c.scale.values()) for c in rubric.criteria.values())
        room = self.content_size.width or 35  # before the first layout: the width app.tcss gives the panel
        width = max(8, min(max(len(c) for c in ids), 28, room - 2 - widest))
        for i, (cid, crit) in enumerate(rubric.criteria.items()):
            focused = i == focus
            t.append("▶ " if focused else "  ", style="bold" if focused else "")
            name = cid if len(cid) <= width else cid[: width - 1] + "…"
            t.append(name.ljust(width), style="bold" if focused else "dim" if cid in values else "")
            for v in crit.scale.values():
                chosen = values.get(cid) == v
                t.append(f" {label(crit, v)}", style="reverse bold" if chosen else ("" if focused else "dim"))
            pair = crit.scale.type is ScaleKind.pairwise
            if cid in stale:
                t.append(f"  stale: was {PAIR_SHORT.get(stale[cid], stale[cid]) if pair else stale[cid]}", style="yellow")
            if suggestions and cid in suggestions and cid not in values:
                t.append(f"  judge: {PAIR_SHORT.get(suggestions[cid], suggestions[cid]) if pair else suggestions[cid]}", style="italic cyan")
            if cid in flags:
                t.append("  ⚑ unclear", style="magenta")
            t.append("\n")
        if note:
            t.append("note: ", style="bold green")
            t.append(display(note, 400) + "\n", style="green")
        if ids:
            t.append("\n")
            t.append_text(explain_criterion(rubric.criteria[ids[focus % len(ids)]], blind=True))
        self.update(t)


PAIR_SHORT = {"A": "1st", "B": "2nd", "tie": "tie", "both_bad": "bad"}
PAIR_EXPLAIN_AB = {"A": "A is better", "B": "B is better"}


def explain_criterion(crit: Criterion, description_style: str = "", blind: bool = False) -> Text:
    """A criterion's question, description and each scale point with its key (inert text).
    A pairwise point is explained by position (output 1 / output 2) where the annotator is `blind` to
    which is A; a lead (review, audit) sees A and B, and the rubric's own words for them."""
    t = Text()
    t.append(display(crit.question, 2000) + "\n", style="bold")
    if crit.description:
        t.append(display(crit.description.strip(), 4000) + "\n", style=description_style)
    keys = crit.scale.keys()
    pairwise = crit.scale.type is ScaleKind.pairwise
    for v in crit.scale.values():
        p = crit.scale.points[v]
        t.append(f"\n {keys[v]} ", style="reverse bold")
        if pairwise and blind:  # the rubric's words for A and B would say which output is which
            t.append(f" {POSITION_MEANING[v]}", style="bold")
            if v in ("tie", "both_bad") and p.when:
                t.append(f" — {display(p.when, 1000)}")
            continue
        if pairwise:
            t.append(f" {PAIR_EXPLAIN_AB.get(v, POSITION_MEANING[v])}", style="bold")
            if p.when:
                t.append(f" — {display(p.when, 1000)}")
            continue
        t.append(f" {v}: {display(p.label, 200)}", style="bold")
        if p.when:
            t.append(f" — {display(p.when, 1000)}")
    return t
