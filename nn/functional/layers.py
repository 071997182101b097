"""The layers of nn.functional: linear, the activations (silu among them), softmax, dropout.

``linear``, ``leaky_relu``, ``softmax``, ``log_softmax`` and the cross-entropies are one
fused node each (``autograd/ops/nn.py``, ``loss_ops.py`` here); ``sigmoid``, ``relu``,
``tanh`` are the engine's ops, ``silu`` a product of two. Arguments that are not Tensors (NumPy arrays, lists)
become constant Tensors.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor, as_tensor
from autograd.ops.elementwise import ReLU, Sigmoid, Tanh
from autograd.ops.nn import Linear, LeakyReLU

from .. import init


def _tensor(x, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; with ``like``, non-floating arrays and numbers take its dtype."""
    if isinstance(x, Tensor):
        return x
    return like._operand(x) if like is not None else Tensor(x)


def linear(x, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias as one node; ``weight`` is (out_features, in_features) as in PyTorch.

    Data takes the weight's dtype: integer inputs (raw pixels), and a floating input of
    another dtype that needs no gradient (a float64 batch into a float32 model, where
    PyTorch would raise), are converted, so the layer runs at the model's precision. An
    input that requires a gradient keeps its own: the product is then computed in the
    wider dtype, as NumPy would (gradcheck's float64 inputs stay exact). A ``weight`` or
    ``bias`` that is not a Tensor (a NumPy array) becomes a constant Tensor.
    """
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight)
    x = _tensor(x, weight)
    dtype = weight.data.dtype
    if x.data.dtype is not dtype and x.data.dtype != dtype and not x.requires_grad:
        x = Tensor._result(x.data.astype(dtype), None)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias if isinstance(bias, Tensor) else as_tensor(bias))


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x)) elementwise."""
    return Sigmoid.apply(_tensor(x))


def relu(x) -> Tensor:
    """max(x, 0) elementwise."""
    return ReLU.apply(_tensor(x))


def tanh(x) -> Tensor:
    """Hyperbolic tangent elementwise."""
    return Tanh.apply(_tensor(x))


def silu(x) -> Tensor:
    """x * sigmoid(x) elementwise (also called swish), two engine nodes.

    gradient: sigmoid(x) (1 + x (1 - sigmoid(x))).
    """
    x = _tensor(x)
    return x * Sigmoid.apply(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x (one node)."""
    return LeakyReLU.apply(_tensor(x), negative_slope=float(negative_slope))


def softmax(x, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (default -1; ``dim`` is PyTorch's name), stable (one node)."""
    return _tensor(x).softmax(axis, dim=dim)


def log_softmax(x, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis`` (default -1; or ``dim``) by log-sum-exp, stable (one node)."""
    return _tensor(x).log_softmax(axis, dim=dim)


def dropout(x, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1 / (1 - p).

    The identity when not ``training`` or p == 0. Masks come from ``rng``, else the
    default generator (``nn.manual_seed``). Recorded as a product with a constant mask.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = _tensor(x)
    if not training or p == 0.0:
        return x
    mask = (rng or init.default_rng()).random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
    keep = mask >= p
    np.multiply(keep, 1.0 / (1.0 - p) if p < 1.0 else 0.0, out=mask)
    return x * Tensor._result(mask.astype(x.dtype, copy=False), None)


__all__ = ["linear", "sigmoid", "relu", "tanh", "silu", "leaky_relu", "softmax", "log_softmax", "dropout"]
