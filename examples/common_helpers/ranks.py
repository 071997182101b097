"""Under ``mpiexec -n N``: every rank trains, rank 0 alone prints and writes files."""
from __future__ import annotations

import argparse
import os
import sys

import nn


def join_quietly() -> None:
    """Join mpiexec's processes (nothing at all without mpiexec: no MPI is imported); on every
    rank but 0, stdout and stderr go nowhere. A rank that fails still shows why:
    nn.distributed reports on the original stderr."""
    nn.distributed.init()
    if not nn.distributed.is_main():
        sys.stdout = sys.stderr = open(os.devnull, "w")


def on_rank_zero(args: argparse.Namespace, **elsewhere) -> argparse.Namespace:
    """``args`` on rank 0; on the other ranks, with the options in ``elsewhere`` replaced (the
    files and the output turned off), so that each file is written once."""
    return args if nn.distributed.is_main() else argparse.Namespace(**{**vars(args), **elsewhere})
