"""Matrix product with NumPy's semantics: 1-D, 2-D and batched with broadcast batch dims."""
from __future__ import annotations

import numpy as np

from ..function import Function


def matmul(a, b):
    """a @ b, but an outer product of matrices (a shared axis of length 1) goes to np.dot.

    NumPy's matmul skips BLAS when the shared axis has length 1 (a batch of one in a
    weight gradient, one input feature in a forward): 89 us for (784, 1) @ (1, 100) in
    float32 against 12 us with np.dot, the same BLAS call. Tensors (create_graph) and
    other shapes use ``@``.
    """
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1:
        return np.dot(a, b)
    return a @ b


class MatMul(Function):
    """a @ b.   d/da = grad @ b^T, d/db = a^T @ grad (over the last two axes)

    A 1-D operand is promoted to a matrix as NumPy does (a row for a, a column for b)
    and the promotion undone on its gradient; batch axes are summed by the engine.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"MatMul: shapes {a.shape} and {b.shape}: both operands need at least one dimension")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"MatMul: shapes {a.shape} and {b.shape} do not align")
        try:
            out = matmul(a, b)
        except ValueError:
            raise ValueError(f"MatMul: batch dimensions of shapes {a.shape} and {b.shape} do not broadcast") from None
        self.save(a, b)
        return out

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (matmul(grad, b.T) if need_a else None), (matmul(a.T, grad) if need_b else None)
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if a.ndim == 1:
            grad = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
        if b.ndim == 1:
            grad = grad.reshape(grad.shape + (1,))
        grad_a = grad_b = None
        if need_a:
            grad_a = grad @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                grad_a = _summed_to_vector(grad_a[..., 0, :])
        if need_b:
            grad_b = a2.swapaxes(-1, -2) @ grad
            if b.ndim == 1:
                grad_b = _summed_to_vector(grad_b[..., 0])
        return grad_a, grad_b


def _summed_to_vector(grad):
    """A 1-D operand's gradient (..., K) summed over its batch axes (reshape(-1, K) is
    ambiguous when K or a batch axis is 0)."""
    return grad.sum(axis=tuple(range(grad.ndim - 1))) if grad.ndim > 1 else grad
