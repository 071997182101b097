"""dagrad's own array calls for the seed MLP, written out by hand: the engine's floor.

The same NumPy calls, in the same order and on the same memory layouts, that a dagrad step
makes for the 784-100-10 sigmoid network (``nn.Linear``'s products and in-place bias, the
fused sigmoid, the fused logistic loss with its value, the 3-pass SGD update with weight
decay), with no Tensor, node, module, backward walk or optimizer around them; the loss's
calls are its node's own array methods (``losses``, ``grads``), called directly, so they
cannot drift from the engine's. dagrad's
time over this one is what the engine itself costs; this one's over the strict loop
(``textbook_numpy.StrictMLP``) is what the engine's choice of array calls costs or saves.
Benchmarks time it; nothing in the engine depends on it.
"""
from __future__ import annotations

import numpy as np

from autograd.ops.elementwise import sigmoid_array
from autograd.ops.nn import _column_major
from nn.functional.loss_ops import BinaryCrossEntropyWithLogits, _reduce

_LOSS = BinaryCrossEntropyWithLogits(reduction="sum")  # only its array methods are called


class EngineByHandMLP:
    """The seed step without the engine, from a dagrad ``nn.Sequential(Linear, Sigmoid, Linear)``'s
    weights (copied, in their layout), batches drawn from ``shuffler.permutation`` as
    ``nn.data.DataLoader`` draws them."""

    def __init__(self, model, lr: float, weight_decay: float, batch: int, shuffler):
        first, last = model[0], model[2]
        self.weights = [np.array(first.weight.data, order="K"), np.array(last.weight.data, order="K")]
        self.biases = [first.bias.data.copy(), last.bias.data.copy()]
        self.work = [np.empty_like(a) for a in self.weights + self.biases]
        self.lr, self.weight_decay, self.batch, self.shuffler = lr, weight_decay, batch, shuffler
        dtype = self.weights[0].dtype
        self.eye = np.eye(10, dtype=dtype)

    def logits(self, X) -> np.ndarray:
        (w1, w2), (b1, b2) = self.weights, self.biases
        return sigmoid_array(X @ w1.T + b1) @ w2.T + b2

    def epoch(self, X, y) -> None:
        """One epoch over a fresh permutation."""
        for _ in self.steps(X, y):
            pass

    def steps(self, X, y):
        """The epoch as a generator that pauses after each step (for benchmarks' ``in_blocks``)."""
        order, size = self.shuffler.permutation(len(X)), self.batch
        (w1, w2), (b1, b2) = self.weights, self.biases
        for start in range(0, len(X) // size * size, size):
            batch = order[start:start + size]
            xb, yb = X.take(batch, axis=0), y.take(batch, axis=0)
            # forward: Linear (product, bias in place), Sigmoid, Linear
            hidden = xb @ w1.T
            hidden += b1
            hidden = sigmoid_array(hidden)
            z = hidden @ w2.T
            z += b2
            # the loss node: its value (summed), and e = exp(-|z|) kept for the gradient
            target = self.eye[yb]
            losses, e = _LOSS.losses(z, target)
            _reduce(losses, "sum")
            # backward: the seed, the loss's rule, Linear's, Sigmoid's, Linear's
            seed = np.array(1, dtype=z.dtype)
            grad = _LOSS.grads(z, target, e, seed, True, False)[0]
            grad_hidden = grad @ w2
            grad_w2, grad_b2 = _weight_grad(grad, hidden, w2), np.add.reduce(grad, 0)
            grad_in = 1.0 - hidden
            grad_in *= hidden
            grad_in *= grad_hidden
            grad_w1, grad_b1 = _weight_grad(grad_in, xb, w1), np.add.reduce(grad_in, 0)
            # SGD, the weights' group then the biases': w (1 - lr decay) - lr g, and w - lr g
            updates = zip([w1, w2, b1, b2], [grad_w1, grad_w2, grad_b1, grad_b2], self.work)
            for i, (w, g, work) in enumerate(updates):
                if i < 2:
                    w *= 1.0 - self.lr * self.weight_decay
                np.multiply(g, self.lr, out=work)
                w -= work
            yield


def _weight_grad(grad, inputs, weight):
    """grad.T @ inputs computed in the weight's layout, as the engine's Linear rule does."""
    return (inputs.T @ grad).T if _column_major(weight) else grad.T @ inputs
