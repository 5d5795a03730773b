"""Errors that name what is wrong and where, in one line."""

from __future__ import annotations

from pathlib import Path


class LabelerError(Exception):
    """An error for the user: its message is one line that says what and where."""


class UsageError(LabelerError):
    """A bad flag or argument (exit 2, like argparse's own errors)."""


class FileFormatError(LabelerError):
    """A file that does not parse or validate: reported as `path:line: what is wrong`."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __reduce__(self):
        """Rebuilt from its three parts: a worker process's error reaches the parent intact
        (the default would call `cls(message)`, fail, and leave the pool waiting forever)."""
        return (self.__class__, (self.path, self.line, self.message))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


_MEMBERS = {"bool": "true/false", "int": "a whole number", "float": "a number", "str": "a text"}
"""What each member of a union of plain types (pydantic's tag in an error's location) accepts, in words."""


def pydantic_message(exc: Exception) -> tuple[tuple, str]:
    """(location, message) of the first error in a pydantic ValidationError."""
    errors = exc.errors()  # type: ignore[attr-defined]
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    tails = [tuple(e.get("loc", ()))[-1:] for e in errors]
    if len(errors) > 1 and all(tuple(e.get("loc", ()))[:-1] == loc[:-1] and t and t[0] in _MEMBERS for e, t in zip(errors, tails)):
        # one value failed every member of a union (a record value: true/false, a number or a text): say it once
        words = [_MEMBERS[t[0]] for t in tails]
        text = repr(first.get("input"))
        got = text[:60] + "..." if len(text) > 60 else text
        return loc[:-1], f"{'.'.join(str(p) for p in loc[:-1])}: a value is {', '.join(words[:-1])} or {words[-1]} (got {got})"
    msg = first.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    where = ".".join(str(p) for p in loc)
    got = first.get("input")
    if isinstance(got, (str, int, float, bool)) and first.get("type") != "missing":
        text = repr(got)
        msg += f" (got {text[:60] + '...' if len(text) > 60 else text})"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return loc, (f"{where}: {msg}" if where else msg) + more
