"""Activations as layers: Sigmoid, ReLU, Tanh, LeakyReLU, GELU, Softmax (the work is nn.functional's)."""
from __future__ import annotations

from autograd import Tensor
from autograd.ops.reduce import torch_spelling

from .. import functional as F
from .module import Module


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x) -> Tensor:
        return F.sigmoid(x)


class ReLU(Module):
    """max(x, 0) elementwise. In a Sequential, a ReLU right before a MaxPool2d runs after it:
    the same values and gradients, on a quarter of the numbers (see ``Sequential``)."""

    def forward(self, x) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` for PyTorch's tanh form."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (``dim``, PyTorch's name, also works)."""

    def __init__(self, axis: int | None = None, *, dim: int | None = None):
        axis = torch_spelling("Softmax", axis, False, dim, None)[0]
        self.axis = -1 if axis is None else axis

    def forward(self, x) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "softmax": Softmax}

