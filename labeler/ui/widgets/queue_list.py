"""A queue of cases that renders only the rows on screen: 100,000 entries cost what 40 cost.

Textual's OptionList builds every option up front (seconds at 10,000, DESIGN.md section 1); this
widget asks for an entry's two lines only when they scroll into view (the Line API, as toolong does).
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

ROWS = 2
"""Lines per entry: the case id, then what is notable about it."""


class QueueList(ScrollView, can_focus=False):
    DEFAULT_CSS = """
    QueueList { background: $surface; }
    QueueList > .queue-list--highlight { background: $accent 40%; text-style: bold; }
    """
    COMPONENT_CLASSES = {"queue-list--highlight"}

    highlighted: reactive[int] = reactive(0, always_update=True)
    """The index of the entry in focus."""

    class Selected(Message):
        """An entry was clicked."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = 0
        self._entry: Callable[[int], Text] = lambda i: Text()
        self._cache: dict[int, list[Strip]] = {}

    def show(self, count: int, entry: Callable[[int], Text]) -> None:
        """Show `count` entries; `entry(i)` gives entry i's text (two lines) when it comes into view."""
        self._count = count
        self._entry = entry
        self._cache.clear()
        self.virtual_size = Size(self.size.width, count * ROWS)
        self.refresh()

    def changed(self, index: int, count: int) -> None:
        """Entries from `index` on changed (one was removed, say), and there are now `count`: only
        those on screen are drawn again."""
        self._count = count
        self._cache = {i: s for i, s in self._cache.items() if i < index}
        self.virtual_size = Size(self.size.width, count * ROWS)
        self.refresh()

    def watch_highlighted(self, old: int, new: int) -> None:
        if self._count:
            self.scroll_to_region(Region(0, new * ROWS, 1, ROWS), animate=False)
        self.refresh()

    def _strips(self, index: int) -> list[Strip]:
        if index not in self._cache:
            text = self._entry(index)
            lines = text.split("\n", allow_blank=True)[:ROWS]
            lines += [Text()] * (ROWS - len(lines))
            console = self.app.console
            self._cache[index] = [Strip(list(line.render(console))) for line in lines]
            if len(self._cache) > 512:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[index]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        index, row = divmod(line, ROWS)
        width = self.size.width
        if index >= self._count:
            return Strip.blank(width, self.rich_style)
        strip = self._strips(index)[row]
        base = self.rich_style
        if index == self.highlighted:
            base = base + self.get_component_rich_style("queue-list--highlight")
        strip = strip.apply_style(base) if base else strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def on_click(self, event) -> None:
        index = (self.scroll_offset.y + event.y) // ROWS
        if 0 <= index < self._count:
            self.post_message(self.Selected(index))
