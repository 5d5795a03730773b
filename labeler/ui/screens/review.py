"""The lead's review: disagreements worst first, every annotator side by side, gold by key."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from labeler.errors import LabelerError
from labeler.flows.review import ReviewSession
from labeler.safetext import middle_cut, one_line
from labeler.ui.screens.case_queue import CLOSING, NAVIGATION, QUEUE_ID_WIDTH, CaseQueueScreen, short_cells_table
from labeler.ui.screens.prompt import TextPrompt
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.queue_list import QueueList
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
        Binding("H", "health", "Health", tooltip="rubric health: agreement per criterion by rubric version; the judge per prompt version"),
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
            t.append(middle_cut(d.case, QUEUE_ID_WIDTH))
            open_ = self.session.open_criteria(d)
            t.append(f"\n {len(open_)} split · {d.labels} labels" if open_ else f"\n {d.labels} labels", style="dim")
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
        lead = self.position() if self.has_class("-narrow") else f"{len(s.queue)} cases to review"
        groups = []
        for c, (alpha, pct) in s.header_numbers().items():
            a = "undef" if alpha.value is None else f"{alpha.value:.2f}"
            p = "-" if pct.value is None else f"{pct.value:.0%}"
            groups.append(Text(f"{c} α {a} {p}", style="bold red" if c == low else ""))
        self.show_numbers(lead + (" (incl. adjudicated)" if s.include_adjudicated else ""), groups)

    def refresh_case(self) -> None:
        s = self.session
        d = s.current
        view = self.query_one(CaseView)
        if d is None:
            view.display = False
            self.query_one("#opinions", Static).update(Text("No disagreements left. Press A to show adjudicated cases, q to quit.", style="bold"))
            return
        view.display = True
        view.show(s.ds.cases[d.case], badge=f"score {d.score:.1f}")
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """A row per criterion: gold, then each annotator's value (short cells that never wrap); the focused
        criterion's flags, notes and meaning below."""
        s = self.session
        d = s.current
        if d is None:
            return
        gold = s.gold_of(d.case)
        annotators = sorted({o.annotator for c in s.criteria for o in s.opinions(d.case, c)})
        width = self.detail_width()
        below = Text()
        table_rows = []
        for i, c in enumerate(s.criteria):
            focused = i == s.focus
            name = Text(("▶ " if focused else "  ") + c, style="bold" if focused else ("" if c in d.criteria else "dim"))
            ops = {o.annotator: o for o in s.opinions(d.case, c)}
            row = []
            for a in annotators:
                o = ops.get(a)
                if o is None or o.value is None:
                    row.append(Text("-", style="dim"))
                    continue
                cell = Text(str(o.value), style="bold yellow" if c in d.criteria else "")
                if o.stale:
                    cell.append(" stale", style="dim")
                if o.flag:
                    cell.append(" ⚑", style="magenta")
                    if focused:
                        below.append(f"⚑ {one_line(a, 20)}: {one_line(o.flag, 200)}\n", style="magenta")
                row.append(cell)
            g = Text(str(gold[c]) if c in gold else "·", style="bold green" if c in gold else "dim")
            conflict = s.conflict(d.case, c)
            if conflict:
                g = Text("≠ leads", style="bold red")
                if focused:
                    below.append("leads disagree: " + ", ".join(f"{one_line(x.lead, 20)} {x.value}" for x in conflict)
                                 + " (set gold to settle it)\n", style="bold red")
            if s.gap(d.case, c) is not None:
                g.append(" gap", style="magenta")
            table_rows.append([name, g, *row])
        t = short_cells_table(["criterion", "gold", *[one_line(a, 12) for a in annotators]], table_rows, width)
        for a in annotators:
            lab = s.ds.labels[a].get(d.case)
            if lab and lab.note:
                below.append(f"{one_line(a, 20)}: ", style="bold")
                below.append(one_line(lab.note, 200) + "\n")
        reason = s.reason(d.case, s.focused)
        if reason:
            below.append(f"reason: {one_line(reason, 200)}\n", style="green")
        below.append(f"{s.focused}: ", style="bold")
        below.append_text(explain_criterion(s.rubric.criteria[s.focused], description_style="dim",
                                            cut=width if self.compact else None))
        below.rstrip()
        from rich.console import Group

        self.query_one("#opinions", Static).update(Group(t, below))

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
        else:  # the entry's count of open criteria changed: draw it again
            self.query_one("#queue", QueueList).changed(self.session.index, len(self.session.queue))
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
        if self.session.current or self.session.last_set:
            self._prompt(f"Reason for the gold value of {self.session.reason_label}", self.session.set_reason)

    def action_gap(self) -> None:
        if self.session.current or self.session.last_set:
            self._prompt(f"Rubric gap in {self.session.reason_label}: what the rubric does not decide", self.session.mark_gap)

    def jump_to(self, case_id: str) -> None:
        self.say(self.session.jump(case_id))
        self.query_one("#queue", QueueList).highlighted = self.session.index
        self.refresh_case()

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
            from labeler.dataset import Dataset

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
