"""Flatten: merge a range of axes into one, e.g. (N, C, H, W) images into (N, C * H * W) rows."""
from __future__ import annotations

from autograd import Tensor, as_tensor

from .module import Module


class Flatten(Module):
    """Axes ``start_dim`` to ``end_dim`` (both included) merged into one: by default
    (N, C, H, W) becomes (N, C * H * W), the input of a Linear."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> Tensor:
        return (x if isinstance(x, Tensor) else as_tensor(x)).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

