"""Rubric health: per criterion, agreement by rubric version, a trend, and whether it is stable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from labeler.render import health_table
from labeler.stats.numbers import rubric_health
from labeler.dataset import Dataset


class HealthScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, ds: Dataset, min_alpha: float = 0.8, min_cases: int = 20) -> None:
        super().__init__()
        self.ds, self.min_alpha, self.min_cases = ds, min_alpha, min_cases

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(health_table(rubric_health(self.ds, self.min_alpha, self.min_cases), self.min_alpha, self.min_cases))
            yield Static("Escape closes.", classes="hint")
