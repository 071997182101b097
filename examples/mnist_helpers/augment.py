"""Data augmentation for examples/mnist.py: random translations of the training batches.

``shift(images, pixels, rng)`` moves each image of an (N, C, H, W) batch by its own
random offset of up to ``pixels`` each way, in NumPy, filling what comes in with the
background. ``RandomShift`` is that as a layer (identity in eval mode, as Keras'
RandomTranslation): mnist.py puts it in front of the model for fit only, so the saved
and exported model is the preset's network alone. benchmarks/cnn_torch.py calls
``shift`` on its batches for the same recipe in PyTorch.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import nn
from autograd import Tensor
from autograd.random import default_rng


def shift(images: np.ndarray, pixels: int, rng: np.random.Generator, fill=None) -> np.ndarray:
    """A new batch: image n moved by (dy, dx), each drawn uniformly from -pixels..pixels.

    Pixels shifted in take ``fill`` (default: the batch's minimum, the background of
    standardized MNIST). One pad and one gather: about 0.1 ms for 64 digits.
    """
    if images.ndim != 4:
        raise ValueError(f"shift: images must be (N, C, H, W), got shape {images.shape}")
    if pixels == 0 or len(images) == 0:
        return images.copy()
    n, _, height, width = images.shape
    fill = images.min() if fill is None else fill
    padded = np.pad(images, ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)), constant_values=fill)
    windows = sliding_window_view(padded, (height, width), axis=(2, 3))  # (N, C, 2p+1, 2p+1, H, W), a view
    dy, dx = rng.integers(0, 2 * pixels + 1, size=(2, n))
    return windows[np.arange(n), :, dy, dx]   # window (p, p) is the image itself; (N, C, H, W)


class RandomShift(nn.Module):
    """``shift`` of up to ``pixels`` in training mode, from nn's default generator (so fit's
    seed repeats it); the identity in eval mode."""

    def __init__(self, pixels: int):
        if pixels < 0:
            raise ValueError(f"RandomShift: pixels must be >= 0, got {pixels}")
        self.pixels = pixels

    def forward(self, x) -> Tensor:
        if not self.training or self.pixels == 0:
            return x
        return Tensor(shift(x.data, self.pixels, default_rng()))

    def extra_repr(self) -> str:
        return f"pixels={self.pixels}"
