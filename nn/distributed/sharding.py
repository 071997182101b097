"""Each rank's share of a global batch, and the weight that makes uneven shares exact.

The global batch is split into ``world_size`` contiguous runs, the first ``len % world_size``
one item longer (as ``np.array_split``), so every rank knows every share without talking.

Why the weight: DistributedDataParallel averages the ranks' gradients, so with equal
shares of the global batch the mean over ranks of each share's mean-loss gradient is the
whole batch's mean-loss gradient. With uneven shares (a last batch of 129 on 2 ranks) the
plain average would give the short share too much say. Multiplying rank r's mean loss by
``weight = world_size * len(share) / len(batch)`` makes the average of the ranks' gradients

    (1/N) * sum_r (N * n_r / B) * grad(mean loss over share r) = (1/B) * sum_r n_r * grad(...)

which is the gradient of the mean loss over the whole batch: the one-process step. The
weight is 1 whenever the shares are equal, so the common case changes nothing.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .world import rank as _rank, world_size as _world_size


class Shard(NamedTuple):
    """A rank's ``indices`` of a global batch and the ``weight`` its mean loss is multiplied by."""

    indices: np.ndarray
    weight: float


def shard(batch, rank: int | None = None, world_size: int | None = None) -> Shard:
    """Rank ``rank``'s contiguous share of ``batch`` (indices, or any sequence NumPy can hold),
    and its loss weight ``world_size * len(share) / len(batch)`` (see the module docstring).

    ``rank`` and ``world_size`` default to this process's. A share is empty only when the
    batch has fewer items than there are ranks; its weight is then 0.
    """
    rank = _rank() if rank is None else rank
    world_size = _world_size() if world_size is None else world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"shard: rank {rank} is not in a world of {world_size}")
    batch = np.asarray(batch)
    total = len(batch)
    small, extra = divmod(total, world_size)
    start = rank * small + min(rank, extra)
    stop = start + small + (rank < extra)
    weight = world_size * (stop - start) / total if total else 0.0
    return Shard(batch[start:stop], weight)
