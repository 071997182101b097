"""Activations as layers: Sigmoid, ReLU, Tanh, SiLU, LeakyReLU, GELU, Softmax, LogSoftmax (the work is
nn.functional's)."""
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


class SiLU(Module):
    """x * sigmoid(x) elementwise (swish)."""

    def forward(self, x) -> Tensor:
        return F.silu(x)


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


class _AlongAxis(Module):
    """An activation along one axis, ``axis`` or PyTorch's ``dim`` (default -1): ``function(x, axis)``."""

    function = None

    def __init__(self, axis: int | None = None, *, dim: int | None = None):
        axis = torch_spelling(type(self).__name__, axis, False, dim, None)[0]
        self.axis = -1 if axis is None else axis

    def forward(self, x) -> Tensor:
        return type(self).function(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Softmax(_AlongAxis):
    """exp(x) / sum(exp(x)) along ``axis`` (``dim``, PyTorch's name, also works)."""

    function = F.softmax


class LogSoftmax(_AlongAxis):
    """log(softmax(x)) along ``axis`` (or ``dim``), stable: what ``nn.NLLLoss`` takes."""

    function = F.log_softmax


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "silu": SiLU, "leaky_relu": LeakyReLU,
               "softmax": Softmax}

