"""Gradient clipping: scale every gradient so that their joint norm stays under a bound."""
from __future__ import annotations

import math

import numpy as np

from autograd import Tensor


def clip_grad_norm_(params, max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping (as PyTorch, the factor is max_norm / (norm + 1e-6)).
    """
    params = [p for p in ([params] if isinstance(params, Tensor) else params) if p.grad is not None]
    total = math.sqrt(sum(float(np.vdot(p.grad.data, p.grad.data)) for p in params))
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for p in params:
            if isinstance(p.grad.data, np.ndarray):
                p.grad.data *= factor
            else:   # the engine leaves a 0-d leaf's gradient as a NumPy scalar, which is immutable
                p.grad = Tensor._result(np.asarray(p.grad.data * factor), None)
    return total

