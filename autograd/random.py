"""The default random generator: ``ag.manual_seed(s)`` (= ``nn.manual_seed``) reseeds it.

``ag.randn`` and ``ag.rand`` draw from it, and so do nn's initialisers and dropout when
given no ``rng``; it lives in the engine so that the engine never imports ``nn``.
"""
from __future__ import annotations

import contextlib

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the default generator (creation functions, initialisers, dropout without ``rng``)."""
    global _generator
    _generator = np.random.default_rng(seed)


def default_rng() -> np.random.Generator:
    """The generator used when no ``rng`` is given (reseeded by ``manual_seed``)."""
    return _generator


@contextlib.contextmanager
def generator_used(rng: np.random.Generator):
    """Within the block, the default generator is ``rng`` (fit's per-epoch dropout masks); put back after."""
    global _generator
    previous, _generator = _generator, rng
    try:
        yield rng
    finally:
        _generator = previous
