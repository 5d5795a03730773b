"""The annotator's screen: one case, the rubric, one key per value. Presents a LabelSession."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Static

from labeler.errors import LabelerError
from labeler.derived.queue import Status
from labeler.flows.labeling import LabelSession, Outcome
from labeler.ui.screens.help import HelpScreen
from labeler.ui.screens.prompt import TextPrompt
from labeler.ui.widgets.case_view import COMPACT_BELOW, SCROLL_KEYS, CaseView, Pane
from labeler.ui.widgets.git_status import GitStatusBar
from labeler.ui.widgets.rubric_panel import RubricPanel
from labeler.ui.widgets.fitting_footer import FittingFooter

VALUE_KEYS = [str(d) for d in range(10)] + ["y", "n"]


def _fmt_seconds(s: float) -> str:
    s = int(s)
    return f"{s // 60}:{s % 60:02d}"


class LabelScreen(Screen):
    """Label cases blind, by keys alone; every completed label is on disk before the next case shows."""

    BINDINGS = [
        Binding("1", "value('1')", "Set value", key_display="0-9/y/n", tooltip="pick a value for the focused criterion; the last one saves and opens the next case"),
        *[Binding(k, f"value('{k}')", "value", show=False) for k in VALUE_KEYS if k != "1"],
        # the footer shows keys in this order and cuts the rest on a narrow terminal: the essential ones first
        Binding("enter", "submit", "Save+next", tooltip="save the label (all criteria set) and open the next case"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="every key"),
        Binding("q", "quit", "Quit", tooltip="quit (everything saved stays saved)"),
        Binding("up,k", "move(-1)", "Criterion", key_display="↑↓", tooltip="focus the previous / next criterion"),
        Binding("down,j", "move(1)", "Criterion", show=False),
        Binding("a", "accept", "Accept judge", tooltip="take the judge's suggested value for the focused criterion (--suggest)"),
        Binding("x", "clear", "Clear", show=False, tooltip="clear the focused criterion's value"),
        Binding("s", "skip", "Skip", tooltip="skip this case for now (it comes back at the end)"),
        Binding("p", "previous", "Prev", tooltip="go back to the previous case"),
        Binding("u", "undo", "Undo", tooltip="withdraw the last label you saved and reopen its case"),
        Binding("c", "note", "Note", tooltip="write a free-text note on this case"),
        Binding("f", "flag", "Flag unclear", tooltip="flag the focused criterion: the rubric is unclear here (give a reason)"),
        Binding("g", "jump", "Go to", tooltip="jump to a case by id"),
        Binding("slash", "search", "Search", key_display="/", tooltip="search case ids and text"),
        Binding("m", "markdown", "Markdown", show=False, tooltip="toggle Markdown rendering of the text (literal by default)"),
        Binding("w", "differences", "What differs", tooltip="pairwise: mark the words only one of the two outputs has"),
        *SCROLL_KEYS,
    ]

    def __init__(self, session: LabelSession, pending: tuple[str, list[str]] | None = None) -> None:
        """`pending`: (case id, keys) pressed on the first frame of a warm start, to apply here in order."""
        super().__init__()
        self.session = session
        self.pending = pending
        self._record_timer = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="progress")
        with Horizontal(id="label-main"):
            yield CaseView(id="case")
            with Pane(id="rubric-scroll"):
                yield RubricPanel(id="rubric")
        yield Static(id="message")
        yield GitStatusBar(self.session.ds, id="git")
        yield FittingFooter()

    def on_mount(self) -> None:
        ds = self.session.ds
        self.title = f"labeler · {ds.name}"
        self.sub_title = f"{self.session.annotator} · rubric {self.session.rubric.name} v{self.session.rubric.version}"
        self.refresh_case()
        self.set_interval(1.0, self.refresh_progress)
        self.leave_first_frame()
        if self.pending is not None:
            self.call_later(self._replay)

    # ---- the first frame of the next start (labeler/ui/first_frame.py)

    async def _replay(self) -> None:
        """The keys pressed while the dataset loaded, in order, as if pressed now; only on the case they were
        pressed on (the same one, when the record was fresh): else they are reported, never applied elsewhere."""
        case_id, keys = self.pending
        self.pending = None
        if not keys:
            return
        if self.session.case_id != case_id:
            self.notify(f"{len(keys)} key(s) pressed while loading were not applied: the case changed",
                        severity="warning", markup=False)
            return
        actions = {k.strip(): b.action for b in self.BINDINGS for k in b.key.split(",")}
        for key in list(keys):
            keys.remove(key)
            if key in actions:  # a key with no binding here does nothing here either
                await self.run_action(actions[key])

    def leave_first_frame(self) -> None:
        """Leave what the next start paints before loading: the case a resume opens, with the rubric; or nothing
        when the next case depends on more than the record's stamps (a labeled or skipped case, a pairwise one)."""
        from labeler.ui import first_frame

        s = self.session
        d = s.draft
        path, who = s.ds.path, s.annotator
        if (d is None or s.rubric.pairwise or s.status_of(d.case_id) is Status.done or s.is_skipped(d.case_id)
                or d.values or d.stale):
            first_frame.forget(path, who)
            return
        c = s.ds.cases[d.case_id]
        case = {"id": c.id, "tier": c.tier.value, "difficulty": c.difficulty, "tags": list(c.tags),
                "input": c.input, "output": c.output, "reference": c.reference, "context": c.context, "notes": c.notes}
        criteria = [{"name": name, "question": crit.question or "", "keys": "/".join(crit.scale.keys().values())}
                    for name, crit in s.rubric.criteria.items()]
        first_frame.write(path, who, s.ds.config.rubric, case, criteria, self.title, self.sub_title)

    def _record_soon(self) -> None:
        """After the case changes: leave the record once keys pause (off the key path)."""
        if self._record_timer is not None:
            self._record_timer.stop()
        self._record_timer = self.set_timer(1.0, self.leave_first_frame)

    # ---- presenting

    def refresh_case(self) -> None:
        s = self.session
        d = s.draft
        if d is None:
            self.query_one(CaseView).display = False
            self.query_one(RubricPanel).update(Text("Nothing left to label in this queue. Press q to quit, g to open a case by id.", style="bold"))
            self.refresh_progress()
            return
        self.query_one(CaseView).display = True
        status = s.status_of(d.case_id)
        badge = {Status.todo: "", Status.stale: "STALE: the rubric changed since you labeled this", Status.done: "labeled by you"}[status]
        case = s.ds.cases[d.case_id]
        if s.rubric.pairwise and not case.pairwise:
            badge = "ONE OUTPUT under a pairwise rubric (labeler validate reports it): skip it"
        self.query_one(CaseView).show(case, badge, shown=d.shown)
        self.refresh_rubric()
        self.refresh_progress()
        if self.is_mounted:
            self._record_soon()

    def refresh_rubric(self) -> None:
        s = self.session
        d = s.draft
        if d is None:
            return
        flags = {f.criterion for f in d.flags if f.criterion}
        self.query_one(RubricPanel).show(s.rubric, s.as_shown(d.values), d.focus, s.as_shown(d.stale), flags,
                                         suggestions=s.as_shown(s.suggestion()), note=d.note)

    def refresh_progress(self) -> None:
        s = self.session
        p = s.queue.progress()
        k = s.ds.config.overlap
        t = Text()
        narrow = self.size.width < 100  # the same facts in fewer words: the timer is never cut
        t.append(f" {s.annotator} ", style="reverse bold")
        if s.draft is not None:
            t.append(f" {_fmt_seconds(s.seconds_on_case())} ", style="bold")
        t.append(f" {p.mine_done} done · {len(s.queue.order)} queued" if narrow
                 else f"  mine {p.mine_done} labeled · {len(s.queue.order)} in queue")
        if p.stale:
            t.append(f" · {p.stale} stale", style="yellow")
        t.append(f" · k={k} {p.overlap_cases}/{p.total}" if narrow
                 else f"  ·  overlap k={k}: {p.overlap_cases}/{p.total} ({p.overlap_cases / max(1, p.total):.0%})")
        if s.filter_text():
            t.append(f" · filter: {s.filter_text()}", style="bold magenta")
        rate = s.labels_per_hour()
        if rate is not None:
            t.append(f" · {rate:.0f}/h")
        self.query_one("#progress", Static).update(t)

    def show_outcome(self, out: Outcome) -> None:
        msg = self.query_one("#message", Static)
        if out.advanced or out.saved:
            self.refresh_case()
        else:
            self.refresh_rubric()
        text = Text()
        if out.saved:
            text.append("✓ saved  ", style="green bold")
            self.query_one(GitStatusBar).refresh_status()
        if out.message:
            text.append(out.message)
        msg.update(text)

    # ---- actions (the session does the work)

    def on_resize(self, event) -> None:
        self.set_class(event.size.width >= 140, "-wide")
        self.set_class(event.size.width < 100, "-narrow")
        compact = event.size.height < COMPACT_BELOW
        self.set_class(compact, "-compact")
        self.query_one(RubricPanel).compact = compact
        self.query_one(CaseView).set_compact(compact)
        self.refresh_rubric()
        self.call_after_refresh(self.refresh_rubric)  # again once laid out: the panel fits its names to its new width

    def action_value(self, key: str) -> None:
        self._guard(lambda: self.session.press(key))

    def action_accept(self) -> None:
        self._guard(self.session.accept)

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "accept":
            return bool(self.session.suggest_run)  # the key exists only when suggestions are on
        if action == "differences":
            return self.session.rubric.pairwise
        return True

    def action_differences(self) -> None:
        on_ = self.query_one(CaseView).toggle_differences()
        self.query_one("#message", Static).update(Text("words only one output has are marked" if on_ else "differences not marked"))

    def action_move(self, delta: int) -> None:
        self.session.move(delta)
        self.refresh_rubric()

    def action_page(self, delta: int) -> None:
        self.query_one(CaseView).page(delta)

    def action_whole_input(self) -> None:
        self.query_one(CaseView).toggle_input()

    def action_submit(self) -> None:
        self.show_outcome(self.session.submit())

    def action_clear(self) -> None:
        self.session.clear()
        self.refresh_rubric()

    def action_skip(self) -> None:
        self.show_outcome(self.session.skip())

    def action_previous(self) -> None:
        self.show_outcome(self.session.previous())

    def action_undo(self) -> None:
        self._guard(self.session.undo)

    def action_note(self) -> None:
        d = self.session.draft
        if d is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                self._guard(lambda: self.session.set_note(text))

        self.app.push_screen(TextPrompt(f"Note on {d.case_id}", d.note), done)

    def action_flag(self) -> None:
        if self.session.draft is None:
            return
        c = self.session.focused

        def done(text: str | None) -> None:
            if text is not None:
                self._guard(lambda: self.session.flag_unclear(text))

        self.app.push_screen(TextPrompt(f"Rubric unclear for {c}: why?", placeholder="what could not be decided"), done)

    def action_jump(self) -> None:
        self.app.push_screen(TextPrompt("Go to case id"), lambda cid: cid and self.jump_to(cid))

    def jump_to(self, case_id: str) -> None:
        self._guard(lambda: self.session.jump(case_id))

    def action_search(self) -> None:
        self.app.push_screen(TextPrompt("Search case ids and text (enter again: next match)", self.session.last_query),
                             lambda q: q and self._guard(lambda: self.session.search(q)))

    def action_markdown(self) -> None:
        on_ = self.query_one(CaseView).toggle_markdown()
        self.query_one("#message", Static).update(Text("Markdown rendering on" if on_ else "literal text"))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS], self.session.rubric, "Labeling keys", blind=True))

    def action_quit(self) -> None:
        self.session._leave()
        self.leave_first_frame()
        self.app.exit()

    def _guard(self, fn) -> None:
        """Run a session step; a failure (a file that cannot be written) is shown, never a crash."""
        try:
            out = fn()
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        if out is not None:
            self.show_outcome(out)
