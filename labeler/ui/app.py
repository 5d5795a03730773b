"""The Textual app: picks the screen (label or review), asks who you are when git does not say."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual import work
from textual.app import App
from textual.binding import Binding

from labeler.vcs.identity import Identity
from labeler.names import check_safe_name
from labeler.ui.commands import LabelerCommands

if TYPE_CHECKING:  # the dataset's modules are heavy: a warm start paints before they are imported
    from labeler.dataset import Dataset


class LabelerApp(App):
    CSS_PATH = ["frame.tcss", "app.tcss"]
    TITLE = "labeler"
    COMMANDS = App.COMMANDS | {LabelerCommands}
    BINDINGS = [Binding("ctrl+d", "dashboard", "Dashboard", tooltip="the lead's dashboard: agreement with intervals, by version, score distributions, labels per day"),
                Binding("ctrl+g", "commit", "Commit", tooltip="commit labeler's files of this dataset (git), with a message that says what changed")]

    def __init__(self, ds: Dataset | None, mode: str = "label", identity: Identity | None = None,
                 tiers: set[str] | None = None, tags: set[str] | None = None, clock=None,
                 review_filters: dict | None = None, audit_runs: tuple[str, str | None] | None = None,
                 suggest: str | None = None, first: dict | None = None,
                 loader: Callable[[], Dataset] | None = None, ds_path: Path | None = None) -> None:
        """`first` (a fresh first-frame record) with `loader`: paint the record now, open the dataset in a
        worker, then hand the keys pressed meanwhile to the label screen (labeler/ui/first_frame.py)."""
        super().__init__()
        self._later_css = []
        if first is not None:  # the first frame needs frame.tcss only; the rest is read when the dataset is in
            self.css_path, self._later_css = self.css_path[:1], self.css_path[1:]
        self.first = first
        self.loader = loader
        self.ds_path = ds_path or (ds.path if ds is not None else None)
        self.audit_runs = audit_runs
        self.suggest = suggest
        self.review_filters = review_filters or {}
        self.clock = clock
        """A monotonic clock for the session (tests freeze it so snapshots are stable)."""
        self.ds = ds
        self.mode = mode
        self.identity = identity
        self.tiers = tiers
        self.tags = tags
        self.session_mark = None

    def on_unmount(self) -> None:
        if self.session_mark is not None:
            self.session_mark.release()

    def _fatal_error(self) -> None:
        """An unexpected error: one line for the person (what, and where the details are), never a traceback.

        Everything already saved is on disk (each label is fsynced when given); the details go to a
        file under the dataset's git-ignored .cache/ for a bug report."""
        import traceback

        from rich.text import Text

        from labeler.errors import LabelerError

        error = self._exception
        error = getattr(error, "error", None) or error  # a worker's failure: the error inside it
        if isinstance(error, LabelerError):
            line = f"labeler: {error}"
        else:
            where = "(could not write the details)"
            try:
                folder = Path(self.ds.path if self.ds is not None else self.ds_path) / ".cache"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"crash-{os.getpid()}.txt"
                path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
                where = str(path)
            except OSError:
                pass
            line = f"labeler stopped on an internal error ({type(error).__name__}: {error}); every label saved so far is on disk; details in {where}"
        from labeler.safetext import inert

        self._exit_renderables.append(Text(inert(line)))
        self._close_messages_no_wait()

    def on_mount(self) -> None:
        if self.first is not None and self.loader is not None and self.identity is not None:
            from labeler.ui.first_frame import FirstFrameScreen

            self.push_screen(FirstFrameScreen(self.first, then=self._load))
        elif self.identity is None:
            from labeler.ui.screens.prompt import TextPrompt

            self.push_screen(TextPrompt("Who is labeling? (a short name: it becomes labels/<name>.yaml)"), self._named)
        else:
            self._start()

    def _named(self, name: str | None) -> None:
        if not name:
            self.exit(return_code=1, message="no annotator name given")
            return
        try:
            self.identity = Identity(check_safe_name(name.strip(), "annotator"))
        except ValueError as e:
            self.notify(str(e), severity="error", markup=False)
            from labeler.ui.screens.prompt import TextPrompt

            self.push_screen(TextPrompt("Who is labeling? (letters, digits, - and _)"), self._named)
            return
        self._start()

    @work(thread=True, exit_on_error=True)
    def _load(self) -> None:
        """The heavy part of a warm start, off the screen's thread: open the dataset, build the session."""
        from labeler.errors import LabelerError

        try:
            ds = self.loader()
            session = self._label_session(ds)
        except LabelerError as e:
            self.call_from_thread(self.exit, return_code=1, message=f"labeler: {e}")
            return
        self.call_from_thread(self._loaded, ds, session)

    def _loaded(self, ds: Dataset, session) -> None:
        from labeler.ui.first_frame import FirstFrameScreen

        self.ds = ds
        self._all_css()
        waiting = self.screen if isinstance(self.screen, FirstFrameScreen) else None
        self._start(session, (self.first["case"]["id"], waiting.keys) if waiting else None)

    def _all_css(self) -> None:
        """The stylesheets a warm start left for after its first frame, read before any other screen opens."""
        if self._later_css:
            for path in self._later_css:
                self.stylesheet.read(path)
            self.css_path, self._later_css = self.css_path + self._later_css, []
            self.refresh_css(animate=False)

    def _label_session(self, ds: Dataset):
        from labeler.flows.labeling import LabelSession

        extra = {"clock": self.clock} if self.clock else {}
        if self.suggest:
            extra["suggest"] = self.suggest
        if self.identity.git_name:
            extra["git_name"] = self.identity.git_name
        return LabelSession(ds, self.identity.name, self.identity.email, self.tiers, self.tags, **extra)

    def _start(self, session=None, pending: tuple[str, list[str]] | None = None) -> None:
        """Open the mode's screen; a warm start passes the session its worker built and the keys pressed."""
        assert self.identity is not None
        problems = self.ds.problems
        for p in problems[:5]:  # a broken file or a torn last line: say so, keep working
            title = "left out (file untouched until fixed)" if p.blocks else "left out"
            self.notify(str(p), title=title, severity="warning", timeout=15, markup=False)
        if len(problems) > 5:
            self.notify(f"... and {len(problems) - 5} more: run `labeler validate`", severity="warning", timeout=15, markup=False)
        if self.mode == "label" and self.session_mark is None:
            from labeler.derived.presence import SessionMark

            self.session_mark = SessionMark(self.ds.path, self.identity.name, self.mode)
            for other in self.session_mark.others:
                self.notify(f"{self.identity.name} already has this dataset open ({other}): two windows may label "
                            "the same cases twice", title="another session", severity="warning", timeout=20, markup=False)
        if self.mode == "audit":
            from labeler.flows.audit import AuditSession
            from labeler.ui.screens.audit import AuditScreen

            run, vs, *rest = self.audit_runs
            self.push_screen(AuditScreen(AuditSession(self.ds, self.identity.name, run, vs, only_worse=bool(rest and rest[0]))))
        elif self.mode == "review":
            from labeler.flows.review import ReviewSession
            from labeler.ui.screens.review import ReviewScreen

            self.push_screen(ReviewScreen(ReviewSession(self.ds, self.identity.name, **self.review_filters)))
        else:
            from labeler.ui.screens.label import LabelScreen

            screen = LabelScreen(session or self._label_session(self.ds), pending)
            if pending is not None:
                self.switch_screen(screen)  # in place of the first frame: its keys go with it
            else:
                self.push_screen(screen)

    def get_key_display(self, binding) -> str:
        """The value keys as this dataset's scales use them: a pairwise rubric picks with 1-4, not 0-9/y/n."""
        if binding.action.startswith(("value(", "gold(")) and binding.key_display and self.ds is not None:
            try:
                if self.ds.rubric().pairwise:
                    return "1-4"
            except Exception:  # a broken rubric is reported elsewhere; the footer keeps its default
                pass
        return super().get_key_display(binding)

    def check_action(self, action: str, parameters) -> bool | None:
        return self.ds is not None or action not in ("dashboard", "commit", "command_palette")

    def action_dashboard(self) -> None:
        from labeler.ui.screens.dashboard import DashboardScreen

        if not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen(self.ds))

    def action_commit(self) -> None:
        self._commit()

    @work(thread=True, exclusive=True, group="git")
    def _commit(self) -> None:
        from labeler.errors import LabelerError
        from labeler.vcs.repo import commit

        try:
            r = commit(self.ds)
        except LabelerError as e:
            self.call_from_thread(self.notify, str(e), severity="warning", markup=False)
            return
        except Exception as e:  # git failed: say so, keep labeling
            self.call_from_thread(self.notify, f"commit failed: {e}", severity="error", timeout=10, markup=False)
            return
        self.call_from_thread(self.notify, f"[{r.sha}] {r.message}" if r.sha else r.message, markup=False)
        for bar in self.screen.query("GitStatusBar"):
            self.call_from_thread(bar.refresh_status)

    def switch_dataset(self, name: str) -> None:
        """Command palette: open another dataset of the same workspace in the same mode."""
        try:
            self.ds = self.ds.ws.dataset(name)
        except Exception as e:  # a broken dataset is reported, the app keeps running
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        self.pop_screen()
        self._start()
