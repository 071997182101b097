"""model.fit, evaluate, predict: the tutorial's training loop, written once.

``fit`` is the loop a learner writes by hand (see docs/tutorial.md), with the chores
around it: checks before anything trains, validation each epoch, callbacks, a progress
bar, and Ctrl-C. Its heart is ``train_one_epoch``:

    for X_batch, y_batch in batches:          # nn.data.DataLoader, shuffled each epoch
        outputs = model(Tensor(X_batch))      # forward: records the graph
        loss = loss_fn(outputs, y_batch)      # the loss node at its end
        optimizer.zero_grad()
        loss.backward()                       # every parameter's gradient
        optimizer.step()                      # update the weights in place
        schedule.step()                       # the learning rate for the next batch (if any)

Seeding: with an integer ``seed``, epoch e shuffles with a generator made from (seed, e)
and dropout draws its masks from another one made from (seed, e), so an epoch is the same
whether the earlier epochs ran in this process or were loaded from a checkpoint
(nn's default generator is put back after each epoch). A NumPy Generator or RandomState
as ``seed`` is used as it is, one stream for the whole run (as the textbook shares one
between its weights and its shuffling): runs repeat, but a resumed run does not continue
that stream. ``seed=None``: shuffles and dropout from the default generator, so
``nn.manual_seed(s)`` before ``fit`` makes the run repeat (as ``torch.manual_seed``). A Dropout
layer given its own ``rng`` always uses it.

In a world of more than one process (``mpiexec``, then ``nn.distributed.init()``), fit is
data-parallel by itself: see ``parallel.py``. Only rank 0 prints and runs the callbacks
that write files (``Callback.main_only``); a Ctrl-C or an exception ends every rank.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import types

import numpy as np

from autograd import Tensor, no_grad
from autograd.random import generator_used

from ..callbacks import BlasThreads, Callback, History
from ..callbacks.threads import last_choice
from ..distributed import is_main, rank, world_size
from .checks import (arrays, batch_size_of, check_numbers, check_schedule, checked_callbacks,
                              compiled_parts, checked_data, modes_kept, targets)
from .parallel import Parallel, evaluate_shares


def fit(model, X, y, epochs: int = 1, batch_size: int = 32, validation_data=None, validation_split: float = 0.0,
        shuffle: bool = True, schedule=None, callbacks=(), verbose: int = 1, seed=None, initial_epoch: int = 0,
        *, drop_last: bool = False, validation_batch_size: int | None = None, blas_threads="auto") -> History:
    """Train ``model`` on (X, y) for epochs ``initial_epoch`` .. ``epochs - 1``; return the History.

    Everything is checked before the first step. ``validation_split`` takes the last
    fraction of the rows (before shuffling), as Keras. ``schedule`` (made on
    ``model.optimizer``) steps once per batch. ``verbose``: 0 silent, 1 a tqdm bar per
    epoch (when tqdm is installed) and one line per epoch, 2 the lines only.
    ``drop_last`` skips a final short batch; validation runs in batches of
    ``validation_batch_size`` (default 1024: no graph is recorded). ``epochs`` is the
    number of the last epoch, as in Keras: ``fit(..., epochs=10, initial_epoch=4)`` runs
    six. Ctrl-C stops after the current batch and
    returns the History of the finished epochs, the weights left as they are.

    One forward pass on X's first row (eval mode, no graph) checks the data against the
    model before any step: y of shape (N,) against one output column becomes (N, 1), as
    Keras does, and integer labels (N,) against C >= 2 output columns are class indices
    that must lie in [0, C). The printed seconds, and ``logs["seconds"]``, time the
    training pass alone.

    ``blas_threads="auto"`` times a few batches with NumPy's BLAS threads and with one
    thread, trains with the faster, and measures again every few seconds
    (``nn.callbacks.BlasThreads``): on a quiet machine the threads help, beside another
    busy process they make training many times slower. ``None`` leaves the threads alone,
    for runs that repeat bit for bit (a matrix product's last bit may depend on the count).
    ``seed`` repeats the shuffles and dropout masks, not the initial weights: those were
    drawn when the model was built, so call ``nn.manual_seed(s)`` before building it
    (as ``torch.manual_seed``) for a run that repeats from its first weight.

    In a world of N > 1 processes every rank calls fit with the same arguments; each trains
    on its share of every batch (the global batch is ``batch_size``) and every rank's
    History is one process's, up to rounding (see ``parallel.py``). The loss must be a mean
    or a sum over the batch.
    """
    if blas_threads not in ("auto", None):
        raise ValueError(f"fit: blas_threads must be 'auto' or None, got {blas_threads!r}")
    compiled, optimizer = compiled_parts(model, "fit")
    check_numbers(epochs, batch_size, initial_epoch, verbose, seed)
    validation_batch_size = batch_size_of("fit (validation_batch_size)", validation_batch_size)
    batches, validation = checked_data(model, X, y, batch_size, validation_data, validation_split, shuffle, seed,
                                       drop_last)
    check_schedule(schedule, optimizer, (epochs - initial_epoch) * len(batches))
    history = History()
    callbacks = checked_callbacks(callbacks) + ([BlasThreads()] if blas_threads == "auto" else []) + [history]
    parallel = Parallel(model, compiled.loss, *batches.arrays) if world_size() > 1 else None
    if parallel is not None and not is_main():  # rank 0 prints and writes files for every rank
        verbose, callbacks = 0, [c for c in callbacks if not c.main_only]
    names = ["loss"] + [name for name, _ in compiled.metrics]
    if validation is not None:
        names += ["val_" + name for name in names]
    params = dict(epochs=epochs, steps=len(batches), verbose=verbose, schedule=schedule,
                  validation=validation is not None, metrics=names)
    for callback in callbacks:
        callback.set_model(model)
        callback.set_params(params)
    model.stop_training, model.history = False, history
    batch_callbacks = [c for c in callbacks if _overrides(c, "on_batch_begin") or _overrides(c, "on_batch_end")]
    say = print if verbose else (lambda *_: None)
    run = types.SimpleNamespace(epoch=initial_epoch, batch=0, interrupted=False)
    logs = {}
    # Under MPI a Ctrl-C is not caught: every rank must stop together, so it ends the job (faults.py)
    ctrl_c = _ctrl_c_stops_after_the_batch(model, run) if parallel is None else contextlib.nullcontext()
    with modes_kept(model), ctrl_c:
        try:
            for callback in callbacks:
                callback.on_train_begin({})
            for epoch in range(initial_epoch, epochs):
                run.epoch, run.batch = epoch, 0
                for callback in callbacks:
                    callback.on_epoch_begin(epoch, {})
                shuffling, masks = _epoch_generators(seed, epoch)
                if shuffling is not None:
                    batches.rng = shuffling
                start = time.perf_counter()
                with _dropout_generator(masks):
                    if parallel is None:
                        logs = train_one_epoch(model, compiled, optimizer, schedule,
                                               _bar(batches, epoch, epochs, verbose), batch_callbacks, run)
                    else:
                        logs = parallel.train_one_epoch(model, compiled, optimizer, schedule,
                                                        _bar(parallel.shares(batches), epoch, epochs, verbose),
                                                        batch_callbacks, run, _Means(compiled))
                seconds = time.perf_counter() - start
                if run.interrupted:
                    break
                if parallel is not None:
                    parallel.ddp.broadcast_buffers()
                if validation is not None:
                    measured = _evaluate(model, compiled, *validation, validation_batch_size)
                    logs.update(("val_" + name, value) for name, value in measured.items())
                logs["seconds"] = seconds
                for callback in callbacks[:-1]:
                    callback.on_epoch_end(epoch, logs)
                say(epoch_line(epoch, epochs, logs))
                callbacks[-1].on_epoch_end(epoch, logs)   # the History, after the others could add to logs
                if model.stop_training:
                    break
        except KeyboardInterrupt:
            if parallel is not None:
                raise
            run.interrupted = True
    if run.interrupted:   # on_train_end sees the last finished epoch's logs
        history.interrupted = True
        logs = {**{name: values[-1] for name, values in history.history.items()}, "interrupted": True}
        print(f"fit: interrupted in epoch {run.epoch + 1}/{epochs} after {run.batch} of {len(batches)} batches; "
              f"the weights are as they were then (nothing restored); the History has the "
              f"{len(history.epoch)} finished epochs", file=sys.stderr, flush=True)
    for callback in callbacks:
        callback.on_train_end(logs)
    return history


def train_one_epoch(model, compiled, optimizer, schedule, batches, batch_callbacks, run) -> dict:
    """One pass over the batches, the tutorial's loop; returns the epoch's mean loss and metrics."""
    model.train()
    means = _Means(compiled)
    loss_fn = compiled.loss
    try:
        for batch, (X_batch, y_batch) in enumerate(batches):
            for callback in batch_callbacks:
                callback.on_batch_begin(batch, {})
            outputs = model(Tensor(X_batch))     # forward: records the graph
            loss = loss_fn(outputs, y_batch)     # the loss node at its end
            optimizer.zero_grad()
            loss.backward()                      # every parameter's gradient
            optimizer.step()                     # update the weights in place
            if schedule is not None:
                schedule.step()                  # the learning rate for the next batch
            run.batch = batch + 1
            value = loss.item()
            means.add(value, outputs.data, y_batch)
            for callback in batch_callbacks:
                callback.on_batch_end(batch, {"loss": value})
            if model.stop_training:   # set by a callback, or by Ctrl-C
                break
    finally:
        if hasattr(batches, "close"):   # the progress bar
            batches.close()
    return means.logs()


class _Means:
    """The running loss and metrics of an epoch, each batch weighted by its size."""

    def __init__(self, compiled):
        self.metrics = compiled.metrics
        self.count, self.loss, self.sums = 0, 0.0, [0.0] * len(self.metrics)

    def add(self, loss: float, outputs: np.ndarray, y: np.ndarray) -> None:
        """Count one batch: its loss, and each metric on its outputs."""
        size = len(y)
        self.count += size
        self.loss += loss * size
        for i, (_, metric) in enumerate(self.metrics):
            self.sums[i] += metric(outputs, y) * size

    def logs(self) -> dict:
        """The means so far as plain Python floats: {"loss": ..., metric name: ...}."""
        count = max(self.count, 1)
        return {"loss": float(self.loss / count),
                **{name: float(total / count) for (name, _), total in zip(self.metrics, self.sums)}}


def evaluate(model, X, y, batch_size: int | None = None) -> dict:
    """The compiled loss and metrics on (X, y), in eval mode and without a graph, as Python floats.

    Each is the mean over the batches weighted by their sizes, as during training: for a
    loss with the default "mean" reduction, the loss of the whole set. In a world of more
    than one process each rank evaluates its share of the rows and the sums are added up,
    so every rank gets the whole set's numbers.
    """
    compiled, _ = compiled_parts(model, "evaluate")
    X, y = arrays("evaluate", X, y)
    return _evaluate(model, compiled, X, targets("evaluate", model, X, y), batch_size_of("evaluate", batch_size))


def _evaluate(model, compiled, X, y, batch_size: int) -> dict:
    means = _Means(compiled)
    with modes_kept(model), no_grad(), last_choice():
        model.eval()
        if world_size() > 1:
            return evaluate_shares(model, compiled.loss, X, y, batch_size, means)
        for start in range(0, len(X), batch_size):
            outputs = model(Tensor(X[start:start + batch_size]))
            labels = y[start:start + batch_size]
            means.add(compiled.loss(outputs, labels).item(), outputs.data, labels)
    return means.logs()


def predict(model, X, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for X as one ndarray, in batches, in eval mode, without a graph."""
    X = X.data if isinstance(X, Tensor) else np.asarray(X)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"predict: X must have at least one row, got shape {X.shape}")
    batch_size = batch_size_of("predict", batch_size)
    with modes_kept(model), no_grad(), last_choice():
        model.eval()
        return np.concatenate([model(Tensor(X[i:i + batch_size])).data for i in range(0, len(X), batch_size)])


# ---- what the loop shows ----
def _bar(batches, epoch: int, epochs: int, verbose: int):
    """The batches behind a tqdm bar on stderr (verbose=1 and tqdm installed), as examples/mnist.py."""
    if verbose != 1:
        return batches
    try:
        from tqdm import tqdm
    except ImportError:
        return batches
    width = len(str(epochs))
    return tqdm(batches, desc=f"epoch {epoch + 1:>{width}}/{epochs}", leave=False, unit="batch",
                file=sys.stderr, mininterval=0.25)


def epoch_line(epoch: int, epochs: int, logs: dict) -> str:
    """'03/10 | loss: 0.2345 | accuracy: 0.9312 | val_loss: ... | 1.23 s'."""
    width = len(str(epochs))
    parts = [f"{epoch + 1:0{width}d}/{epochs}"]
    parts += [f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}"
              for name, value in logs.items() if name != "seconds"]
    return " | ".join(parts + [f"{logs.get('seconds', 0.0):.2f} s"])


# ---- generators, Ctrl-C ----
def _epoch_generators(seed, epoch: int) -> tuple:
    """The (shuffling, dropout) generators of ``epoch`` for an int seed; (None, None) for the others.

    Under MPI each rank draws its own dropout masks (rank 0 the ones one process draws).
    """
    if seed is None or hasattr(seed, "permutation"):
        return None, None
    masks = [seed, epoch, 1] if rank() == 0 else [seed, epoch, 1, rank()]
    return np.random.default_rng([seed, epoch]), np.random.default_rng(masks)


def _dropout_generator(rng):
    """Dropout (and anything else using the default generator) draws from ``rng`` meanwhile."""
    return contextlib.nullcontext() if rng is None else generator_used(rng)


@contextlib.contextmanager
def _ctrl_c_stops_after_the_batch(model, run):
    """A first Ctrl-C lets the current batch finish, then stops; a second one interrupts at once.

    Only in the main thread and when nobody else handles SIGINT; otherwise the
    KeyboardInterrupt is caught where it lands, which fit also handles.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def stop_after_the_batch(signum, frame):
        if run.interrupted:
            raise KeyboardInterrupt
        run.interrupted = model.stop_training = True

    previous = signal.signal(signal.SIGINT, stop_after_the_batch)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _overrides(callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)
