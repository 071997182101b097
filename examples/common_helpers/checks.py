"""The checks of output paths, before training: a typo must cost a second, not a finished run."""
from __future__ import annotations

import importlib.util
import os

from common_helpers.plotting import NEEDS_MATPLOTLIB
from nn.io.atomic import check_writable


def writable_problem(options) -> str | None:
    """The first of the (option, path) pairs whose path could not be written (the option, then why), or None;
    a path of None was not given."""
    for option, path in options:
        if path is not None:
            try:
                check_writable(path)
            except OSError as error:
                return f"{option}: {error}"
    return None


def plots_problem(directory: str, first_file: str) -> str | None:
    """Why ``--plots directory`` could not be written (not a directory, not creatable, no matplotlib),
    in one line, or None. ``first_file`` is a name the plots will write, tried in the nearest
    existing parent (the directory itself is made at the end)."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        return f"--plots {directory}: a file, not a directory"
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"--plots {directory}: {existing} is not a directory"
    try:
        check_writable(os.path.join(existing, first_file))
    except OSError as error:
        return f"--plots {directory}: {error}"
    if importlib.util.find_spec("matplotlib") is None:
        return NEEDS_MATPLOTLIB
    return None
