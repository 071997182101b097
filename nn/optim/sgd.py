"""SGD: plain, with momentum (PyTorch's, or Nesterov's), with L2 weight decay."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .optimizer import Optimizer, scratch


class SGD(Optimizer):
    """w -= lr * d, with d = g + weight_decay * w (L2), through momentum if momentum > 0.

    Momentum as PyTorch: buf = momentum * buf + d (buf = d on the first step), then
    d = buf, or d + momentum * buf with ``nesterov``. The positional order is fixed as
    ``SGD(params, lr, momentum, weight_decay)``; ``nesterov`` is keyword-only (PyTorch's
    fourth positional argument is ``dampening``, so a positional one would mislead).
    """

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, *,
                 nesterov: bool = False):
        if momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        nesterov = bool(nesterov)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay))

    def update_one(self, w, g, state, h):
        lr, momentum, decay = h["lr"], h["momentum"], h["weight_decay"]
        work = scratch(state, "_work", w)
        if decay and not momentum:  # w - lr (g + decay w) = w (1 - lr decay) - lr g: three passes, not four
            w *= 1.0 - lr * decay
            np.multiply(g, lr, out=work)
            w -= work
            return
        if decay:
            np.multiply(w, decay, out=work)
            work += g
            g = work
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= momentum
                buf += g
            if h["nesterov"]:   # w -= lr * (g + momentum * buf), in two in-place steps
                np.multiply(g, lr, out=work)
                w -= work
                lr *= momentum
            g = buf
        np.multiply(g, lr, out=work)
        w -= work

