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
    """Bound what libyaml may recurse into before it parses `text`: flow brackets and block indentation.

    Cheap first (every bracket counted, and the widest indentation); when that is over the bound,
    which text with many `[` in it can be, a line-by-line scan decides, counting brackets only where
    YAML reads them as structure (not inside block scalars or after a plain scalar has begun)."""
    fast = text.count("[") + text.count("{") <= MAX_TEXT_DEPTH or bracket_depth(text, strings=False) <= MAX_TEXT_DEPTH
    if fast and max(map(len, _YAML_INDENT.findall(text)), default=0) <= MAX_TEXT_DEPTH:
        return
    _scan_yaml(text, where, line_offset)


_BLOCK_PREFIX = re.compile(r"(?:(?:---|[-?:])(?:[ \t]+|$))*")
_KEY = re.compile(r"""(?:"[^"\\]*(?:\\.[^"\\]*)*"|'(?:[^']|'')*'|[^\s\[\]{}#&*!|>'"%@`,][^#]*?)[ \t]*:(?:[ \t]+|$)""")
_PROPS = re.compile(r"(?:[&!]\S*[ \t]+)*")
_SCALAR_START = re.compile(r"""[^\[\]{}&!*|>%@`]""")
_BRACKET = re.compile(r"[\[\]{}]")


def _scan_yaml(text: str, where: Path | str, line_offset: int) -> None:
    depth = 0  # open flow brackets, carried from line to line
    block = None  # indentation of the line that opened a block scalar (`|`, `>`) we are inside
    for n, line in enumerate(text.split("\n")):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if block is not None:
            if not body.strip() or indent > block:
                continue  # text of a block scalar: its brackets are text
            block = None
        if depth == 0:
            prefix = _BLOCK_PREFIX.match(body).end()
            if indent + prefix > MAX_TEXT_DEPTH:
                raise TooDeep(where, line_offset + n + 1, f"indented or nested {indent + prefix:,} columns deep; not read")
            rest = body[prefix:]
            key = _KEY.match(rest)
            if key:
                rest = rest[key.end():]
            rest = rest[_PROPS.match(rest).end():]
            if rest[:1] in ("|", ">"):
                block = indent
                continue
            if not rest or rest[0] == "#" or _SCALAR_START.match(rest):
                continue  # a scalar (plain or quoted) or nothing: its brackets are text
            body = rest
        for m in _BRACKET.finditer(body):
            depth = depth + 1 if m.group() in "[{" else max(0, depth - 1)
            if depth > MAX_TEXT_DEPTH:
                raise TooDeep(where, line_offset + n + 1, f"nested deeper than {MAX_TEXT_DEPTH} levels (lists or "
                                                          "mappings inside each other); not read")


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
