"""Dropout as a layer: active in training mode, the identity in eval mode."""
from __future__ import annotations

import numpy as np

from autograd import Tensor

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.rng = p, rng

    def forward(self, x) -> Tensor:
        return F.dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"

