"""Collectives on NumPy arrays: every rank calls them, in the same order.

In a world of one they return a copy of the array and touch no MPI.
"""
from __future__ import annotations

import numpy as np

from .world import comm

REDUCTIONS = ("sum", "mean", "max", "min")


def all_reduce(array, op: str = "sum") -> np.ndarray:
    """The elementwise ``op`` (``"sum"``, ``"mean"``, ``"max"``, ``"min"``) of every rank's
    ``array`` (same shape and dtype everywhere), returned as a new array on every rank.

    ``"mean"`` is the sum divided by the world size (floating for integer input).
    """
    if op not in REDUCTIONS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(REDUCTIONS)}, got {op!r}")
    # A new C-ordered array (MPI reads memory, so every rank's layout must agree; a Tensor gives its data)
    data = np.array(array, copy=True, order="C")
    world = comm()
    if world is not None:
        from mpi4py import MPI
        mpi_op = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        world.Allreduce(MPI.IN_PLACE, data, op=mpi_op)
        if op == "mean":
            data = data / world.Get_size()
    elif op == "mean" and data.dtype.kind not in "fc":
        data = data.astype(np.float64)
    return data


def broadcast(array, root: int = 0) -> np.ndarray:
    """Rank ``root``'s ``array``, returned as a new array on every rank.

    The other ranks' ``array`` is ignored (it may be None): shape and dtype come from the root.
    """
    world = comm()
    if world is None:
        return np.array(array, copy=True)
    if world.Get_rank() == root:
        data = np.ascontiguousarray(np.array(array, copy=True))
        world.bcast((data.shape, data.dtype.str), root=root)
    else:
        shape, dtype = world.bcast(None, root=root)
        data = np.empty(shape, dtype=dtype)
    world.Bcast(data, root=root)
    return data


def broadcast_object(obj, root: int = 0):
    """Rank ``root``'s ``obj`` (any picklable object: a state dict, a number), on every rank.

    The other ranks' ``obj`` is ignored. In a world of one, ``obj`` itself.
    """
    world = comm()
    return obj if world is None else world.bcast(obj if world.Get_rank() == root else None, root=root)
