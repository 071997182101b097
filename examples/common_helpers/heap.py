"""Keep freed memory in the process's heap (glibc), so a training step's arrays reuse it.

By default glibc hands every block over 128 KiB to the kernel on free (mmap/munmap) and
trims the heap top, so each step of a model whose activations are a few hundred KiB to a
few MiB gets fresh pages that the kernel must zero: a step of the GPT preset was about
1.1-1.3x PyTorch's with the defaults and 0.9-1.06x without them (benchmarks/bench_gpt.py,
single-threaded, paired runs). A process-wide setting, so the library leaves it alone; an
example script may choose it.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc's ceiling for the mmap threshold on 64-bit


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (as MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_
    would); False where there is no glibc (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) and mallopt(_M_TRIM_THRESHOLD, 1 << 30))
