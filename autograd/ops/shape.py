"""Shape ops: Reshape, Transpose, BroadcastTo, GetItem (and its adjoint ScatterAdd),
Concatenate, Stack, Repeat. Their gradients only move numbers around."""
from __future__ import annotations

import math

import numpy as np

from ..function import Function


class Reshape(Function):
    """a.reshape(shape).   gradient: reshaped back"""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.save(a.shape)
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(f"Reshape: cannot reshape shape {a.shape} ({a.size} elements) "
                             f"into {self.shape}") from None

    def backward(self, grad):
        (shape,) = self.saved
        return grad.reshape(shape)


class Transpose(Function):
    """a.transpose(axes) (reversed axes when None).   gradient: the inverse permutation"""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, a):
        try:
            return np.transpose(a, self.axes)
        except ValueError as error:
            raise ValueError(f"Transpose: axes {self.axes} do not fit shape {a.shape}: {error}") from None

    def backward(self, grad):
        if self.axes is None:
            return grad.transpose()
        ndim = grad.ndim  # axes may be negative (NumPy allows it): invert the normalized permutation
        return grad.transpose(tuple(int(i) for i in np.argsort([axis % ndim for axis in self.axes])))


class BroadcastTo(Function):
    """np.broadcast_to(a, shape).   gradient: summed back to a's shape (by the engine)"""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        try:
            return np.broadcast_to(a, self.shape)
        except ValueError:
            raise ValueError(f"BroadcastTo: cannot broadcast shape {a.shape} to {self.shape}") from None

    def backward(self, grad):
        return grad


def normalize_index(index):
    """Turn Tensors and lists in an index into arrays, and boolean masks into integer arrays."""
    items = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items):
        return index
    normalized = []
    for item in items:
        if hasattr(item, "op") and hasattr(item, "data"):
            raise TypeError("GetItem: index with an integer array or a boolean mask, not a Tensor")
        if isinstance(item, (list, np.ndarray)):
            item = np.asarray(item)
            if item.dtype == bool:
                normalized.extend(np.nonzero(item))
                continue
            if item.dtype.kind not in "iu":
                raise TypeError(f"GetItem: index arrays must be integer or boolean, got {item.dtype}")
        normalized.append(item)
    return tuple(normalized)


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices) never selects an element twice."""
    items = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(i, np.ndarray) for i in items)


class GetItem(Function):
    """a[index].   gradient: scattered back into zeros, repeated indices accumulating"""

    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self.save(a.shape)
        try:
            return a[self.index]
        except IndexError as error:
            raise IndexError(f"GetItem: {error} (tensor of shape {a.shape})") from None

    def backward(self, grad):
        (shape,) = self.saved
        return _scatter_add(grad, self.index, shape)


class ScatterAdd(Function):
    """zeros(shape) with grad added at index (the adjoint of GetItem).   gradient: grad[index]"""

    def __init__(self, index, shape):
        self.index = index
        self.shape = shape

    def forward(self, grad):
        out = np.zeros(self.shape, dtype=grad.dtype)
        if _is_basic(self.index):
            out[self.index] = grad
        else:
            np.add.at(out, self.index, grad)
        return out

    def backward(self, grad):
        return grad[self.index]


def _scatter_add(grad, index, shape):
    """ScatterAdd on an array, or recorded when ``grad`` is a Tensor (create_graph).

    A 0-d gradient may come as a NumPy scalar: the engine's sum of two 0-d arrays is one.
    """
    if isinstance(grad, (np.ndarray, np.generic)):
        return ScatterAdd(index, shape).forward(grad)
    return ScatterAdd.apply(grad, index=index, shape=shape)


def _slices(axis: int, start, stop=None) -> tuple:
    """The index that takes [start:stop] (or just [start] when stop is None) along ``axis``."""
    return (slice(None),) * axis + ((start,) if stop is None else (slice(start, stop),))


class Concatenate(Function):
    """np.concatenate(tensors, axis).   gradient: the matching slice of grad for each input"""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *arrays):
        if self.axis is None:
            raise ValueError("Concatenate: axis=None (flattening) is not supported; reshape(-1) the tensors first")
        try:
            out = np.concatenate(arrays, axis=self.axis)
        except ValueError as error:
            raise ValueError(f"Concatenate: shapes {[a.shape for a in arrays]} along axis "
                             f"{self.axis}: {error}") from None
        self.save(np.cumsum([0] + [a.shape[self.axis] for a in arrays]), out.ndim)
        return out

    def backward(self, grad):
        bounds, ndim = self.saved
        axis = self.axis % ndim
        return tuple(grad[_slices(axis, int(lo), int(hi))] for lo, hi in zip(bounds[:-1], bounds[1:]))


class Stack(Function):
    """np.stack(tensors, axis).   gradient: grad taken apart along the new axis"""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *arrays):
        try:
            out = np.stack(arrays, axis=self.axis)
        except ValueError as error:
            raise ValueError(f"Stack: shapes {[a.shape for a in arrays]}: {error}") from None
        self.save(out.ndim)
        return out

    def backward(self, grad):
        (ndim,) = self.saved
        axis = self.axis % ndim
        return tuple(grad[_slices(axis, i)] for i in range(grad.shape[axis]))


class Repeat(Function):
    """np.repeat(a, repeats, axis) (flattened when axis is None).

    gradient: the copies of each element summed back into it.
    """

    def __init__(self, repeats, axis=None):
        self.repeats = repeats
        self.axis = axis

    def forward(self, a):
        self.save(a.shape)
        try:
            return np.repeat(a, self.repeats, axis=self.axis)
        except ValueError as error:
            raise ValueError(f"Repeat: {error} (shape {a.shape}, repeats {self.repeats}, "
                             f"axis {self.axis})") from None

    def backward(self, grad):
        (shape,) = self.saved
        axis = self.axis
        source_shape = (math.prod(shape),) if axis is None else shape
        axis = 0 if axis is None else axis % len(shape)
        if np.ndim(self.repeats) == 0 or np.size(self.repeats) == 1:
            copies = int(np.ravel(self.repeats)[0])
            split = source_shape[:axis] + (source_shape[axis], copies) + source_shape[axis + 1:]
            return grad.reshape(split).sum(axis=axis + 1).reshape(shape)
        sources = np.repeat(np.arange(source_shape[axis]), self.repeats)
        return _scatter_add(grad, _slices(axis, sources), source_shape).reshape(shape)
