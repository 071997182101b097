"""Text from a trained model (examples/charlm.py --sample): one character at a time, under no_grad.

A model that carries a state between calls (a recurrent network) has
``generate_step(ids, state) -> (logits, state)``: ``ids`` (1, T) are the characters it has
not seen yet, ``logits`` (1, V) predict the next one, ``state`` is None at first. Any
other model (a GPT) is called on the last ``context`` characters each time and its last
position's logits are used.
"""
from __future__ import annotations

import numpy as np

from autograd import no_grad


def next_distribution(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """Probabilities (float64, summing to 1) of ``softmax(logits / temperature)`` over the ``top_k``
    likeliest entries (all when None; ties with the k-th are kept); the others get 0."""
    scaled = np.asarray(logits, dtype=np.float64).reshape(-1) / temperature
    if top_k is not None and top_k < scaled.size:
        kth = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled < kth, -np.inf, scaled)
    scaled -= scaled.max()
    probs = np.exp(scaled)
    return probs / probs.sum()


def generate(model, prompt_ids, length: int, rng: np.random.Generator, temperature: float = 1.0,
             top_k: int | None = None, context: int | None = None) -> np.ndarray:
    """``prompt_ids`` followed by ``length`` sampled ids (a 1-D int64 array), in eval mode, no graph.

    ``context``: how many of the last characters a model without ``generate_step`` sees.
    """
    ids = list(np.asarray(prompt_ids, dtype=np.int64).reshape(-1))
    step = getattr(model, "generate_step", None)
    training = model.training
    model.eval()
    try:
        with no_grad():
            new, state = ids, None
            for _ in range(length):
                if step is not None:
                    logits, state = step(np.asarray([new], dtype=np.int64), state)
                    logits = logits.data
                else:
                    window = ids[-context:] if context else ids
                    logits = model(np.asarray([window], dtype=np.int64)).data[:, -1]
                probs = next_distribution(logits, temperature, top_k)
                new = [int(rng.choice(probs.size, p=probs))]
                ids += new
    finally:
        model.train(training)
    return np.asarray(ids, dtype=np.int64)
