"""`?`: every key of the screen underneath, and the value keys of each criterion."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from labeler.truth.models import Rubric, ScaleKind
from labeler.truth.pairs import POSITION_MEANING


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, bindings: list[Binding], rubric: Rubric | None = None, title: str = "Keys", blind: bool = False) -> None:
        self.blind = blind
        """An annotator's help: pairwise keys are explained by position (output 1 / 2), never as A or B."""
        super().__init__()
        self.key_bindings = bindings
        self.rubric = rubric
        self.title_text = title

    def compose(self) -> ComposeResult:
        t = Table(title=self.title_text, expand=True, show_edge=False)
        t.add_column("key", style="bold", no_wrap=True)
        t.add_column("does")
        seen = set()
        for b in self.key_bindings:
            if not (b.show or b.tooltip) or (b.key_display or b.key) in seen:
                continue
            seen.add(b.key_display or b.key)
            t.add_row(Text(b.key_display or b.key), Text(b.tooltip or b.description))
        t.add_row("ctrl+p", "command palette: jump to a case, filter, switch dataset")
        if "?" not in seen:
            t.add_row("?", "this help")
        parts = [t]
        if self.rubric is not None:
            r = Table(title=f"value keys, rubric {self.rubric.name} v{self.rubric.version}", expand=True, show_edge=False)
            r.add_column("criterion", style="bold")
            r.add_column("keys")
            for cid, crit in self.rubric.criteria.items():
                keys = crit.scale.keys()
                if self.blind and crit.scale.type is ScaleKind.pairwise:
                    r.add_row(Text(cid), Text("  ".join(f"{keys[v]}={POSITION_MEANING[v]}" for v in crit.scale.values())))
                    continue
                r.add_row(Text(cid), Text("  ".join(f"{keys[v]}={v} ({crit.scale.points[v].label})" for v in crit.scale.values())))
            parts.append(r)
        with VerticalScroll(id="help-box"):
            for p in parts:
                yield Static(p)
            yield Static(Text("Escape closes this help.", style="dim"))
