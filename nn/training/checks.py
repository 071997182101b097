"""The checks of fit, evaluate and predict: everything is tested before the first step.

Each error names the call and the problem (``fit: X has 120 rows but y has 119``).
"""
from __future__ import annotations

import contextlib

import numpy as np

from autograd import Tensor, no_grad
from autograd.random import default_rng

from ..callbacks import Callback

from ..data import DataLoader

EVAL_BATCH_SIZE = 1024  # evaluate/predict record no graph, so larger batches than training's are cheap


def compiled_parts(model, where: str):
    """(model.compiled, model.optimizer), or RuntimeError when compile was not called."""
    compiled = getattr(model, "compiled", None)
    if compiled is None:
        raise RuntimeError(f"{where}: call model.compile(optimizer, loss, metrics) first")
    return compiled, model.optimizer


def arrays(where: str, X, y) -> tuple:
    """X and y as ndarrays with the same number of rows (at least one)."""
    X = X.data if isinstance(X, Tensor) else np.asarray(X)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{where}: X and y must be arrays with one row per example, got shapes {X.shape}, {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{where}: X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ValueError(f"{where}: X and y are empty")
    return X, y


def batch_size_of(where: str, batch_size) -> int:
    """A batch size >= 1 (None: EVAL_BATCH_SIZE)."""
    if batch_size is None:
        return EVAL_BATCH_SIZE
    if not _is_whole(batch_size) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a whole number >= 1, got {batch_size!r}")
    return int(batch_size)


def _is_whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_numbers(epochs, batch_size, initial_epoch, verbose, seed) -> None:
    """fit's numbers: whole, in range; the seed None, an int >= 0, or a generator."""
    if not _is_whole(epochs) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    if not _is_whole(batch_size) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be a whole number >= 1, got {batch_size!r}")
    if not _is_whole(initial_epoch) or not 0 <= initial_epoch < epochs:
        raise ValueError(f"fit: initial_epoch must be in [0, epochs={epochs}), got {initial_epoch!r} "
                         f"(epochs is the last epoch's number, as in Keras, not a count to add)")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    if not (seed is None or hasattr(seed, "permutation") or (_is_whole(seed) and seed >= 0)):
        raise ValueError(f"fit: seed must be None, an int >= 0, or a NumPy Generator/RandomState, got {seed!r}")


def checked_data(model, X, y, batch_size, validation_data, validation_split, shuffle, seed, drop_last) -> tuple:
    """The training batches (a DataLoader) and the validation pair (or None), checked."""
    X, y = arrays("fit", X, y)
    (X, y), validation = split(X, y, validation_data, validation_split)
    y = targets("fit", model, X, y)
    if validation is not None:
        validation = (validation[0], targets("fit (validation data)", model, *validation))
    # A Generator or RandomState: its own stream. None: the default generator, so that
    # ag.manual_seed (nn.manual_seed) makes fit repeat, as torch.manual_seed does.
    shared = seed if hasattr(seed, "permutation") else default_rng() if seed is None else None
    batches = DataLoader(X, y, batch_size, shuffle=shuffle, seed=shared, drop_last=drop_last)
    if len(batches) == 0:
        raise ValueError(f"fit: drop_last leaves no batch: {len(X)} rows, batch_size {batch_size}")
    return batches, validation


def split(X, y, validation_data, validation_split) -> tuple:
    """((X, y), validation pair or None), the validation rows the last ones for a split."""
    if validation_data is not None and validation_split:
        raise ValueError("fit: give validation_data or validation_split, not both")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
        return (X, y), arrays("fit (validation_data)", *validation_data)
    if not validation_split:
        return (X, y), None
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}")
    cut = int(len(X) * (1.0 - validation_split))
    if not 0 < cut < len(X):
        raise ValueError(f"fit: validation_split={validation_split} of {len(X)} rows leaves no training "
                         f"or no validation rows")
    return (X[:cut], y[:cut]), (X[cut:], y[cut:])


def targets(where: str, model, X, y) -> np.ndarray:
    """y checked against one forward pass on X's first row: the model takes X, labels fit the outputs.

    y of shape (N,) against outputs of one column becomes (N, 1), as Keras does; integer
    labels (N,) against outputs of C columns must be class indices in [0, C).
    """
    with modes_kept(model), no_grad():
        model.eval()
        try:
            probe = model(Tensor(X[:1])).data
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where}: the model cannot take X of shape {X.shape}: {error}") from error
    if probe.ndim == 2 and probe.shape[1] == 1 and y.ndim == 1:
        return y.reshape(-1, 1)
    if probe.ndim == 2 and probe.shape[1] > 1 and y.ndim == 1 and y.dtype.kind in "iu":
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= probe.shape[1]:
            raise ValueError(f"{where}: labels must be class indices in [0, {probe.shape[1]}) for outputs of "
                             f"{probe.shape[1]} columns, got values from {low} to {high}")
    return y


def check_schedule(schedule, optimizer, steps: int) -> None:
    """The schedule is on the compiled optimizer and can take ``steps`` more steps."""
    if schedule is None:
        return
    if getattr(schedule, "optimizer", None) is not optimizer:
        raise ValueError("fit: the schedule must be made on the compiled optimizer, model.optimizer")
    last = getattr(schedule, "last_epoch", 0) + steps
    try:
        schedule.lr_at(last)
    except ValueError as error:
        raise ValueError(f"fit: the schedule cannot take this fit's {steps} steps (one per batch): {error}") from None


def checked_callbacks(callbacks) -> list:
    """The callbacks as a list, each a Callback."""
    callbacks = list(callbacks or ())
    wrong = [type(c).__name__ for c in callbacks if not isinstance(c, Callback)]
    if wrong:
        raise TypeError(f"fit: callbacks must be nn.callbacks.Callback instances, got {wrong}")
    return callbacks



@contextlib.contextmanager
def modes_kept(model):
    """Put every module's train/eval mode back as it was."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
