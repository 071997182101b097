"""The paths on examples/charlm.py's command line, checked before anything loads or trains.

A typo in an output path must cost a second, not a finished run: each problem is one
line naming the option, the path and what is wrong.
"""
from __future__ import annotations

import argparse
import importlib.util
import os

from charlm_helpers.plots import NEEDS_MATPLOTLIB
from nn.io.atomic import check_writable

NEEDS_SAFETENSORS = "needs the safetensors package: pip install safetensors (or pip install -e '.[safetensors]')"


def path_problem(args: argparse.Namespace) -> str | None:
    """The first problem with a path given on the command line, in one line, or None."""
    for option, path in (("--text", args.text), ("--load", args.load)):
        if path is not None:
            problem = _input_problem(path)
            if problem:
                return f"{option} {path}: {problem}"
    for option, path in (("--save", args.save), ("--metrics-json", args.metrics_json)):
        if path is not None:
            try:
                check_writable(path)
            except OSError as error:
                return f"{option}: {error}"
    for option, path in (("--load", args.load), ("--save", args.save)):
        if path is not None and path.endswith(".safetensors") and importlib.util.find_spec("safetensors") is None:
            return f"{option} {path}: a .safetensors file {NEEDS_SAFETENSORS}"
    if args.plots is not None:
        return _plots_problem(args.plots)
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
        check_writable(os.path.join(existing, "loss.png"))
    except OSError as error:
        return f"--plots {directory}: {error}"
    if importlib.util.find_spec("matplotlib") is None:
        return NEEDS_MATPLOTLIB
    return None
