"""The case being labeled: input, output, reference, context, notes. Untrusted text stays text."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalGroup, VerticalScroll
from textual.widgets import Static

from labeler.truth.models import Case
from labeler.safetext import display, one_line

SECTIONS = ("input", "output", "before", "reference", "context", "notes")
TITLES = {"before": "OUTPUT BEFORE (what the baseline run judged)"}


class Pane(VerticalScroll, can_focus=False):
    """A scrolling pane that never takes focus: the arrow keys stay the screen's (criterion), and the
    text scrolls with PageUp/PageDown/space and the mouse wheel."""


COMPACT_BELOW = 32
"""Terminals shorter than this (80x24: a laptop split, an SSH session) get the compact layout: no header,
the focused criterion's points one line each, the input's first lines, so the output is in view."""

SCROLL_KEYS = [
    Binding("pagedown,space", "page(1)", "Scroll", key_display="PgDn/PgUp", show=False,
            tooltip="scroll the case text down / up (space too; the mouse wheel scrolls any pane)"),
    Binding("pageup", "page(-1)", "Scroll up", show=False),
    Binding("i", "whole_input", "Input", show=False, tooltip="a short terminal shows the input's first lines: i shows all of it, and again its first lines"),
]
"""Scrolling the case text has its own keys: ↑↓ always move between criteria."""


class CaseView(Pane):
    """Shows one case. Text is made inert (no markup, no escapes) and shown literally by default."""

    DEFAULT_CSS = """
    CaseView .section-title { color: $text-muted; text-style: bold; margin-top: 1; }
    CaseView .section-title.output { color: $accent; }
    CaseView .body { padding: 0 1; }
    CaseView .body.output { border-left: thick $accent; }
    CaseView .hidden { display: none; }
    CaseView #pair { height: auto; }
    CaseView .pair-side { width: 1fr; height: auto; }
    CaseView #side-1 { margin-right: 1; }
    CaseView.-stacked #pair { layout: vertical; }
    CaseView.-stacked #side-1 { margin-right: 0; }
    CaseView.-compact .section-title { margin-top: 0; }
    """

    input_lines = 3
    """A short terminal (compact): the input's first lines, so the output (what is judged) is in view too."""

    STACK_BELOW = 81
    """A pairwise case's two outputs sit side by side from this width; below it, one above the other."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.markdown = False
        self.differences = False
        """A pairwise case: mark the words only one of the two outputs has."""
        self.compact = False
        self.whole_input = False
        """Compact: `i` shows the whole input (and again its first lines)."""
        self._case: Case | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="case-meta", classes="meta")
        for s in SECTIONS:
            # hidden until a case has them: most cases never change these classes (no style update per case)
            hidden = "" if s in ("input", "output") else " hidden"
            yield Static(TITLES.get(s, s.upper()), classes=f"section-title {s}{hidden}", id=f"title-{s}")
            yield Static(classes=f"body {s}{hidden}", id=f"body-{s}")
            if s == "output":
                with HorizontalGroup(id="pair", classes="hidden"):
                    for k in (1, 2):
                        with VerticalGroup(classes="pair-side", id=f"side-{k}"):
                            yield Static(classes="section-title output", id=f"title-side-{k}")
                            yield Static(classes="body output", id=f"body-side-{k}")

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < self.STACK_BELOW, "-stacked")
        if self.compact:
            self._fit_input()

    def set_compact(self, compact: bool, input_lines: int = 3) -> None:
        self.compact = compact
        self.input_lines = input_lines
        self.set_class(compact, "-compact")
        if self._case is not None:
            self.call_after_refresh(self._fit_input)

    def toggle_input(self) -> bool:
        """Compact: the whole input, or its first lines. Returns True when the whole input shows."""
        self.whole_input = not self.whole_input
        self._fit_input()
        return self.whole_input

    def _fit_input(self) -> None:
        """The input body, cut to its first lines on a short terminal (the title says how many of how many)."""
        case = self._case
        if case is None:
            return
        title = self.query_one("#title-input", Static)
        body = self.query_one("#body-input", Static)
        full = self._body(case.input, "input") if case.input.strip() else empty_text(case.input, "input")
        width = self.scrollable_content_region.width - 2
        if not self.compact or self.whole_input or not isinstance(full, Text) or width < 10:
            title.update("INPUT · i: first lines" if self.compact and self.whole_input else "INPUT")
            body.update(full)
            return
        lines = full.wrap(self.app.console, width)
        if len(lines) <= self.input_lines:
            title.update("INPUT")
            body.update(full)
            return
        title.update(f"INPUT · {self.input_lines} of {len(lines)} lines · i: all")
        body.update(Text("\n").join(lines[: self.input_lines]))

    def page(self, delta: int) -> None:
        """Scroll the text one page down (1) or up (-1)."""
        (self.scroll_page_down if delta > 0 else self.scroll_page_up)(animate=False)

    def show(self, case: Case, badge: str = "", before: str | None = None, shown: str | None = None) -> None:
        """Show `case`; `before` is another version's output to read beside this one (a regression audit).
        A pairwise case shows both outputs: as "output 1 / output 2" in the order `shown` (labeling: blind),
        or as A and B with where each came from (review, audit)."""
        self._case = case
        self._before = before
        self._shown = shown
        meta = Text()
        meta.append(one_line(case.id, 60), style="bold")
        meta.append(f"  {case.tier.value}", style="italic")
        if case.difficulty:
            meta.append(f"  {case.difficulty}")
        if case.tags:
            meta.append("  tags: " + one_line(", ".join(case.tags), 60), style="dim")
        if badge:
            meta.append(f"  {badge}", style="bold yellow")
        self.query_one("#case-meta", Static).update(meta)
        for s in SECTIONS:
            raw = before if s == "before" else getattr(case, s)
            text = raw or ""
            body = self.query_one(f"#body-{s}", Static)
            title = self.query_one(f"#title-{s}", Static)
            # input and output are always shown (an empty output is what is judged); the others when set
            hidden = raw is None or (raw == "" and s not in ("input", "output")) or (s == "output" and case.pairwise)
            body.set_class(hidden, "hidden")
            title.set_class(hidden, "hidden")
            if not hidden:
                body.update(self._body(text, s) if text.strip() else empty_text(text, s))
        self.query_one("#pair").set_class(not case.pairwise, "hidden")
        if case.pairwise:
            self._show_pair(case)
        self.whole_input = False
        self._fit_input()
        self.scroll_home(animate=False)

    def _sides(self, case: Case) -> list[tuple[str, str]]:
        if self._shown:
            a, b = ("OUTPUT 1", case.output), ("OUTPUT 2", case.output_b or "")
            return [a, b] if self._shown == "AB" else [(a[0], b[1]), (b[0], a[1])]
        names = case.source_names()
        return [(f"OUTPUT A · {one_line(names[0], 40)}", case.output), (f"OUTPUT B · {one_line(names[1], 40)}", case.output_b or "")]

    def _show_pair(self, case: Case) -> None:
        sides = self._sides(case)
        marked = marked_pair(sides[0][1], sides[1][1]) if self.differences else None
        for k, (title, text) in enumerate(sides, 1):
            self.query_one(f"#title-side-{k}", Static).update(Text(title))
            self.query_one(f"#body-side-{k}", Static).update(marked[k - 1] if marked else self._body(text, "output"))

    def toggle_differences(self) -> bool:
        self.differences = not self.differences
        if self._case is not None and self._case.pairwise:
            self._show_pair(self._case)
        return self.differences

    def _body(self, text: str, section: str):
        if not text.strip():
            return empty_text(text, section)
        structured = structured_text(text)
        if structured is not None:
            return structured
        safe = display(text)
        if self.markdown and section in ("output", "reference", "input"):
            from rich.markdown import Markdown as RichMarkdown

            return RichMarkdown(safe)
        return Text(safe)

    def toggle_markdown(self) -> bool:
        self.markdown = not self.markdown
        if self._case is not None:
            for s in ("output", "reference"):
                text = getattr(self._case, s) or ""
                if s == "output" and not text.strip():
                    continue
                if text:
                    self.query_one(f"#body-{s}", Static).update(self._body(text, s))
            if self._case.pairwise:
                self._show_pair(self._case)
            self._fit_input()
        return self.markdown


DIFF_LIMIT = 20_000
"""Outputs longer than this are shown without marks (a word diff of huge texts would stall the screen)."""
DIFF_STYLE = "bold underline yellow"


def marked_pair(first: str, second: str) -> tuple[Text, Text] | None:
    """Both outputs, inert, with the words that only one of them has marked; None when there is nothing
    to mark this way (an empty, structured or very long output)."""
    import difflib
    import re

    if not first.strip() or not second.strip() or structured_text(first) or structured_text(second):
        return None
    a, b = display(first), display(second)
    if len(a) > DIFF_LIMIT or len(b) > DIFF_LIMIT:
        return None
    ta, tb = re.findall(r"\s+|\S+", a), re.findall(r"\s+|\S+", b)
    out_a, out_b = Text(), Text()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ta, b=tb, autojunk=False).get_opcodes():
        for toks, out in ((ta[i1:i2], out_a), (tb[j1:j2], out_b)):
            for tok in toks:
                out.append(tok, style=DIFF_STYLE if op != "equal" and tok.strip() else "")
    return out_a, out_b


def empty_text(text: str, section: str) -> Text:
    """An empty or whitespace-only section, said in words (it would otherwise look like nothing at all)."""
    if text == "":
        return Text(f"(empty {section})", style="italic yellow")
    return Text(f"(only whitespace: {len(text)} character{'s' if len(text) != 1 else ''})", style="italic yellow")


def structured_text(text: str) -> Text | None:
    """A chat (a JSON list of {role, content} messages) as turns, or a JSON list of documents (strings,
    or objects with text/content) as a numbered list; None for anything else (shown as it is)."""
    stripped = text.lstrip()
    if not stripped.startswith("["):
        return None
    import json

    from labeler.truth.limits import check_depth

    try:
        check_depth(text, "the case")  # deeply nested text is shown as text, never parsed
        items = json.loads(text)
    except ValueError:
        return None
    if not isinstance(items, list) or not items:
        return None
    out = Text()
    if all(isinstance(m, dict) and "role" in m and "content" in m for m in items):
        for m in items:
            out.append(f"{one_line(str(m['role']), 20)}: ", style="bold cyan")
            content = m["content"] if isinstance(m["content"], str) else json.dumps(m["content"], ensure_ascii=False)
            out.append(display(content) + "\n")
        return out
    docs = [d if isinstance(d, str) else d.get("text") or d.get("content") if isinstance(d, dict) else None for d in items]
    if all(isinstance(d, str) for d in docs):
        for i, d in enumerate(docs, 1):
            out.append(f"[{i}] ", style="bold")
            out.append(display(d) + "\n")
        return out
    return None
