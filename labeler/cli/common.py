"""What every command shares: output, one-line errors, opening a dataset with a progress bar, flag types."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
STRICT_HELP = "exit 1 when any record is left out of the numbers (CI)"
GOLD_CHOICES = ["consensus", "majority"]
GOLD_HELP = ("gold where no lead adjudicated: consensus (2+ labels, all equal; default) or majority "
             "(2+ labels, one value on more than half)")


def _whole_words(renderable, width: int = 80):
    """A table fitted to `width` without cutting a name a user must type: long names heading columns become
    [1], [2]... with a legend under the table when they cannot all fit; borders give way to spaces when
    there is no room for them; cells wrap and a word too long for its column folds (never "…")."""
    from rich.table import Table
    from rich.text import Text

    if not isinstance(renderable, Table):
        return renderable
    t = renderable
    if _least_width(t) > width - 8:  # rich shrinks columns to their longest word only with some slack
        legend = []
        for col in t.columns[1:]:
            head = str(col.header)
            first = head.split("\n")[0]
            if len(first) > 12 and len(first.split()) == 1:
                legend.append(f"[{len(legend) + 1}] {first}")
                col.header = head.replace(first, f"[{len(legend)}]", 1)
        if legend:
            t.caption, t.caption_justify = "   ".join(legend), "left"
    if t.box is not None and _least_width(t) > width - 8:  # no room for borders: spaces part the columns
        from rich import box

        t.box, t.show_edge, t.pad_edge, t.collapse_padding = box.SIMPLE_HEAD, False, False, True
    for col in t.columns:  # what does not fit wraps, a long word folds: no name loses a character to "…"
        col.overflow, col.no_wrap = "fold", False
    if t.title and isinstance(t.title, str):  # a caption wraps no more than the table does
        t.min_width = max(t.min_width or 0, min(len(t.title), width))
    return t


def _least_width(table) -> int:
    """The narrowest `table` can be without breaking a word: each column's longest word, plus what parts the
    columns (a border and padding, or spaces)."""
    from rich.text import Text

    total = 1
    for col in table.columns:
        words = [w for c in [col.header, *col._cells] if isinstance(c, (str, Text))
                 for w in (c.plain if isinstance(c, Text) else c).split()]
        total += max([col.min_width or 0, *map(len, words)]) + (3 if table.box and table.box.head_vertical.strip() else 2)
    return total


def _console(stderr: bool = False):
    from rich.console import Console

    import os

    class WholeWords(Console):
        def print(self, *objects, **kwargs) -> None:
            super().print(*(_whole_words(o, self.width) for o in objects), **kwargs)

        def on_broken_pipe(self) -> None:
            """A reader that stopped early (`| head`) is not a failure: Rich would exit 1 here."""
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise BrokenPipeError  # main() turns it into exit 0

    # markup off: case text, ids, notes and rubric text print literally, never as [markup]. Outside a
    # terminal (CI logs, pipes) tables get a wide width instead of wrapping at 80 ("criteri...").
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "0") or 0) or 160
    return WholeWords(stderr=stderr, highlight=False, soft_wrap=False, markup=False, width=width)


def _relative(path: Path) -> Path:
    """`path` relative to where the command runs, when it is below it (messages people can click)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return Path(path)


def _left_out(ds, strict: bool = False, limit: int = 30) -> bool:
    """Say on stderr what the numbers leave out and why (path:line), most useful first.

    Returns True when `strict` is set and something was left out (the command then exits 1)."""
    from labeler.safetext import inert

    problems = ds.problems
    if not problems:
        return False
    for p in problems[:limit]:
        where = f"{_relative(p.path)}:{p.line}" if p.line else str(_relative(p.path))
        sys.stderr.write(f"{inert(where)}: {p.severity}: {inert(p.message)}\n")
    if len(problems) > limit:
        sys.stderr.write(f"... and {len(problems) - limit} more (`labeler validate` lists every one)\n")
    errors = sum(1 for p in problems if p.severity == "error")
    sys.stderr.write(f"left out of these numbers: {errors} error(s), {len(problems) - errors} warning(s)"
                     + ("; --strict: failing" if strict else "; add --strict to fail on this") + "\n")
    return strict


def _err(msg: str) -> None:
    from labeler.safetext import inert

    sys.stderr.write(f"error: {inert(msg)}\n")


def _open(ref: str, progress: bool = True):
    """Open a dataset, with a progress bar when the first open of a big one takes a while."""
    from labeler.dataset import open_dataset

    if not progress or not sys.stderr.isatty():
        return open_dataset(ref)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar: dict[str, Any] = {}

    def tick(done: int, total: int, what: str = "cases") -> None:
        if "p" not in bar:
            p = Progress("reading {task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                         console=_console(True), transient=True)
            p.start()
            bar["p"] = p
        if bar.get("what") != what:  # a new stage: cases, then the label logs that changed
            bar["what"], bar["t"] = what, bar["p"].add_task(what, total=total)
        bar["p"].update(bar["t"], completed=done, total=total)

    try:
        return open_dataset(ref, tick)
    finally:
        if "p" in bar:
            bar["p"].stop()


def _fraction(s: str) -> float:
    try:
        x = float(s.rstrip("%")) / (100 if s.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number (0.8 or 80%)") from None
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1 (or a percentage like 80%)")
    return x


def _coefficient(s: str) -> float:
    try:
        x = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number such as 0.8") from None
    if not -1 <= x <= 1:
        raise argparse.ArgumentTypeError(f"a coefficient lies between -1 and 1, not {s}")
    return x


def _positive(s: str) -> int:
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _amount(unit: str):
    """A flag type for a positive number of `unit` (seconds, minutes)."""

    def parse(s: str) -> float:
        try:
            x = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not a number of {unit}") from None
        if not x > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {s}")
        return x

    return parse


_seconds = _amount("seconds")


def _mix(s: str) -> list[float]:
    try:
        parts = [float(x.strip().rstrip("%")) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a list of percentages such as 60,25,15") from None
    if any(x < 0 for x in parts) or not sum(parts) > 0:
        raise argparse.ArgumentTypeError(f"{s!r}: shares must be 0 or more, and not all 0")
    return parts


def _name(what: str):
    """An argparse type for names that become file names (annotators, leads, runs): never a path."""
    from labeler.names import check_safe_name

    def check(s: str) -> str:
        try:
            return check_safe_name(s, what)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    check.__name__ = what
    return check

