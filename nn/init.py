"""Weight initialisers, PyTorch's formulas, filling ``t.data`` in place (dtype kept).

Each takes ``rng`` (a ``numpy.random.Generator``) for a reproducible run; without it the
default generator is used (the engine's, in ``autograd/random.py``), which
``nn.manual_seed(s)`` and ``ag.manual_seed(s)`` reseed. Dropout draws its masks from the
same default generator, and so do ``ag.randn`` and ``ag.rand``.
"""
from __future__ import annotations

import math

import numpy as np

from autograd import Tensor
from autograd.random import default_rng, manual_seed  # the engine's generator, shared with ag.randn


def _fill(t, values):
    """Copy ``values`` into ``t``'s array in place (cast to its dtype) and return ``t``."""
    array = t.data if isinstance(t, Tensor) else t
    array[...] = values
    return t


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain."""
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fans(t: Tensor | np.ndarray) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch computes them."""
    shape = t.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def normal_(t: Tensor | np.ndarray, std: float = 1.0, mean: float = 0.0, rng: np.random.Generator | None = None):
    """Fill with N(mean, std**2) draws."""
    return _fill(t, (rng or default_rng()).normal(mean, std, t.shape))


def uniform_(t: Tensor | np.ndarray, a: float = 0.0, b: float = 1.0, rng: np.random.Generator | None = None):
    """Fill with U(a, b) draws."""
    return _fill(t, (rng or default_rng()).uniform(a, b, t.shape))


def zeros_(t: Tensor | np.ndarray, rng: np.random.Generator | None = None):
    """Fill with zeros (``rng`` is accepted, like every initialiser's, and unused)."""
    return _fill(t, 0)


def ones_(t: Tensor | np.ndarray, rng: np.random.Generator | None = None):
    """Fill with ones (``rng`` is accepted, like every initialiser's, and unused)."""
    return _fill(t, 1)


def xavier_uniform_(t: Tensor | np.ndarray, gain: float = 1.0, rng: np.random.Generator | None = None):
    """Glorot: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng=rng)


def xavier_normal_(t: Tensor | np.ndarray, gain: float = 1.0, rng: np.random.Generator | None = None):
    """Glorot: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(t)
    return normal_(t, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def _kaiming_std(t, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(t)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(t: Tensor | np.ndarray, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     rng: np.random.Generator | None = None):
    """He: U(-b, b) with b = gain * sqrt(3 / fan); with a = 0 the gain is ReLU's, sqrt(2).

    ``nn.Linear`` uses a = sqrt(5), which gives b = 1 / sqrt(fan_in), as PyTorch.
    """
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, rng=rng)


def kaiming_normal_(t: Tensor | np.ndarray, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    rng: np.random.Generator | None = None):
    """He: N(0, std**2) with std = gain / sqrt(fan); with a = 0 the gain is ReLU's, sqrt(2)."""
    return normal_(t, _kaiming_std(t, a, mode, nonlinearity), rng=rng)


__all__ = ["manual_seed", "default_rng", "calculate_gain", "fans", "normal_", "uniform_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
