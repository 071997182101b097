"""Pooling layers: MaxPool2d and AvgPool2d over (N, C, H, W) images (the work is nn.functional's)."""
from __future__ import annotations

from autograd import Tensor
from autograd.ops.windows import pair

from .. import functional as F
from .conv import check_images
from .module import Module


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
        check_images(f"{type(self).__name__}({self.extra_repr()})", x)
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

