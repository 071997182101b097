"""fit and evaluate in a world of more than one process: each rank on its share of every batch.

``fit.py`` comes here only when ``nn.distributed.world_size() > 1``; the one-process loop
never does. With N ranks:

- the model runs inside a DistributedDataParallel, which copies rank 0's weights and
  buffers to every rank and averages the gradients during backward;
- each global batch is the one a single process would take (rank 0 draws the epoch's
  permutation, from the same seed, and broadcasts it), split by ``nn.distributed.shard``
  into contiguous shares with a loss weight that makes the averaged gradient the whole
  batch's (N * n_r / B for a mean loss; N for a loss summed over the batch, which one
  probe recognises);
- a rank whose share is empty (a last batch smaller than the world) joins the all-reduce
  with zeros;
- the epoch's sums (loss, metrics, count) are all-reduced, so every rank logs the numbers
  one process would; validation and ``evaluate`` split their rows the same way;
- after each epoch's training rank 0's buffers (batch norm's running statistics) are
  copied to every rank, so validation and checkpoints see one model.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor, no_grad

from ..distributed import DistributedDataParallel, all_reduce, broadcast, is_main, shard, world_size
from .checks import modes_kept


class Parallel:
    """What fit needs to train ``model`` on this rank's shares: the wrapper and the loss's kind."""

    def __init__(self, model, loss_fn, X: np.ndarray, y: np.ndarray):
        # (a model the user wrapped already is used as it is: wrapping twice would reduce twice)
        self.ddp = model if isinstance(model, DistributedDataParallel) else DistributedDataParallel(model)
        self.summed = loss_sums_over_batch(model, loss_fn, X, y)

    def shares(self, loader) -> "_Shares":
        """The loader's global batches, as this rank's share of each."""
        return _Shares(loader, self.summed)

    def train_one_epoch(self, model, compiled, optimizer, schedule, shares, batch_callbacks, run, means) -> dict:
        """fit's ``train_one_epoch`` on this rank's shares; the logs are the whole batches'."""
        model.train()
        loss_fn, ddp = compiled.loss, self.ddp
        try:
            for batch, (X_share, y_share, weight, scale) in enumerate(shares):
                for callback in batch_callbacks:
                    callback.on_batch_begin(batch, {})
                optimizer.zero_grad()
                value = 0.0
                if len(y_share):
                    outputs = ddp(Tensor(X_share))
                    loss = loss_fn(outputs, y_share)
                    (loss if weight == 1 else loss * weight).backward()  # the mean over ranks is the batch's gradient
                    value = loss.item()
                    means.add(value * scale, outputs.data, y_share)
                else:
                    ddp.backward_without_data()
                optimizer.step()
                if schedule is not None:
                    schedule.step()
                run.batch = batch + 1
                if batch_callbacks:  # they see the global batch's loss, the same on every rank
                    total, count = all_reduce(np.array([value * scale * len(y_share), len(y_share)], np.float64))
                    value = total / count
                for callback in batch_callbacks:
                    callback.on_batch_end(batch, {"loss": value})
                if model.stop_training:  # set by a callback: every rank sees the same logs, so all stop
                    break
        finally:
            if hasattr(shares, "close"):  # the progress bar
                shares.close()
        return reduced_logs(means)


class _Shares:
    """Per global batch: (this rank's X rows, its y rows, the loss weight, the loss scale).

    The scale makes ``_Means`` add what one process would: a mean loss counts once per row
    of the share (scale 1); a summed loss is the whole batch's sum once per row of the
    batch (scale B / n_r, the shares' sums adding up to the batch's).
    """

    def __init__(self, loader, summed: bool):
        self.loader, self.summed = loader, summed

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        loader = self.loader
        X, y = loader.arrays
        n, size, ranks = len(X), loader.batch_size, world_size()
        if loader.shuffle:  # one permutation for all ranks: rank 0's, drawn as one process draws it
            order = broadcast(loader.rng.permutation(n) if is_main() else None)
        else:
            order = np.arange(n)
        for start in range(0, len(loader) * size, size):
            batch = order[start:start + size]
            share = shard(batch)
            rows = len(share.indices)
            weight = float(ranks) if self.summed else share.weight
            scale = len(batch) / rows if self.summed and rows else 1.0
            yield X.take(share.indices, axis=0), y.take(share.indices, axis=0), weight, scale


def loss_sums_over_batch(model, loss_fn, X: np.ndarray, y: np.ndarray) -> bool:
    """True when ``loss_fn`` sums over the batch (``reduction="sum"``) rather than averaging:
    on the first row given twice it is twice the row's loss. Every rank finds the same."""
    with modes_kept(model), no_grad():
        model.eval()
        once = loss_fn(model(Tensor(X[:1])), y[:1]).item()
        twice = loss_fn(model(Tensor(np.concatenate([X[:1], X[:1]]))), np.concatenate([y[:1], y[:1]])).item()
    summed = bool(once != 0 and np.isclose(twice, 2 * once, rtol=1e-4))
    return bool(broadcast(np.array(summed)))  # rank 0's answer, should a rounding tie differ


def evaluate_shares(model, loss_fn, X: np.ndarray, y: np.ndarray, batch_size: int, means) -> dict:
    """The logs of (X, y) evaluated in the batches one process would use, each rank on its
    contiguous share of each (views, no copy), the sums added up over the ranks.

    In eval mode and without a graph, as ``fit.py``'s ``_evaluate``.
    """
    summed = loss_sums_over_batch(model, loss_fn, X, y)
    for start in range(0, len(X), batch_size):
        stop = min(start + batch_size, len(X))
        indices = shard(np.arange(start, stop)).indices
        if len(indices):
            first, last = int(indices[0]), int(indices[-1]) + 1
            outputs, labels = model(Tensor(X[first:last])), y[first:last]
            scale = (stop - start) / (last - first) if summed else 1.0
            means.add(loss_fn(outputs, labels).item() * scale, outputs.data, labels)
    return reduced_logs(means)


def reduced_logs(means) -> dict:
    """The logs of ``means`` (a ``_Means``) summed over every rank's rows."""
    total = all_reduce(np.array([means.count, means.loss, *means.sums], dtype=np.float64))
    means.count, means.loss, means.sums = int(total[0]), float(total[1]), [float(s) for s in total[2:]]
    return means.logs()
