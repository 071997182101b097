"""MLP: Linear layers with an activation (and optional dropout) between them, as a Sequential."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .activation import ACTIVATIONS
from .container import Sequential
from .dropout import Dropout
from .linear import Linear
from .module import Module


def _activation(spec) -> Module:
    if isinstance(spec, Module):
        return spec
    if spec not in ACTIVATIONS:
        raise ValueError(f"MLP: unknown activation {spec!r}; use one of {sorted(ACTIVATIONS)} or a Module")
    return ACTIVATIONS[spec]()


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of ``sizes`` with ``activation`` between them.

    ``MLP([784, 100, 10], activation="sigmoid")`` is ``Sequential(Linear(784, 100),
    Sigmoid(), Linear(100, 10))``. ``dropout`` > 0 adds a Dropout after each hidden
    activation; ``output_activation`` (a name or a Module) follows the last Linear.
    ``init``, ``dtype`` and ``rng`` go to every Linear.
    """

    def __init__(self, sizes, activation: str | Module = "relu", output_activation: str | Module | None = None,
                 dropout: float = 0.0, init: str | Callable | None = None, dtype=None,
                 rng: np.random.Generator | None = None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: need at least an input and an output size, got {sizes}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, init=init, dtype=dtype, rng=rng))
            if i < len(sizes) - 2:
                layers.append(_activation(activation))
                if dropout > 0:
                    layers.append(Dropout(dropout, rng=rng))
        if output_activation is not None:
            layers.append(_activation(output_activation))
        super().__init__(*layers)

