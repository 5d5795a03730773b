"""Rubric health: per criterion, agreement by rubric version, a trend, and whether it is stable; and the
judge's agreement per judge prompt version on held-out cases (did prompt v2 beat v1?). Computed in a
thread, as the dashboard is: scoring every versioned judge run takes a second at 100,000 cases, and the
screen (Escape included) must answer meanwhile."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from labeler.render import health_table, prompt_agreement_table
from labeler.stats.calibrate import by_prompt_version
from labeler.stats.numbers import rubric_health
from labeler.dataset import Dataset

NO_PROMPT_VERSIONS = ("No judge run names a judge prompt version yet: `labeler judge prompt list` shows the "
                      "versions, and a run made with `labeler judge` records the one it used.")


class HealthScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, ds: Dataset, min_alpha: float = 0.8, min_cases: int = 20) -> None:
        super().__init__()
        self.ds, self.min_alpha, self.min_cases = ds, min_alpha, min_cases

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("computing agreement by rubric version ...", style="dim"), id="rubric-health")
            yield Static(Text("computing the judge's agreement by prompt version ...", style="dim"), id="prompt-agreement")
            yield Static("Escape closes.", classes="hint")

    def on_mount(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, group="health")
    def _compute(self) -> None:
        health = health_table(rubric_health(self.ds, self.min_alpha, self.min_cases), self.min_alpha, self.min_cases)
        self._post(lambda: self.query_one("#rubric-health", Static).update(health))
        prompts = by_prompt_version(self.ds)
        self._post(lambda: self._show_prompts(prompt_agreement_table(prompts) if prompts else None))

    def _post(self, show) -> None:
        """Show a result on the screen unless it was closed meanwhile (its workers are then cancelled)."""
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(lambda: show() if self.is_attached else None)

    def _show_prompts(self, table) -> None:
        shown = self.query_one("#prompt-agreement", Static)
        shown.update(table if table is not None else NO_PROMPT_VERSIONS)
        shown.set_class(table is None, "hint")
