"""The lead's review: disagreements worst first, every annotator side by side, gold by key."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from labeler.errors import LabelerError
from labeler.flows.review import ReviewSession
from labeler.safetext import one_line
from labeler.ui.screens.case_queue import CLOSING, NAVIGATION, CaseQueueScreen
from labeler.ui.screens.prompt import TextPrompt
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.rubric_panel import explain_criterion

VALUE_KEYS = [str(d) for d in range(10)] + ["y", "n"]


class ReviewScreen(CaseQueueScreen):
    HELP_TITLE = "Review keys"
    BINDINGS = [
        Binding("1", "gold('1')", "Set gold", key_display="0-9/y/n", tooltip="set the gold value of the focused criterion (saved at once)"),
        *[Binding(k, f"gold('{k}')", "gold", show=False) for k in VALUE_KEYS if k != "1"],
        *CLOSING,  # the essential keys first: the footer cuts the rest on a narrow terminal
        *NAVIGATION,
        Binding("r", "reason", "Reason", tooltip="write the reason for the focused criterion's gold value"),
        Binding("f", "gap", "Rubric gap", tooltip="flag the criterion a rubric gap: the rubric does not decide it (collected for the next version; f flags the rubric on every screen)"),
        Binding("t", "tighten", "Tighten", tooltip="edit the focused criterion with the evidence beside it; saving makes the next rubric version"),
        Binding("H", "health", "Health", tooltip="rubric health: agreement per criterion by rubric version"),
        Binding("A", "toggle_adjudicated", "Show done", key_display="A", tooltip="show or hide cases already adjudicated (all)"),
    ]

    def on_mount(self) -> None:
        self.title = f"labeler review · {self.session.ds.name}"
        self.sub_title = f"lead {self.session.lead} · rubric v{self.session.rubric.version}"
        self.refresh_all()

    def queue_entry(self, index: int) -> Text:
        if index >= len(self.session.queue):
            return Text()
        for d in (self.session.queue[index],):
            t = Text()
            t.append(one_line(d.case, 34))
            t.append(f"\n {len(d.criteria)} split · {d.labels} labels", style="dim")
            if d.flags:
                t.append(f" · ⚑{d.flags}", style="magenta")
            if self.session.has_note(d.case):
                t.append(" · ✎", style="green")
            if d.disputed:
                t.append(" · gold disputed", style="red")
            if d.conflicts:
                t.append(" · leads disagree", style="bold red")
            if d.adjudicated:
                t.append(" · done", style="green")
        return t

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
        self.refresh_detail()

    def refresh_detail(self) -> None:
        s = self.session
        d = s.current
        if d is None:
            return
        gold = s.gold_of(d.case)
        t = Table(expand=True, show_edge=False, pad_edge=False)
        t.add_column("criterion", no_wrap=True, max_width=18, overflow="ellipsis")
        t.add_column("gold", min_width=6, max_width=28)  # the lead's own decision: next to the criterion, never off the edge
        annotators = sorted({o.annotator for c in s.criteria for o in s.opinions(d.case, c)})
        for a in annotators:
            t.add_column(a, overflow="fold")
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
            conflict = s.conflict(d.case, c)
            if conflict:
                g = Text("leads disagree: " + ", ".join(f"{one_line(x.lead, 20)} {x.value}" for x in conflict), style="bold red")
            if s.gap(d.case, c) is not None:
                g.append(" gap", style="magenta")
            t.add_row(name, g, *cells)
        notes = [(a, lab.note) for a in annotators if (lab := s.ds.labels[a].get(d.case)) and lab.note]
        crit = s.rubric.criteria[s.focused]
        info = Text()
        for a, note in notes:
            info.append(f"{a}: ", style="bold")
            info.append(one_line(note, 200) + "\n")
        info.append(f"\n{s.focused}: ", style="bold")
        info.append_text(explain_criterion(crit, description_style="dim"))
        reason = s.reason(d.case, s.focused)
        if reason:
            info.append(f"\nreason: {one_line(reason, 200)}\n", style="green")
        if s.conflict(d.case, s.focused):
            info.append("\nleads disagree on this criterion: set gold to settle it\n", style="bold red")
        from rich.console import Group

        self.query_one("#opinions", Static).update(Group(t, info))

    def action_gold(self, key: str) -> None:
        before = len(self.session.queue)
        try:
            msg = self.session.set_gold(key)
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        self.say("✓ " + msg)
        if len(self.session.queue) != before or "adjudicated" in msg:
            self.refresh_queue_from(self.session.index)
        else:
            self.refresh_detail()

    def _prompt(self, title: str, fn) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.say("✓ " + fn(text))
            except (LabelerError, OSError) as e:
                self.notify(str(e), severity="error", timeout=10, markup=False)
            self.refresh_detail()

        self.app.push_screen(TextPrompt(title), done)

    def action_reason(self) -> None:
        if self.session.current:
            self._prompt(f"Reason for the gold value of {self.session.reason_target}", self.session.set_reason)

    def action_gap(self) -> None:
        if self.session.current:
            self._prompt(f"Rubric gap in {self.session.reason_target}: what the rubric does not decide", self.session.mark_gap)

    def action_toggle_adjudicated(self) -> None:
        self.session.toggle_adjudicated()
        self.refresh_all()

    def action_tighten(self) -> None:
        from labeler.vcs.identity import git_user_name
        from labeler.ui.screens.tighten import TightenScreen

        s = self.session
        author = git_user_name(s.ds.path) or s.lead

        def done(bump) -> None:
            if bump is None:
                return
            from labeler.truth.store import Dataset

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
