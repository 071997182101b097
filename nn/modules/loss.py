"""Losses as modules, PyTorch's: CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss.

Each keeps its options and calls the loss of ``nn.functional`` (one fused node each),
so ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)`` is
``F.cross_entropy(logits, labels)``. The input comes first, then the target, as PyTorch.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor

from ..functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, check_reduction,
                               cross_entropy, l1_loss, mse_loss, nll_loss)
from .module import Module


class _Loss(Module):
    """Base: ``reduction`` ("mean", "sum" or "none"), checked when made."""

    def __init__(self, reduction: str = "mean"):
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """Base of the class-index losses: an optional ``weight`` per class, kept as a buffer (as
    PyTorch's, so a state dict holds it), and ``ignore_index``."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        if weight is None:
            self.weight = None
        else:
            self.register_buffer("weight", weight.data if isinstance(weight, Tensor) else weight)
        if not isinstance(ignore_index, (int, np.integer)) or isinstance(ignore_index, bool):
            raise TypeError(f"{type(self).__name__}: ignore_index must be an int, got {ignore_index!r} "
                            f"(label_smoothing is a keyword argument)")
        self.ignore_index = int(ignore_index)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.ignore_index == -100 else f"{text}, ignore_index={self.ignore_index}"


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or probabilities (N, C).

    ``F.cross_entropy`` with PyTorch's ``weight``, ``ignore_index``, ``reduction`` and
    ``label_smoothing``. The first positional argument is ``reduction`` when it is a string
    (this library's order) and ``weight`` otherwise (PyTorch's): both
    ``CrossEntropyLoss("sum")`` and ``CrossEntropyLoss(class_weights)`` work; give
    ``label_smoothing`` by keyword.
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        if isinstance(weight, str):   # this library's positional order: reduction first
            weight, reduction = None, weight
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):  # noqa: A002 (PyTorch's name)
        return cross_entropy(input, target, self.reduction, self.label_smoothing, weight=self.weight,
                             ignore_index=self.ignore_index)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, label_smoothing={self.label_smoothing}"


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) against class indices (N,), ``F.nll_loss``.

    ``nn.Sequential(..., nn.LogSoftmax(dim=1))`` with ``nn.NLLLoss()`` is the cross-entropy.
    """

    def forward(self, input, target):  # noqa: A002
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error, ``F.mse_loss``."""

    def forward(self, input, target):  # noqa: A002
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, ``F.l1_loss``."""

    def forward(self, input, target):  # noqa: A002
        return l1_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1], ``F.binary_cross_entropy``."""

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), stable, ``F.binary_cross_entropy_with_logits``."""

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, self.reduction)


__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss"]
