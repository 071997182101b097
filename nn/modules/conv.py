"""Conv2d and Conv1d: the convolutional layers (pooling, flatten and batch norm have files of their own).

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


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the checked arguments, the parameters, PyTorch's initialisation.

    ``weight`` is (out_channels, in_channels, *kernel) and ``bias`` (out_channels,), both
    drawn from PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    in_channels * prod(kernel). ``dims`` is 1 or 2; ``pair`` reads an argument for that many axes.
    """

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation,
                 bias: bool, dtype, rng: np.random.Generator | None):
        name = type(self).__name__
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = self._sizes(kernel_size, "kernel_size", 1)
        self.stride = self._sizes(stride, "stride", 1)
        self.padding = self._sizes(padding, "padding", 0)
        self.dilation = self._sizes(dilation, "dilation", 1)
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        # PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        initializers.kaiming_uniform_(self.weight, a=math.sqrt(5.0), rng=rng)
        fan_in_bias(self.bias, initializers.fans(self.weight)[0], rng)

    def _sizes(self, value, name: str, minimum: int) -> tuple:
        """An int or a tuple of ``dims`` ints, each at least ``minimum``, as a tuple (PyTorch's attributes)."""
        if self.dims == 2:
            return pair(value, type(self).__name__, name, minimum)
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise ValueError(f"{type(self).__name__}: {name} must be an int or a 1-tuple, got {value!r}")
            value = value[0]
        return pair(value, type(self).__name__, name, minimum)[:1]

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        return text if self.bias is not None else text + ", bias=False"


class Conv2d(_ConvNd):
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
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias, dtype, rng)

    def forward(self, x) -> Tensor:
        check_images(f"Conv2d({self.extra_repr()})", x, self.in_channels)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)


class Conv1d(_ConvNd):
    """A 1-D convolution (cross-correlation) of (N, C, L) sequences, PyTorch's Conv1d.

    ``weight`` is (out_channels, in_channels, k) and ``bias`` (out_channels,), with
    PyTorch's initialisation and state-dict keys; the output is (N, out_channels, OL),
    OL = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1. Runs as ``F.conv1d``:
    the 2-D convolution on rows of height 1.
    """

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, dtype=None, rng: np.random.Generator | None = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias, dtype, rng)

    def forward(self, x) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) != 3 or shape[1] != self.in_channels:
            raise ValueError(f"Conv1d({self.extra_repr()}): expected input of shape (N, {self.in_channels}, L), "
                             f"got {shape}")
        return F.conv1d(x, self.weight, self.bias, stride=self.stride[0], padding=self.padding[0],
                        dilation=self.dilation[0])
