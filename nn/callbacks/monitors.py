"""Callbacks that watch a logged quantity: EarlyStopping, ModelCheckpoint (and resume from one)."""
from __future__ import annotations

import math
import os
from pathlib import Path

from ..distributed import broadcast_object, is_main, world_size
from ..io.checkpoint import load, load_state, save
from .base import Callback


class _Monitor(Callback):
    """A callback watching one logged quantity: ``improved(value)``, Keras' comparison."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":  # accuracies grow, everything else (losses, errors) shrinks
            mode = "max" if monitor.endswith(("acc", "accuracy")) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(float(min_delta))
        self.best = math.inf if mode == "min" else -math.inf

    def on_train_begin(self, logs=None):
        """Fail at once when the monitored quantity needs validation data that fit does not have."""
        if self.monitor.startswith("val_") and not self.params.get("validation", True):
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, but fit has no validation "
                             f"data: give validation_data= or validation_split=, or monitor 'loss'")

    def value(self, logs: dict) -> float:
        """The monitored number in an epoch's logs (ValueError naming the logs when absent)."""
        if self.monitor not in (logs or {}):
            raise ValueError(f"{type(self).__name__}: no {self.monitor!r} in the epoch's logs "
                             f"(they have {sorted(logs or {})})")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        """Better than the best by more than min_delta (a tie is no improvement)."""
        if self.mode == "max":
            return value - self.min_delta > self.best
        return value + self.min_delta < self.best


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (Keras' rule).

    ``mode`` "auto" maximises names ending in acc/accuracy and minimises the rest. With
    ``restore_best_weights`` the model gets the best epoch's weights back when training
    ends (not after Ctrl-C: then nothing is restored).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, mode: str = "auto", min_delta: float = 0.0,
                 restore_best_weights: bool = False):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = int(patience), bool(restore_best_weights)
        self.wait, self.best_epoch, self.best_weights, self.stopped_epoch = 0, None, None, None
        self.last_epoch = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.best_weights, self.stopped_epoch = 0, None, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = self.value(logs)
        self.last_epoch = epoch
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        interrupted = (logs or {}).get("interrupted")
        say = print if self.params.get("verbose") else (lambda *_: None)
        if self.stopped_epoch is not None:
            say(f"Early stopping after epoch {self.stopped_epoch + 1}: {self.monitor} has not improved for "
                f"{self.wait} epochs (best {self.best:.4f} in epoch {self.best_epoch + 1})")
        if self.restore_best_weights and self.best_weights is not None and not interrupted:
            self.model.load_state_dict(self.best_weights)
            if self.best_epoch != self.last_epoch:
                say(f"Restored the weights of epoch {self.best_epoch + 1}")


class ModelCheckpoint(_Monitor):
    """Save the model, its optimizer, the schedule and the epoch to ``path`` (an ``.npz``, atomically).

    Every ``every`` epochs (default: each), or only when ``monitor`` improved with
    ``save_best_only``. ``path`` may hold ``{epoch}`` and log names (``"ckpt-{epoch:02d}.npz"``).
    ``nn.load(model, path)`` reads the model alone back; ``resume(model, path, schedule)``
    everything, returning the ``initial_epoch`` to continue from. Under MPI only rank 0 runs
    it (``main_only``), so the file is written once.
    """

    main_only = True

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False, every: int | None = None,
                 mode: str = "auto"):
        super().__init__(monitor, mode)
        if every is not None and int(every) < 1:
            raise ValueError(f"ModelCheckpoint: every must be >= 1 epochs, got {every}")
        self.path, self.save_best_only, self.every = path, bool(save_best_only), int(every or 1)

    def on_train_begin(self, logs=None):
        """Fail before training when the file's folder is missing or the monitor cannot be."""
        folder = Path(os.fspath(self.path)).parent
        if not folder.is_dir():
            raise FileNotFoundError(f"ModelCheckpoint: no folder {str(folder)!r} for {os.fspath(self.path)!r}")
        if self.save_best_only:
            super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self.save_best_only:
            value = self.value(logs)
            if not self.improved(value):
                return
            self.best = value
        path = os.fspath(self.path)
        if "{" in path:
            path = path.format(epoch=epoch + 1, **(logs or {}))
        state = {"model": self.model, "optimizer": self.model.optimizer, "epoch": epoch + 1}
        if self.params.get("schedule") is not None:
            state["schedule"] = self.params["schedule"]
        save(state, path)


def resume(model, path, schedule=None) -> int:
    """Load a ModelCheckpoint file into the compiled model, its optimizer and ``schedule``.

    Returns the number of epochs the checkpoint had done: pass it as ``fit(...,
    initial_epoch=...)`` to continue as the uninterrupted run would. Under MPI every rank
    calls it; rank 0 reads the file (the others need not see it) and sends them what it loaded.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("resume: compile the model first (the checkpoint holds its optimizer's state)")
    objects = {"model": model, "optimizer": model.optimizer}
    if schedule is not None:
        objects["schedule"] = schedule
    epoch = _load_checkpoint(objects, path) if is_main() else None
    if world_size() > 1:
        loaded = broadcast_object({key: obj.state_dict() for key, obj in objects.items()} if is_main() else None)
        if not is_main():
            for key, obj in objects.items():
                obj.load_state_dict(loaded[key])
        epoch = broadcast_object(epoch)
    return epoch


def _load_checkpoint(objects: dict, path) -> int:
    """Load a ModelCheckpoint file into ``objects``; its epoch."""
    state = load_state(path)
    if "epoch" not in state or "optimizer" not in state:
        raise ValueError(f"resume: {os.fspath(path)!r} is not a ModelCheckpoint file (no epoch or optimizer)")
    load(objects, path)
    return int(state["epoch"])

