"""Callback, the base of every hook of ``model.fit``, and History, the one fit returns.

Subclass ``Callback`` and override any hook; ``fit`` calls them in the order given, then
its History. ``self.model`` is the model being trained, ``self.params`` has ``epochs``,
``steps`` (batches per epoch), ``verbose``, ``schedule``, ``validation`` (True when there
is validation data) and ``metrics`` (the log names fit fills). ``epoch`` and ``batch``
count from 0, as in Keras (fit prints epochs from 1). The epoch's ``logs`` map ``loss``,
each metric, their ``val_`` forms and ``seconds`` (the training pass) to numbers; a
callback may add entries, which the later callbacks and the History see. Setting
``self.model.stop_training = True`` ends training after the current epoch.
"""
from __future__ import annotations

from pathlib import Path

from ..io.atomic import atomic_write


# The training curve is what fit logs: the mean over the epoch's batches while the weights
# changed, so after the first epoch it lies under the validation curve (measured after it).
TRAINING_LABEL = "training (running mean over the epoch)"
VALIDATION_LABEL = "validation (end of epoch)"


def is_number(value) -> bool:
    """True when ``float(value)`` works (a logged number, not a note)."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class Callback:
    """Base class: every hook does nothing."""

    model = None
    params: dict = {}
    main_only = False  # True for callbacks that write files: under MPI, fit runs them on rank 0 only

    def set_model(self, model) -> None:
        """Called by fit: ``self.model`` is the model being trained."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Called by fit: ``self.params`` (epochs, steps, verbose, schedule, validation, metrics)."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """After the last epoch (the last epoch's logs; ``logs["interrupted"]`` after Ctrl-C)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Before epoch ``epoch`` (from 0)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """After the epoch's training pass and validation; ``logs`` may be added to."""

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before batch ``batch`` (from 0 in each epoch)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After the batch's step; ``logs["loss"]`` is this batch's loss."""


class History(Callback):
    """What ``fit`` returns: ``history`` maps each log name to one float per epoch.

    ``epoch`` lists the epochs run (from 0), ``seconds`` the seconds of each training
    pass; ``interrupted`` is True when Ctrl-C stopped the run.
    """

    def __init__(self):
        self.history: dict = {}
        self.epoch: list = []
        self.seconds: list = []
        self.interrupted = False

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            if key == "seconds":
                self.seconds.append(float(value))
            else:
                self.history.setdefault(key, []).append(float(value) if is_number(value) else value)

    def plot(self, path=None):
        """One panel per quantity (loss, each metric), training and validation curves.

        Without ``path`` it draws on pyplot's current figure (a new one, which becomes the
        current figure, unless one is open with nothing drawn on it yet), so
        ``plt.savefig(...)`` or ``plt.show()`` right after shows the plot, and returns that
        Figure. With ``path`` it writes the plot
        there (atomically, the format from the suffix) without touching pyplot, and
        returns None. The training curves are the running means over each epoch (the
        weights changed during it), the validation ones are measured after it.
        """
        try:
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from None
        names = [k for k in self.history if not k.startswith("val_")]
        names += [k for k in self.history if k.startswith("val_") and k[4:] not in self.history]
        size = (4.5 * max(len(names), 1), 3.5)
        figure = Figure(figsize=size, layout="constrained") if path is not None else _pyplot_figure(size)
        epochs = [e + 1 for e in self.epoch]
        for axes, name in zip(figure.subplots(1, max(len(names), 1), squeeze=False)[0], names):
            axes.plot(epochs, self.history[name], marker="o", label="validation" if name.startswith("val_")
                      else TRAINING_LABEL)
            if "val_" + name in self.history:
                axes.plot(epochs, self.history["val_" + name], marker="o", label=VALIDATION_LABEL)
            axes.set(xlabel="epoch", ylabel=name, title=name)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.legend()
        if path is None:
            return figure
        with atomic_write(path) as file:
            figure.savefig(file, format=Path(path).suffix[1:] or "png")
        return None


def _pyplot_figure(size: tuple):
    """pyplot's current figure if one is open with no axes yet (its size kept), else a new one of ``size``."""
    import matplotlib.pyplot as plt
    if plt.get_fignums() and not plt.gcf().axes:   # e.g. after plt.figure(figsize=...)
        figure = plt.gcf()
        figure.set_layout_engine("constrained")
        return figure
    return plt.figure(figsize=size, layout="constrained")
