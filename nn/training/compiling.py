"""model.compile: the optimizer, loss and metrics that ``fit`` uses, from objects or names.

The loss names, and what the model's outputs must be for each:

- ``"cross_entropy"``, ``"sparse_categorical_crossentropy"``, ``"categorical_crossentropy"``:
  ``F.cross_entropy``. The outputs are LOGITS (no Softmax at the end: the loss applies
  it); the labels are class indices (N,) or one-hot rows (N, C). Keras' own default for
  these names is probabilities (``from_logits=False``): here they always take logits.
- ``"binary_crossentropy"``, ``"binary_cross_entropy"``: ``F.binary_cross_entropy``. The
  outputs are PROBABILITIES in [0, 1] (a Sigmoid at the end), as Keras' default.
- ``"binary_cross_entropy_with_logits"``: the same loss on LOGITS (no Sigmoid at the
  end), computed stably.
- ``"mse"``, ``"mean_squared_error"``: ``F.mse_loss``, any real outputs.

A loss may also be any callable ``loss(outputs, y) -> Tensor`` (``F.cross_entropy``, a
lambda, a loss module). Optimizers: an instance (``nn.optim.Adam(model.parameters())``),
a name (``"sgd"``: SGD with lr 0.01; ``"adam"``, ``"adamw"``: lr 1e-3) with ``lr=``, or a
dict ``{"name": "sgd", "lr": 0.1, "momentum": 0.9}`` whose other entries go to the
optimizer. Metrics: ``"accuracy"`` (or ``"acc"``) and callables ``metric(outputs, y) ->
float`` on ndarrays, in a list (named by ``__name__``) or a dict of names.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import functional as F
from ..modules import Sequential, Sigmoid, Softmax
from ..optim import SGD, Adam, AdamW

LOSSES = {
    "cross_entropy": F.cross_entropy, "sparse_categorical_crossentropy": F.cross_entropy,
    "categorical_crossentropy": F.cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy, "binary_crossentropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "mse": F.mse_loss, "mean_squared_error": F.mse_loss,
}
OPTIMIZERS = {"sgd": (SGD, 0.01), "adam": (Adam, 1e-3), "adamw": (AdamW, 1e-3)}
ACCURACY_NAMES = ("accuracy", "acc")
# Binary losses make "accuracy" elementwise, thresholding the outputs where p = 0.5 (as
# Keras picks binary_accuracy for binary_crossentropy). Loss modules are known by their
# class names (PyTorch's), so this file does not depend on them.
BINARY_THRESHOLDS = ((F.binary_cross_entropy, 0.5), (F.binary_cross_entropy_with_logits, 0.0))
BINARY_MODULE_THRESHOLDS = {"BCELoss": 0.5, "BCEWithLogitsLoss": 0.0}


@dataclass
class Compiled:
    """What ``compile`` chose, kept as ``model.compiled`` (the optimizer is ``model.optimizer``)."""

    loss: Callable
    loss_name: str
    metrics: list          # (name, metric(outputs, y) -> float) pairs
    binary_threshold: float | None


def compile_model(model, optimizer="adam", loss=None, metrics=(), lr=None) -> None:
    """Resolve everything first, then set ``model.optimizer`` and ``model.compiled``."""
    loss_fn, loss_name = resolve_loss(loss)
    threshold = binary_threshold(loss_fn)
    chosen_metrics = resolve_metrics(metrics, threshold)
    chosen_optimizer = make_optimizer(optimizer, model, lr)
    _warn_about_the_last_layer(model, loss_fn, loss_name)
    model.optimizer = chosen_optimizer
    model.compiled = Compiled(loss_fn, loss_name, chosen_metrics, threshold)
    model.stop_training = False


def resolve_loss(loss) -> tuple:
    """(callable, name) from a name or a callable."""
    if isinstance(loss, str):
        if loss.lower() not in LOSSES:
            raise ValueError(f"compile: unknown loss {loss!r}; use one of {sorted(LOSSES)}, "
                             f"or a callable loss(outputs, y) such as F.cross_entropy")
        return LOSSES[loss.lower()], loss.lower()
    if loss is None:
        raise ValueError(f"compile: give a loss: one of {sorted(LOSSES)}, or a callable loss(outputs, y)")
    if not callable(loss):
        raise TypeError(f"compile: loss must be a name or a callable, got {type(loss).__name__}")
    return loss, getattr(loss, "__name__", type(loss).__name__)


def binary_threshold(loss_fn) -> float | None:
    """Where "accuracy" thresholds the outputs for a binary loss; None for other losses."""
    for known, threshold in BINARY_THRESHOLDS:
        if loss_fn is known:
            return threshold
    return BINARY_MODULE_THRESHOLDS.get(type(loss_fn).__name__)


def accuracy_metric(threshold: float | None) -> Callable:
    """Keras' "accuracy": the fraction of outputs that match y.

    With a binary loss, elementwise: outputs above ``threshold`` (0.5 for probabilities,
    0 for logits) against y > 0.5. Otherwise, for outputs of several columns, the argmax
    against class indices (or the argmax of one-hot y); for one column, outputs above 0.5.
    """
    def accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
        if threshold is None and outputs.ndim == 2 and outputs.shape[1] > 1:
            predicted, target = outputs.argmax(axis=1), (y.argmax(axis=1) if y.ndim == 2 else y)
        else:
            predicted = outputs > (0.5 if threshold is None else threshold)
            target = np.reshape(y, predicted.shape) > 0.5
        matches = predicted == target
        return np.count_nonzero(matches) / matches.size   # np.mean's value, in half its time (per batch)
    return accuracy


def resolve_metrics(metrics, threshold: float | None) -> list:
    """(name, callable) pairs from names and callables, in a list or a dict."""
    if metrics is None:
        metrics = ()
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = list(metrics.items()) if isinstance(metrics, dict) else [(None, m) for m in metrics]
    resolved = []
    for name, metric in items:
        if isinstance(metric, str):
            if metric.lower() not in ACCURACY_NAMES:
                raise ValueError(f"compile: unknown metric {metric!r}; use {ACCURACY_NAMES[0]!r} or a "
                                 f"callable metric(outputs, y) -> float")
            resolved.append((name or metric.lower(), accuracy_metric(threshold)))
        elif callable(metric):
            resolved.append((name or getattr(metric, "__name__", type(metric).__name__), metric))
        else:
            raise TypeError(f"compile: a metric must be a name or a callable, got {type(metric).__name__}")
    names = [name for name, _ in resolved]
    clashes = sorted({n for n in names if names.count(n) > 1 or n == "loss" or n.startswith("val_")})
    if clashes:
        raise ValueError(f"compile: metric names must be unique and not 'loss' or 'val_...': {clashes} "
                         f"(give a dict {{name: metric}} to name them)")
    return resolved


def make_optimizer(spec, model, lr):
    """An optimizer instance as given, or one made from a name or a dict on model.parameters()."""
    if not isinstance(spec, (str, dict)):
        if not (hasattr(spec, "step") and hasattr(spec, "zero_grad")):
            raise TypeError(f"compile: optimizer must be an optimizer, a name {sorted(OPTIMIZERS)} or a dict, "
                            f"got {type(spec).__name__}")
        if lr is not None:
            raise ValueError("compile: lr= goes with an optimizer name; set lr on the optimizer instance")
        return spec
    options = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = str(options.pop("name", ""))
    if name.lower() not in OPTIMIZERS:
        raise ValueError(f"compile: unknown optimizer {name!r}; use one of {sorted(OPTIMIZERS)} "
                         f"(or {{'name': ..., 'lr': ...}}, or an instance such as nn.optim.SGD(...))")
    kind, default_lr = OPTIMIZERS[name.lower()]
    if lr is not None:
        if "lr" in options:
            raise ValueError("compile: lr is given twice, in the optimizer dict and as lr=")
        options["lr"] = lr
    options.setdefault("lr", default_lr)
    return kind(model.parameters(), **options)


def _warn_about_the_last_layer(model, loss_fn, loss_name: str) -> None:
    """A loss that takes logits after a Softmax or Sigmoid layer trains badly: say so."""
    last = model[-1] if isinstance(model, Sequential) and len(model) else None
    kind = type(loss_fn).__name__   # loss modules by their (PyTorch) class names
    if (isinstance(last, Softmax) and (loss_fn is F.cross_entropy or kind == "CrossEntropyLoss")) or \
            (isinstance(last, Sigmoid) and (loss_fn is F.binary_cross_entropy_with_logits
                                            or kind == "BCEWithLogitsLoss")):
        warnings.warn(f"compile: the loss {loss_name!r} takes logits, but the model ends with "
                      f"{type(last).__name__}; remove that layer (the loss applies it)", UserWarning, stacklevel=4)
