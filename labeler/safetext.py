"""Make untrusted text (model outputs, notes, names) inert before it reaches a terminal.

`markup=False` stops Rich markup but not escape sequences: raw ESC bytes would reach the
terminal and could retitle it or clear the screen (DESIGN.md section 5). Every control
character becomes a visible stand-in, and bidi overrides are shown, not obeyed.
"""

from __future__ import annotations

import re

_CONTROL_PICTURES = {i: chr(0x2400 + i) for i in range(0x20) if i not in (0x09, 0x0A)}
_CONTROL_PICTURES[0x7F] = "\u2421"  # DEL
_VISIBLE_CODEPOINTS = (
    list(range(0x80, 0xA0))  # C1 controls, including the 8-bit CSI 0x9b
    + [0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x2060, 0xFEFF]
    + list(range(0x202A, 0x202F))  # bidi embeddings and overrides
    + list(range(0x2066, 0x206A))  # bidi isolates
)
_TABLE = {**_CONTROL_PICTURES, **{cp: f"\u27e8U+{cp:04X}\u27e9" for cp in _VISIBLE_CODEPOINTS}}
_NEEDS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
DEFAULT_LIMIT = 200_000


def inert(text: str) -> str:
    """`text` with every control, escape and bidi character replaced by a visible stand-in."""
    if not _NEEDS.search(text):
        return text
    return text.translate(_TABLE)


def clip(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """Keep at most `limit` characters, saying how many were cut (huge lines stay responsive)."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit:,} more characters not shown]"


def display(text: str | None, limit: int = DEFAULT_LIMIT) -> str:
    """Clip, then make inert: the one function every screen uses for case text."""
    return inert(clip(text or "", limit))


def one_line(text: str, width: int = 80) -> str:
    """A single inert line, for tables and lists."""
    flat = " ".join((text or "").split())
    if len(flat) > width:
        flat = flat[: width - 1] + "…"
    return inert(flat)


def middle_cut(text: str, width: int) -> str:
    """A single inert line of at most `width` characters, cut in the middle: ids that share a long
    prefix ("accessibility-screenreader-good", "...-missing") keep the part that tells them apart."""
    flat = " ".join((text or "").split())
    if len(flat) > width:
        head = max(1, (width - 1) * 2 // 5)
        flat = flat[:head] + "…" + flat[len(flat) - (width - 1 - head):]
    return inert(flat)
