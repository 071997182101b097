"""The whole ``python examples/mnist.py --quiet`` command, an older revision against this checkout.

    python benchmarks/bench_fit_switch.py OLD [NEW] [--runs 10] [--preset fast] [--epochs N] [--data DIR] [--json]

OLD and NEW are each a git revision (``03a0e27``, ``main~3``: exported with ``git
archive`` into a temporary directory, removed at the end) or a directory holding a
checkout; NEW defaults to this working tree. Written to check that switching
examples/mnist.py to ``model.fit`` left the ``fast`` command no slower (at most 1.03x),
it times any two versions of the command. Each is run once untimed (the file cache,
.pyc files), then N times each, alternating and swapping who goes first each round so
a drift of the machine falls on both. Every run uses the same seed, so both must print
the same test accuracy (checked: they train the same weights). Prints the median
seconds of each, the ratio of the medians and the median of the paired ratios. Needs
MNIST (``MNIST_DIR`` or ``--data``). Run it alone: other processes on the cores move
the figures more than the 3% it looks for.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.common import machine, settle, table  # noqa: E402

LIMIT = 1.03   # the bound on new / old


@contextlib.contextmanager
def checkout(spec: str):
    """A directory with the code of ``spec``: the directory itself, or a git revision exported to a temporary one."""
    if os.path.isdir(spec):
        yield os.path.abspath(spec)
        return
    with tempfile.TemporaryDirectory(prefix="bench-fit-switch-") as directory:
        archive = subprocess.run(["git", "-C", ROOT, "archive", spec], capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(f"{spec!r} is neither a directory nor a git revision: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
        yield directory


def timed_run(directory: str, options: list) -> dict:
    """One whole command in ``directory``: its wall time (process start to exit) and test accuracy."""
    with tempfile.NamedTemporaryFile(suffix=".json") as metrics:
        command = [sys.executable, os.path.join(directory, "examples", "mnist.py"), "--quiet", *options,
                   "--metrics-json", metrics.name]
        settle()
        start = time.perf_counter()
        result = subprocess.run(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
        with open(metrics.name) as file:
            return {"seconds": seconds, "test_accuracy": json.load(file)["test_accuracy"]}


def compare(directories: dict, options: list, runs: int) -> dict:
    """``runs`` timed runs of each command, alternating (ABBA...), after one untimed run each."""
    for directory in directories.values():
        timed_run(directory, options)
    times = {name: [] for name in directories}
    order = list(directories)
    for round_ in range(runs):
        for name in order if round_ % 2 == 0 else order[::-1]:
            times[name].append(timed_run(directories[name], options))
    accuracies = {name: {r["test_accuracy"] for r in rs} for name, rs in times.items()}
    if accuracies["old"] != accuracies["new"]:
        raise SystemExit(f"the two commands reach different test accuracies {accuracies}: they do not train "
                         f"the same weights, so the timing compares different work")
    seconds = {name: [r["seconds"] for r in rs] for name, rs in times.items()}
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    return {"seconds": seconds, "median": medians, "ratio": medians["new"] / medians["old"],
            "paired_ratio": statistics.median(n / o for n, o in zip(seconds["new"], seconds["old"])),
            "test_accuracy": accuracies["new"].pop()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="a git revision or a directory: the command before")
    parser.add_argument("new", nargs="?", default=ROOT, help="a git revision or a directory (default: this checkout)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    parser.add_argument("--preset", default="fast", help="the preset both commands train (default fast)")
    parser.add_argument("--epochs", help="override the preset's epochs (a quick try, not the measurement)")
    parser.add_argument("--data", help="MNIST directory (default: $MNIST_DIR)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    options = ["--preset", args.preset, "--seed", "1"] + (["--epochs", args.epochs] if args.epochs else []) \
        + (["--data", args.data] if args.data else [])
    with checkout(args.old) as old, checkout(args.new) as new:
        result = compare({"old": old, "new": new}, options, args.runs)
    result |= {"machine": machine(), "old": args.old, "new": args.new, "preset": args.preset, "runs": args.runs}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    command = " ".join(option for option in options if option != args.data)
    print(f"# Whole `python examples/mnist.py --quiet {command}`, {args.runs} runs each, alternating "
          f"({result['machine']})\n")
    print(table([[name, spec, f"{result['median'][name]:.3f}", f"{min(result['seconds'][name]):.3f}"]
                 for name, spec in (("old", args.old), ("new", args.new))],
                ["", "revision or directory", "seconds (median)", "fastest"]))
    verdict = "within" if result["ratio"] <= LIMIT else "OVER"
    print(f"\nnew / old: {result['ratio']:.3f} (medians), {result['paired_ratio']:.3f} (median of paired runs); "
          f"{verdict} the {LIMIT}x bound. Test accuracy {100 * result['test_accuracy']:.2f}% in both.")


if __name__ == "__main__":
    main()
