"""Causal attention as one node: softmax(q k^T * scale + causal mask) v, with its rule below.

Composed, the same attention is a scale, two batched products, a transpose and a masked
softmax, five nodes with a full (..., L, S) array each. Here the forward keeps only the
attention weights p, computed in place in the scores' array, and the backward works in
place on the one (..., L, S) array it needs. The products run on C-contiguous operands:
NumPy's batched matmul is about four times slower on strided views (a head's slice of the
fused q, k, v projection) than on a contiguous copy of them, copy included. The copies are
made again in backward rather than kept: in a GPT's step they cost about as much memory
as the attention weights.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .nn import Softmax, recorded

_BIASES = {}  # (L, S, dtype) -> the (L, S) array of 0 where key j <= query i, -inf above


def causal_bias(length: int, keys: int, dtype) -> np.ndarray:
    """0 where query i may see key j (j <= i, top-left aligned, as PyTorch), -inf elsewhere; cached."""
    key = (length, keys, np.dtype(dtype))
    bias = _BIASES.get(key)
    if bias is None:
        bias = np.where(np.tril(np.ones((length, keys), dtype=bool)), 0.0, -np.inf).astype(dtype)
        bias.flags.writeable = False
        bias = _BIASES[key] = bias
    return bias


def _contiguous(a):
    return a if type(a) is not np.ndarray else np.ascontiguousarray(a)


class CausalAttention(Function):
    """p @ v with p = softmax(q @ k^T * scale + causal mask) over the keys; q (..., L, E),
    k (..., S, E), v (..., S, Ev), the batch axes equal.

    d/dv = p^T @ grad,  d/dq = ds @ k * scale,  d/dk = ds^T @ q * scale,
    with ds = p * (dp - sum(dp * p) over the keys) and dp = grad @ v^T.
    """

    def __init__(self, scale: float):
        self.scale = scale

    def forward(self, q, k, v):
        self.save(q, k, v)  # the inputs as given: contiguous copies are made again in backward, not kept
        q = np.multiply(q, q.dtype.type(self.scale))  # scaled on the way to a contiguous copy, not in p
        k, v = _contiguous(k), _contiguous(v)
        p = np.matmul(q, k.swapaxes(-1, -2))
        p += causal_bias(q.shape[-2], k.shape[-2], p.dtype)
        p -= p.max(axis=-1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=-1, keepdims=True)
        self.saved += (p,)
        if p.ndim < 3:
            return np.matmul(p, v)
        # written as (..., L, heads, Ev) and returned as its (..., heads, L, Ev) view: a GPT's
        # y.transpose(1, 2).contiguous().view(B, T, C) is then free (no copy, no second array kept)
        out = np.empty(p.shape[:-3] + (p.shape[-2], p.shape[-3], v.shape[-1]), dtype=p.dtype)
        np.matmul(p, v, out=out.swapaxes(-2, -3))
        return out.swapaxes(-2, -3)

    def backward(self, grad):
        q, k, v, p = self.saved
        if recorded(grad):
            return self._differentiable_backward(grad)
        need_q, need_k, need_v = self.needs_input_grad
        scale = p.dtype.type(self.scale)
        k, v, grad = _contiguous(k), _contiguous(v), _contiguous(grad)
        grad_v = np.matmul(p.swapaxes(-1, -2), grad) if need_v else None
        ds = np.matmul(grad, v.swapaxes(-1, -2))  # dp, then ds / scale in place
        row = np.einsum("...ij,...ij->...i", ds, p)
        ds -= row[..., None]
        ds *= p
        grad_q = None
        if need_q:
            grad_q = np.matmul(ds, k)
            grad_q *= scale
        grad_k = np.matmul(ds.swapaxes(-1, -2), np.multiply(q, scale)) if need_k else None
        return grad_q, grad_k, grad_v

    def _differentiable_backward(self, grad):
        """The rule with engine ops (create_graph): p recomputed as a node from the input Tensors."""
        q, k, v = self.inputs
        scores = (q @ k.swapaxes(-1, -2)) * self.scale + causal_bias(q.shape[-2], k.shape[-2], q.dtype)
        p = Softmax.apply(scores, axis=-1)
        need_q, need_k, need_v = self.needs_input_grad
        grad_v = p.swapaxes(-1, -2) @ grad if need_v else None
        dp = grad @ v.swapaxes(-1, -2)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * self.scale
        grad_q = ds @ k if need_q else None
        grad_k = ds.swapaxes(-1, -2) @ q if need_k else None
        return grad_q, grad_k, grad_v
