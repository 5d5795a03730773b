"""Run independent parses on every core (cold starts of big datasets), or in this process when that is safer."""

from __future__ import annotations

import os
import pickle
import threading
from functools import partial
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """How many processes to use: the cores this process may run on, and 1 inside a threaded program
    (the app), where forking is not safe."""
    if threading.active_count() > 1 or os.environ.get("LABELER_WORKERS") == "1":
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parallel_map(fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]:
    """`map(fn, jobs)` in order, across processes when there is more than one core and one job."""
    jobs = list(jobs)
    n = workers()
    if n == 1 or len(jobs) < 2:
        yield from map(fn, jobs)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(min(n, len(jobs))) as pool:
        for ok, value in pool.imap(partial(_call, fn), jobs):
            if not ok:
                raise value
            yield value


def _call(fn: Callable[[T], R], job: T) -> tuple[bool, object]:
    """(True, fn(job)), or (False, the error): an error the parent could not unpickle would stop the
    pool's result thread and leave the parent waiting forever, so such an error travels as its text."""
    try:
        return True, fn(job)
    except Exception as e:
        try:
            pickle.loads(pickle.dumps(e))
        except Exception:
            e = RuntimeError(f"{type(e).__name__}: {e}")
        return False, e
