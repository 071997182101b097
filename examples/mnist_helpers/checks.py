"""The paths on examples/mnist.py's command line, checked before any training.

A typo in an output path must cost a second, not a finished run: each problem is
one line naming the option, the path and what is wrong.
"""
from __future__ import annotations

import argparse
import os

from common_helpers.checks import plots_problem, writable_problem


def path_problem(args: argparse.Namespace) -> str | None:
    """The first problem with a path given on the command line, in one line, or None."""
    if args.data is not None and not os.path.isdir(args.data):
        return f"--data {args.data}: " + ("not a directory" if os.path.exists(args.data) else "no such directory")
    if args.load is not None and not os.path.isfile(args.load):
        return f"--load {args.load}: " + ("a directory, not a checkpoint file" if os.path.isdir(args.load)
                                          else "no such file")
    problem = writable_problem([("--save", args.save), ("--metrics-json", args.metrics_json)])
    if problem:
        return problem
    if args.plots is not None:
        return plots_problem(args.plots, "cost.png")
    return None
