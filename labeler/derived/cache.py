"""A derived, git-ignored cache of parsed files: one pickle per source file, keyed by size + mtime.

YAML in git stays the truth. A changed source file is re-parsed and only its entry rewritten,
so appending one label never rewrites the cache of 10,000 cases. A missing, stale or corrupt
entry is rebuilt, never trusted.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Callable

CACHE_VERSION = 8


MISS = object()


class FileCache:
    def __init__(self, root: Path, folder: Path):
        self.root = root
        """The folder source paths are relative to."""
        self.folder = folder

    def entry_path(self, source: Path) -> Path:
        rel = source.relative_to(self.root).as_posix().replace("/", "__")
        return self.folder / f"{rel}.pickle"

    def get(self, source: Path, parse: Callable[[Path], Any], extra: Any = None) -> Any:
        """`parse(source)`, or its cached result when the file (and `extra`, what else the parse
        depended on, such as the rubric files) is unchanged since it was cached."""
        value = self.peek(source, extra)
        if value is MISS:
            value = parse(source)
            self.put(source, value, extra)
        return value

    def _stamp(self, source: Path, extra: Any) -> tuple:
        st = source.stat()
        return (CACHE_VERSION, st.st_size, st.st_mtime_ns, extra)

    def peek(self, source: Path, extra: Any = None) -> Any:
        """The cached parse of `source`, or MISS."""
        stamp = self._stamp(source, extra)
        try:
            with open(self.entry_path(source), "rb") as f:
                cached_stamp, value = pickle.load(f)
            if cached_stamp == stamp:
                return value
        except Exception:  # missing or unreadable: rebuild
            pass
        return MISS

    def put(self, source: Path, value: Any, extra: Any = None) -> None:
        self._put(self.entry_path(source), self._stamp(source, extra), value)

    def _put(self, entry: Path, stamp: tuple, value: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# derived by labeler; safe to delete\n*\n")
            tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump((stamp, value), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except OSError:
            pass  # the cache is an optimisation; a read-only checkout still works
