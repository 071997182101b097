"""Optimizer: the base of SGD and Adam (sgd.py, adam.py): groups, state and the step loop.

Each optimizer is an ``update_one`` of a few lines that changes one parameter's array
in place. Its state (momentum buffers, Adam's moments) is keyed by the parameter's
position. ``params`` may also be PyTorch-style groups, ``[{"params": weights,
"weight_decay": 1e-4}, {"params": biases, "lr": 0.01}]``, whose entries override any
hyperparameter for their parameters. ``opt.param_groups`` is PyTorch's list of group
dicts: schedules and users set ``group["lr"]`` between steps (``opt.lr = x`` sets it in
every group). Scratch arrays are allocated once per parameter, on the first step, so a
step allocates nothing the size of a weight. ``p.grad.data`` is never written to (it
may be shared); parameters without a gradient are skipped.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from autograd import Tensor


def _groups(name: str, params, defaults: dict) -> list:
    """PyTorch's ``param_groups`` from Tensors or group dicts: each group's parameters (each once
    over all groups) and every hyperparameter, its own entry or the default."""
    groups, seen = [], set()
    items = [params] if isinstance(params, Tensor) else list(params)
    if items and not isinstance(items[0], dict):
        items = [{"params": items}]
    for item in items:
        if not isinstance(item, dict):
            raise TypeError(f"{name}: give Tensors or parameter groups (dicts), not a mix of both")
        wrong = [k for k in item if k != "params" and k not in defaults]
        if wrong:
            raise ValueError(f"{name}: a parameter group may set {list(defaults)}, not {wrong}")
        given, members = item.get("params", []), []
        for p in [given] if isinstance(given, Tensor) else given:
            if id(p) not in seen:
                seen.add(id(p))
                members.append(p)
        groups.append({**defaults, **item, "params": members})
    if not any(group["params"] for group in groups):
        raise ValueError(f"{name}: got an empty parameter list")
    return groups


def scratch(state: dict, key: str, like: np.ndarray) -> np.ndarray:
    """A work array kept in ``state`` under ``key`` (keys starting with "_" are not saved)."""
    array = state.get(key)
    if array is None:
        array = state[key] = np.empty_like(like)
    return array


class _Hyperparameter:
    """``opt.lr`` (and each other hyperparameter): the first group's value to read; setting it
    sets every group's, as ``opt.lr = ...`` did before there were per-group rates."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, opt, owner=None):
        return self if opt is None else opt.param_groups[0][self.name]

    def __set__(self, opt, value) -> None:
        for group in opt.param_groups:
            group[self.name] = value


class Optimizer:
    """Base: keeps the parameter groups, the state by position, and the step loop.

    Subclasses list their hyperparameters in ``hyperparameters``, pass their values to
    ``__init__`` as ``defaults``, and define ``update_one(w, g, state, h)`` with ``h``
    the parameter's group (a dict holding every hyperparameter). ``param_groups`` is
    PyTorch's: a list of dicts with "params" and every hyperparameter; a step reads
    them, so editing ``group["lr"]`` changes the next step. ``opt.lr``, ``opt.momentum``...
    read the first group and set every group.
    """

    hyperparameters: tuple = ("lr",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.hyperparameters:  # opt.<name> reads and writes the groups (see _Hyperparameter)
            if not isinstance(cls.__dict__.get(name), _Hyperparameter):
                setattr(cls, name, _Hyperparameter(name))

    def __init__(self, params: Iterable, defaults: dict):
        name = type(self).__name__
        self.param_groups = _groups(name, params, defaults)
        if any(group["lr"] < 0 for group in self.param_groups):
            raise ValueError(f"{name}: lr must be >= 0, got {[group['lr'] for group in self.param_groups]}")
        self.params = [p for group in self.param_groups for p in group["params"]]
        self.state = [{} for _ in self.params]

    def add_param_group(self, group: dict) -> None:
        """Append a parameter group (a dict with "params"; missing hyperparameters take the
        first group's values), as PyTorch's: for unfreezing layers while fine-tuning."""
        defaults = {name: self.param_groups[0][name] for name in self.hyperparameters}
        known = {id(p) for p in self.params}
        (new,) = _groups(type(self).__name__, [group], defaults)
        if any(id(p) in known for p in new["params"]):
            raise ValueError(f"{type(self).__name__}.add_param_group: some parameters are in another group")
        self.param_groups.append(new)
        self.params += new["params"]
        self.state += [{} for _ in new["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's grad to None, or (``set_to_none=False``) to zeros, as PyTorch's."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = Tensor._result(np.zeros_like(p.data), None)   # a fresh array: grads may be shared

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, with its group's hyperparameters."""
        states = iter(self.state)
        for group in self.param_groups:
            for p, state in zip(group["params"], states):
                if p.grad is not None:
                    self.update_one(p.data, p.grad.data, state, group)

    def update_one(self, w: np.ndarray, g: np.ndarray, state: dict, h: dict) -> None:
        """Update one parameter's array ``w`` in place from its gradient ``g`` (never written)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Hyperparameters (the first group's at the top, every group's under "param_groups"),
        and per-parameter state (copies), saveable with ``nn.save``."""
        return {"type": type(self).__name__,
                **{name: getattr(self, name) for name in self.hyperparameters},
                "param_groups": {str(i): {name: group[name] for name in self.hyperparameters}
                                 for i, group in enumerate(self.param_groups)},
                "state": {str(i): {k: np.array(v, copy=True) for k, v in s.items() if not k.startswith("_")}
                          for i, s in enumerate(self.state)}}

    def load_state_dict(self, state: dict) -> None:
        """Restore from ``state_dict()`` (or its saved form); checks everything before changing anything.

        A state saved before optimizers had ``param_groups`` sets every group's hyperparameters.
        """
        name = str(state.get("type", type(self).__name__))
        if name != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from a {name}")
        per_param = state.get("state", {})
        groups = state.get("param_groups") or {str(i): state for i in range(len(self.param_groups))}
        problems = sorted({f"missing hyperparameter {h!r}" for g in groups.values() for h in self.hyperparameters
                           if h not in g})
        if len(groups) != len(self.param_groups):
            problems.append(f"{len(groups)} parameter groups in the state, {len(self.param_groups)} here")
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
        for i, group in enumerate(self.param_groups):
            for h in self.hyperparameters:
                group[h] = _like(group[h], groups[str(i)][h])
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
