"""The module-level functions (ag.exp, ag.matmul, ag.where...): the Tensor methods for any input."""
from __future__ import annotations


import numpy as np

from .ops import elementwise as ew, linalg, shape as shp
from .tensor import Tensor


def as_tensor(value) -> Tensor:
    """``value`` if it is a Tensor, else a new constant Tensor (no copy of a floating array)."""
    return value if isinstance(value, Tensor) else Tensor(value)


def exp(x) -> Tensor:
    """e**x elementwise."""
    return as_tensor(x).exp()


def log(x) -> Tensor:
    """Natural logarithm elementwise (log(0) = -inf, as NumPy)."""
    return as_tensor(x).log()


def sigmoid(x) -> Tensor:
    """1 / (1 + e**-x) elementwise, without overflow for large |x|."""
    return as_tensor(x).sigmoid()


def tanh(x) -> Tensor:
    """Hyperbolic tangent elementwise."""
    return as_tensor(x).tanh()


def relu(x) -> Tensor:
    """max(x, 0) elementwise."""
    return as_tensor(x).relu()


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's semantics (1-D, 2-D, batched)."""
    a = as_tensor(a)
    return linalg.MatMul.apply(a, a._operand(b))


def sum(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:  # noqa: A001 (NumPy's name)
    """Sum over ``axis`` (None: all, int, or tuple; ``dim``/``keepdim`` are PyTorch's names)."""
    return as_tensor(x).sum(axis, keepdims, dim=dim, keepdim=keepdim)


def mean(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """Mean over ``axis`` (None: all, int, or tuple; ``dim``/``keepdim`` are PyTorch's names)."""
    return as_tensor(x).mean(axis, keepdims, dim=dim, keepdim=keepdim)


def max(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):  # noqa: A001
    """Maximum over ``axis``; the gradient is split evenly between tied maxima.

    ``dim=`` gives PyTorch's ``(values, indices)`` pair, as ``Tensor.max``.
    """
    return as_tensor(x).max(axis, keepdims, dim=dim, keepdim=keepdim)


def min(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):  # noqa: A001
    """Minimum over ``axis``; the gradient is split evenly between tied minima.

    ``dim=`` gives PyTorch's ``(values, indices)`` pair, as ``Tensor.min``.
    """
    return as_tensor(x).min(axis, keepdims, dim=dim, keepdim=keepdim)


def reshape(x, shape) -> Tensor:
    """``x`` with a new shape (same elements)."""
    return as_tensor(x).reshape(shape)


def transpose(x, axes=None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    return as_tensor(x).transpose(axes) if axes is not None else as_tensor(x).T


def repeat(x, repeats, axis=None) -> Tensor:
    """np.repeat: each element repeated ``repeats`` times along ``axis`` (flattened if None)."""
    return as_tensor(x).repeat(repeats, axis=axis)


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape``; the gradient is summed back."""
    return as_tensor(x).broadcast_to(shape)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    return shp.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    return shp.Stack.apply(*tensors, axis=axis)


def where(condition, a, b) -> Tensor:
    """Elementwise ``a`` where ``condition`` else ``b``; ``condition`` is a boolean array."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else as_tensor(a)
    return ew.Where.apply(like._operand(a), like._operand(b), condition=condition)


__all__ = ["as_tensor", "exp", "log", "sigmoid", "tanh", "relu", "matmul", "sum", "mean", "max", "min",
           "reshape", "transpose", "repeat", "broadcast_to", "concatenate", "stack", "where"]
