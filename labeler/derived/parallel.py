"""Run independent parses on every core (cold starts of big datasets), or in this process when that is safer."""

from __future__ import annotations

import os
import threading
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
        yield from pool.imap(fn, jobs)
