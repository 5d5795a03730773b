"""Names that become file-name parts (annotators, case ids, runs) must never escape their folder."""

from __future__ import annotations

import re

_BAD = re.compile(r"[/\\\x00-\x1f\x7f:*?\"<>|]")
MAX_LEN = 128


def check_safe_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a safe single path part, else raise ValueError saying why."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} is empty")
    if name != name.strip():
        raise ValueError(f"{what} {name!r} has leading or trailing spaces")
    if name.startswith("."):
        raise ValueError(f"{what} {name!r} starts with a dot")
    if ".." in name:
        raise ValueError(f"{what} {name!r} contains '..'")
    m = _BAD.search(name)
    if m:
        raise ValueError(f"{what} {name!r} contains a forbidden character {m.group()!r}")
    if len(name) > MAX_LEN:
        raise ValueError(f"{what} is longer than {MAX_LEN} characters")
    return name


def annotator_slug(raw: str) -> str:
    """A safe file-name part from a git user name or email ("Ada Lovelace" -> "ada-lovelace")."""
    base = raw.split("@")[0] if "@" in raw and " " not in raw.strip() else raw
    slug = re.sub(r"[^a-z0-9_.-]+", "-", base.strip().lower()).strip("-.")
    slug = re.sub(r"\.{2,}", ".", slug)
    if not slug:
        raise ValueError(f"cannot make a safe annotator name from {raw!r}")
    return check_safe_name(slug[:MAX_LEN], "annotator")
