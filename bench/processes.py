"""What a benchmark's child process costs: machine-wide busy CPU, the children's CPU and the peak RSS of a
process tree (bench/speed.py measures each tool in a child of its own)."""

from __future__ import annotations

import resource
import subprocess
import time


def busy_cpu_s() -> float:
    """Machine-wide non-idle CPU seconds so far (all cores)."""
    import psutil

    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)


def children_cpu_s() -> float:
    """CPU seconds of this process's finished (reaped) children and their reaped descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_tree_peak_mb(proc: subprocess.Popen, interval: float = 0.25) -> float:
    """Wait for ``proc``; return the peak summed RSS (MiB) of it and its descendants, polled every interval."""
    import psutil

    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(interval)
    return round(peak / 2**20, 1)
