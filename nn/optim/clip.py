"""Gradient clipping: scale every gradient so that their joint norm stays under a bound
(``clip_grad_norm_``), or clamp each element to a range (``clip_grad_value_``)."""
from __future__ import annotations

import math

import numpy as np

from autograd import Tensor


def _with_grads(params) -> list:
    """The parameters (one Tensor or an iterable) that have a gradient."""
    return [p for p in ([params] if isinstance(params, Tensor) else params) if p.grad is not None]


def clip_grad_norm_(params, max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping (as PyTorch, the factor is max_norm / (norm + 1e-6)).
    """
    params = _with_grads(params)
    total = math.sqrt(sum(float(np.vdot(p.grad.data, p.grad.data)) for p in params))
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for p in params:
            _update(p, lambda grad: np.multiply(grad, factor, out=grad))
    return total


def clip_grad_value_(params, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place, as PyTorch's."""
    clip_value = float(clip_value)
    for p in _with_grads(params):
        _update(p, lambda grad: np.clip(grad, -clip_value, clip_value, out=grad))


def _update(p: Tensor, change) -> None:
    """``change(array)`` on p's gradient array in place (it returns the changed array)."""
    if isinstance(p.grad.data, np.ndarray):
        change(p.grad.data)
    else:   # the engine leaves a 0-d leaf's gradient as a NumPy scalar, which is immutable
        p.grad = Tensor._result(change(np.array(p.grad.data)), None)

