"""What the review and audit screens share: a queue of cases on the left, details and the case on the right."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from labeler.ui.screens.help import HelpScreen
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.git_status import GitStatusBar
from labeler.ui.widgets.queue_list import QueueList

NAVIGATION = [
    Binding("up,k", "move(-1)", "Criterion", key_display="↑↓", tooltip="focus the previous / next criterion"),
    Binding("down,j", "move(1)", "Criterion", show=False),
    Binding("right,l", "case(1)", "Next case", key_display="←→", tooltip="previous / next case in the queue"),
    Binding("left,h", "case(-1)", "Prev case", show=False),
    Binding("w", "differences", "What differs", show=False, tooltip="pairwise: mark the words only one of the two outputs has"),
]
CLOSING = [
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
]


class CaseQueueScreen(Screen):
    """Subclasses give queue_entry(i), refresh_numbers(), refresh_detail() and show the case in refresh_case()."""

    HELP_TITLE = "Keys"

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="numbers")
        with Horizontal(id="review-main"):
            yield QueueList(id="queue")
            with Vertical(id="review-right"):
                with VerticalScroll(id="opinions-scroll"):
                    yield Static(id="opinions")
                yield CaseView(id="case")
        yield Static(id="message")
        yield GitStatusBar(self.session.ds, id="git")
        yield Footer()

    def queue_entry(self, index: int) -> Text:
        """Two lines about queue entry `index` (asked for only when it scrolls into view)."""
        raise NotImplementedError

    def refresh_numbers(self) -> None:
        raise NotImplementedError

    def refresh_detail(self) -> None:
        raise NotImplementedError

    def refresh_case(self) -> None:
        raise NotImplementedError

    def refresh_all(self) -> None:
        ql = self.query_one("#queue", QueueList)
        ql.show(len(self.session.queue), self.queue_entry)
        ql.highlighted = self.session.index
        self.refresh_numbers()
        self.refresh_case()

    def refresh_queue_from(self, index: int) -> None:
        """Entries from `index` on changed (one was settled or removed): only what is on screen is drawn again."""
        ql = self.query_one("#queue", QueueList)
        ql.changed(index, len(self.session.queue))
        ql.highlighted = self.session.index
        self.refresh_numbers()
        self.refresh_case()

    def action_differences(self) -> None:
        on_ = self.query_one(CaseView).toggle_differences()
        self.say("words only one output has are marked" if on_ else "differences not marked")

    def say(self, msg: str) -> None:
        self.query_one("#message", Static).update(Text(msg))

    def on_queue_list_selected(self, event: QueueList.Selected) -> None:
        if event.index != self.session.index:
            self.session.select(event.index)
            self.query_one("#queue", QueueList).highlighted = self.session.index
            self.refresh_case()

    def action_move(self, delta: int) -> None:
        self.session.move(delta)
        self.refresh_detail()

    def action_case(self, delta: int) -> None:
        self.session.select(self.session.index + delta)
        self.query_one("#queue", QueueList).highlighted = self.session.index
        self.refresh_case()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS], self.session.rubric, self.HELP_TITLE))

    def action_quit(self) -> None:
        self.app.exit()
