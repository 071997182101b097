"""Cumulative sums along an axis (PyTorch's ``cumsum``)."""
from __future__ import annotations

import numpy as np

from ..function import Function


def _flip(a, axis: int):
    """``a`` reversed along ``axis`` (a basic index, so it works on arrays and Tensors)."""
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


def cumsum(a, axis: int):
    """np.cumsum on an ndarray, the Cumsum op on a Tensor (so a rule stays differentiable)."""
    if isinstance(a, np.ndarray):
        return np.cumsum(a, axis=axis)
    return Cumsum.apply(a, axis=axis)


class Cumsum(Function):
    """out[..., i, ...] = sum of a[..., :i + 1, ...] along ``axis`` (non-negative).

    d/da: each a[j] feeds every out[i] with i >= j, so the gradient is the reversed
    cumulative sum of grad: flip(cumsum(flip(grad))).
    """

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, a):
        return np.cumsum(a, axis=self.axis)

    def backward(self, grad):
        return _flip(cumsum(_flip(grad, self.axis), self.axis), self.axis)
