"""How fast this machine's CPU is right now, to read benchmark figures against.

On a shared VM the CPU time available to a process changes from minute to minute (the same pure-Python loop
took 1.2–2.6 s within one minute on the 2-core CI VM). The benchmarks print this probe before and after their
runs: figures taken while the probe is slow are slow for that reason, not because of the code.
"""

from __future__ import annotations

import time


def cpu_probe_ms(n: int = 2_000_000) -> float:
    """Milliseconds for a fixed pure-Python loop (best of 3)."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(n):
            s += i
        best = min(best, time.perf_counter() - t)
    return best * 1000


def probe_line(when: str) -> str:
    return f"machine probe ({when}): {cpu_probe_ms():.0f} ms for a fixed 2M-step Python loop (lower = faster CPU now)"
