"""Bounds on what a file or an answer may make a parser do, checked before (and right after) parsing.

The parsers recurse once per level of nesting: 100,000 `[` (or `- - - ...`) crash libyaml's
composer with a segfault, and JSON nested 1,500 deep raises RecursionError in `json.loads` and
everything that walks the data afterwards. YAML aliases are shared on load and expand later, so
a few lines can stand for gigabytes. A bad line or file is reported as one (path:line), never
parsed: these checks cost a few C-level passes over the text.
"""

from __future__ import annotations

import re
from itertools import accumulate
from operator import sub
from pathlib import Path
from typing import Any

from labeler.errors import FileFormatError

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings accepted in any record, case, answer or hand-edited file
(real data nests under 10 levels)."""

MAX_TEXT_DEPTH = 1000
"""Deepest nesting the YAML text itself may show before it is parsed (libyaml is safe far beyond;
brackets inside YAML text are counted even where they are quoted, so this is kept generous)."""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_YAML_INDENT = re.compile(r"^[ \t?-]+", re.M)


class TooDeep(FileFormatError, ValueError):
    """Nesting or alias expansion beyond the bounds above. A ValueError too, so code that treats an
    unparsable line as a bad line (`except ValueError` around `json.loads`) treats this one so."""


def bracket_depth(text: str, strings: bool = True) -> int:
    """The deepest nesting of `[`/`{` in `text` (a close below zero is ignored, as a stray one).

    With `strings`, JSON strings are skipped (brackets in text do not nest anything)."""
    if text.count("[") + text.count("{") <= 1:
        return text.count("[") + text.count("{")
    if strings and '"' in text:
        text = _JSON_STRING.sub("", text)
    steps = list(map(_STEP.__getitem__, _NOT_BRACKET.sub("", text)))
    if not steps:
        return 0
    level = list(accumulate(steps, initial=0))
    return max(map(sub, level, accumulate(level, min)))


def _where_deep(text: str, limit: int, strings: bool) -> int:
    """The offset in `text` where bracket nesting first goes past `limit` (only on the error path)."""
    pattern = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]' if strings else r"[\[\]{}]", re.S)
    depth = 0
    for m in pattern.finditer(text):
        s = m.group()
        if s in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif s in "]}":
            depth = max(0, depth - 1)
    return 0


def check_depth(text: str, where: Path | str, line: int | None = None, limit: int = MAX_DEPTH,
                strings: bool = True) -> None:
    """Raise TooDeep (`where:line: nested deeper than N levels`) when `text` (JSON, or a YAML flow
    line) nests lists/mappings deeper than `limit`. Cheap: a line with few brackets costs two counts.

    `line` is the line `text` starts on (the error names the line of the culprit), or None for text
    that is not from a file (a judge answer)."""
    if text.count("[") + text.count("{") <= limit:
        return
    if bracket_depth(text, strings) <= limit:
        return
    at = _where_deep(text, limit, strings)
    if line is not None:
        line += text.count("\n", 0, at)
    raise TooDeep(where, line, f"nested deeper than {limit} levels (lists or mappings inside each other); not read")


def check_yaml_text(text: str, where: Path | str, line_offset: int = 0) -> None:
    """Bound what libyaml may recurse into before it parses `text`: flow brackets and block indentation."""
    check_depth(text, where, line=1 + line_offset, limit=MAX_TEXT_DEPTH, strings=False)
    widest = max(map(len, _YAML_INDENT.findall(text)), default=0) if "\n " in text or "- " in text else 0
    if widest > MAX_TEXT_DEPTH:
        m = next(m for m in _YAML_INDENT.finditer(text) if len(m.group()) > MAX_TEXT_DEPTH)
        raise TooDeep(where, 1 + line_offset + text.count("\n", 0, m.start()),
                      f"indented or nested {widest:,} columns deep; not read")


def check_loaded(data: Any, where: Path | str, text_size: int, line: int | None = None,
                 limit: int = MAX_DEPTH) -> None:
    """After a YAML load: no deeper than `limit`, and aliases (`*name`) expand to no more than a few
    times the file itself (an anchored string reused 100,000 times is an alias bomb, not data).

    Walks the data once, iteratively, and stops as soon as a bound is passed."""
    budget = 10 * text_size + (1 << 20)
    seen = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            seen += len(node)
        elif isinstance(node, dict):
            if depth > limit:
                raise TooDeep(where, line, f"nested deeper than {limit} levels (lists or mappings inside each other); not read")
            seen += len(node)
            for k, v in node.items():
                stack.append((k, depth + 1))
                stack.append((v, depth + 1))
        elif isinstance(node, (list, tuple)):
            if depth > limit:
                raise TooDeep(where, line, f"nested deeper than {limit} levels (lists or mappings inside each other); not read")
            seen += len(node)
            stack.extend((v, depth + 1) for v in node)
        else:
            seen += 1
        if seen > budget:
            raise TooDeep(where, line, f"YAML aliases (*name) expand to more than {budget:,} characters, many times "
                                       f"the file's {text_size:,}; not read (write the text out, or use fewer aliases)")
