"""Reductions: Sum, Mean, Max, Min over an axis, a tuple of axes, or everything."""
from __future__ import annotations

import math

import numpy as np

from ..function import Function


def axis_error(op: str, axis, shape: tuple) -> ValueError:
    """The error for an axis out of range, naming the op and the shape."""
    dimensions = f"{len(shape)} dimension{'' if len(shape) == 1 else 's'}"
    return ValueError(f"{op}: axis {axis} is out of range for a tensor of shape {shape} ({dimensions})")


def normalize_axis(axis, shape: tuple, op: str = "reduce"):
    """None, or a sorted tuple of non-negative axes; an axis out of range raises naming ``op``.

    A 0-d shape takes axis 0 or -1, as PyTorch's (reducing over it changes nothing), and
    gives (), NumPy's "no axes" for it.
    """
    if axis is None:
        return None
    ndim = len(shape)
    bound = max(ndim, 1)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -bound <= a < bound:
            raise axis_error(op, a, shape)
        normalized.append(int(a) % bound)
    return tuple(sorted(normalized)) if ndim else ()


def torch_spelling(op: str, axis, keepdims, dim, keepdim) -> tuple:
    """(axis, keepdims) from NumPy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim``.

    Either spelling, never both: ``axis`` with ``dim``, or ``keepdims=True`` with
    ``keepdim``, raises TypeError naming ``op``.
    """
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis (NumPy's name) or dim (PyTorch's), not both")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{op}: give keepdims (NumPy's name) or keepdim (PyTorch's), not both")
        keepdims = keepdim
    return axis, bool(keepdims)


def axes(op: str, shape: tuple, axis, keepdims, dim=None, keepdim=None) -> tuple:
    """(normalized axis, keepdims) for a reduction named ``op``, from either spelling."""
    if dim is not None or keepdim is not None:
        axis, keepdims = torch_spelling(op, axis, keepdims, dim, keepdim)
    return normalize_axis(axis, shape, op), keepdims


def _kept_shape(shape: tuple, axis) -> tuple:
    """``shape`` with the reduced axes kept as 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple, axis) -> tuple:
    """``shape`` without the reduced axes (what keepdims=False gives)."""
    return () if axis is None else tuple(n for i, n in enumerate(shape) if i not in axis)


def _count(shape: tuple, axis) -> int:
    """How many numbers each reduced value is made of."""
    return math.prod(shape if axis is None else [shape[i] for i in axis])


class Sum(Function):
    """sum(a, axis).   d/da = 1: the gradient is broadcast back over the summed axes"""

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, a):
        self.save(a.shape)
        return a.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad):
        (shape,) = self.saved
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(shape, self.axis))
        return np.broadcast_to(grad, shape)


class Mean(Function):
    """mean(a, axis).   d/da = 1 / n, broadcast back over the n averaged elements"""

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, a):
        self.save(a.shape)
        if _count(a.shape, self.axis) == 0:  # NaN, as PyTorch, without NumPy's "Mean of empty slice"
            shape = _kept_shape(a.shape, self.axis) if self.keepdims else _reduced_shape(a.shape, self.axis)
            return np.full(shape, np.nan, a.dtype)
        return a.mean(axis=self.axis, keepdims=self.keepdims)

    def backward(self, grad):
        (shape,) = self.saved
        kept = _kept_shape(shape, self.axis)
        if not self.keepdims:
            grad = grad.reshape(kept)
        count = _count(shape, self.axis)
        return np.broadcast_to(grad / count if count else np.zeros(kept, grad.dtype), shape)


class Max(Function):
    """max(a, axis).   d/da = 1 at the maximum; k tied maxima share it evenly (1/k each, as PyTorch's
    ``amax`` and its ``max()`` without ``dim``)"""

    extremum, word = staticmethod(np.max), "maximum"

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, a):
        try:
            out = self.extremum(a, axis=self.axis, keepdims=True)
        except ValueError:   # NumPy's "zero-size array to reduction operation maximum..."
            over = "" if self.axis is None else f" over axes {self.axis}"
            raise ValueError(f"{type(self).__name__}: cannot take the {self.word}{over} of an empty tensor "
                             f"of shape {a.shape}") from None
        share = (a == out).astype(a.dtype)
        ties = share.sum(axis=self.axis, keepdims=True)
        if ties.all():
            share /= ties  # 1/k at each of k tied maxima, in a's dtype
        else:  # a NaN maximum equals nothing: 0/0, NaN gradients everywhere, as PyTorch's amax, silently
            with np.errstate(invalid="ignore"):
                share /= ties
        self.save(share)
        return out if self.keepdims else out.reshape(_reduced_shape(a.shape, self.axis))

    def backward(self, grad):
        (share,) = self.saved
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(share.shape, self.axis))
        return grad * share


class Min(Max):
    """min(a, axis).   d/da = 1 at the minimum; k tied minima share it evenly (1/k each)"""

    extremum, word = staticmethod(np.min), "minimum"
