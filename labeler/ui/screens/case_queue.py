"""What the review and audit screens share: a queue of cases on the left, details and the case on the right."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static

from labeler.ui.screens.help import HelpScreen
from labeler.ui.widgets.case_view import COMPACT_BELOW, SCROLL_KEYS, CaseView, Pane
from labeler.ui.widgets.git_status import GitStatusBar
from labeler.ui.widgets.queue_list import QueueList
from labeler.ui.widgets.fitting_footer import FittingFooter

NAVIGATION = [
    Binding("up,k", "move(-1)", "Criterion", key_display="↑↓", tooltip="focus the previous / next criterion"),
    Binding("down,j", "move(1)", "Criterion", show=False),
    Binding("right,l", "case(1)", "Next case", key_display="←→", tooltip="previous / next case in the queue"),
    Binding("left,h", "case(-1)", "Prev case", show=False),
    Binding("w", "differences", "What differs", show=False, tooltip="pairwise: mark the words only one of the two outputs has"),
    *SCROLL_KEYS,
]
QUEUE_ID_WIDTH = 26
"""The queue's width less its border and scroll bar: longer ids are cut in the middle, keeping what differs."""
CLOSING = [
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
]


def short_cells_table(heads: list[str], rows: list[list[Text]], width: int) -> Table:
    """A row per criterion of short cells (gold, the judge, each annotator) that are never cut or wrapped:
    the criterion's name (the first column) takes the width left and is the only one cut, with "…"."""
    widths = [max([len(h)] + [r[i].cell_len for r in rows]) for i, h in enumerate(heads)]
    gap = 1 if sum(widths) + 2 * len(widths) > width else 2
    name_width = max(8, min(widths[0], width - sum(widths[1:]) - gap * (len(widths) - 1)))
    t = Table(box=None, expand=False, pad_edge=False, header_style="bold underline", padding=(0, gap, 0, 0))
    t.add_column(heads[0], no_wrap=True, overflow="ellipsis", width=name_width)
    for h, w in zip(heads[1:], widths[1:]):
        t.add_column(h, no_wrap=True, min_width=w)
    for r in rows:
        t.add_row(*r)
    return t


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
                with Pane(id="opinions-scroll"):
                    yield Static(id="opinions")
                yield CaseView(id="case")
        yield Static(id="message")
        yield GitStatusBar(self.session.ds, id="git")
        yield FittingFooter()

    def on_resize(self, event) -> None:
        """Below 100 columns the queue steps aside (←→ still walk it; the numbers line says where you are);
        below COMPACT_BELOW lines the header goes and the input shows its first lines."""
        narrow, compact = event.size.width < 100, event.size.height < COMPACT_BELOW
        self.set_class(narrow, "-narrow")
        self.set_class(compact, "-compact")
        self.query_one(CaseView).set_compact(compact, input_lines=2)
        self.refresh_numbers()
        self.refresh_detail()
        self.call_after_refresh(self.refresh_detail)  # again once laid out: the details fit the pane's width

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    def detail_width(self) -> int:
        """The width the details pane has for one line (cut points to it on a short terminal)."""
        return max(20, self.query_one("#opinions-scroll").scrollable_content_region.width or 60)

    def show_numbers(self, lead: str, groups: list[Text]) -> None:
        """The numbers line: `lead`, then each criterion's group, wrapped between groups (one criterion's numbers
        never part); a short terminal keeps one line: the focused criterion's numbers."""
        width = max(20, self.size.width - 1)
        if self.compact and groups:
            groups = [groups[self.session.focus % len(groups)]]
        t = Text(f" {lead} │")
        col = len(t.plain)
        for g in groups:
            if col + 1 + len(g.plain) > width:
                t.append("\n ")
                col = 1
            else:
                t.append(" ")
                col += 1
            t.append_text(g)
            col += len(g.plain)
        self.query_one("#numbers", Static).update(t)

    def position(self) -> str:
        """Where in the queue the open case is, for the numbers line when the queue is not shown."""
        n = len(self.session.queue)
        return f"case {self.session.index + 1} of {n}" if n else "queue empty"

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
        if self.compact:
            self.refresh_numbers()

    def action_page(self, delta: int) -> None:
        self.query_one(CaseView).page(delta)

    def action_whole_input(self) -> None:
        self.query_one(CaseView).toggle_input()

    def action_case(self, delta: int) -> None:
        self.session.select(self.session.index + delta)
        self.query_one("#queue", QueueList).highlighted = self.session.index
        self.refresh_numbers()
        self.refresh_case()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS], self.session.rubric, self.HELP_TITLE))

    def action_quit(self) -> None:
        self.app.exit()
