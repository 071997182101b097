"""Conv2d: the convolutional layer (pooling, flatten and batch norm have files of their own).

Images are (N, C, H, W) and conv weights (out_channels, in_channels, kh, kw), as in
PyTorch, so state dicts carry over both ways. The layers hold the parameters and check
their input; the work is ``nn.functional``'s (``F.conv2d``, ``F.max_pool2d``, ...), which
also converts data that needs no gradient to the weight's dtype (raw pixels, float64).
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.windows import pair

from .. import functional as F
from .. import init as initializers
from .linear import fan_in_bias
from .module import Module, Parameter


def check_images(layer: str, x, channels: int | None = None) -> None:
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
        fan_in_bias(self.bias, initializers.fans(self.weight)[0], rng)

    def forward(self, x) -> Tensor:
        check_images(f"Conv2d({self.extra_repr()})", x, self.in_channels)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text if self.bias is not None else text + ", bias=False"
