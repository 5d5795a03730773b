"""The rubric in force: every criterion with its keys and value, the focused one explained."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from labeler.truth.models import Criterion, Rubric, ScaleKind, Value
from labeler.truth.pairs import POSITION_MEANING
from labeler.safetext import display, one_line


def short(text: str, width: int) -> str:
    """`text` cut to `width` characters with a visible ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


class RubricPanel(Static):
    """Renders criteria (one decision at a time: the focused one is bright, the rest quiet)."""

    DEFAULT_CSS = """
    RubricPanel { padding: 0 1; }
    """

    compact = False
    """A short terminal: no title line, and the focused criterion's points one line each (every point and
    its meaning stays in view; the full wording is in `?` and on a taller terminal)."""

    def show(self, rubric: Rubric, values: dict[str, Value], focus: int, stale: dict[str, Value] | None = None,
             flags: set[str] | None = None, suggestions: dict[str, Value] | None = None, title: str = "",
             note: str = "") -> None:
        stale = stale or {}
        flags = flags or set()
        t = Text()
        if not self.compact:
            t.append(title or f"rubric {rubric.name} v{rubric.version}", style="bold")
            t.append("\n")
        ids = list(rubric.criteria)

        def label(crit, v) -> str:
            k = crit.scale.keys()[v]
            if crit.scale.type is ScaleKind.pairwise:  # positions, never A/B: the annotator is blind to which is which
                return k if v in ("A", "B") else f"{k}={PAIR_SHORT[v]}"
            return f"{v}" if k == str(v) else f"{k}={short(display(str(v), 40), 8)}"

        def scale_width(crit) -> int:
            return sum(1 + len(label(crit, v)) for v in crit.scale.values())

        room = self.content_size.width or 35  # before the first layout: the width app.tcss gives the panel
        # names whole wherever they fit beside their own values; cut (with …) only when they cannot
        width = max(8, min(max(len(c) for c in ids), room - 2 - min(scale_width(c) for c in rubric.criteria.values())))
        for i, (cid, crit) in enumerate(rubric.criteria.items()):
            focused = i == focus
            t.append("▶ " if focused else "  ", style="bold" if focused else "")
            fits = max(4, min(width, room - 2 - scale_width(crit)))
            name = short(cid, fits).ljust(fits)
            t.append(name, style="bold" if focused else "dim" if cid in values else "")
            pair = crit.scale.type is ScaleKind.pairwise
            judge, was = (suggestions or {}).get(cid) if cid not in values else None, stale.get(cid)
            for v in crit.scale.values():  # the judge's suggestion and a stale value are marked on the scale itself
                chosen = values.get(cid) == v
                style = "reverse bold" if chosen else "underline italic cyan" if v == judge else "yellow" if v == was else ("" if focused else "dim")
                t.append(f" {label(crit, v)}", style=style)
            if cid in flags:
                t.append(" ⚑", style="magenta")
            t.append("\n")
            if focused:
                said = []
                if was is not None:
                    said.append((f"stale: was {PAIR_SHORT.get(was, was) if pair else was} (the rubric changed)", "yellow"))
                if judge is not None:
                    said.append((f"judge suggests {PAIR_SHORT.get(judge, judge) if pair else judge} (a takes it)", "italic cyan"))
                if cid in flags:
                    said.append(("⚑ flagged: rubric unclear", "magenta"))
                for text, style in said:
                    t.append(f"    {text}\n", style=style)
        if note:
            t.append("note: ", style="bold green")
            t.append((one_line(note, max(10, room - 6)) if self.compact else display(note, 400)) + "\n", style="green")
        if ids:
            if not self.compact:
                t.append("\n")
            crit = rubric.criteria[ids[focus % len(ids)]]
            t.append_text(explain_criterion(crit, blind=True, cut=room if self.compact else None))
        t.rstrip()
        self.update(t)


PAIR_SHORT = {"A": "1st", "B": "2nd", "tie": "tie", "both_bad": "bad"}
PAIR_EXPLAIN_AB = {"A": "A is better", "B": "B is better"}


def explain_criterion(crit: Criterion, description_style: str = "", blind: bool = False, cut: int | None = None) -> Text:
    """A criterion's question, description and each scale point with its key (inert text).
    A pairwise point is explained by position (output 1 / output 2) where the annotator is `blind` to
    which is A; a lead (review, audit) sees A and B, and the rubric's own words for them.
    With `cut` (a short terminal): the question, then each point on one line of `cut` characters, no
    description, so that every point's meaning is in view without scrolling."""
    t = Text()
    t.append(display(crit.question, 2000) + "\n", style="bold")
    if crit.description and cut is None:
        t.append(display(crit.description.strip(), 4000) + "\n", style=description_style)
    keys = crit.scale.keys()
    pairwise = crit.scale.type is ScaleKind.pairwise
    for v in crit.scale.values():
        p = crit.scale.points[v]
        if pairwise and blind:  # the rubric's words for A and B would say which output is which
            head = POSITION_MEANING[v]
            when = p.when if v in ("tie", "both_bad") else ""
        elif pairwise:
            head, when = PAIR_EXPLAIN_AB.get(v, POSITION_MEANING[v]), p.when
        else:
            head = display(p.label, 200) if keys[v] == str(v) else f"{v}: {display(p.label, 200)}"
            when = p.when
        line = Text("\n" if cut is None else "")
        line.append(f" {keys[v]} ", style="reverse bold")
        line.append(f" {head}", style="bold")
        if when:
            line.append(f" — {display(when, 1000) if cut is None else one_line(when, 1000)}")
        if cut is not None:
            line.truncate(cut, overflow="ellipsis")
            line.append("\n")
        t.append_text(line)
    return t
