"""Learning-rate schedules: StepLR, CosineAnnealingLR, OneCycleLR (PyTorch's formulas).

A schedule sets ``group["lr"]`` in each of ``optimizer.param_groups`` when made (step 0)
and at each ``step()``, from that group's starting rate, as PyTorch's schedules do.
StepLR and CosineAnnealingLR are usually stepped once per epoch, OneCycleLR once per batch.
"""
from __future__ import annotations

import math

import numpy as np


class LRScheduler:
    """Base: ``lr_at(step, base_lr)`` gives a group's learning rate after ``step`` calls to ``step()``."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, step: int, base_lr: float | None = None) -> float:
        """The learning rate after ``step`` steps (step 0: when the schedule is made) of a group that
        started at ``base_lr`` (default: the first group's)."""
        raise NotImplementedError

    def _base(self, base_lr: float | None) -> float:
        return self.base_lrs[0] if base_lr is None else base_lr

    def _apply(self) -> None:
        self.last_lr = [float(self.lr_at(self.last_epoch, base)) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self.last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Advance one step (epoch or batch) and set each group's lr."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list:
        """The learning rates set by the last ``step()``, one per parameter group (a list, as PyTorch)."""
        return list(self.last_lr)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        """Restore the attributes saved by ``state_dict()`` (numbers may come back as 0-d arrays)."""
        for key, current in self.state_dict().items():
            if key in state:
                value = state[key]
                setattr(self, key, [float(v) for v in np.atleast_1d(value)] if isinstance(current, list)
                        else type(current)(value))


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (step // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int, base_lr: float | None = None) -> float:
        return self._base(base_lr) * self.gamma ** (step // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi step / T_max)) / 2."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803 (PyTorch's name)
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, step: int, base_lr: float | None = None) -> float:
        return self.eta_min + (self._base(base_lr) - self.eta_min) * (1.0 + math.cos(math.pi * step / self.T_max)) / 2.0


def _cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * fraction))


class OneCycleLR(LRScheduler):
    """Warm up from max_lr / div_factor to max_lr over ``pct_start`` of the steps, then anneal
    to max_lr / div_factor / final_div_factor; both phases cosine-shaped.

    The same rates as PyTorch's OneCycleLR with anneal_strategy="cos" and
    three_phase=False (note its default pct_start is 0.3; ours is 0.25). The momentum is
    not cycled. Step it once per batch; ``total_steps`` may be given as
    ``epochs * steps_per_epoch``. Every parameter group follows the same rates (one
    ``max_lr``, where PyTorch also takes a list).
    """

    def __init__(self, optimizer, max_lr: float, total_steps: int | None = None, pct_start: float = 0.25,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, epochs: int | None = None,
                 steps_per_epoch: int | None = None):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0 or not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: need total_steps > 0 and 0 <= pct_start <= 1, got {total_steps}, "
                             f"{pct_start}")
        self.max_lr, self.total_steps, self.pct_start = float(max_lr), int(total_steps), float(pct_start)
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        super().__init__(optimizer)

    def lr_at(self, step: int, base_lr: float | None = None) -> float:
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is {self.total_steps}")
        warmup_end = self.pct_start * self.total_steps - 1.0
        if step <= warmup_end:
            return _cosine(self.initial_lr, self.max_lr, step / warmup_end if warmup_end > 0 else 1.0)
        length = self.total_steps - 1.0 - warmup_end
        return _cosine(self.max_lr, self.min_lr, (step - warmup_end) / length if length > 0 else 1.0)
