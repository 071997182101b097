"""The fused loss nodes: CrossEntropy, BinaryCrossEntropy, BinaryCrossEntropyWithLogits.

Each is one node from the inputs to the reduced loss ("mean", "sum" or "none").
Targets are inputs of the node, so a target that requires grad gets its gradient
too (as in PyTorch). The gradient rules run in place on fresh arrays; under
``create_graph=True`` (``grad`` is a Tensor) they recompute what they need from
``self.inputs`` with engine ops, because the probabilities they keep are not the
node's output and would otherwise be constants to the second derivative.
"""
from __future__ import annotations

import math

import numpy as np

from autograd import Tensor
from autograd.function import Function
from autograd.functions import where
from autograd.ops.elementwise import Sigmoid
from autograd.ops.nn import LogSoftmax, Softmax, log_softmax, recorded

_LOG_FLOOR = -100.0   # PyTorch clamps the logs of binary_cross_entropy here
_EPSILON = 1e-12      # and the denominator of its gradient here


def _reduce(values: np.ndarray, reduction: str) -> np.ndarray:
    """The mean or sum of the per-element losses as a 0-d array of their dtype; all of them for "none"."""
    if reduction == "mean":  # of no values: NaN, as PyTorch, without NumPy's "Mean of empty slice"
        return np.asarray(values.mean() if values.size else np.nan, dtype=values.dtype)
    if reduction == "sum":  # the ufunc itself: ndarray.sum() is a Python wrapper around it (0.6 us)
        return np.asarray(np.add.reduce(values, None))
    return values


def _scale(grad, reduction: str, count: int):
    """The upstream gradient as a factor on each element's gradient (of no elements: any)."""
    return grad / count if reduction == "mean" and count else grad


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) against int labels (N,) or targets (N, C).

    loss_i = -sum_c q_ic log softmax(z_i)_c with q the one-hot labels or the given
    targets, smoothed as q (1 - eps) + eps / C (PyTorch's label_smoothing).
    d/dz = (softmax(z) sum_c q - q) * grad (divided by N for "mean"),
    d/dq = -(1 - eps) log softmax(z) * grad.
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, logits, target):
        n, classes = logits.shape
        if not classes:  # no softmax of nothing (PyTorch gives -0 a row, yet NaN for their mean)
            raise ValueError(f"CrossEntropy: logits of shape {logits.shape} have no classes")
        eps = self.label_smoothing
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=1, keepdims=True)
        lse = np.log(total).reshape(n)
        probs /= total
        if target.dtype.kind in "iu":
            loss = lse - shifted[np.arange(n), target]
            if eps:
                loss *= 1.0 - eps
                loss += eps * (lse - shifted.mean(axis=1))
        else:
            q = self._smoothed(target, classes)
            loss = lse * q.sum(axis=1) - np.einsum("ij,ij->i", q, shifted)
        self.save(logits, probs, target)
        return _reduce(loss.astype(logits.dtype, copy=False), self.reduction)

    def _smoothed(self, target, classes: int):
        eps = self.label_smoothing
        return target * (1.0 - eps) + eps / classes if eps else target

    def backward(self, grad):
        logits, probs, target = self.saved
        n, classes = probs.shape
        scale = _scale(grad, self.reduction, n)
        if self.reduction == "none":
            scale = scale.reshape(n, 1)
        need_logits, need_target = self.needs_input_grad
        if recorded(grad):
            return self._recorded_backward(scale, need_logits, need_target)
        grad_target = None
        if need_target:
            grad_target = log_softmax(logits, axis=1)
            grad_target *= -(1.0 - self.label_smoothing) * scale
        if not need_logits:
            return None, grad_target
        if target.dtype.kind in "iu":
            result = np.multiply(probs, scale, dtype=probs.dtype)
            rows = np.arange(n)
            result[rows, target] -= (1.0 - self.label_smoothing) * (scale.reshape(n) if scale.ndim else scale)
            if self.label_smoothing:
                result -= self.label_smoothing / classes * scale
        else:
            q = self._smoothed(target, classes)
            result = np.multiply(probs, q.sum(axis=1, keepdims=True), dtype=probs.dtype)
            result -= q
            result *= scale
        return result, grad_target

    def _recorded_backward(self, scale, need_logits, need_target):
        logits, target = self.inputs
        classes = logits.shape[1]
        grad_logits = grad_target = None
        if need_logits:
            probs = Softmax.apply(logits, axis=1)
            if target.data.dtype.kind in "iu":
                q = (1.0 - self.label_smoothing) * np.eye(classes, dtype=logits.dtype)[target.data]
                grad_logits = (probs - (q + self.label_smoothing / classes)) * scale
            else:
                q = self._smoothed(target, classes)
                grad_logits = (probs * q.sum(axis=1, keepdims=True) - q) * scale
        if need_target:
            grad_target = -(1.0 - self.label_smoothing) * LogSoftmax.apply(logits, axis=1) * scale
        return grad_logits, grad_target


class _BinaryLoss(Function):
    """An elementwise loss of an input and a target of the same (or a broadcast) shape.

    Subclasses give ``losses(a, y)`` (the unreduced values, a fresh array, and any array
    the gradient rule reuses, or None) and the gradients ``grads(a, y, kept, scale,
    need_a, need_y)``, written once for arrays and once with engine ops
    (``recorded_grads``, for create_graph). Both gradients are given the broadcast shape
    of a and y (as PyTorch's); the engine sums each back to its input's shape. A 0-d
    input is handled as shape (1,), so the subclasses' in-place arithmetic always has
    arrays to write to (NumPy gives scalars for 0-d results).
    """

    def __init__(self, reduction: str = "mean"):
        self.reduction = reduction

    def forward(self, a, y):
        losses, kept = self.losses(_lifted(a), _lifted(y))
        self.save(a, y, kept)
        return _reduce(losses.reshape(()) if a.ndim == y.ndim == 0 else losses, self.reduction)

    def backward(self, grad):
        a, y, kept = self.saved
        same = a.shape == y.shape
        shape = a.shape if same else np.broadcast_shapes(a.shape, y.shape)
        scale = _scale(grad, self.reduction, math.prod(shape))
        if recorded(grad):
            grads = self.recorded_grads(*self.inputs, scale, *self.needs_input_grad)
        else:
            grads = self.grads(_lifted(a), _lifted(y), kept, scale, *self.needs_input_grad)
        if same and shape:  # already of the inputs' shape
            return grads
        return tuple([_broadcast(g, shape) for g in grads])

    def losses(self, a: np.ndarray, y: np.ndarray) -> tuple:
        """(the unreduced loss of each element, a fresh array of the broadcast shape; an array
        ``grads`` reuses, or None)."""
        raise NotImplementedError

    def grads(self, a: np.ndarray, y: np.ndarray, kept, scale, need_a: bool, need_y: bool) -> tuple:
        """(d/da, d/dy) times ``scale`` on arrays, None where not needed; ``kept`` is what
        ``losses`` returned beside the values."""
        raise NotImplementedError

    def recorded_grads(self, a: Tensor, y: Tensor, scale, need_a: bool, need_y: bool) -> tuple:
        """The same as ``grads`` with engine ops on Tensors, so create_graph records them."""
        raise NotImplementedError


def _lifted(array: np.ndarray) -> np.ndarray:
    """A 0-d array as shape (1,), which broadcasts the same against the other input."""
    return array.reshape(1) if array.ndim == 0 else array


def _broadcast(grad, shape: tuple):
    """``grad`` (array, Tensor or None) given ``shape``: broadcast up, or a lifted (1,) back to ()."""
    if grad is None or grad.shape == shape:
        return grad
    if not shape:
        return grad.reshape(())
    return np.broadcast_to(grad, shape) if isinstance(grad, np.ndarray) else grad.broadcast_to(shape)


class BinaryCrossEntropy(_BinaryLoss):
    """-(y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does.

    d/dp = (p - y) / max(p (1 - p), 1e-12),  d/dy = log(1 - p) - log(p) (clamped logs).
    """

    def losses(self, p, y):
        log_p, log_q = _clamped_logs(p)
        log_p -= log_q
        loss = y * log_p
        loss += log_q
        return np.negative(loss, out=loss), None

    def grads(self, p, y, kept, scale, need_p, need_y):
        grad_p = grad_y = None
        if need_p:
            spread = p * (1.0 - p)
            np.maximum(spread, _EPSILON, out=spread)
            grad_p = p - y
            grad_p /= spread
            grad_p *= scale
        if need_y:
            log_p, log_q = _clamped_logs(p)
            log_q -= log_p
            grad_y = np.multiply(log_q, scale)
        return grad_p, grad_y

    def recorded_grads(self, p, y, scale, need_p, need_y):
        grad_p = grad_y = None
        if need_p:
            spread = p * (1.0 - p)
            grad_p = (p - y) / where(spread.data > _EPSILON, spread, _EPSILON) * scale
        if need_y:
            grad_y = (_clamped_log(1.0 - p) - _clamped_log(p)) * scale
        return grad_p, grad_y


def _clamped_logs(p: np.ndarray):
    """log(p) and log(1 - p), each clamped below at -100 (fresh arrays)."""
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_q = np.log1p(-p)
    np.maximum(log_p, _LOG_FLOOR, out=log_p)
    np.maximum(log_q, _LOG_FLOOR, out=log_q)
    return log_p, log_q


def _clamped_log(t: Tensor) -> Tensor:
    """log(t) clamped below at -100, recorded (for create_graph)."""
    with np.errstate(divide="ignore"):
        log_t = t.log()
    return where(log_t.data > _LOG_FLOOR, log_t, _LOG_FLOOR)


class BinaryCrossEntropyWithLogits(_BinaryLoss):
    """softplus(z) - y z = max(z, 0) - y z + log(1 + exp(-|z|)): no overflow for any z.

    d/dz = sigmoid(z) - y,  d/dy = -z.   The forward keeps e = exp(-|z|), from which
    sigmoid(z) is 1 / (1 + e) for z >= 0 and e / (1 + e) below: the gradient then takes
    four passes over the logits instead of eight.
    """

    def losses(self, z, y):
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)
        softplus = np.log1p(e)
        softplus += np.maximum(z, 0)
        loss = z * y
        return np.subtract(softplus, loss, out=loss), e

    def grads(self, z, y, e, scale, need_z, need_y):
        grad_z = grad_y = None
        if need_z:
            sigmoid = np.maximum(e, z >= 0)  # the numerator: 1 where z >= 0 (e <= 1 there), else e; a NaN stays
            sigmoid /= e + 1.0
            grad_z = np.subtract(sigmoid, y, out=sigmoid) if y.shape == z.shape else sigmoid - y
            grad_z *= scale
        if need_y:
            grad_y = np.multiply(z, scale)
            np.negative(grad_y, out=grad_y)
        return grad_z, grad_y

    def recorded_grads(self, z, y, scale, need_z, need_y):
        return ((Sigmoid.apply(z) - y) * scale if need_z else None), (-z * scale if need_y else None)
