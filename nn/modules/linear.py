"""Linear: y = x @ weight.T + bias, and the initialisations it (and Conv2d's bias) can draw from; Identity."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

import autograd as ag
from autograd import Tensor

from .. import functional as F
from .. import init as initializers
from .module import Module, Parameter


def _normal_init(weight, bias, rng) -> None:
    """The textbook's: weights N(0, 0.1**2), biases zero."""
    initializers.normal_(weight, 0.1, rng=rng)
    if bias is not None:
        initializers.zeros_(bias)


def fan_in_bias(bias, fan_in: int, rng) -> None:
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        initializers.uniform_(bias, -bound, bound, rng=rng)


def _weight_init(fill: Callable) -> Callable:
    """An init from a weight initialiser; biases get PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    def init(weight, bias, rng) -> None:
        fill(weight, rng=rng)
        fan_in_bias(bias, weight.shape[1], rng)
    return init


INITS = {
    "kaiming_uniform": _weight_init(lambda w, rng: initializers.kaiming_uniform_(w, a=math.sqrt(5.0), rng=rng)),
    "normal": _normal_init,
    "xavier_uniform": _weight_init(initializers.xavier_uniform_),
    "xavier_normal": _weight_init(initializers.xavier_normal_),
    "kaiming_normal": _weight_init(initializers.kaiming_normal_),
}


def weight_layout(dtype) -> str:
    """The memory order of a Linear weight of ``dtype``: "F" (column-major) but in float64, "C".

    Column-major, W.T is a plain row-major (in, out) matrix, so x @ W.T runs OpenBLAS's
    untransposed kernel (about 20% faster here than the transposed one in float32) and the
    weight gradient comes out as x.T @ grad in the same layout, for contiguous optimizer
    updates. In float64 the row-major weight wins instead: its gradient product grad.T @ x
    runs faster than x.T @ grad in OpenBLAS's double kernels, more than the forward loses
    (the seed MLP's epoch 3-11% shorter with the SkylakeX kernels, the same with the Haswell
    ones). The engine computes each weight's gradient in the weight's own layout, so either
    order is correct; this is only where each dtype runs fastest.
    """
    return "C" if np.dtype(dtype) == np.float64 else "F"


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) as in PyTorch.

    The weight is stored column-major (Fortran order) but in float64 (see ``weight_layout``):
    same shape and values either way, so state dicts carry over both ways, but ``x @ weight.T``
    needs neither a copy nor BLAS's slower transposed kernel.

    ``init``: "kaiming_uniform" (default, PyTorch's: weight and bias both
    U(-1/sqrt(in), 1/sqrt(in))), "normal" (the textbook's N(0, 0.1**2) weights, zero
    biases), "xavier_uniform", "xavier_normal", "kaiming_normal", or a callable
    ``init(weight, bias, rng)``. ``dtype`` defaults to ``autograd.get_default_dtype()``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str | Callable | None = None,
                 dtype=None, rng: np.random.Generator | None = None):
        self.in_features, self.out_features = in_features, out_features
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype, order=weight_layout(dtype)))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        fill = INITS.get(init or "kaiming_uniform", init)
        if not callable(fill):
            raise ValueError(f"Linear: unknown init {init!r}; use one of {sorted(INITS)} or a callable")
        fill(self.weight, self.bias, rng)

    def forward(self, x) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer, as PyTorch's); any arguments are ignored."""

    def __init__(self, *args, **kwargs):
        pass

    def forward(self, x):
        return x
