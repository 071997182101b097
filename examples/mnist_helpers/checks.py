"""The paths on examples/mnist.py's command line, checked before any training.

A typo in an output path must cost a second, not a finished run: each problem is
one line naming the option, the path and what is wrong.
"""
from __future__ import annotations

import argparse
import importlib.util
import os

from mnist_helpers.plots import NEEDS_MATPLOTLIB
from nn.io.atomic import check_writable


def path_problem(args: argparse.Namespace) -> str | None:
    """The first problem with a path given on the command line, in one line, or None."""
    if args.data is not None and not os.path.isdir(args.data):
        return f"--data {args.data}: " + ("not a directory" if os.path.exists(args.data) else "no such directory")
    if args.load is not None and not os.path.isfile(args.load):
        return f"--load {args.load}: " + ("a directory, not a checkpoint file" if os.path.isdir(args.load)
                                          else "no such file")
    for option, path in (("--save", args.save), ("--metrics-json", args.metrics_json)):
        if path is not None:
            try:
                check_writable(path)
            except OSError as error:
                return f"{option}: {error}"
    if args.plots is not None:
        return _plots_problem(args.plots)
    return None


def _plots_problem(directory: str) -> str | None:
    """Why ``--plots directory`` could not be written: not a directory, not creatable, or no matplotlib."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        return f"--plots {directory}: a file, not a directory"
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):  # the directory is made at the end: its nearest existing parent
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"--plots {directory}: {existing} is not a directory"
    try:
        check_writable(os.path.join(existing, "cost.png"))
    except OSError as error:
        return f"--plots {directory}: {error}"
    if importlib.util.find_spec("matplotlib") is None:
        return NEEDS_MATPLOTLIB
    return None
