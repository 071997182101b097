"""Shared helpers for the benchmarks: timing, medians, optional PyTorch, tables."""
from __future__ import annotations

import os
import platform
import statistics
import time


def median_seconds(run, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``run()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def settle(seconds: float = 0.25) -> None:
    """Let the previous contender's idle threads stop spinning before the next one is timed.

    After its last call OpenBLAS keeps its threads busy-waiting for up to about 0.1 s, and
    PyTorch's OpenMP threads spin too; on 2 cores that halves the next contender's speed
    (an MLP step measured 2.5x slower when the two libraries alternated every 20 steps).
    """
    time.sleep(seconds)


def in_blocks(steps, block: int):
    """Run an iterator of training steps (one item a step), pausing after every ``block`` steps
    (0: only at the end) to yield how many ran, so a benchmark can alternate contenders within
    an epoch."""
    done = 0
    for _ in steps:
        done += 1
        if done == block:
            yield done
            done = 0
    if done:
        yield done


def try_torch():
    """The torch module using all cores (as NumPy's BLAS does), or None when not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    return torch


def machine() -> str:
    """One line naming the machine the figures come from."""
    import numpy as np
    cores = len(os.sched_getaffinity(0))
    return (f"{platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}")


def table(rows, headers) -> str:
    """A Markdown table (what benchmarks/README.md quotes)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
