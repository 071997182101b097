"""Pad: an array surrounded by a constant (the node behind ``F.pad``'s "constant" mode).

The other modes (reflect, replicate, circular) pick existing elements, so ``F.pad``
builds them from integer-array indexing (GetItem), whose gradient sums the copies.
"""
from __future__ import annotations

import numpy as np

from ..function import Function


class Pad(Function):
    """np.pad(a, widths, constant_values=value), ``widths`` one (before, after) pair per axis, >= 0.

    gradient: grad cropped back to a's shape (the padding is a constant).
    """

    def __init__(self, widths: tuple, value: float = 0.0):
        self.widths = widths
        self.value = value

    def forward(self, a):
        if len(self.widths) != a.ndim:
            raise ValueError(f"Pad: {len(self.widths)} (before, after) pairs for an input of shape {a.shape}")
        return np.pad(a, self.widths, constant_values=self.value)

    def backward(self, grad):
        return grad[tuple(slice(before, size - after) for (before, after), size in zip(self.widths, grad.shape))]
