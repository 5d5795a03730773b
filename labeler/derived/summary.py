"""A small result kept under a dataset's `.cache/`, valid while the files it was computed from are unchanged.

`labeler status` reads a whole dataset to print a few counts; asked again with nothing changed, it answers
from here. The key is every file under the folders the result depends on, by (size, mtime_ns, inode), and
the git index (git starting to track `.cache/` makes the cache unreadable, so the answer changes): checking
it is a few dozen stat calls, with no YAML, pydantic or numpy imported. Anything that does not match, or does
not read, is a miss; the caller then computes the result from the files and stores it again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from labeler.truth.layout import ignore_derived

VERSION = 1
"""Bump when what a summary holds changes shape or meaning: an older file is then a miss."""


def stamp(folders: list[Path]) -> list:
    """Every file under `folders` (derived `.cache/` folders aside) as [path, size, mtime_ns, inode], sorted,
    and the git index that covers the first folder. Taken before the files are read, so a change made while
    they are read shows as a mismatch next time."""
    out: list = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != ".cache")
            for f in sorted(filenames):
                out.append(_file_stamp(os.path.join(dirpath, f)))
    index = _git_index(folders[0]) if folders else None
    out.append(_file_stamp(str(index)) if index else None)
    return out


def read(path: Path, key: list, extra: dict) -> Any | None:
    """The value stored at `path` under this key and `extra` (flags, today's date), or None."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("extra") != extra or doc.get("key") != key:
        return None
    return doc.get("value")


def write(path: Path, key: list, extra: dict, value: Any) -> None:
    """Store `value` (plain JSON) under `key` (taken before the files were read) and `extra`."""
    write_atomic(path, json.dumps({"version": VERSION, "extra": extra, "key": key, "value": value}).encode())


def write_atomic(entry: Path, data: bytes) -> None:
    """Write one cache file (temp + rename); never fails the caller: the cache is an optimisation."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        ignore_derived(entry.parent)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only checkout still works


def _file_stamp(path: str) -> list:
    try:
        st = os.stat(path)
    except OSError:
        return [path, None, None, None]
    return [path, st.st_size, st.st_mtime_ns, st.st_ino]


def _git_index(folder: Path) -> Path | None:
    """The index file of the git repository holding `folder` (a worktree's own, through its `.git` file)."""
    for d in (folder, *folder.parents):
        git = d / ".git"
        if git.is_dir():
            return git / "index"
        if git.is_file():
            try:
                first = git.read_text(encoding="utf-8").splitlines()[0]
            except (OSError, IndexError, UnicodeDecodeError):
                return None
            if first.startswith("gitdir:"):
                return (d / first.removeprefix("gitdir:").strip()) / "index"
            return None
    return None
