"""Convolutional layers: Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm2d.

Images are (N, C, H, W) and conv weights (out_channels, in_channels, kh, kw), as in
PyTorch, so state dicts carry over both ways. The layers hold the parameters and check
their input; the work is ``nn.functional``'s (``F.conv2d``, ``F.max_pool2d``, ...), which
also converts data that needs no gradient to the weight's dtype (raw pixels, float64).
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor, as_tensor
from autograd.ops.windows import pair

from . import functional as F
from . import init as initializers
from .layers import _BatchNorm, _fan_in_bias
from .module import Module, Parameter


def _tensor(x) -> Tensor:
    """``x`` as a Tensor."""
    return x if isinstance(x, Tensor) else as_tensor(x)


def _check_images(layer: str, x, channels: int | None = None) -> None:
    """A ValueError naming the layer and the shapes unless ``x`` is (N, channels, H, W)."""
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) != 4 or (channels is not None and shape[1] != channels):
        expected = f"(N, {'C' if channels is None else channels}, H, W)"
        raise ValueError(f"{layer}: expected input of shape {expected}, got {shape}")


class Conv2d(Module):
    """A 2-D convolution (a cross-correlation, as in PyTorch) of (N, C, H, W) images.

    ``weight`` is (out_channels, in_channels, kh, kw) and ``bias`` (out_channels,), both
    drawn from PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    in_channels * kh * kw. ``kernel_size``, ``stride``, ``padding``, ``dilation``: an int
    or an (h, w) pair. The output is (N, out_channels, OH, OW) with OH = (H + 2 * padding
    - dilation * (kh - 1) - 1) // stride + 1. ``dtype`` defaults to
    ``autograd.get_default_dtype()``; ``rng`` is a NumPy Generator for the initial draws.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, dtype=None, rng: np.random.Generator | None = None):
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size", 1)
        self.stride = pair(stride, "Conv2d", "stride", 1)
        self.padding = pair(padding, "Conv2d", "padding", 0)
        self.dilation = pair(dilation, "Conv2d", "dilation", 1)
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        # PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        initializers.kaiming_uniform_(self.weight, a=math.sqrt(5.0), rng=rng)
        _fan_in_bias(self.bias, initializers.fans(self.weight)[0], rng)

    def forward(self, x) -> Tensor:
        _check_images(f"Conv2d({self.extra_repr()})", x, self.in_channels)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text if self.bias is not None else text + ", bias=False"


class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: the window, its stride (the window's size when
    None, as PyTorch) and the padding."""

    def __init__(self, kernel_size, stride=None, padding=0):
        layer = type(self).__name__
        self.kernel_size = pair(kernel_size, layer, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, layer, "stride", 1)
        self.padding = pair(padding, layer, "padding", 0)

    def _pool(self, x):
        raise NotImplementedError

    def forward(self, x) -> Tensor:
        _check_images(f"{type(self).__name__}({self.extra_repr()})", x)
        return self._pool(x)

    def extra_repr(self) -> str:
        sizes = ("kernel_size", self.kernel_size), ("stride", self.stride), ("padding", self.padding)
        return ", ".join(f"{name}={h if h == w else (h, w)}" for name, (h, w) in sizes)


class MaxPool2d(_Pool2d):
    """The maximum of each window; padding is -inf (never the maximum). The gradient goes to
    one maximum per window, also with ties, as PyTorch's."""

    commutes_with_relu = True  # max(relu(a), relu(b)) == relu(max(a, b)): a Sequential pools first

    def _pool(self, x) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window; padded zeros count in the mean, PyTorch's default."""

    def _pool(self, x) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """Axes ``start_dim`` to ``end_dim`` (both included) merged into one: by default
    (N, C, H, W) becomes (N, C * H * W), the input of a Linear."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> Tensor:
        return _tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class BatchNorm2d(_BatchNorm):
    """Normalise each channel of (N, C, H, W) images over the batch and both spatial axes,
    then scale by ``weight`` and shift by ``bias`` (one each per channel).

    Training mode uses the batch's mean and biased variance and updates ``running_mean``
    and ``running_var`` (the variance unbiased) by ``momentum``: new = (1 - momentum) * old
    + momentum * batch; eval mode uses the running averages. State dict keys ``weight``,
    ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``, as PyTorch's.
    """

    rank, layout = 4, "(N, {}, H, W)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, dtype=None):
        super().__init__(num_features, eps, momentum, dtype)


__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm2d"]
