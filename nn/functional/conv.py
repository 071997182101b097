"""The convolution functions of nn.functional: conv2d (and conv1d on it), max_pool2d, avg_pool2d, unfold, fold.

Each is one node of ``autograd/ops/conv.py`` or ``pool.py``; integer arguments take an
int or an (h, w) pair, checked by the op (``autograd/ops/windows.py``). Data that is not
a Tensor, and a Tensor that needs no gradient in another dtype than the weight (uint8 or
float64 pixels into a float32 model), is converted to the weight's dtype, as F.linear does.
"""
from __future__ import annotations

from autograd import Tensor, as_tensor
from autograd.ops.conv import Conv2d, Fold, Unfold
from autograd.ops.pool import AvgPool2d, MaxPool2d


def _images(x, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; data that needs no gradient takes ``like``'s dtype."""
    if not isinstance(x, Tensor):
        x = like._operand(x) if like is not None else as_tensor(x)
    if like is not None and x.dtype != like.dtype and not x.requires_grad:
        return Tensor._result(x.data.astype(like.dtype), None)
    return x


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1) -> Tensor:
    """The 2-D cross-correlation of ``input`` (N, C, H, W) with ``weight`` (O, C, kh, kw), plus ``bias`` (O,).

    Output (N, O, OH, OW), OH = (H + 2*padding - dilation*(kh - 1) - 1) // stride + 1, as PyTorch.
    """
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight)
    x = _images(input, weight)
    attributes = dict(stride=stride, padding=padding, dilation=dilation)
    if bias is None:
        return Conv2d.apply(x, weight, **attributes)
    return Conv2d.apply(x, weight, bias if isinstance(bias, Tensor) else as_tensor(bias), **attributes)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1) -> Tensor:
    """The 1-D cross-correlation of ``input`` (N, C, L) with ``weight`` (O, C, k), plus ``bias`` (O,).

    Output (N, O, OL), OL = (L + 2*padding - dilation*(k - 1) - 1) // stride + 1, as PyTorch:
    ``conv2d`` on images of height 1 (each a Reshape, so the gradients reshape back).
    """
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight)
    x = _images(input, weight)
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expected input (N, C, L) and weight (O, C, k), got shapes {x.shape} and "
                         f"{weight.shape}")
    n, channels, length = x.shape
    out = conv2d(x.reshape(n, channels, 1, length), weight.reshape(*weight.shape[:2], 1, weight.shape[2]), bias,
                 stride=(1, _single(stride, "stride")), padding=(0, _single(padding, "padding")),
                 dilation=(1, _single(dilation, "dilation")))
    return out.reshape(n, out.shape[1], out.shape[3])


def _single(value, name: str) -> int:
    """An int, or PyTorch's one-element tuple, for a conv1d argument."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def max_pool2d(input, kernel_size, stride=None, padding=0) -> Tensor:
    """The maximum of each window (stride defaults to kernel_size; padding is -inf).

    The gradient goes to one maximum per window (the first in row-major order), as PyTorch's.
    """
    return MaxPool2d.apply(_images(input), kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0) -> Tensor:
    """The mean of each window (stride defaults to kernel_size); the zero padding counts in the mean."""
    return AvgPool2d.apply(_images(input), kernel_size=kernel_size, stride=stride, padding=padding)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), one column per window, as torch's F.unfold."""
    return Unfold.apply(_images(input), kernel_size=kernel_size, dilation=dilation, padding=padding,
                        stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im, the adjoint of unfold: (N, C*kh*kw, L) -> (N, C, *output_size), overlaps summed."""
    return Fold.apply(_images(input), output_size=output_size, kernel_size=kernel_size, dilation=dilation,
                      padding=padding, stride=stride)
