"""Stand-ins for Tensor.split and the two-argument Tensor.transpose, which are landing in the
engine, so examples/gpt.py runs before they are merged. Temporary: removed once main has them."""
from __future__ import annotations


def split(x, size: int, dim: int):
    count = x.shape[dim] // size
    index = [slice(None)] * x.ndim
    parts = []
    for i in range(count):
        index[dim] = slice(i * size, (i + 1) * size)
        parts.append(x[tuple(index)])
    return parts


def transpose(x, d0: int, d1: int):
    return x.swapaxes(d0, d1)
