"""Batch normalisation in training mode as one node: the batch statistics, the scale and
the shift in the forward, the closed-form gradient in the backward.

Built from elementwise ops the same layer is about ten nodes, each with a full-size
output and most saving one (14 ms forward and backward on the cnn-best preset's
(64, 16, 24, 24) activations). Here the forward keeps only the per-channel mean and
1/std, and the backward makes each full-size temporary once. Eval mode stays the
elementwise formula on the running statistics (``nn.layers._BatchNorm``), which is also
what ONNX export traces.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .nn import recorded


class BatchNormTrain(Function):
    """out = xhat * weight + bias, xhat = (x - mean) / sqrt(var + eps), with mean and the
    biased var of each channel (axis 1) over all the other axes (m values each).

    d/dx = weight / std * (grad - mean(grad) - xhat * mean(grad * xhat)),
    d/dweight = sum(grad * xhat), d/dbias = sum(grad), the means and sums per channel.
    ``stats``, a list, receives (mean, var) of the batch for the running averages.
    """

    def __init__(self, eps: float = 1e-5, stats: list | None = None):
        self.eps, self.stats = eps, stats

    def describe(self) -> str:
        """The label of a drawing: ``BatchNormTrain(eps=1e-05)``."""
        return f"BatchNormTrain(eps={self.eps})"

    def attributes(self) -> dict:
        return {"eps": self.eps}

    def forward(self, x, weight, bias):
        axes, view = _axes(x)
        if not x.size:  # no values to take statistics of (a batch of 0): an empty result, as PyTorch
            self.save(x, weight, None, None)
            return np.empty(x.shape, np.result_type(x, weight, bias))
        mean = x.mean(axis=axes, keepdims=True)
        out = x - mean
        var = _per_channel(out, out) / (x.size // x.shape[1])
        inv_std = 1.0 / np.sqrt(var + self.eps)
        out *= (weight * inv_std).reshape(view)  # the centred x, scaled in place
        out += bias.reshape(view)
        if self.stats is not None:
            self.stats.append((mean.reshape(-1), var))
        self.save(x, weight, mean, inv_std)
        return out

    def backward(self, grad):
        x, weight, mean, inv_std = self.saved
        need_x, need_w, need_b = self.needs_input_grad
        axes, view = _axes(x)
        if recorded(grad):
            return self._recorded(grad, x, weight, axes, view)
        if not x.size:
            zeros = np.zeros(weight.shape, grad.dtype)
            return np.zeros(x.shape, grad.dtype), zeros if need_w else None, zeros if need_b else None
        m = x.size // x.shape[1]
        centred = x - mean
        grad_b = grad.sum(axis=axes)
        grad_w = _per_channel(grad, centred) * inv_std   # sum(grad * xhat)
        grad_x = None
        if need_x:
            # weight / std * (grad - grad_b / m - xhat * grad_w / m), as grad * a + centred * b + c
            a = weight * inv_std
            centred *= (-a * inv_std * grad_w / m).reshape(view)
            centred += (-a * grad_b / m).reshape(view)
            grad_x = grad * a.reshape(view)
            grad_x += centred
        return grad_x, grad_w if need_w else None, grad_b if need_b else None

    def _recorded(self, grad, x, weight, axes, view):
        """The same rule with engine ops on Tensors (create_graph): the statistics are
        recomputed from x, so the second derivative sees them depend on it."""
        if not x.data.size:  # a batch of 0: zeros, without the statistics of nothing
            grad_x, grad_b = grad * 0.0, grad.sum(axis=axes)
            return tuple(g if need else None
                         for g, need in zip((grad_x, grad_b * 0.0, grad_b), self.needs_input_grad))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        inv_std = ((centred * centred).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
        xhat = centred * inv_std
        grad_w = (grad * xhat).sum(axis=axes)
        grad_b = grad.sum(axis=axes)
        m = x.data.size // x.shape[1]
        grad_x = (weight.reshape(view) * inv_std) * (grad - (grad_b / m).reshape(view)
                                                      - xhat * (grad_w / m).reshape(view))
        return tuple(g if need else None for g, need in zip((grad_x, grad_w, grad_b), self.needs_input_grad))


def _per_channel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) over every axis but 1, without the full-size product (one pass, any layout)."""
    letters = "nchwdefg"[:a.ndim]
    return np.einsum(f"{letters},{letters}->c", a, b)


def _axes(x) -> tuple:
    """The axes the statistics run over (all but 1), and the view of a per-channel array
    against x: (C, 1, 1) for (N, C, H, W), (C,) for (N, C)."""
    return (0,) + tuple(range(2, x.ndim)), (-1,) + (1,) * (x.ndim - 2)
