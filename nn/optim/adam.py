"""Adam and AdamW (decoupled weight decay), the same arithmetic as torch.optim's."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .optimizer import Optimizer, scratch


class Adam(Optimizer):
    """Adam with bias correction, the same arithmetic as torch.optim.Adam.

    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g**2,
    w -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).
    ``weight_decay`` adds weight_decay * w to g (L2); AdamW decouples it.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if not all(0.0 <= b < 1.0 for b in betas) or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: need 0 <= betas < 1, eps >= 0, weight_decay >= 0")
        super().__init__(params, dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                                      weight_decay=weight_decay))

    def update_one(self, w, g, state, h):
        (beta1, beta2), lr, decay = h["betas"], h["lr"], h["weight_decay"]
        work = scratch(state, "_work", w)
        if decay and self.decoupled:
            w *= 1.0 - lr * decay
        elif decay:
            decayed = scratch(state, "_decayed", w)
            np.multiply(w, decay, out=decayed)
            decayed += g
            g = decayed
        if "exp_avg" not in state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, np.zeros_like(w), np.zeros_like(w)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        np.multiply(g, 1.0 - beta1, out=work)
        m += work
        v *= beta2
        np.multiply(g, g, out=work)
        work *= 1.0 - beta2
        v += work
        np.sqrt(v, out=work)
        work /= math.sqrt(1.0 - beta2 ** t)
        work += h["eps"]
        np.divide(m, work, out=work)
        work *= lr / (1.0 - beta1 ** t)
        w -= work


class AdamW(Adam):
    """Adam with decoupled weight decay: w *= 1 - lr * weight_decay before the Adam step."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

