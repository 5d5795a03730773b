"""Audit the judge: its value and rationale beside gold and every annotator; right or wrong by key."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from labeler.ui.widgets.queue_list import QueueList

from labeler.flows.audit import REASONS
from labeler.errors import LabelerError
from labeler.safetext import middle_cut, one_line
from labeler.ui.screens.case_queue import CLOSING, NAVIGATION, QUEUE_ID_WIDTH, CaseQueueScreen, short_cells_table
from labeler.ui.widgets.case_view import CaseView
from labeler.ui.widgets.rubric_panel import explain_criterion


class WrongDialog(ModalScreen[tuple[str, str] | None]):
    """The judge is wrong: why (one key) and a note, in one small dialog; Enter saves, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, criterion: str) -> None:
        super().__init__()
        self.criterion = criterion
        self.reason: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(f"The judge is wrong on {self.criterion}: why?", markup=False)
            yield Static(self._reasons(), id="reasons")
            yield Input(placeholder="a note (optional): what the judge missed", id="prompt-input")
            yield Label("1-4 picks why (before typing) · Enter saves · Escape cancels", classes="hint")

    def _reasons(self) -> Text:
        t = Text()
        for k, (_, label) in REASONS.items():
            picked = self.reason == k
            t.append(f" {k} ", style="reverse bold" if picked else "bold")
            t.append(f" {label}" + ("  ◀" if picked else "") + "\n", style="bold" if picked else "")
        return t

    def on_input_changed(self, event: Input.Changed) -> None:
        """1-4 typed into the empty note pick why (and leave the note empty); after that they are digits."""
        if event.value in REASONS:
            self.reason = event.value
            event.input.value = ""
            self.query_one("#reasons", Static).update(self._reasons())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.reason is None:
            self.query_one(".hint", Label).update("pick why first: 1-4")
            return
        self.dismiss((self.reason, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AuditScreen(CaseQueueScreen):
    HELP_TITLE = "Audit keys"
    BINDINGS = [
        Binding("y", "right", "Judge right", tooltip="the judge's value for the focused criterion is right (saved at once)"),
        Binding("n", "wrong", "Judge wrong", tooltip="the judge is wrong: pick why (misread, rubric ambiguous, gold wrong), add a note"),
        *CLOSING,  # the essential keys first: the footer cuts the rest on a narrow terminal
        *NAVIGATION,
        Binding("d", "only_disagreements", "Only disagreements", tooltip="show only cases where the judge and gold differ"),
        Binding("e", "example", "Use as example", tooltip="a corrected verdict becomes a few-shot example for the judge's "
                                                          "next prompt (`labeler judge examples`); e again undoes"),
    ]

    def on_mount(self) -> None:
        s = self.session
        self.title = f"labeler audit · {s.ds.name} · {s.run}" + (f" vs {s.vs}" if s.vs else "")
        self.sub_title = f"auditor {s.auditor} · model {s.meta.model} · rubric v{s.rubric.version}"
        self.refresh_all()

    def queue_entry(self, index: int) -> Text:
        if index >= len(self.session.queue):
            return Text()
        cid = self.session.queue[index]
        t = Text(middle_cut(cid, QUEUE_ID_WIDTH))
        if self.session.only_worse:
            t.append("\n worse: " + one_line(", ".join(self.session.worse(cid)), 26), style="red")
            return t
        d = self.session.disagreement(cid)
        inc = self.session.inconsistent(cid)
        if d:
            t.append(f"\n {d} differ from gold", style="yellow")
        else:
            t.append("\n agrees with gold", style="dim")
        if inc:
            t.append(f" · {inc} inconsistent", style="yellow")
        return t

    def refresh_numbers(self) -> None:
        s = self.session
        counts = s.audit_counts()
        examples = s.example_counts()
        groups = []
        for c in s.numbers:
            p = "-" if c.judge_percent.value is None else f"{c.judge_percent.value:.0%}"
            k = "undef" if c.judge_kappa.value is None else f"{c.judge_kappa.value:.2f}"
            r, w = counts[c.criterion]
            g = Text(f"{c.criterion} {p} κ{k} n{c.judge_percent.n} ✓{r}✗{w} ex{examples[c.criterion]}",
                     style="bold red" if c.judge_percent.value is not None and c.judge_percent.value < 0.8 else "")
            if c.position and c.position[0] is not None:
                g.append(f" order {c.position[0]:.0%}", style="bold yellow" if c.position[0] < 0.8 else "")
            groups.append(g)
        self.show_numbers(self.position() if self.has_class("-narrow") else f"{len(s.queue)} cases", groups)

    def refresh_case(self) -> None:
        s = self.session
        cid = s.current
        view = self.query_one(CaseView)
        if cid is None:
            view.display = False
            self.query_one("#opinions", Static).update(Text(
                "Nothing got worse." if s.only_worse else "Nothing to audit: no case has both a verdict and gold.", style="bold"))
            return
        view.display = True
        worse = s.worse(cid) if s.only_worse else []
        view.show(s.case(cid), badge=f"worse on {', '.join(worse)}" if worse else "", before=s.previous_output(cid) if s.only_worse else None)
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """A row per criterion of short cells that never wrap (audit mark, judge, gold, each annotator);
        the focused criterion's rationale, notes, meaning and confusion matrix below."""
        s = self.session
        cid = s.current
        if cid is None:
            return
        rows = s.rows(cid)
        annotators = sorted({a for r in rows for a in r.humans})
        width = self.detail_width()
        below = Text()
        table_rows = []
        for i, r in enumerate(rows):
            focused = i == s.focus
            name = Text(("▶ " if focused else "  ") + r.criterion, style="bold" if focused else "")
            differs = r.judge is not None and r.gold is not None and r.judge.value != r.gold.value
            if r.judge is not None and r.judge.inconsistent:  # a pairwise verdict that changed with the order shown
                judge = Text("inconsistent", style="bold yellow")
                if focused:
                    below.append("inconsistent: " + ", ".join(f"{o}→{v}" for o, v in (r.judge.orders or {}).items()) + "\n", style="bold yellow")
            else:
                judge = Text("-" if r.judge is None else str(r.judge.value), style="bold red" if differs else "bold")
            a = r.audit
            mark = Text("" if a is None else ("✓ right" if a.correct else f"✗ {a.reason.removeprefix('judge_')}"),
                        style="green" if a is not None and a.correct else "red")
            cells = [name, mark, judge]
            if s.vs:
                cells.append(Text("-" if r.other is None else str(r.other.value)))
            cells.append(Text("·" if r.gold is None else f"{r.gold.value} ({r.gold.source[:3]})"))
            cells += [Text(str(r.humans[a][0]) if a in r.humans else "-", style="" if a in r.humans else "dim") for a in annotators]
            table_rows.append(cells)
            if focused:
                if r.judge is not None and r.judge.rationale:
                    below.append(f"judge {one_line(s.run, 30)}: ", style="bold")
                    below.append(one_line(r.judge.rationale, width - len(s.run) - 8 if self.compact else 600) + "\n", style="dim")
                if s.vs and r.other is not None and r.other.rationale:
                    below.append(f"vs {one_line(s.vs, 30)}: ", style="bold")
                    below.append(one_line(r.other.rationale, width if self.compact else 400) + "\n", style="dim")
                for who, (_, note) in r.humans.items():
                    if note:
                        below.append(f"{one_line(who, 20)}: ", style="bold")
                        below.append(one_line(note, width - len(who) - 2 if self.compact else 200) + "\n", style="dim")
        heads = ["criterion", "audit", "judge", *(["vs"] if s.vs else []), "gold", *[one_line(a, 12) for a in annotators]]
        t = short_cells_table(heads, table_rows, width)
        crit = s.rubric.criteria[s.focused]
        below.append(f"{s.focused}: ", style="bold")
        below.append_text(explain_criterion(crit, "dim", cut=width if self.compact else None))
        below.rstrip()
        extra = [below]
        calib = next((c for c in s.numbers if c.criterion == s.focused), None)
        if calib is not None and calib.judge_percent.n and not self.compact:
            m = Table(title=f"{s.focused}: rows judge, columns gold", title_justify="left", show_edge=False)
            m.add_column("")
            for v in calib.values:
                m.add_column(str(v), justify="right")
            for v, row in zip(calib.values, calib.confusion):
                m.add_row(str(v), *[str(x) for x in row])
            extra += [Text(""), m]
        self.query_one("#opinions", Static).update(Group(t, *extra))

    def _mark(self, correct: bool, reason: str = "", note: str = "") -> None:
        before = self.session.current
        try:
            msg = self.session.mark(correct, reason, note)
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        self.say("✓ " + msg)
        self.refresh_numbers()
        if self.session.current != before:
            self.query_one("#queue", QueueList).highlighted = self.session.index
            self.refresh_case()
        else:
            self.refresh_detail()

    def action_right(self) -> None:
        self._mark(True)

    def action_wrong(self) -> None:
        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._mark(False, answer[0], answer[1])

        self.app.push_screen(WrongDialog(self.session.focused), done)

    def action_example(self) -> None:
        try:
            msg = self.session.mark_example()
        except (LabelerError, OSError) as e:
            self.notify(str(e), severity="error", timeout=10, markup=False)
            return
        self.say(msg)
        self.refresh_numbers()

    def action_only_disagreements(self) -> None:
        self.session.only_disagreements = not self.session.only_disagreements
        self.session.reload()
        self.refresh_all()
