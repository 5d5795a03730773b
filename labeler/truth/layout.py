"""Where each kind of file labeler writes lives: the one list that commit, sync, the status line and
validate all read, so a new kind is committed, counted and checked as soon as it is named here.

Paths are relative to the workspace (the folder holding rubrics/ and datasets/). Anything else under
those folders (notes, `.cache/`, `<log>.torn`, temp files) is not labeler's to commit.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

_NAME = r"[^/.][^/]*"


@dataclass(frozen=True)
class Kind:
    name: str
    """Plural, as said to people: "labels", "drift runs"."""
    pattern: str
    """A regular expression over the workspace-relative path; group `ds` (the dataset) or `rubric`."""
    log: bool = False
    """An append-only log: lines are records, both sides of a merge are kept."""


KINDS: tuple[Kind, ...] = (
    Kind("labels", rf"datasets/(?P<ds>{_NAME})/labels/(?P<who>{_NAME})\.yaml", log=True),
    Kind("adjudications", rf"datasets/(?P<ds>{_NAME})/adjudications/(?P<who>{_NAME})\.yaml", log=True),
    Kind("cases", rf"datasets/(?P<ds>{_NAME})/cases\.yaml"),
    Kind("dataset", rf"datasets/(?P<ds>{_NAME})/dataset\.yaml"),
    Kind("judge runs", rf"datasets/(?P<ds>{_NAME})/judge/(?P<run>{_NAME})/(run|batch)\.yaml"),
    Kind("verdicts", rf"datasets/(?P<ds>{_NAME})/judge/(?P<run>{_NAME})/verdicts\.yaml", log=True),
    Kind("audits", rf"datasets/(?P<ds>{_NAME})/judge/(?P<run>{_NAME})/audits/(?P<who>{_NAME})\.yaml", log=True),
    Kind("candidates", rf"datasets/(?P<ds>{_NAME})/candidates/(?P<what>{_NAME})\.yaml"),
    Kind("drift runs", rf"datasets/(?P<ds>{_NAME})/drift/(?P<what>{_NAME})\.yaml"),
    Kind("rubric versions", rf"rubrics/(?P<rubric>{_NAME})/v(?P<version>\d+)\.yaml"),
    Kind("judge prompts", rf"rubrics/(?P<rubric>{_NAME})/(judge\.md|judge/v(?P<version>\d+)\.md)"),
    Kind("judge examples", rf"rubrics/(?P<rubric>{_NAME})/judge-examples/v(?P<version>\d+)\.yaml"),
    Kind("workspace marker", r"\.labeler"),  # labeler/workspace.py MARKER, at the workspace's top (`labeler init`)
)

_COMPILED = [(k, re.compile(rf"(?:^|/){k.pattern}$")) for k in KINDS]
FOLDERS = ("datasets", "rubrics")
"""The workspace folders that hold every kind but the marker."""
TOP_FILES = (".labeler",)
"""The files of labeler's kinds at the workspace's top."""


def kind_of(rel: str) -> tuple[Kind, dict[str, str]] | None:
    """The kind of a workspace-relative (or repo-relative) path and its named parts, or None when the
    file is not one labeler writes."""
    for kind, rx in _COMPILED:
        m = rx.search(rel)
        if m:
            return kind, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def is_log(rel: str) -> bool:
    """Is `rel` one of labeler's append-only logs (labels, adjudications, verdicts, audits)?"""
    found = kind_of(rel)
    return bool(found and found[0].log)


def owned_files(root: Path) -> list[Path]:
    """Every file of every kind that exists in the workspace at `root`."""
    out = []
    for folder in FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for f in filenames:
                p = Path(dirpath) / f
                if kind_of(p.relative_to(root).as_posix()):
                    out.append(p)
    return sorted(out)


def stray_files(dataset: Path) -> list[Path]:
    """Files in a dataset's own folders (labels/, judge/, ...) that are no kind of labeler's: never read,
    never committed (a `labels/bob.yml` typo, a note). Dot files and `.torn` side files are not stray."""
    root = dataset.parent.parent
    out = []
    for dirpath, dirnames, filenames in os.walk(dataset):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if Path(dirpath) == dataset:
            continue  # the top folder may hold a README or notes
        for f in filenames:
            p = Path(dirpath) / f
            if not f.startswith(".") and not f.endswith(".torn") and not kind_of(p.relative_to(root).as_posix()):
                out.append(p)
    return sorted(out)


TEMP_MAX_AGE_S = 3600
"""A temp file of an atomic save older than this is a leftover of a killed process (a save takes seconds)."""


def sweep_temp_files(folders: list[Path], now: float | None = None) -> list[Path]:
    """Remove the `.<name>.*.tmp` files an atomic save left behind when it was killed (older than an hour,
    so a save under way in another process is never touched). Returns what was removed."""
    now = time.time() if now is None else now
    gone = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d != ".cache"]
            for f in filenames:
                if f.startswith(".") and f.endswith(".tmp"):
                    p = Path(dirpath) / f
                    try:
                        if now - p.stat().st_mtime > TEMP_MAX_AGE_S:
                            p.unlink()
                            gone.append(p)
                    except OSError:
                        continue
    return gone


def ignore_derived(cache: Path) -> None:
    """Make `cache` (a dataset's `.cache/`) invisible to git whatever the repository's own .gitignore says:
    derived files are rebuilt, never committed. Never fails: a read-only checkout still works."""
    ignore = cache / ".gitignore"
    if ignore.exists():
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        ignore.write_text("# derived by labeler; safe to delete\n*\n")
    except OSError:
        pass
