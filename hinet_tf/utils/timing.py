"""Wall times of repeated calls: the one timing loop of the benchmark, the backend choice and the XLA choice."""

import time


def wall_times(function, runs, warmup=0, clock=time.perf_counter):
    """Seconds of each of `runs` calls of `function()`, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(runs):
        start = clock()
        function()
        seconds.append(clock() - start)
    return seconds
