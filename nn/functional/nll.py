"""Class-index losses with PyTorch's ``weight`` and ``ignore_index``: nll_loss, and the
cross-entropy they make with a log-softmax.

Built from engine ops (the picked log-probabilities are an integer-array index, whose
gradient scatters back), so second derivatives come for free. The unweighted
cross-entropy without ignored targets stays ``loss_ops.CrossEntropy``, one fused node.

PyTorch's arithmetic, which these follow: each target i has the weight w_i =
weight[target_i], 0 when target_i == ignore_index; "mean" divides the weighted sum by
sum_i w_i (not by N), so a weight rescales the classes against each other, not the loss.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor
from autograd.ops.nn import LogSoftmax

from .reduction import check_reduction


def class_weight(name: str, weight, classes: int, dtype) -> np.ndarray | None:
    """``weight`` (None, an array or a Tensor of one number per class) as a constant array of ``dtype``."""
    if weight is None:
        return None
    array = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if array.shape != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), got {array.shape}")
    return array


def class_targets(name: str, target, n: int, classes: int, ignore_index: int) -> tuple:
    """(labels with the ignored ones set to 0, mask of the kept ones) from int targets of shape (n,)."""
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.shape != (n,):
        raise ValueError(f"{name}: target must be class indices of shape ({n},), got shape {labels.shape}")
    if labels.dtype.kind == "f" and np.array_equal(labels, np.round(labels)):
        labels = labels.astype(np.intp)
    if labels.dtype.kind not in "iub":
        raise TypeError(f"{name}: target must be integer class indices, got dtype {labels.dtype}")
    kept = labels != ignore_index
    picked = labels[kept]
    if picked.size and (picked.min() < 0 or picked.max() >= classes):
        raise ValueError(f"{name}: targets must be in [0, {classes}) or ignore_index={ignore_index}, "
                         f"got values from {picked.min()} to {picked.max()}")
    return np.where(kept, labels, 0).astype(np.intp), kept


def nll_loss(input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean") -> Tensor:  # noqa: A002
    """The negative log-likelihood -w_i input[i, target_i] of log-probabilities ``input`` (N, C).

    As ``torch.nn.functional.nll_loss``: ``input`` is (N, C) (or (C,) with a 0-d target, or
    (N, C, d1, ...) with a target (N, d1, ...)), usually ``F.log_softmax(logits, dim=1)``;
    ``target`` holds class indices; ``weight`` one number per class; targets equal to
    ``ignore_index`` count nothing. "mean" divides by the sum of the kept targets' weights
    (their number without ``weight``). gradient: -w_i / (that sum, for "mean") at
    (i, target_i), zero elsewhere.
    """
    check_reduction("nll_loss", reduction)
    x = input if isinstance(input, Tensor) else Tensor(input)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if x.ndim == 1:
        loss = nll_loss(x.reshape(1, -1), labels.reshape(1), weight, ignore_index=ignore_index, reduction=reduction)
        return loss.reshape(()) if reduction == "none" else loss
    if x.ndim > 2:   # (N, C, d1, ...): the class axis last, every other position a row
        rows = x.transpose(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])
        if labels.shape != x.shape[:1] + x.shape[2:]:
            raise ValueError(f"nll_loss: input of shape {x.shape} needs a target of shape "
                             f"{x.shape[:1] + x.shape[2:]}, got {labels.shape}")
        loss = nll_loss(rows, labels.reshape(-1), weight, ignore_index=ignore_index, reduction=reduction)
        return loss.reshape(labels.shape) if reduction == "none" else loss
    if x.ndim != 2:
        raise ValueError(f"nll_loss: input must have shape (N, C), got {x.shape}")
    n, classes = x.shape
    labels, kept = class_targets("nll_loss", labels, n, classes, ignore_index)
    weights = _target_weights(class_weight("nll_loss", weight, classes, x.dtype), labels, kept, x.dtype)
    return _reduced(_picked(x, labels, weights), weights, reduction)


def _picked(log_probs: Tensor, labels: np.ndarray, weights: np.ndarray | None) -> Tensor:
    """-w_i log_probs[i, label_i] for each row i (one GetItem, then one product when weighted)."""
    losses = -log_probs[np.arange(len(labels)), labels]
    return losses if weights is None else losses * weights


def _target_weights(weight: np.ndarray | None, labels: np.ndarray, kept: np.ndarray, dtype) -> np.ndarray | None:
    """w_i = weight[label_i], 0 where ignored; None when every w_i is 1 (no weight, nothing ignored)."""
    if weight is None:
        return None if kept.all() else kept.astype(dtype)
    return np.where(kept, weight[labels], 0).astype(dtype)


def _reduced(losses: Tensor, weights: np.ndarray | None, reduction: str) -> Tensor:
    """PyTorch's reduction of per-target losses: "mean" divides by the sum of the weights w_i."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if weights is None:
        return losses.mean()
    with np.errstate(divide="ignore", invalid="ignore"):   # every target ignored: NaN, as PyTorch
        return losses.sum() / float(weights.sum())


def weighted_cross_entropy(logits: Tensor, labels, weight, ignore_index: int, reduction: str,
                           label_smoothing: float) -> Tensor:
    """PyTorch's cross-entropy with ``weight`` or ignored targets, from a log-softmax node.

    Class indices: (1 - eps) nll_loss(log p) + eps / C * smooth, where smooth_i =
    -sum_c weight_c log p_ic (0 for ignored targets), its "mean" divided by the same sum
    of target weights as the nll part. Probability targets q (N, C): -sum_c weight_c q_ic
    log p_ic with q smoothed to q (1 - eps) + eps / C, its "mean" divided by N.
    """
    n, classes = logits.shape
    weight = class_weight("cross_entropy", weight, classes, logits.dtype)
    log_probs = LogSoftmax.apply(logits, axis=1)
    if isinstance(labels, Tensor) and labels.dtype.kind == "f":   # probability targets
        q = labels * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else labels
        products = log_probs * q if weight is None else log_probs * q * weight
        losses = -products.sum(axis=1)
        return losses if reduction == "none" else (losses.sum() / n if reduction == "mean" else losses.sum())
    labels, kept = class_targets("cross_entropy", labels, n, classes, ignore_index)
    weights = _target_weights(weight, labels, kept, logits.dtype)
    losses = _picked(log_probs, labels, weights)
    if label_smoothing:
        spread = log_probs if weight is None else log_probs * weight
        smooth = -spread.sum(axis=1)
        if not kept.all():
            smooth = smooth * kept.astype(logits.dtype)
        losses = losses * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)
    return _reduced(losses, weights, reduction)
