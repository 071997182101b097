"""Pooling: MaxPool2d and AvgPool2d over (N, C, H, W) images, rules beside forwards.

Max pooling sends each window's gradient to one element: the first maximum of the
window in row-major order, as PyTorch does, also when several elements tie. Its rule is
a ScatterAdd of the gradient into the input's positions, itself differentiable (its
gradient is an index). Average pooling counts the zero padding in the average (PyTorch's
count_include_pad=True); its rule is a Fold of the gradient spread evenly over each window.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .conv import fold
from .nn import recorded
from .shape import ScatterAdd
from .windows import check_image, col2im, output_size, padded, pair, window_label, windows

_NO_DILATION = (1, 1)


class _Pool2d(Function):
    """The attributes and checks the two pools share."""

    def __init__(self, kernel_size, stride=None, padding=0):
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, name, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, name, "stride", 1)
        self.padding = pair(padding, name, "padding", 0)

    def describe(self) -> str:
        """The label of a drawing: ``MaxPool2d(2x2)``, with stride and padding when not the defaults."""
        return window_label(type(self).__name__, self.kernel_size, stride=(self.stride, self.kernel_size),
                            padding=(self.padding, (0, 0)))

    def _out_size(self, x: np.ndarray) -> tuple:
        name = type(self).__name__
        check_image(name, x)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half of kernel_size "
                             f"{self.kernel_size}")
        return output_size(name, x.shape[2:], self.kernel_size, self.stride, self.padding, _NO_DILATION)


class MaxPool2d(_Pool2d):
    """The maximum of each window; padding is -inf, so it never wins.

    gradient: grad added at the position of each window's (first) maximum.
    """

    def forward(self, x):
        out_size = self._out_size(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        n, c, h, w = x.shape
        view = windows(padded(x, self.padding, -np.inf), self.kernel_size, self.stride, _NO_DILATION, out_size)
        # (N, C, OH, OW, kh*kw): each window's elements in row-major order, so argmax takes the first max
        flat = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, *out_size, kh * kw)
        arg = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        i, j = np.divmod(arg, kw)
        # Row and column in x of each maximum (clipped: a window of padding and -inf picks its edge).
        rows = np.clip(i + (np.arange(out_size[0]) * sh - ph)[:, None], 0, h - 1)
        cols = np.clip(j + np.arange(out_size[1]) * sw - pw, 0, w - 1)
        planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
        self.save(planes + rows * w + cols, x.shape)
        return out

    def backward(self, grad):
        index, shape = self.saved
        size = int(np.prod(shape))
        if recorded(grad):
            return ScatterAdd.apply(grad.reshape(-1), index=(index.reshape(-1),), shape=(size,)).reshape(shape)
        out = np.zeros(size, dtype=grad.dtype)
        if all(s >= k for s, k in zip(self.stride, self.kernel_size)):
            out[index.reshape(-1)] = grad.reshape(-1)  # windows do not overlap: every index is unique
        else:
            np.add.at(out, index.reshape(-1), grad.reshape(-1))
        return out.reshape(shape)


class AvgPool2d(_Pool2d):
    """The mean of each window, zero padding included (count_include_pad=True).

    gradient: grad / (kh*kw) added to every element of its window (a Fold).
    """

    def forward(self, x):
        out_size = self._out_size(x)
        view = windows(padded(x, self.padding), self.kernel_size, self.stride, _NO_DILATION, out_size)
        self.save(x.shape[2:])
        return view.mean(axis=(2, 3))

    def backward(self, grad):
        (size,) = self.saved
        (kh, kw), out_size = self.kernel_size, grad.shape[2:]
        n, c = grad.shape[:2]
        share = grad / (kh * kw)
        if recorded(grad):
            blocks = share.reshape(n, c, 1, -1).broadcast_to((n, c, kh * kw, share.shape[2] * share.shape[3]))
            return fold(blocks.reshape(n, c * kh * kw, -1), size, self.kernel_size, _NO_DILATION,
                        self.padding, self.stride)
        blocks = np.broadcast_to(share[:, :, None, None], (n, c, kh, kw, *out_size))
        return col2im(blocks, size, self.kernel_size, self.stride, self.padding, _NO_DILATION, out_size)
