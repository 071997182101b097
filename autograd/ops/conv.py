"""Convolution: Unfold (im2col), its adjoint Fold (col2im), and Conv2d built on them.

Images are (N, C, H, W), weights (O, C, kh, kw), as in PyTorch. A convolution is an
unfold followed by one matrix product, so its gradients are the same two pieces run
backwards: d/dx folds W^T @ grad back into an image, d/dW multiplies grad by the
unfolded input. Unfold and Fold are each other's gradient, so every rule here is
differentiable again (``create_graph=True``) when it runs on Tensors. On arrays Conv2d
takes the batch-last GEMM path of ``conv_arrays.py``.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .nn import recorded
from . import conv_arrays
from .windows import check_image, col2im, im2col, output_size, pair, window_label


def _window_attributes(op: str, kernel_size, dilation, padding, stride) -> tuple:
    return (pair(kernel_size, op, "kernel_size", 1), pair(dilation, op, "dilation", 1),
            pair(padding, op, "padding", 0), pair(stride, op, "stride", 1))


def _describe_window(op, name: str, **extra) -> str:
    return window_label(name, op.kernel_size, stride=(op.stride, (1, 1)), padding=(op.padding, (0, 0)),
                        dilation=(op.dilation, (1, 1)), **extra)


class Unfold(Function):
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), one column per window, in F.unfold's order.

    gradient: Fold (col2im) of grad back to (H, W), overlapping windows adding up.
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        self.kernel_size, self.dilation, self.padding, self.stride = _window_attributes(
            "Unfold", kernel_size, dilation, padding, stride)

    def describe(self) -> str:
        """The label of a drawing: ``Unfold(3x3, padding=1)``."""
        return _describe_window(self, "Unfold")

    def forward(self, x):
        check_image("Unfold", x)
        size = x.shape[2:]
        out_size = output_size("Unfold", size, self.kernel_size, self.stride, self.padding, self.dilation)
        self.save(size)
        return im2col(x, self.kernel_size, self.stride, self.padding, self.dilation, out_size)

    def backward(self, grad):
        (size,) = self.saved
        return fold(grad, size, self.kernel_size, self.dilation, self.padding, self.stride)


class Fold(Function):
    """col2im: (N, C*kh*kw, L) -> (N, C, H, W), each column added back into its window.

    gradient: Unfold of grad (the adjoint of a sum of slices is the slices).
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        self.output_size = pair(output_size, "Fold", "output_size", 1)
        self.kernel_size, self.dilation, self.padding, self.stride = _window_attributes(
            "Fold", kernel_size, dilation, padding, stride)

    def describe(self) -> str:
        """The label of a drawing: ``Fold(3x3, padding=1, output_size=28)``."""
        return _describe_window(self, "Fold", output_size=(self.output_size, None))

    def forward(self, cols):
        kh, kw = self.kernel_size
        out_size = output_size("Fold", self.output_size, self.kernel_size, self.stride, self.padding,
                               self.dilation)
        if cols.ndim != 3 or cols.shape[1] % (kh * kw) or cols.shape[2] != out_size[0] * out_size[1]:
            raise ValueError(
                f"Fold: input of shape {cols.shape} does not fit output_size {self.output_size} with "
                f"kernel_size {self.kernel_size}: it must be (N, C*{kh * kw}, {out_size[0] * out_size[1]}) "
                f"({out_size[0]}x{out_size[1]} windows)")
        return col2im(cols, self.output_size, self.kernel_size, self.stride, self.padding, self.dilation,
                      out_size)

    def backward(self, grad):
        return unfold(grad, self.kernel_size, self.dilation, self.padding, self.stride)


def unfold(x, kernel_size, dilation, padding, stride):
    """Unfold on an array, or recorded when ``x`` is a Tensor (a differentiable rule)."""
    op = Unfold(kernel_size, dilation, padding, stride)
    return Unfold.apply(x, **op.attributes()) if recorded(x) else op.forward(x)


def fold(cols, output_size, kernel_size, dilation, padding, stride):
    """Fold on an array, or recorded when ``cols`` is a Tensor (a differentiable rule)."""
    op = Fold(output_size, kernel_size, dilation, padding, stride)
    return Fold.apply(cols, **op.attributes()) if recorded(cols) else op.forward(cols)


class Conv2d(Function):
    """Cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), plus bias (O,).

    out[n] = W2 @ unfold(x)[n] + b, with W2 = weight.reshape(O, C*kh*kw);
    d/dx = fold(W2^T @ grad),  d/dW = sum over n of grad[n] @ unfold(x)[n]^T,
    d/db = grad summed over N, OH, OW.
    """

    def __init__(self, stride=1, padding=0, dilation=1):
        self.stride = pair(stride, "Conv2d", "stride", 1)
        self.padding = pair(padding, "Conv2d", "padding", 0)
        self.dilation = pair(dilation, "Conv2d", "dilation", 1)

    def describe(self) -> str:
        """The label of a drawing: the kernel (the weight's last two axes), stride, padding, dilation."""
        inputs = getattr(self, "inputs", None)
        return window_label("Conv2d", inputs[1].shape[2:] if inputs else None, stride=(self.stride, (1, 1)),
                            padding=(self.padding, (0, 0)), dilation=(self.dilation, (1, 1)))

    def forward(self, x, weight, bias=None):
        check_image("Conv2d", x)
        if weight.ndim != 4:
            raise ValueError(f"Conv2d: weight must be 4-D (out_channels, in_channels, kh, kw), "
                             f"got shape {weight.shape}")
        if x.shape[1] != weight.shape[1]:
            raise ValueError(f"Conv2d: input of shape {x.shape} has {x.shape[1]} channels but weight of "
                             f"shape {weight.shape} expects {weight.shape[1]}")
        if bias is not None and bias.shape != weight.shape[:1]:
            raise ValueError(f"Conv2d: bias of shape {bias.shape} does not fit weight of shape {weight.shape} "
                             f"(it must be ({weight.shape[0]},))")
        kernel = weight.shape[2:]
        if not all(kernel):
            raise ValueError(f"Conv2d: weight of shape {weight.shape} has an empty kernel (kh and kw must be positive)")
        out_size = output_size("Conv2d", x.shape[2:], kernel, self.stride, self.padding, self.dilation)
        out, unfolding = conv_arrays.conv2d(x, weight, bias, self.stride, self.padding, self.dilation, out_size)
        self.save(x, weight, unfolding)  # a receipt for the scratch the unfolding is in (see conv_arrays.receipt)
        return out

    def backward(self, grad):
        x, weight, unfolding = self.saved
        needs = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        if not recorded(grad):
            grads = conv_arrays.conv2d_backward(grad, x, weight, needs, self.stride, self.padding, self.dilation,
                                                unfolding)
            return grads[:len(self.needs_input_grad)]
        # create_graph: the same formula with engine ops (Unfold, MatMul, Fold) on the Tensors
        n, o, oh, ow = grad.shape
        kernel = weight.shape[2:]
        rows = grad.reshape(n, o, oh * ow)  # not -1, which a batch of 0 leaves undetermined
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = fold(weight.reshape(o, -1).T @ rows, x.shape[2:], kernel, self.dilation, self.padding,
                          self.stride)
        if needs[1]:
            cols = unfold(x, kernel, self.dilation, self.padding, self.stride)
            grad_w = (rows @ cols.swapaxes(1, 2)).sum(axis=0).reshape(weight.shape)
        if needs[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return (grad_x, grad_w, grad_b)[:len(self.needs_input_grad)]
