"""Write docs/cli.md: every command's --help, straight from the parser, so the reference cannot drift.

Run `python scripts/gen_cli_docs.py` after changing a flag or a help text; tests/test_docs.py fails while
docs/cli.md differs from what this prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "cli.md"
WIDTH = "100"
"""Help is wrapped at a fixed width (argparse reads $COLUMNS), so the file is the same on every machine."""


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every subcommand under it, depth first, in the order they were added."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases would repeat a parser
                found += _commands(sub)
    return found


def render() -> str:
    """docs/cli.md as text."""
    sys.path.insert(0, str(ROOT))
    from labeler.cli.main import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parsers = _commands(build_parser())
        helps = [(p.prog, p.format_help().rstrip()) for p in parsers]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    out = ["# Command reference", "",
           "Every command's `--help`, generated from the parser by `python scripts/gen_cli_docs.py`: do not edit",
           "by hand (`tests/test_docs.py` fails when this file is stale). The guides that explain the commands",
           "are listed in [the README](../README.md#where-next).", ""]
    out += [f"- [`{prog}`](#{prog.replace(' ', '-')})" for prog, _ in helps[1:]]
    for prog, text in helps:
        out += ["", f"## {prog}", "", "```text", text, "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
