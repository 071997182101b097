"""Losses as modules, PyTorch's: CrossEntropyLoss, MSELoss, BCELoss, BCEWithLogitsLoss.

Each keeps its options and calls the loss of ``nn.functional`` (one fused node each),
so ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)`` is
``F.cross_entropy(logits, labels)``. The input comes first, then the target, as PyTorch.
"""
from __future__ import annotations

from ..functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, check_reduction,
                               cross_entropy, mse_loss)
from .module import Module


class _Loss(Module):
    """Base: ``reduction`` ("mean", "sum" or "none"), checked when made."""

    def __init__(self, reduction: str = "mean"):
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or probabilities (N, C).

    ``F.cross_entropy`` with ``reduction`` and ``label_smoothing``; PyTorch's
    ``weight`` and ``ignore_index`` are not supported.
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):  # noqa: A002 (PyTorch's name)
        return cross_entropy(input, target, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, label_smoothing={self.label_smoothing}"


class MSELoss(_Loss):
    """Mean squared error, ``F.mse_loss``."""

    def forward(self, input, target):  # noqa: A002
        return mse_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1], ``F.binary_cross_entropy``."""

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), stable, ``F.binary_cross_entropy_with_logits``."""

    def forward(self, input, target):  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, self.reduction)


__all__ = ["CrossEntropyLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss"]
