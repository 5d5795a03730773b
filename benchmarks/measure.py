"""What the benchmark processes share."""

from __future__ import annotations

import resource


def peak_mb() -> int:
    """This process's own peak memory. (ru_maxrss is not: Linux carries it over from the parent across exec.)"""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
