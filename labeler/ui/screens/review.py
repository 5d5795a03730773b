"""The lead's review: disagreements worst first, every annotator side by side, gold by key."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from labeler.errors import LabelerError
from labeler.review import ReviewSession
from labeler.safetext import one_line
from labeler.ui.screens.help import HelpScreen
from labeler.ui.screens.prompt import TextPrompt
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.git_status import GitStatusBar
from labeler.ui.widgets.rubric_panel import explain_criterion

VALUE_KEYS = [str(d) for d in range(10)] + ["y", "n"]


class ReviewScreen(Screen):
    BINDINGS = [
        Binding("1", "gold('1')", "Set gold", key_display="0-9/y/n", tooltip="set the gold value of the focused criterion (saved at once)"),
        *[Binding(k, f"gold('{k}')", "gold", show=False) for k in VALUE_KEYS if k != "1"],
        Binding("up,k", "move(-1)", "Criterion", key_display="↑↓", tooltip="focus the previous / next criterion"),
        Binding("down,j", "move(1)", "Criterion", show=False),
        Binding("right,l", "case(1)", "Next case", key_display="←→", tooltip="previous / next case in the queue"),
        Binding("left,h", "case(-1)", "Prev case", show=False),
        Binding("r", "reason", "Reason", tooltip="write the reason for the focused criterion's gold value"),
        Binding("g", "gap", "Rubric gap", tooltip="mark the focused criterion a rubric gap (collected for the next version)"),
        Binding("t", "tighten", "Tighten", tooltip="edit the focused criterion with the evidence beside it; saving makes the next rubric version"),
        Binding("H", "health", "Health", tooltip="rubric health: agreement per criterion by rubric version"),
        Binding("a", "toggle_adjudicated", "Show done", tooltip="show or hide cases already adjudicated"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, session: ReviewSession) -> None:
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

    def on_mount(self) -> None:
        self.title = f"labeler review · {self.session.ds.name}"
        self.sub_title = f"lead {self.session.lead} · rubric v{self.session.rubric.version}"
        self.refresh_all()

    def refresh_all(self) -> None:
        s = self.session
        ol = self.query_one("#queue", OptionList)
        ol.clear_options()
        for d in s.queue:
            t = Text()
            t.append(one_line(d.case, 34))
            t.append(f"\n {len(d.criteria)} split · {d.labels} labels", style="dim")
            if d.flags:
                t.append(f" · ⚑{d.flags}", style="magenta")
            if d.adjudicated:
                t.append(" · done", style="green")
            ol.add_option(Option(t))
        if s.queue:
            ol.highlighted = s.index
        self.refresh_numbers()
        self.refresh_case()

    def refresh_numbers(self) -> None:
        s = self.session
        low = s.lowest_alpha()
        t = Text(f" {len(s.queue)} cases to review" + (" (incl. adjudicated)" if s.include_adjudicated else "") + "  │ ")
        for c, (alpha, pct) in s.header_numbers().items():
            a = "undef" if alpha.value is None else f"{alpha.value:.2f}"
            p = "-" if pct.value is None else f"{pct.value:.0%}"
            t.append(f"{c} α {a} {p}", style="bold red" if c == low else "")
            t.append("  ")
        self.query_one("#numbers", Static).update(t)

    def refresh_case(self) -> None:
        s = self.session
        d = s.current
        view = self.query_one(CaseView)
        if d is None:
            view.display = False
            self.query_one("#opinions", Static).update(Text("No disagreements left. Press a to show adjudicated cases, q to quit.", style="bold"))
            return
        view.display = True
        view.show(s.ds.cases[d.case], badge=f"score {d.score:.1f}")
        self.refresh_opinions()

    def refresh_opinions(self) -> None:
        s = self.session
        d = s.current
        if d is None:
            return
        adj = s.adjudication_of(d.case)
        gold = adj.gold if adj else {}
        t = Table(expand=True, show_edge=False, pad_edge=False)
        t.add_column("criterion", no_wrap=True)
        annotators = sorted({o.annotator for c in s.criteria for o in s.opinions(d.case, c)})
        for a in annotators:
            t.add_column(a, overflow="fold")
        t.add_column("gold")
        for i, c in enumerate(s.criteria):
            focused = i == s.focus
            name = Text(("▶ " if focused else "  ") + c, style="bold" if focused else ("" if c in d.criteria else "dim"))
            ops = {o.annotator: o for o in s.opinions(d.case, c)}
            cells = []
            for a in annotators:
                o = ops.get(a)
                if o is None or o.value is None:
                    cells.append(Text("-", style="dim"))
                    continue
                cell = Text(str(o.value), style="bold yellow" if c in d.criteria else "")
                if o.stale:
                    cell.append(" (stale)", style="dim")
                if o.flag:
                    cell.append(f"\n⚑ {one_line(o.flag, 60)}", style="magenta")
                cells.append(cell)
            g = Text(str(gold[c]) if c in gold else "·", style="bold green" if c in gold else "dim")
            if adj and c in adj.gaps:
                g.append(" gap", style="magenta")
            t.add_row(name, *cells, g)
        notes = [(a, lab.note) for a in annotators if (lab := s.ds.labels[a].get(d.case)) and lab.note]
        crit = s.rubric.criteria[s.focused]
        info = Text()
        for a, note in notes:
            info.append(f"{a}: ", style="bold")
            info.append(one_line(note, 200) + "\n")
        info.append(f"\n{s.focused}: ", style="bold")
        info.append_text(explain_criterion(crit, description_style="dim"))
        if adj and s.focused in adj.reasons:
            info.append(f"\nreason: {one_line(adj.reasons[s.focused], 200)}\n", style="green")
        from rich.console import Group

        self.query_one("#opinions", Static).update(Group(t, info))

    def say(self, msg: str) -> None:
        self.query_one("#message", Static).update(Text(msg))

    # ---- actions

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.session.index:
            self.session.select(event.option_index)
            self.refresh_case()

    def action_gold(self, key: str) -> None:
        before = len(self.session.queue)
        try:
            msg = self.session.set_gold(key)
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10)
            return
        self.say("✓ " + msg)
        if len(self.session.queue) != before or "adjudicated" in msg:
            self.refresh_all()
        else:
            self.refresh_opinions()

    def action_move(self, delta: int) -> None:
        self.session.move(delta)
        self.refresh_opinions()

    def action_case(self, delta: int) -> None:
        self.session.select(self.session.index + delta)
        if self.session.queue:
            self.query_one("#queue", OptionList).highlighted = self.session.index
        self.refresh_case()

    def _prompt(self, title: str, fn) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.say("✓ " + fn(text))
            except (LabelerError, OSError) as e:
                self.notify(str(e), severity="error", timeout=10)
            self.refresh_opinions()

        self.app.push_screen(TextPrompt(title), done)

    def action_reason(self) -> None:
        if self.session.current:
            self._prompt(f"Reason for the gold value of {self.session.focused}", self.session.set_reason)

    def action_gap(self) -> None:
        if self.session.current:
            self._prompt(f"Rubric gap in {self.session.focused}: what the rubric does not decide", self.session.mark_gap)

    def action_toggle_adjudicated(self) -> None:
        self.session.toggle_adjudicated()
        self.refresh_all()

    def action_tighten(self) -> None:
        from labeler.identity import git_user_name
        from labeler.ui.screens.tighten import TightenScreen

        s = self.session
        author = git_user_name(s.ds.path) or s.lead

        def done(bump) -> None:
            if bump is None:
                return
            from labeler.store import Dataset

            ds = Dataset.open(s.ds.ws, s.ds.path)
            self.app.ds = ds
            self.session = ReviewSession(ds, s.lead, s.criterion, s.tier, s.annotator, s.include_adjudicated)
            self.sub_title = f"lead {s.lead} · rubric v{self.session.rubric.version}"
            self.say(f"✓ wrote {bump.path.name}; moved: {', '.join(bump.moved) or 'no dataset'}")
            self.refresh_all()

        self.app.push_screen(TightenScreen(s, s.focused, author), done)

    def action_health(self) -> None:
        from labeler.ui.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.session.ds))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS], self.session.rubric, "Review keys"))

    def action_quit(self) -> None:
        self.app.exit()
