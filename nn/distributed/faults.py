"""Nothing hangs: an exception or Ctrl-C on any rank ends every rank.

Without this, a rank that raises exits alone and the others wait forever in their next
collective. ``install`` (called by ``init()`` in a world of more than one) replaces
``sys.excepthook``: the traceback is printed with the rank's number, then MPI's Abort ends
every process of the job, and ``mpiexec`` exits non-zero (130 after Ctrl-C, 1 otherwise).
The message goes to the process's original stderr, so a script that silenced its other
ranks (``sys.stderr = open(os.devnull, "w")``) still shows why one of them stopped.
"""
from __future__ import annotations

import sys
import time
import traceback


FORWARDING_PAUSE = 0.5  # seconds for the launcher to pass the message on before Abort


def install(comm) -> None:
    """Make an uncaught exception on this rank print its traceback and abort the whole job."""
    sys.excepthook = _AbortOnException(comm)


class _AbortOnException:
    """An excepthook: print with the rank's number, then ``comm.Abort``."""

    def __init__(self, comm):
        self.comm = comm

    def __call__(self, kind, value, tb) -> None:
        stderr = sys.__stderr__ or sys.stderr
        where = f"rank {self.comm.Get_rank()} of {self.comm.Get_size()}"
        if issubclass(kind, KeyboardInterrupt):
            print(f"\n{where}: interrupted, stopping every rank", file=stderr, flush=True)
            code = 130
        else:
            text = "".join(traceback.format_exception(kind, value, tb))
            print(f"{where} raised an exception, stopping every rank:\n{text}", file=stderr, end="", flush=True)
            code = 1
        sys.stdout.flush()
        # mpiexec forwards each rank's output asynchronously, and Abort tears the job down at
        # once: without a pause the message was lost in about one run of five.
        time.sleep(FORWARDING_PAUSE)
        self.comm.Abort(code)
