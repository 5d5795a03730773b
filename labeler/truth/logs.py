"""Append-only record logs: one record per line, valid YAML and fast to read.

Each record is a line `- {json}`: the file is a YAML sequence a person can read and git can
diff (one new label = one added line), and each line after `- ` is JSON, so reading 50,000
records takes milliseconds. Saving is O(1): append one line and fsync.

A crash mid-append leaves at most one torn last line (no trailing newline). It is reported,
ignored on load, and moved aside to `<file>.torn` before the next append, never silently lost.
A last line that parses is a record whatever its newline: the next append only adds the newline.
A file edited by hand into ordinary block YAML still loads (slow path, with path:line errors).
A one-line record is read as JSON only (never as YAML: no aliases), its nesting bounded first.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labeler.errors import FileFormatError
from labeler.truth.limits import TooDeep, check_depth
from labeler.truth.yamlio import fsync_dir, load_rt, read_text

# JSON leaves these raw with ensure_ascii=False, but YAML forbids them unescaped.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def record_line(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
    text = _YAML_UNSAFE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return f"- {text}\n"


@dataclass
class LogRead:
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(line number, record) in file order."""
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    """(line number, what is wrong) for each line that is not a record; those lines are left out."""
    torn_tail: str | None = None
    """An incomplete last line left by a crash, if any."""
    torn_line: int | None = None
    """The line number of the torn tail."""


def read_log(path: Path) -> LogRead:
    """Read every record, checking each line on its own: one bad line never hides the others.

    Lines are `- {json}` records. A line that is not is reported (with its line number) and left
    out; an incomplete last line without a newline is the torn tail of a crash. A file written by
    hand as block YAML (indented lines) is read with the YAML parser instead. Raises
    FileFormatError only when the file cannot be read at all.
    """
    try:
        text = read_text(path)
    except FileFormatError:
        text = _text_with_torn_tail(path)
    out = LogRead()
    lines = text.split("\n")
    ends_clean = text.endswith("\n") or text == ""
    last = len(lines) - 1
    if any(ln[:1] in (" ", "\t") and ln.strip() and not ln.lstrip().startswith("#") for ln in lines):
        return _read_as_yaml(path, text)
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        rec, why = _json_record(path, line, i + 1)
        if rec is not None:
            out.records.append((i + 1, rec))
        elif i == last and not ends_clean and not why.startswith("nested"):  # a line that parses is a record, newline or not
            out.torn_tail, out.torn_line = line, i + 1
        else:
            out.errors.append((i + 1, why))
    return out


def is_record_line(line: str) -> bool:
    """Does this one line hold a whole record (the rule read_log applies)?"""
    return isinstance(_json_record(Path("<line>"), line, 0)[0], dict)


def _text_with_torn_tail(path: Path) -> str:
    """The text of a log whose only bytes that are not UTF-8 are in a torn last line (a crash cut a
    character in two); re-raises read_text's error when the bad bytes are anywhere else."""
    try:
        raw = path.read_bytes()
    except OSError:
        return read_text(path)
    cut = raw.rfind(b"\n") + 1
    try:
        head = raw[:cut].decode("utf-8")
    except UnicodeDecodeError:
        return read_text(path)
    return head + raw[cut:].decode("utf-8", "replace")


def _json_record(path: Path, line: str, number: int) -> tuple[dict | None, str]:
    """(record, "") for a line `- {json}`, else (None, why not)."""
    if not line.startswith("- {"):
        return None, "not a record (each record is one line: - {JSON})"
    try:
        check_depth(line, path, number)
        rec = json.loads(line[2:])
    except TooDeep as e:
        return None, e.message
    except ValueError as e:
        where = f" at column {e.colno + 2}" if hasattr(e, "colno") else ""
        return None, f"not a record: not JSON ({getattr(e, 'msg', e)}{where})"
    return rec, ""


def _read_as_yaml(path: Path, text: str) -> LogRead:
    """The slow path for a log someone edited by hand into block YAML."""
    doc = load_rt(path, text)
    out = LogRead()
    if doc is None:
        return out
    if not isinstance(doc, list):
        raise FileFormatError(path, 1, "expected a list of records (lines starting with '- ')")
    for i, item in enumerate(doc):
        line = doc.lc.item(i)[0] + 1
        if not isinstance(item, dict):
            out.errors.append((line, "each record must be a mapping"))
            continue
        out.records.append((line, _plain(item)))
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, str):
        return str(obj)
    return obj


def _last_line(f) -> tuple[int, bytes]:
    """(offset, bytes) of the text after the last newline of the open file `f`; b"" when it ends with one."""
    end = f.seek(0, os.SEEK_END)
    pos, tail = end, b""
    while pos > 0:
        step = min(pos, 1 << 16)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return pos + cut + 1, tail[cut + 1:]
    return 0, tail


def repair_tail(path: Path) -> str | None:
    """Make `path` end with a newline, so the next append starts a line of its own.

    A last line that parses is a record: it only gets its newline. One that does not is the torn tail
    of a crash: its bytes move to `<path>.torn` (kept, fsynced) and it is cut off. The caller holds the
    dataset's writer lock (truth/lock.py). Returns what was done, or None when the file was already clean.
    Reads only the last line, so every append can afford it."""
    try:
        f = open(path, "rb+")
    except FileNotFoundError:
        return None
    with f:
        cut, tail = _last_line(f)
        if not tail:
            return None
        line = tail.decode("utf-8", "replace")
        if is_record_line(line):
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
            return "newline"
        with open(path.with_name(path.name + ".torn"), "ab") as side:
            side.write(tail + b"\n")
            side.flush()
            os.fsync(side.fileno())
        f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
        return "torn"


class LogWriter:
    """Appends records to one log file; each append is durable when it returns.

    Each append holds the dataset's writer lock (truth/lock.py) around its tail check and write, so two
    windows of one annotator, a sync's rebase and a torn-line repair never interleave."""

    def __init__(self, path: Path, header: str):
        from labeler.truth.lock import dataset_of

        self.path = path
        self.header = header
        self.dataset = dataset_of(path)

    def append(self, record: dict[str, Any]) -> None:
        self.append_many([record])

    def append_many(self, records: list[dict[str, Any]]) -> None:
        from labeler.truth.lock import dataset_lock

        body = "".join(record_line(r) for r in records).encode("utf-8")
        with dataset_lock(self.dataset, f"saving to {self.path.name}"):
            new = not self.path.exists()
            if new:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                data = "".join(f"# {h}\n" for h in self.header.splitlines()).encode() + body
            else:
                repair_tail(self.path)
                data = body
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:
                fsync_dir(self.path.parent)
