"""Layer normalisation as one node: the statistics of each row over the last few axes,
the scale and the shift in the forward, the closed-form gradient in the backward.

Composed from elementwise ops the same layer is about ten nodes with a full-size output
each; here the forward keeps only the per-row mean and 1/std (x is kept by the graph).
"""
from __future__ import annotations

import math

import numpy as np

from ..function import Function
from .nn import recorded


class LayerNorm(Function):
    """out = xhat * weight + bias, xhat = (x - mean) / sqrt(var + eps), with the mean and the
    biased var of each row over the last ``dims`` axes (m values each); weight and bias,
    of those axes' shape, are optional (``affine`` says which of the two are inputs).

    d/dx = (1 / std) * (g - mean(g) - xhat * mean(g * xhat)) with g = grad * weight (or grad),
    d/dweight = sum(grad * xhat), d/dbias = sum(grad), the sums over the leading axes.
    """

    def __init__(self, dims: int = 1, eps: float = 1e-5, affine: tuple = (True, True)):
        self.dims, self.eps, self.affine = dims, eps, tuple(affine)

    def forward(self, x, *params):
        axes = self._axes(x)
        mean = x.mean(axis=axes, keepdims=True)
        out = x - mean
        var = np.einsum("...i,...i->...", *[out.reshape(out.shape[:x.ndim - self.dims] + (-1,))] * 2)
        inv_std = 1.0 / np.sqrt(var.reshape(mean.shape) / self._count(x) + self.eps)
        out *= inv_std
        weight, bias = self._params(params)
        if weight is not None:
            out *= weight
        if bias is not None:
            out += bias
        self.save(x, weight, mean, inv_std)
        return out

    def backward(self, grad):
        x, weight, mean, inv_std = self.saved
        axes = self._axes(x)
        if not recorded(grad):
            return self._backward_arrays(grad, x, weight, mean, inv_std)
        # the statistics recomputed from x, so second derivatives see them
        centred = x - x.mean(axis=axes, keepdims=True)
        inv_std = ((centred * centred).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
        xhat = centred * inv_std
        lead = tuple(range(x.ndim - self.dims))
        g = grad if weight is None else grad * weight
        grads = [None]
        if self.needs_input_grad[0]:
            grads[0] = inv_std * (g - g.mean(axis=axes, keepdims=True)
                                  - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        if weight is not None:
            grads.append((grad * xhat).sum(axis=lead) if self.needs_input_grad[len(grads)] else None)
        if self.affine[1]:
            grads.append(grad.sum(axis=lead) if self.needs_input_grad[len(grads)] else None)
        return tuple(grads)

    def _backward_arrays(self, grad, x, weight, mean, inv_std) -> tuple:
        """The rule above on arrays, in place on two fresh arrays; the row sums as products of rows."""
        rows = self._count(x)
        flat = (-1, rows)
        xhat = x - mean
        xhat *= inv_std
        g = grad if weight is None else grad * weight
        grads = [None]
        if weight is not None:
            grads.append(np.einsum("ij,ij->j", grad.reshape(flat), xhat.reshape(flat))
                         .reshape(weight.shape) if self.needs_input_grad[1] else None)
        if self.affine[1]:
            grads.append(grad.reshape(flat).sum(axis=0).reshape(grad.shape[x.ndim - self.dims:])
                         if self.needs_input_grad[len(grads)] else None)
        if self.needs_input_grad[0]:
            g_mean = g.mean(axis=self._axes(x), keepdims=True)
            gx_mean = np.einsum("ij,ij->i", g.reshape(flat), xhat.reshape(flat)).reshape(g_mean.shape)
            gx_mean /= rows
            xhat *= gx_mean
            np.subtract(g, xhat, out=xhat)
            xhat -= g_mean
            xhat *= inv_std
            grads[0] = xhat
        return tuple(grads)

    def _axes(self, x) -> tuple:
        return tuple(range(x.ndim - self.dims, x.ndim))

    def _count(self, x) -> int:
        return math.prod(x.shape[x.ndim - self.dims:])

    def _params(self, params) -> tuple:
        params = list(params)
        weight = params.pop(0) if self.affine[0] else None
        bias = params.pop(0) if self.affine[1] else None
        return weight, bias


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """PyTorch's F.layer_norm: x normalised over its last len(normalized_shape) axes, then
    scaled by ``weight`` and shifted by ``bias`` (each of shape normalized_shape, optional)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    dims = len(shape)
    if dims == 0 or x.ndim < dims or tuple(x.shape[x.ndim - dims:]) != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}")
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != shape:
            raise ValueError(f"layer_norm: {name} of shape {param.shape} does not match normalized_shape {shape}")
    params = [p for p in (weight, bias) if p is not None]
    return LayerNorm.apply(x, *params, dims=dims, eps=eps, affine=(weight is not None, bias is not None))
