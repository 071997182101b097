"""Optimizers: SGD (momentum, Nesterov, L2 weight decay), Adam, AdamW; gradient clipping.

The schedules (StepLR, CosineAnnealingLR, OneCycleLR) live in ``nn/schedules.py`` and
are importable from here too.

Each optimizer is an ``update_one`` of a few lines that changes one parameter's array
in place. Its state (momentum buffers, Adam's moments) is keyed by the parameter's
position. ``params`` may also be PyTorch-style groups, ``[{"params": weights,
"weight_decay": 1e-4}, {"params": biases}]``, whose entries override any
hyperparameter but ``lr`` for their parameters. Scratch arrays are allocated once per
parameter, on the first step, so a step allocates nothing the size of a weight.
``p.grad.data`` is never written to (it may be shared); parameters without a gradient
are skipped. ``lr`` is a plain attribute: schedules change it between steps.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from autograd import Tensor

from .schedules import CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR


def _parameters(name: str, params, allowed: tuple) -> tuple[list, list]:
    """The parameters (each once) and their hyperparameter overrides, from Tensors or groups."""
    tensors, overrides, seen = [], [], set()
    for item in [params] if isinstance(params, Tensor) else list(params):
        group, extra = (item.get("params", []), {k: v for k, v in item.items() if k != "params"}) \
            if isinstance(item, dict) else ([item], {})
        wrong = [k for k in extra if k == "lr" or k not in allowed]
        if wrong:
            raise ValueError(f"{name}: a parameter group may set {[a for a in allowed if a != 'lr']}, "
                             f"not {wrong} (lr is one for all: schedules change it)")
        for p in [group] if isinstance(group, Tensor) else group:
            if id(p) not in seen:
                seen.add(id(p))
                tensors.append(p)
                overrides.append(extra)
    if not tensors:
        raise ValueError(f"{name}: got an empty parameter list")
    return tensors, overrides


def _scratch(state: dict, key: str, like: np.ndarray) -> np.ndarray:
    """A work array kept in ``state`` under ``key`` (keys starting with "_" are not saved)."""
    array = state.get(key)
    if array is None:
        array = state[key] = np.empty_like(like)
    return array


class Optimizer:
    """Base: keeps the parameters, their state by position, and the step loop.

    Subclasses list their hyperparameters in ``hyperparameters`` (attributes, saved with
    the state) and define ``update_one(w, g, state, h)`` with ``h`` those
    hyperparameters for that parameter (a dict: the attributes, overridden by its group).
    """

    hyperparameters: tuple = ("lr",)

    def __init__(self, params: Iterable, lr: float):
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        self.params, self.overrides = _parameters(type(self).__name__, params, self.hyperparameters)
        self.lr = lr
        self.state = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's grad to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        h = {name: getattr(self, name) for name in self.hyperparameters}
        for p, state, extra in zip(self.params, self.state, self.overrides):
            if p.grad is not None:
                self.update_one(p.data, p.grad.data, state, {**h, **extra} if extra else h)

    def update_one(self, w: np.ndarray, g: np.ndarray, state: dict, h: dict) -> None:
        """Update one parameter's array ``w`` in place from its gradient ``g`` (never written)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Hyperparameters and per-parameter state (copies), saveable with ``nn.save``."""
        return {"type": type(self).__name__,
                **{name: getattr(self, name) for name in self.hyperparameters},
                "state": {str(i): {k: np.array(v, copy=True) for k, v in s.items() if not k.startswith("_")}
                          for i, s in enumerate(self.state)}}

    def load_state_dict(self, state: dict) -> None:
        """Restore from ``state_dict()`` (or its saved form); checks everything before changing anything."""
        name = str(state.get("type", type(self).__name__))
        if name != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from a {name}")
        per_param = state.get("state", {})
        problems = [f"missing hyperparameter {h!r}" for h in self.hyperparameters if h not in state]
        problems += [f"state for parameter {k}, but there are {len(self.params)} parameters"
                     for k in per_param if not 0 <= int(k) < len(self.params)]
        for key, entries in per_param.items():
            if not 0 <= int(key) < len(self.params):
                continue
            shape = self.params[int(key)].shape
            problems += [f"parameter {key}: {k} has shape {np.shape(v)}, the parameter {shape}"
                         for k, v in entries.items() if _is_array_state(v) and np.shape(v) != shape]
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: nothing was loaded, because:\n  "
                             + "\n  ".join(problems))
        for h in self.hyperparameters:
            setattr(self, h, _like(getattr(self, h), state[h]))
        self.state = [{} for _ in self.params]
        for key, entries in per_param.items():
            dtype = self.params[int(key)].dtype
            self.state[int(key)] = {k: np.array(v, dtype=dtype) if _is_array_state(v) else int(v)
                                    for k, v in entries.items()}


def _is_array_state(value) -> bool:
    """Floating state (moments, buffers) is an array; integer state (step counts) is a number."""
    return np.asarray(value).dtype.kind == "f"


def _like(current, value):
    """A saved hyperparameter (maybe a 0-d array) as the kind of value it replaces."""
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, tuple):
        return tuple(float(v) for v in value)
    return float(value)


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
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        nesterov = bool(nesterov)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def update_one(self, w, g, state, h):
        lr, momentum, decay = h["lr"], h["momentum"], h["weight_decay"]
        work = _scratch(state, "_work", w)
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
        super().__init__(params, lr)
        if not all(0.0 <= b < 1.0 for b in betas) or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: need 0 <= betas < 1, eps >= 0, weight_decay >= 0")
        self.betas, self.eps, self.weight_decay = tuple(float(b) for b in betas), eps, weight_decay

    def update_one(self, w, g, state, h):
        (beta1, beta2), lr, decay = h["betas"], h["lr"], h["weight_decay"]
        work = _scratch(state, "_work", w)
        if decay and self.decoupled:
            w *= 1.0 - lr * decay
        elif decay:
            decayed = _scratch(state, "_decayed", w)
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


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "LRScheduler", "StepLR",
           "CosineAnnealingLR", "OneCycleLR"]
