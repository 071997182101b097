"""The world of processes: joining it, and who this process is in it.

Before ``init()``, and after it when the process was not started by ``mpiexec`` or when
mpi4py is not installed, the world is this one process: rank 0 of 1, and nothing here
touches MPI. mpi4py is imported only inside ``init()``, and only when the environment
says a launcher started this process, so a plain ``python script.py`` never pays MPI's
start-up.
"""
from __future__ import annotations

import os

# Set by the launchers in each process they start: MPICH's and Intel MPI's Hydra (PMI_*),
# PMIx-based ones and Slurm's srun (PMIX_RANK), Open MPI, MVAPICH.
LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")

_comm = None  # MPI.COMM_WORLD once init() found more than one process; None in a world of one


def init() -> None:
    """Join the processes ``mpiexec`` started (a world of one without it, or without mpi4py).

    May be called again (it does nothing more). Without a launcher's variables in the
    environment (``LAUNCHER_VARIABLES``) it returns at once, importing nothing. In a world of
    more than one, it installs the fault handlers (see ``faults``): an exception or Ctrl-C
    on any rank ends every rank.
    """
    global _comm
    if _comm is not None or not launched():
        return
    try:
        from mpi4py import MPI
    except ImportError:
        return
    comm = MPI.COMM_WORLD
    if comm.Get_size() > 1:
        from .faults import install
        _comm = comm
        install(comm)


def launched() -> bool:
    """True when an MPI launcher (``mpiexec``, ``mpirun``, ``srun``) started this process."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def comm():
    """The MPI communicator of the world, or None in a world of one."""
    return _comm


def rank() -> int:
    """This process's number in the world, 0 to ``world_size() - 1`` (0 in a world of one)."""
    return 0 if _comm is None else _comm.Get_rank()


def world_size() -> int:
    """How many processes train together (1 before ``init()`` or without mpiexec)."""
    return 1 if _comm is None else _comm.Get_size()


def is_main() -> bool:
    """True on rank 0, the process that prints, plots and writes files."""
    return rank() == 0
