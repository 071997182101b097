"""Loss functions (nn.functional's losses): checks and conversions, then one node each.

Every loss takes ``reduction``: "mean" (default), "sum" or "none". The fused nodes are
in ``loss_ops.py``; ``mse_loss`` and ``l1_loss`` are built from engine ops, and so are
``nll_loss`` and a cross-entropy with class weights or ignored targets (``nll.py``).
"""
from __future__ import annotations

import warnings

import numpy as np

from autograd import Tensor

from .loss_ops import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy
from .nll import nll_loss, weighted_cross_entropy
from .reduction import check_reduction

def _target(target, like: Tensor) -> Tensor:
    """``target`` as a Tensor; arrays and numbers take the input's dtype (constants, no grad)."""
    if isinstance(target, Tensor):
        return target
    return Tensor._result(np.asarray(target).astype(like.dtype, copy=False), None)


def _check_shapes(name: str, input_shape: tuple, target_shape: tuple, stacklevel: int = 3) -> None:
    """Raise for shapes that do not broadcast; warn when the target broadcasts the input up.

    The classic case: predictions of shape (N, 1) against targets of shape (N,) give an
    (N, N) matrix of every prediction against every target, and a loss that looks fine.
    The warning points at the caller of the loss (``stacklevel=3``, one more for a loss
    that calls a helper which calls this), so the ``warnings``
    module's default filter shows it once per line of user code, not once per process.
    """
    if input_shape == target_shape:
        return
    try:
        shape = np.broadcast_shapes(input_shape, target_shape)
    except ValueError:
        raise ValueError(f"{name}: input of shape {input_shape} and target of shape {target_shape} "
                         f"do not broadcast") from None
    if shape != input_shape:
        warnings.warn(
            f"{name}: input of shape {input_shape} and target of shape {target_shape} broadcast to "
            f"{shape}, comparing every prediction with every target; reshape one of them "
            f"(e.g. target.reshape(-1, 1)) if that is not what you meant", UserWarning, stacklevel=stacklevel)


def cross_entropy(logits, labels, reduction: str = "mean", label_smoothing: float = 0.0, *, weight=None,
                  ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy of logits (N, C), stable for any finite logits.

    ``labels``: int class indices of shape (N,), or one-hot / probability targets of
    the logits' shape (floats). ``label_smoothing`` eps mixes the targets with the
    uniform distribution, q (1 - eps) + eps / C, as PyTorch defines it. ``weight`` (one
    number per class) and ``ignore_index`` (class-index targets equal to it count
    nothing) are PyTorch's: "mean" then divides by the sum of the kept targets' weights
    (see ``nll.py``). Without them it is one fused node, whose gradient is
    (softmax - q) / N for "mean".

    The third positional argument is ``reduction`` (this library's order); PyTorch's
    ``cross_entropy(logits, labels, weight)``, an array there, is taken as the weight.
    """
    if not isinstance(reduction, str):   # PyTorch's positional order: (input, target, weight)
        if weight is not None:
            raise TypeError("cross_entropy: weight given twice (the third positional argument is reduction)")
        reduction, weight = "mean", reduction
    check_reduction("cross_entropy", reduction)
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    n, classes = logits.shape
    label_smoothing = float(label_smoothing)
    if isinstance(labels, Tensor) and labels.shape == logits.shape:
        target = labels if labels.dtype.kind == "f" else Tensor._result(labels.data.astype(logits.dtype), None)
    else:
        array = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
        if array.shape == logits.shape:   # probabilities, or a one-hot array (F.one_hot's int64)
            target = Tensor._result(array.astype(logits.dtype, copy=False), None)
        elif array.shape == (n,):
            if weight is not None or (array == ignore_index).any():
                return weighted_cross_entropy(logits, array, weight, ignore_index, reduction, label_smoothing)
            target = Tensor._result(_class_indices(array, classes), None)
        else:
            raise ValueError(f"cross_entropy: labels of shape {array.shape} do not fit logits of shape "
                             f"{logits.shape}: give class indices of shape ({n},) or targets of shape {logits.shape}")
    if weight is not None:
        return weighted_cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing)
    return CrossEntropy.apply(logits, target, reduction=reduction, label_smoothing=label_smoothing)


def _class_indices(labels: np.ndarray, classes: int) -> np.ndarray:
    if labels.dtype.kind == "f":
        if not np.array_equal(labels, np.round(labels)):
            raise ValueError("cross_entropy: labels of shape (N,) must be integer class indices")
        labels = labels.astype(np.intp)
    elif labels.dtype.kind not in "iub":
        raise TypeError(f"cross_entropy: labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"cross_entropy: labels must be in [0, {classes}), "
                         f"got values from {labels.min()} to {labels.max()}")
    return labels if labels.dtype.kind in "iu" else labels.astype(np.intp)


def binary_cross_entropy(probs, targets, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], one fused node.

    Each log is clamped at -100 as PyTorch does, so saturated outputs (p = 0 or 1)
    give a finite loss and gradient. Prefer ``binary_cross_entropy_with_logits``.
    """
    check_reduction("binary_cross_entropy", reduction)
    probs = probs if isinstance(probs, Tensor) else Tensor(probs)
    target = _target(targets, probs)
    _check_shapes("binary_cross_entropy", probs.shape, target.shape)
    if probs.size and (probs.data.min() < 0 or probs.data.max() > 1):
        raise ValueError("binary_cross_entropy: inputs must be probabilities in [0, 1]; "
                         "for raw scores use binary_cross_entropy_with_logits")
    return BinaryCrossEntropy.apply(probs, target, reduction=reduction)


def binary_cross_entropy_with_logits(logits, targets, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(logits), computed stably as softplus(z) - y z (one node)."""
    check_reduction("binary_cross_entropy_with_logits", reduction)
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    target = _target(targets, logits)
    _check_shapes("binary_cross_entropy_with_logits", logits.shape, target.shape)
    return BinaryCrossEntropyWithLogits.apply(logits, target, reduction=reduction)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:  # noqa: A002 (PyTorch's name)
    """Mean squared error (input - target)**2, reduced; built from engine ops."""
    return _pointwise("mse_loss", input, target, reduction, lambda diff: diff * diff)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:  # noqa: A002 (PyTorch's name)
    """Mean absolute error |input - target|, reduced; gradient sign(input - target) (0 at 0, as PyTorch)."""
    return _pointwise("l1_loss", input, target, reduction, lambda diff: diff.abs())


def _pointwise(name: str, input, target, reduction: str, error) -> Tensor:  # noqa: A002
    """``error(input - target)`` for each element (engine ops), then reduced."""
    check_reduction(name, reduction)
    input = input if isinstance(input, Tensor) else Tensor(input)
    target = _target(target, input)
    _check_shapes(name, input.shape, target.shape, stacklevel=4)   # the warning names the line calling the loss
    errors = error(input - target)
    if reduction == "none":
        return errors
    return errors.mean() if reduction == "mean" else errors.sum()


__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "l1_loss", "check_reduction"]
