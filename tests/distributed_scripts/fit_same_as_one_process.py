"""Run under mpiexec -n 2 with a folder as argument: model.fit on 2 ranks gives every rank
the History and the weights one process gets (float64, 1e-10): uneven shares, a last batch
of one row (rank 1's share empty), validation data, a summed loss, SGD and Adam; evaluate
reduces; only rank 0 prints and writes the checkpoint and CSV; resume on 2 ranks continues
as the uninterrupted run. Prints OK on rank 0."""
import contextlib
import csv
import os
import sys

import numpy as np

import autograd as ag
import nn
from nn import distributed as dist
from nn import functional as F
from nn.distributed import world


@contextlib.contextmanager
def alone():
    """This process as a world of one (the one-process reference, computed on every rank)."""
    saved, world._comm = world._comm, None
    try:
        yield
    finally:
        world._comm = saved


def mlp(seed):
    nn.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))


def data():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((49, 5)), rng.integers(0, 3, 49)
    return X, y, (rng.standard_normal((13, 5)), rng.integers(0, 3, 13))


def train(optimizer, loss, batch_size, callbacks=(), epochs=3, initial_epoch=0, model=None, verbose=0,
          wrapped=False):
    X, y, valid = data()
    if model is None:  # (a resumed model is compiled already)
        model = mlp(dist.rank())  # rank 1 starts from other weights: fit copies rank 0's
        model = dist.DistributedDataParallel(model) if wrapped and dist.world_size() > 1 else model
        model.compile(optimizer, loss=loss, metrics=["accuracy"])
    history = model.fit(X, y, epochs, batch_size, validation_data=valid, seed=7, callbacks=callbacks,
                        verbose=verbose, initial_epoch=initial_epoch)
    return model, history


def assert_same(model, history, reference, expected):
    assert history.history.keys() == expected.history.keys()
    for key, values in expected.history.items():
        assert np.allclose(history.history[key], values, rtol=0, atol=1e-10), (key, history.history[key], values)
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert np.allclose(p.data, q.data, rtol=0, atol=1e-10), (name, np.abs(p.data - q.data).max())
        assert (dist.all_reduce(p.data, "max") == dist.all_reduce(p.data, "min")).all(), f"{name} differs"


def same_history(optimizer, loss, batch_size, wrapped=False):
    with alone():
        reference, expected = train(optimizer, loss, batch_size)
    model, history = train(optimizer, loss, batch_size, wrapped=wrapped)
    assert_same(model, history, reference, expected)
    X, _, (X_valid, y_valid) = data()
    with alone():
        alone_eval = reference.evaluate(X_valid, y_valid)
    evaluated = model.evaluate(X_valid, y_valid)  # each rank evaluates 7 or 6 rows; the sums are added
    assert evaluated.keys() == alone_eval.keys()
    assert all(abs(evaluated[k] - alone_eval[k]) < 1e-10 for k in alone_eval), (evaluated, alone_eval)


class CountingCheckpoint(nn.callbacks.ModelCheckpoint):
    writes = 0

    def on_epoch_end(self, epoch, logs=None):
        CountingCheckpoint.writes += 1
        super().on_epoch_end(epoch, logs)


def files_once_and_resume(folder):
    sgd = lambda: {"name": "sgd", "lr": 0.2, "momentum": 0.9}  # noqa: E731
    checkpoint = CountingCheckpoint(os.path.join(folder, "ckpt-{epoch}.npz"), every=1)
    logger = nn.callbacks.CSVLogger(os.path.join(folder, "log.csv"))
    with alone():
        reference, expected = train(sgd(), "cross_entropy", 10)
    model, history = train(sgd(), "cross_entropy", 10, [checkpoint, logger], verbose=2)
    assert_same(model, history, reference, expected)
    writes = dist.all_reduce(np.array([CountingCheckpoint.writes]))
    assert CountingCheckpoint.writes == (3 if dist.is_main() else 0), CountingCheckpoint.writes
    assert writes[0] == 3
    if dist.is_main():
        with open(os.path.join(folder, "log.csv")) as file:
            rows = list(csv.DictReader(file))
        assert [float(r["val_loss"]) for r in rows] == history.history["val_loss"]
    # resume from epoch 2's checkpoint on both ranks, from a model trained elsewhere
    resumed = mlp(100 + dist.rank())
    resumed.compile(sgd(), loss="cross_entropy", metrics=["accuracy"])
    epoch = nn.callbacks.resume(resumed, os.path.join(folder, "ckpt-2.npz"))
    assert epoch == 2
    _, rest = train(sgd(), "cross_entropy", 10, epochs=3, initial_epoch=2, model=resumed)
    for key, values in expected.history.items():
        assert np.allclose(rest.history[key], values[2:], rtol=0, atol=1e-10), (key, rest.history[key], values)
    for p, q in zip(resumed.parameters(), reference.parameters()):
        assert np.allclose(p.data, q.data, rtol=0, atol=1e-10)


def main():
    ag.set_default_dtype(np.float64)
    dist.init()
    assert dist.world_size() == 2, dist.world_size()
    summed = lambda outputs, y: F.cross_entropy(outputs, y, reduction="sum")  # noqa: E731
    for optimizer in ({"name": "sgd", "lr": 0.05}, "adam"):
        for loss in ("cross_entropy", summed):
            same_history(optimizer if isinstance(optimizer, str) else dict(optimizer), loss, 15)  # 8/7 per rank
        same_history("adam", "cross_entropy", 16)  # 16, 16, 16, then one row: rank 1's share is empty
    same_history("adam", "cross_entropy", 15, wrapped=True)  # a model the user wrapped in DDP already
    files_once_and_resume(sys.argv[1])
    if dist.is_main():
        print("OK")


if __name__ == "__main__":
    main()
