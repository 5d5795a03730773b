"""What the review and audit screens share: a queue of cases on the left, details and the case on the right."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from labeler.ui.screens.help import HelpScreen
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.git_status import GitStatusBar

NAVIGATION = [
    Binding("up,k", "move(-1)", "Criterion", key_display="↑↓", tooltip="focus the previous / next criterion"),
    Binding("down,j", "move(1)", "Criterion", show=False),
    Binding("right,l", "case(1)", "Next case", key_display="←→", tooltip="previous / next case in the queue"),
    Binding("left,h", "case(-1)", "Prev case", show=False),
]
CLOSING = [
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
]


class CaseQueueScreen(Screen):
    """Subclasses give queue_items(), refresh_numbers(), refresh_detail() and show the case in refresh_case()."""

    HELP_TITLE = "Keys"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="numbers")
        with Horizontal(id="review-main"):
            yield OptionList(id="queue")
            with Vertical(id="review-right"):
                with VerticalScroll(id="opinions-scroll"):
                    yield Static(id="opinions")
                yield CaseView(id="case")
        yield Static(id="message")
        yield GitStatusBar(self.session.ds, id="git")
        yield Footer()

    def queue_items(self) -> list[Text]:
        raise NotImplementedError

    def refresh_numbers(self) -> None:
        raise NotImplementedError

    def refresh_detail(self) -> None:
        raise NotImplementedError

    def refresh_case(self) -> None:
        raise NotImplementedError

    def refresh_all(self) -> None:
        ol = self.query_one("#queue", OptionList)
        ol.clear_options()
        for item in self.queue_items():
            ol.add_option(Option(item))
        if self.session.queue:
            ol.highlighted = self.session.index
        self.refresh_numbers()
        self.refresh_case()

    def say(self, msg: str) -> None:
        self.query_one("#message", Static).update(Text(msg))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.session.index:
            self.session.select(event.option_index)
            self.refresh_case()

    def action_move(self, delta: int) -> None:
        self.session.move(delta)
        self.refresh_detail()

    def action_case(self, delta: int) -> None:
        self.session.select(self.session.index + delta)
        if self.session.queue:
            self.query_one("#queue", OptionList).highlighted = self.session.index
        self.refresh_case()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS], self.session.rubric, self.HELP_TITLE))

    def action_quit(self) -> None:
        self.app.exit()
