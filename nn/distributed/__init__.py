"""Data-parallel training over MPI: ranks, collectives, DistributedDataParallel, batch sharding.

``mpiexec -n N python script.py`` starts N processes; ``init()`` joins them. Without mpiexec,
or without mpi4py installed, the world is this one process and nothing here touches MPI
(mpi4py is imported only by ``init()``).
"""
from .collectives import all_reduce, broadcast, broadcast_object
from .ddp import DistributedDataParallel
from .sharding import Shard, shard
from .world import init, is_main, launched, rank, world_size

__all__ = ["init", "launched", "rank", "world_size", "is_main", "all_reduce", "broadcast", "broadcast_object",
           "DistributedDataParallel", "Shard", "shard"]
