"""Tighten one criterion from the review queue: the evidence beside an editor; saving makes the next version."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Static, TextArea

from labeler.errors import LabelerError
from labeler.flows.review import ReviewSession
from labeler.safetext import one_line
from labeler.rubrics.tighten import Bump, collect_evidence, new_version_text, resolves_from, write_version
from labeler.ui.widgets.fitting_footer import FittingFooter


class TightenScreen(Screen[Bump | None]):
    """Edit the focused criterion's description and scale-point anchors; ctrl+s writes v(N+1)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save new version", tooltip="write the next rubric version with a changelog entry"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, session: ReviewSession, criterion: str, author: str) -> None:
        super().__init__()
        self.session = session
        self.criterion = criterion
        self.author = author
        self.evidence = [e for e in collect_evidence(session.ds) if e.criterion in (None, criterion)]
        self.resolves = resolves_from(self.evidence)

    def compose(self) -> ComposeResult:
        crit = self.session.rubric.criteria[self.criterion]
        yield Header()
        with Horizontal(id="tighten-main"):
            with VerticalScroll(id="tighten-evidence"):
                yield Static(self._evidence_text())
            with VerticalScroll(id="tighten-editor"):
                yield Label(f"{self.criterion}: question", markup=False)
                yield Input(crit.question, id="question")
                yield Label("description", markup=False)
                yield TextArea(crit.description, id="description", soft_wrap=True, show_line_numbers=False)
                for v in crit.scale.values():
                    p = crit.scale.points[v]
                    yield Label(f"point {v} ({p.label}): when it applies", markup=False)
                    yield TextArea(p.when, id=f"point-{v}", soft_wrap=True, classes="point")
                yield Label("changelog summary", markup=False)
                yield Input(f"Tighten {self.criterion}", id="summary")
                yield Static(Text(f"resolves: {', '.join(self.resolves) or 'none'}", style="dim"), id="resolves")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.title = f"tighten {self.criterion}"
        self.sub_title = f"rubric {self.session.rubric.name} v{self.session.rubric.version} -> next version · tab: next field"
        self.query_one("#description", TextArea).focus()  # the text that most often needs tightening

    def _evidence_text(self) -> Text:
        s = self.session
        t = Text()
        t.append(f"{len(self.evidence)} mark(s) on {len(self.resolves)} case(s)\n\n", style="bold")
        for cid in self.resolves:
            t.append(one_line(cid, 60) + "\n", style="bold")
            for o in s.opinions(cid, self.criterion):
                t.append(f"  {o.annotator}: {o.value}" + (" (stale)" if o.stale else ""))
                if o.note:
                    t.append(f"  note: {one_line(o.note, 80)}", style="dim")
                t.append("\n")
            for e in self.evidence:
                if e.case == cid:
                    label = "gap" if e.kind == "rubric_gap" else "unclear"
                    t.append(f"  ⚑ {label} ({e.who}): {one_line(e.reason, 120)}\n", style="magenta")
            t.append("\n")
        return t

    def action_save(self) -> None:
        crit = self.session.rubric.criteria[self.criterion]
        points = {str(v): self.query_one(f"#point-{v}", TextArea).text.strip() for v in crit.scale.values()}
        edits = {self.criterion: {
            "question": self.query_one("#question", Input).value.strip(),
            "description": self.query_one("#description", TextArea).text,
            "points": {v: w for v, w in points.items() if w != crit.scale.points[crit.scale.coerce(v)].when},
        }}
        summary = self.query_one("#summary", Input).value.strip() or f"Tighten {self.criterion}"
        ws = self.session.ds.ws
        try:
            version, text = new_version_text(ws, self.session.rubric.name, author=self.author, summary=summary,
                                             resolves=self.resolves, edits=edits)
            bump = write_version(ws, self.session.rubric.name, version, text)
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        self.dismiss(bump)

    def action_cancel(self) -> None:
        self.dismiss(None)
