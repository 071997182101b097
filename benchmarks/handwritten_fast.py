"""Hand-written NumPy for the 'fast' preset's network: 784-256-10 ReLU, smoothed softmax
cross-entropy, Adam on a one-cycle schedule. The baseline dagrad's fast preset is timed against.

Written the way a careful person writes NumPy backprop by hand (in-place where it is easy),
with the same initialisation as nn.Linear so both start from the same weights.
"""
from __future__ import annotations

import numpy as np


class HandwrittenReluMLP:
    """Weights (out, in) like nn.Linear; Adam state per parameter; one-cycle learning rate."""

    def __init__(self, weights, lr_at, label_smoothing=0.1, betas=(0.9, 0.999), eps=1e-8):
        self.params = [np.array(w, order="C") for w in weights]  # W1, b1, W2, b2, row-major as by hand
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr_at, self.smoothing, self.betas, self.eps = lr_at, label_smoothing, betas, eps
        self.t = 0

    def logits(self, X) -> np.ndarray:
        W1, b1, W2, b2 = self.params
        h = X @ W1.T
        h += b1
        np.maximum(h, 0, out=h)
        out = h @ W2.T
        out += b2
        return out

    def step(self, X, y) -> None:
        """One minibatch: forward, hand-derived gradients, Adam update."""
        W1, b1, W2, b2 = self.params
        n, classes = X.shape[0], W2.shape[0]
        h = X @ W1.T
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ W2.T
        z += b2
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)              # softmax probabilities
        z -= self.smoothing / classes                  # minus the smoothed target...
        z[np.arange(n), y] -= 1.0 - self.smoothing
        z /= n                                         # ...over the batch: d loss / d logits
        dh = z @ W2
        dh *= h > 0
        grads = [dh.T @ X, dh.sum(axis=0), z.T @ h, z.sum(axis=0)]
        self.t += 1
        self._adam(grads, self.lr_at(self.t - 1))

    def _adam(self, grads, lr) -> None:
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (lr / c1) * m / (np.sqrt(v / c2) + self.eps)
