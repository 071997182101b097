"""Fused neural-network ops: one node each where the unfused graph would have several.

Linear (x @ W.T + b), LeakyReLU, Softmax and LogSoftmax. Each forward allocates only
its output (plus what the gradient rule must keep) and works in place on fresh arrays;
dtypes are kept (float32 stays float32). The losses built on the same idea live in
``nn/functional/loss.py``.

Gradient rules take a fast in-place path on arrays. When ``grad`` is a Tensor
(``create_graph=True``) they run the same formula with engine ops, so second
derivatives are recorded.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np

from ..function import Function
from .elementwise import one
from .linalg import matmul
from .reduce import axis_error


def recorded(grad) -> bool:
    """True when ``grad`` is a Tensor (create_graph): the rule must then use engine ops.

    On arrays the engine may pass a NumPy scalar (np.float64) for a 0-d gradient.
    """
    return not isinstance(grad, (np.ndarray, np.generic))


def _column_major(array) -> bool:
    """True for a Fortran-ordered matrix (nn.Linear's weights), False for a C-ordered one."""
    flags = (array if type(array) is np.ndarray else np.asarray(array)).flags  # a Tensor under create_graph
    return flags.f_contiguous and not flags.c_contiguous


class Linear(Function):
    """x @ W.T + b with W of shape (out_features, in_features), PyTorch's layout.

    d/dx = grad @ W,  d/dW = grad^T @ x,  d/db = grad summed over the batch.
    Transposes are views handed to BLAS (no copies). d/dW is computed in W's own memory
    layout (nn.Linear keeps W column-major but in float64, see nn/modules/linear.py). No
    gradient is computed for an input that needs none (usually x, the data). Inputs with
    more than two axes are treated as a batch of rows.
    """

    def forward(self, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"Linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                             f"(the weight is (out_features, in_features); the input needs "
                             f"{weight.shape[1:] or '?'} as its last axis)")
        if bias is not None and bias.shape not in ((weight.shape[0],), ()):
            raise ValueError(f"Linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}")
        if x.ndim > 2:  # one (rows, in) @ (in, out) product: NumPy would run one small GEMM per leading index
            out = matmul(x.reshape(_count_rows(x), x.shape[-1]), weight.T)
            out = out.reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = matmul(x, weight.T)
        if bias is not None:
            out += bias
        self.save(x, weight)
        return out

    def backward(self, grad):
        x, weight = self.saved
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        # reshapes with the row count spelt out: -1 is undetermined with 0 features
        rows = grad if grad.ndim == 2 else grad.reshape(_count_rows(grad), weight.shape[0])
        grad_x = None
        if need_x:
            grad_x = matmul(rows, weight)
            grad_x = grad_x if x.ndim == 2 else grad_x.reshape(x.shape)
        grad_w = None
        if need_w:
            x_rows = x if x.ndim == 2 else x.reshape(_count_rows(x), weight.shape[1])
            # The gradient in the weight's own layout, so the optimizer's updates stay contiguous.
            grad_w = matmul(x_rows.T, rows).T if _column_major(weight) else matmul(rows.T, x_rows)
        grad_b = None
        if need_b:  # the ufunc itself on arrays: ndarray.sum is a Python wrapper around it
            grad_b = np.add.reduce(rows, 0) if type(rows) is np.ndarray else rows.sum(axis=0)
        return (grad_x, grad_w) if len(self.needs_input_grad) == 2 else (grad_x, grad_w, grad_b)


def _count_rows(a) -> int:
    """The rows of a batch of rows (..., features): the product of all axes but the last."""
    return math.prod(a.shape[:-1])


class LeakyReLU(Function):
    """a where a > 0, else negative_slope * a.   d/da = 1 where a > 0, else negative_slope"""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, a):
        factor = np.where(a > 0, one(a.dtype), np.asarray(self.negative_slope, dtype=a.dtype))
        self.save(factor)
        return a * factor

    def backward(self, grad):
        (factor,) = self.saved
        return grad * factor


class Softmax(Function):
    """exp(a) / sum(exp(a)) along ``axis``, shifted by the max so exp never overflows.

    d/da = y * (grad - sum(grad * y)), from the output y.
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, a):
        axis = _softmax_axis(a, self.axis, "Softmax")
        shift = _max(a, axis)
        with _quiet(shift):
            out = np.asarray(a - shift)
            np.exp(out, out=out)
            out /= out.sum(axis=axis, keepdims=True)
        self.save(out, axis)
        return out

    def backward(self, grad):
        out, axis = self.saved
        if recorded(grad):   # create_graph: y is this node's output Tensor
            return out * (grad - (grad * out).sum(axis=axis, keepdims=True))
        result = np.asarray(grad * out)
        total = result.sum(axis=axis, keepdims=True)
        np.subtract(grad, total, out=result)
        result *= out
        return result


class LogSoftmax(Function):
    """a - log(sum(exp(a))) along ``axis`` (log-sum-exp with the max shifted out).

    d/da = grad - exp(y) * sum(grad), from the output y.
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, a):
        out = log_softmax(a, self.axis, "LogSoftmax")
        self.save(out, _softmax_axis(a, self.axis, "LogSoftmax"))
        return out

    def backward(self, grad):
        out, axis = self.saved
        total = grad.sum(axis=axis, keepdims=True)
        if recorded(grad):   # create_graph: y is this node's output Tensor
            return grad - out.exp() * total
        result = np.asarray(np.exp(out))  # NumPy gives a scalar for a 0-d out
        result *= total
        np.subtract(grad, result, out=result)
        return result


def _softmax_axis(a: np.ndarray, axis: int, op: str):
    """``axis`` checked against a's shape (naming ``op``), None for a 0-d ``a``, whose only
    axes are 0 and -1 (as PyTorch's softmax allows) and which NumPy reduces with None."""
    if a.ndim == 0 and axis in (0, -1):
        return None
    if not -a.ndim <= axis < a.ndim:
        raise axis_error(op, axis, a.shape)
    return axis


def _max(a: np.ndarray, axis) -> np.ndarray:
    """The maximum along ``axis``, kept as an axis of 1; a 0-d zero when that axis is empty
    (NumPy has no maximum of nothing, and any shift of no numbers will do)."""
    if a.shape and axis is not None and a.shape[axis] == 0:
        return np.zeros((), a.dtype)
    return a.max(axis=axis, keepdims=True)


def log_softmax(a: np.ndarray, axis: int = -1, op: str = "log_softmax") -> np.ndarray:
    """log(softmax(a)) of an array, stable for any finite input (two full-size arrays)."""
    axis = _softmax_axis(a, axis, op)
    shift = _max(a, axis)
    with _quiet(shift):
        out = np.asarray(a - shift)
        if not out.size:  # the log of an empty axis' sum (0) would warn, and there is nothing to shift
            return out
        total = np.asarray(np.exp(out).sum(axis=axis, keepdims=True))
        out -= np.log(total, out=total)
    return out


def _quiet(shift: np.ndarray):
    """No NumPy warnings when a maximum is infinite (inf - inf is NaN, as PyTorch gives, silently);
    checked on the small array of maxima, as np.errstate costs a fixed 1.5 us."""
    return np.errstate(invalid="ignore", divide="ignore") if not np.isfinite(shift).all() else nullcontext()
