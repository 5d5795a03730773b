"""Rubric health: per criterion, agreement by rubric version, a trend, and whether it is stable; and the
judge's agreement per judge prompt version on held-out cases (did prompt v2 beat v1?)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from labeler.render import health_table, prompt_agreement_table
from labeler.stats.calibrate import by_prompt_version
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
            prompts = by_prompt_version(self.ds)
            if prompts:
                yield Static(prompt_agreement_table(prompts), id="prompt-agreement")
            else:
                yield Static("No judge run names a judge prompt version yet: `labeler judge prompt list` shows the "
                             "versions, and a run made with `labeler judge` records the one it used.",
                             id="prompt-agreement", classes="hint")
            yield Static("Escape closes.", classes="hint")
