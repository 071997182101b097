"""PyTorch's spellings on Tensor: view, unsqueeze, squeeze, t, clone, abs, sqrt, pow, clamp
(clip), min, argmax, argmin, softmax, log_softmax, requires_grad_, zero_.

A mixin that Tensor inherits, so that tensor.py keeps the engine's own surface. Each
method is a thin alias over an op that exists, or over one of the few added for it
(Abs, Sqrt, Clamp, Min in ``autograd/ops``). Positional arguments keep NumPy's meaning
(``x.sum(1)`` is ``axis=1``, which is also PyTorch's ``dim=1``); where the two libraries
disagree on a result, the docstring says which one holds.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .grad_mode import is_grad_enabled


class ValuesIndices(NamedTuple):
    """What ``x.max(dim=d)`` and ``x.min(dim=d)`` return, as PyTorch's ``torch.return_types.max``:
    ``values`` (a Tensor, differentiable) and ``indices`` (an integer ndarray)."""

    values: object
    indices: np.ndarray


def _dims(op: str, dims, ndim: int) -> tuple:
    """``dims`` (an int or a tuple) as non-negative axes of a tensor with ``ndim`` axes."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    size = max(ndim, 1)
    for dim in dims:
        if not -size <= dim < size:
            raise ValueError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return tuple(int(dim) % size for dim in dims)


class TorchMethods:
    """PyTorch-named Tensor methods, each built on the engine's ops (see the module docstring)."""

    __slots__ = ()

    # ---- shape ----
    def view(self, *shape):
        """PyTorch's name for ``reshape``: ``x.view(4, 3)``, ``x.view(-1)``.

        Unlike PyTorch's ``view`` it never fails on a non-contiguous tensor: like
        ``reshape`` it copies when NumPy cannot make a view. The gradient is reshaped back.
        """
        return self.reshape(*shape)

    def unsqueeze(self, dim: int):
        """A new axis of length 1 at ``dim`` (``-ndim - 1 <= dim <= ndim``), as a Reshape."""
        (dim,) = _dims("unsqueeze", dim, self.ndim + 1)
        shape = self.shape
        return self.reshape(shape[:dim] + (1,) + shape[dim:])

    def squeeze(self, dim=None):
        """Axes of length 1 removed: all of them, or those among ``dim`` (an int or a tuple).

        As PyTorch (not NumPy): a ``dim`` whose length is not 1 is left alone, no error.
        """
        shape = self.shape
        dims = range(len(shape)) if dim is None else _dims("squeeze", dim, len(shape))
        drop = {d for d in dims if d < len(shape) and shape[d] == 1}
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in drop))

    def t(self):
        """The transpose of a tensor with at most 2 axes (0-d and 1-d come back unchanged), as PyTorch."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape {self.shape}; "
                             f"use transpose(...) or swapaxes(...)")
        return self.T

    def clone(self):
        """A copy of the data that stays in the graph (the gradient flows through), as PyTorch.

        Recorded as a Cast to the tensor's own dtype, which copies; ``detach()`` is the
        cut from the graph, ``clone().detach()`` both.
        """
        return ew.Cast.apply(self, dtype=self.dtype)

    # ---- elementwise ----
    def abs(self):
        """|x| elementwise; the gradient is grad * sign(x), 0 at x = 0 (PyTorch's choice)."""
        return ew.Abs.apply(self)

    __abs__ = abs

    def sqrt(self):
        """sqrt(x) elementwise, one node; the gradient is grad / (2 sqrt(x)) (inf at 0, as PyTorch)."""
        return ew.Sqrt.apply(self)

    def pow(self, exponent):
        """``self ** exponent`` (a number, or a Tensor for a gradient in the exponent too)."""
        return self ** exponent

    def clamp(self, min=None, max=None):  # noqa: A002 (PyTorch's names)
        """Each element limited to [min, max] (either bound may be None, not both).

        The gradient passes where min <= x <= max, bounds included, and is 0 outside,
        as PyTorch's. ``clip`` is the same method (NumPy's name, same argument order).
        """
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        return ew.Clamp.apply(self, low=min, high=max)

    clip = clamp

    # ---- reductions that PyTorch spells differently ----
    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Minimum over ``axis`` (None: all); the gradient goes to the minima, shared among ties.

        With ``dim=`` (PyTorch's spelling) the result is PyTorch's: a ``(values,
        indices)`` pair (``ValuesIndices``), the gradient going to the one element each
        index names. Positionally or with ``axis=`` it is NumPy's: the values alone.
        """
        axis, keepdims = reduce.axes("Min", self.data.shape, axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._values_indices("min", np.argmin, axis, keepdims)
        return reduce.Min.apply(self, axis=axis, keepdims=keepdims)

    def _values_indices(self, op: str, arg, axis: tuple, keepdims: bool) -> ValuesIndices:
        """PyTorch's ``max(dim)`` / ``min(dim)``: the values picked by indexing at ``arg``'s indices."""
        if len(axis) != 1:
            raise TypeError(f"{op}: dim= takes one axis (it returns PyTorch's (values, indices) pair); "
                            f"for several use axis=")
        indices = arg(self.data, axis=axis[0])
        index = list(np.indices(indices.shape, sparse=True))
        index.insert(axis[0], indices)
        values = self[tuple(index)]
        if keepdims:
            return ValuesIndices(values.unsqueeze(axis[0]), np.expand_dims(indices, axis[0]))
        return ValuesIndices(values, indices)

    def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> np.ndarray:
        """The index of the maximum along ``axis`` (None: of the flattened tensor), as an integer
        ndarray, not recorded (no gradient); ``dim``/``keepdim`` are PyTorch's names."""
        return self._arg(np.argmax, "argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> np.ndarray:
        """The index of the minimum along ``axis`` (None: of the flattened tensor), as an integer
        ndarray, not recorded (no gradient); ``dim``/``keepdim`` are PyTorch's names."""
        return self._arg(np.argmin, "argmin", axis, keepdims, dim, keepdim)

    def _arg(self, arg, op: str, axis, keepdims, dim, keepdim) -> np.ndarray:
        axis, keepdims = reduce.axes(op, self.data.shape, axis, keepdims, dim, keepdim)
        if axis is not None and len(axis) != 1:
            raise TypeError(f"{op}: takes one axis or None, got {axis}")
        return np.asarray(arg(self.data, axis=None if axis is None else axis[0], keepdims=keepdims))

    # ---- softmax ----
    def softmax(self, axis=None, *, dim=None):
        """exp(x) / sum(exp(x)) along ``axis`` (default: the last; ``dim`` is PyTorch's name), one node."""
        axis = reduce.torch_spelling("Softmax", axis, False, dim, None)[0]
        return nn_ops.Softmax.apply(self, axis=-1 if axis is None else axis)

    def log_softmax(self, axis=None, *, dim=None):
        """log(softmax(x)) along ``axis`` (default: the last; ``dim`` is PyTorch's name), one node."""
        axis = reduce.torch_spelling("LogSoftmax", axis, False, dim, None)[0]
        return nn_ops.LogSoftmax.apply(self, axis=-1 if axis is None else axis)

    # ---- flags and in-place ----
    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` in place and return this tensor (PyTorch's habit).

        Only a leaf's flag can be turned off: a computed tensor gives RuntimeError (use
        ``detach()``), as in PyTorch.
        """
        if not requires_grad and self.op is not None:
            raise RuntimeError("requires_grad_: only a leaf's flag can be turned off; to use a computed "
                               "tensor without its graph, take detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def zero_(self):
        """Fill with zeros in place and return this tensor: ``x.grad.zero_()``.

        Not recorded. As in PyTorch, a tensor that requires grad may be zeroed only under
        ``no_grad()``, and a computed one never (its graph may have saved the data).
        """
        if self.op is not None or (self.requires_grad and is_grad_enabled()):
            raise RuntimeError("zero_: in place on a tensor that requires grad; do it under no_grad() "
                               "on a leaf (a computed tensor's data may be saved by its graph)")
        data = self.data
        if type(data) is np.ndarray and data.flags.writeable:
            data.fill(0)
        else:   # a read-only array, or the NumPy scalar the engine may leave as a 0-d gradient
            self.data = np.zeros_like(data)
        return self


from .ops import elementwise as ew, nn as nn_ops, reduce  # noqa: E402  (the ops import Tensor)
