"""The paths on examples/charlm.py's command line, checked before anything loads or trains.

A typo in an output path must cost a second, not a finished run: each problem is one
line naming the option, the path and what is wrong.
"""
from __future__ import annotations

import argparse
import importlib.util
import os

from common_helpers.checks import plots_problem, writable_problem

NEEDS_SAFETENSORS = "needs the safetensors package: pip install safetensors (or pip install -e '.[safetensors]')"


def path_problem(args: argparse.Namespace) -> str | None:
    """The first problem with a path given on the command line, in one line, or None."""
    for option, path in (("--text", args.text), ("--load", args.load)):
        if path is not None:
            problem = _input_problem(path)
            if problem:
                return f"{option} {path}: {problem}"
    problem = writable_problem([("--save", args.save), ("--metrics-json", args.metrics_json)])
    if problem:
        return problem
    for option, path in (("--load", args.load), ("--save", args.save)):
        if path is not None and path.endswith(".safetensors") and importlib.util.find_spec("safetensors") is None:
            return f"{option} {path}: a .safetensors file {NEEDS_SAFETENSORS}"
    if args.plots is not None:
        return plots_problem(args.plots, "loss.png")
    return None


def _input_problem(path: str) -> str | None:
    """Why the file at ``path`` cannot be read, or None."""
    if os.path.isdir(path):
        return "a directory, not a file"
    if not os.path.exists(path):
        return "no such file"
    if not os.access(path, os.R_OK):
        return "no permission to read it"
    return None
