"""Keras' Model methods on every Module: compile, fit, evaluate, predict.

A mixin that Module inherits. The loop itself lives above the layers, in ``nn.training``,
which this layer never imports: ``nn/__init__.py`` hands that package to
``use_trainer`` once, so the dependencies keep pointing one way (training knows
modules; modules only know that some trainer was given to them).
"""
from __future__ import annotations

import numpy as np


class KerasMethods:
    """``model.compile(...)``, ``model.fit(...)``, ``model.evaluate(...)``, ``model.predict(...)``."""

    _trainer = None  # the nn.training package, set by use_trainer

    @classmethod
    def _training(cls):
        if cls._trainer is None:
            raise RuntimeError("Keras-style training needs nn.training: import nn (not only nn.modules)")
        return cls._trainer

    def compile(self, optimizer="adam", loss=None, metrics=(), lr=None) -> None:
        """Choose the optimizer, loss and metrics that ``fit`` uses (names: nn/training/compiling.py).

        ``optimizer``: an instance, "sgd"/"adam"/"adamw" with ``lr``, or a dict
        ``{"name": "sgd", "lr": 0.1, "momentum": 0.9}``; ``loss``: a callable, a loss module
        or a name ("cross_entropy" takes logits); ``metrics``: "accuracy" and callables.
        """
        self._training().compile_model(self, optimizer, loss, metrics, lr)

    def fit(self, X, y, epochs: int = 1, batch_size: int = 32, validation_data=None, validation_split: float = 0.0,
            shuffle: bool = True, schedule=None, callbacks=(), verbose: int = 1, seed=None, initial_epoch: int = 0,
            **options):
        """Train on (X, y) and return a ``nn.callbacks.History``: see ``nn.training.fit``.

        Also ``drop_last=False`` and ``validation_batch_size=None`` as keywords. ``seed``
        repeats the shuffles and dropout, not the initial weights (drawn when the model was
        built): ``nn.manual_seed(s)`` before building the model seeds those.
        """
        return self._training().fit(self, X, y, epochs, batch_size, validation_data, validation_split, shuffle,
                                    schedule, callbacks, verbose, seed, initial_epoch, **options)

    def evaluate(self, X, y, batch_size: int | None = None) -> dict:
        """The compiled loss and metrics on (X, y) as Python floats, in eval mode, without a graph."""
        return self._training().evaluate(self, X, y, batch_size)

    def predict(self, X, batch_size: int | None = None) -> np.ndarray:
        """The outputs for X as an ndarray, in batches, in eval mode, without a graph."""
        return self._training().predict(self, X, batch_size)


def use_trainer(training) -> None:
    """Give every Module its Keras-style methods' implementation (the ``nn.training`` package)."""
    KerasMethods._trainer = training
