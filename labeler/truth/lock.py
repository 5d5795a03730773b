"""The per-dataset writer lock: one advisory `flock` on `<dataset>/.cache/writer.lock`.

Who takes it, around what (nothing else writes a dataset's files in place):
  - every log append (labels, adjudications, verdicts, audits) and its torn-line repair (truth/logs.py);
  - adding cases to cases.yaml (import, sample --into, pair, drift --into: Dataset.add_cases);
  - `rubric bump` around each dataset it moves to the new version;
  - `commit` and `sync` around staging, committing and the rebase or merge (every dataset of the workspace,
    since git rewrites any of them), but not around the network.

The kernel drops a flock when its process dies, so a kill -9 never leaves a stale lock. The lock is
re-entrant within a thread and excludes other threads of the same process too (the app saves labels
while a worker thread commits). The holder writes its pid and command into the file, so a writer that
waits too long can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from labeler.errors import LabelerError
from labeler.truth.layout import ignore_derived

WAIT_S = 60.0
"""How long a writer waits for the lock before giving up with a message (a slow sync, a big import)."""

_guard = threading.Lock()
_held: dict[str, list] = {}
"""lock file -> [thread lock, depth, fd] for the locks this process holds or waits for."""


def lock_path(dataset: Path) -> Path:
    return Path(dataset) / ".cache" / "writer.lock"


def dataset_of(path: Path) -> Path:
    """The dataset folder holding `path` (the nearest folder with dataset.yaml), else its own folder."""
    path = Path(path).absolute()
    for folder in path.parents:
        if (folder / "dataset.yaml").is_file():
            return folder
        if folder.name == "datasets":
            break
    return path.parent


@contextmanager
def dataset_lock(dataset: Path, what: str = "", wait: float | None = None) -> Iterator[None]:
    """Hold the writer lock of `dataset` (a dataset folder) for the `with` block."""
    path = lock_path(dataset)
    key = str(path.absolute())
    with _guard:
        entry = _held.setdefault(key, [threading.RLock(), 0, None])
    rlock = entry[0]
    deadline = time.monotonic() + (WAIT_S if wait is None else wait)
    if not rlock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise LabelerError(f"{dataset.name}: another part of this program is still writing; try again")
    try:
        if entry[1] == 0:
            entry[2] = _take(path, dataset, what, deadline)
        entry[1] += 1
        try:
            yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                fd, entry[2] = entry[2], None
                os.close(fd)  # closing the last descriptor releases the flock
    finally:
        rlock.release()


def _take(path: Path, dataset: Path, what: str, deadline: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore_derived(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                    raise LabelerError(f"{dataset.name} is busy: {holder} is writing to it (lock {path}); "
                                       "try again when it is done") from None
                time.sleep(0.01)
        note = f"pid {os.getpid()} ({what or ' '.join(os.path.basename(a) for a in sys.argv[:2])})".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def datasets_lock(datasets: Iterable[Path], what: str = "") -> Iterator[None]:
    """Hold the lock of several datasets, always taken in the same (sorted) order so two holders never deadlock."""
    with ExitStack() as stack:
        for d in sorted({Path(d).absolute() for d in datasets}):
            stack.enter_context(dataset_lock(d, what))
        yield
