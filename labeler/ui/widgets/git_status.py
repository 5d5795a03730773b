"""One line of git state (branch, uncommitted labels, ahead/behind), refreshed in a thread worker."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

from labeler.errors import LabelerError
from labeler.vcs.repo import OFF, in_repo, status
from labeler.dataset import Dataset


class GitStatusBar(Static):
    DEFAULT_CSS = """
    GitStatusBar { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, ds: Dataset, interval: float = 10.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ds = ds
        self.interval = interval

    def on_mount(self) -> None:
        if not in_repo(self.ds.path):
            self.update(Text(OFF, style="dim"))
            return
        self._refresh()
        self.set_interval(self.interval, self._refresh)

    def refresh_status(self) -> None:
        if in_repo(self.ds.path):
            self._refresh()

    @work(thread=True, exclusive=True, group="git-status")
    def _refresh(self) -> None:
        try:
            line = status(self.ds).line()
        except LabelerError as e:
            line = str(e)
        except Exception as e:  # git missing or broken: say so, never crash the screen
            line = f"git status unavailable: {e}"
        self.app.call_from_thread(self.update, Text(line))
