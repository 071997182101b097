"""The textbook's hand-written NumPy backprop for the 784-100-10 sigmoid MLP: the baseline.

A plain re-statement of the classic two-layer network trained by minibatch SGD with
the logistic cost and L2 (Raschka, Python Machine Learning, ch. 12): weights drawn from
N(0, 0.1) by ``RandomState(seed)`` (hidden, then output), the same generator shuffling
the indices each epoch, ``w -= eta * (grad + l2 * w)``. Benchmarks time it against dagrad;
nothing in the engine depends on it.
"""
from __future__ import annotations

import numpy as np


class TextbookMLP:
    """784-n_hidden-10 sigmoid network with hand-derived gradients."""

    def __init__(self, n_hidden=100, l2=0.01, eta=0.0005, minibatch_size=100, seed=1,
                 n_features=784, n_output=10, dtype=np.float64):
        self.random = np.random.RandomState(seed)
        self.l2, self.eta, self.minibatch_size = l2, eta, minibatch_size
        self.b_h = np.zeros(n_hidden, dtype=dtype)
        self.w_h = self.random.normal(0.0, 0.1, size=(n_features, n_hidden)).astype(dtype)
        self.b_out = np.zeros(n_output, dtype=dtype)
        self.w_out = self.random.normal(0.0, 0.1, size=(n_hidden, n_output)).astype(dtype)

    @staticmethod
    def _sigmoid(z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -250, 250)))

    def _forward(self, X):
        z_h = np.dot(X, self.w_h) + self.b_h
        a_h = self._sigmoid(z_h)
        z_out = np.dot(a_h, self.w_out) + self.b_out
        return z_h, a_h, z_out, self._sigmoid(z_out)

    def predict(self, X) -> np.ndarray:
        """Class index with the largest output."""
        return np.argmax(self._forward(X)[2], axis=1)

    def cost(self, X, y_onehot) -> float:
        """Summed logistic cost plus the L2 term, as the textbook prints it."""
        output = self._forward(X)[3]
        l2_term = self.l2 * (np.sum(self.w_h ** 2.0) + np.sum(self.w_out ** 2.0))
        return float(np.sum(-y_onehot * np.log(output) - (1.0 - y_onehot) * np.log(1.0 - output)) + l2_term)

    def epoch(self, X, y_onehot) -> None:
        """One epoch of minibatch SGD over a freshly shuffled order."""
        indices = np.arange(X.shape[0])
        self.random.shuffle(indices)
        size = self.minibatch_size
        for start in range(0, indices.shape[0] - size + 1, size):
            batch = indices[start:start + size]
            z_h, a_h, z_out, a_out = self._forward(X[batch])
            sigma_out = a_out - y_onehot[batch]
            sigma_h = np.dot(sigma_out, self.w_out.T) * (a_h * (1.0 - a_h))
            grad_w_h = np.dot(X[batch].T, sigma_h)
            grad_b_h = np.sum(sigma_h, axis=0)
            grad_w_out = np.dot(a_h.T, sigma_out)
            grad_b_out = np.sum(sigma_out, axis=0)
            self.w_h -= self.eta * (grad_w_h + self.l2 * self.w_h)
            self.b_h -= self.eta * grad_b_h
            self.w_out -= self.eta * (grad_w_out + self.l2 * self.w_out)
            self.b_out -= self.eta * grad_b_out


class StrictMLP(TextbookMLP):
    """The textbook's network and update, written as tightly as plain NumPy allows: each batch
    gathered once (the textbook indexes ``X[batch]`` twice), weight decay on the weights only,
    no array computed that the update does not use. The strictest hand-written baseline."""

    def epoch(self, X, y_onehot) -> None:
        """One epoch over the same shuffled order as ``TextbookMLP.epoch``."""
        for _ in self.steps(X, y_onehot):
            pass

    def steps(self, X, y_onehot):
        """The epoch as a generator that pauses after each step (for benchmarks' ``in_blocks``)."""
        indices = np.arange(X.shape[0])
        self.random.shuffle(indices)
        size, eta, l2 = self.minibatch_size, self.eta, self.l2
        for start in range(0, indices.shape[0] - size + 1, size):
            batch = indices[start:start + size]
            xb, yb = X[batch], y_onehot[batch]
            a_h = self._sigmoid(xb @ self.w_h + self.b_h)
            sigma_out = self._sigmoid(a_h @ self.w_out + self.b_out) - yb
            sigma_h = (sigma_out @ self.w_out.T) * (a_h * (1.0 - a_h))
            self.w_h -= eta * (xb.T @ sigma_h + l2 * self.w_h)
            self.b_h -= eta * sigma_h.sum(axis=0)
            self.w_out -= eta * (a_h.T @ sigma_out + l2 * self.w_out)
            self.b_out -= eta * sigma_out.sum(axis=0)
            yield


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float64) -> np.ndarray:
    """(N,) integer labels as (N, n_classes) rows of 0 and 1."""
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1.0
    return encoded
