"""Wall time of the whole 'fast' command to 98% test accuracy: dagrad, hand-written NumPy, PyTorch.

    python benchmarks/bench_time_to_98.py [--seeds 5] [--preset fast|cnn|cnn-best] [--json]

Each contender is a whole process, timed from start to exit (imports, data loading and
evaluation included): ``python examples/mnist.py --quiet`` (the default 'fast' preset),
``benchmarks/fast_numpy.py`` (the same recipe by hand, from the same weights and shuffles)
and ``benchmarks/fast_torch.py`` (the same recipe in PyTorch, when installed). They run
alternately, seed by seed. Prints medians, ratios, the accuracies reached and each
process's peak memory. Needs MNIST (``MNIST_DIR`` or ``--data``). Run it alone.
``--preset cnn`` (or ``cnn-best``) races ``examples/mnist.py --preset cnn`` against the same
recipe in PyTorch (``benchmarks/cnn_torch.py``); there is no hand-written NumPy for those.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.common import machine, table  # noqa: E402

COMMANDS = {
    "dagrad": [os.path.join(ROOT, "examples", "mnist.py"), "--quiet"],
    "numpy": [os.path.join(ROOT, "benchmarks", "fast_numpy.py")],
    "torch": [os.path.join(ROOT, "benchmarks", "fast_torch.py")],
}
CNN_TORCH = os.path.join(ROOT, "benchmarks", "cnn_torch.py")  # the torch contender of the CNN presets


def timed_run(name: str, seed: int, data, preset: str = "fast") -> dict:
    """Run one contender; its wall time, peak resident memory (MiB) and test accuracy."""
    script = [CNN_TORCH] if name == "torch" and preset != "fast" else COMMANDS[name]
    command = [sys.executable, *script, "--seed", str(seed)] + (["--data", data] if data else [])
    if preset != "fast":
        command += ["--preset", preset]
    metrics = None
    if name == "dagrad":
        metrics = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
        command += ["--metrics-json", metrics]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    output = process.stdout.read()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} (seed {seed}) failed: {' '.join(command)}")
    if metrics:
        with open(metrics) as file:
            accuracy = json.load(file)["test_accuracy"]
        os.unlink(metrics)
    else:
        accuracy = float(output.split("test_accuracy")[-1])
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "test_accuracy": accuracy}


def torch_available() -> bool:
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="runs per contender (seeds 1..N)")
    parser.add_argument("--data", help="MNIST directory (default: $MNIST_DIR)")
    parser.add_argument("--preset", choices=["fast", "cnn", "cnn-best"], default="fast",
                        help="the preset to race (the CNN ones against PyTorch only)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    names = ["dagrad"] + (["numpy"] if args.preset == "fast" else []) + (["torch"] if torch_available() else [])
    runs = {name: [] for name in names}
    for seed in range(1, args.seeds + 1):
        for name in names:
            runs[name].append(timed_run(name, seed, args.data, args.preset))
    gaps = [abs(a["test_accuracy"] - b["test_accuracy"]) for a, b in zip(runs["dagrad"], runs.get("numpy", []))]
    if max(gaps, default=0.0) > 0.003:
        raise SystemExit(f"dagrad and hand-written NumPy disagree by {max(gaps):.4f} from the same weights: "
                         f"the comparison is not fair")
    summary = {name: {key: statistics.median(r[key] for r in rs) for key in ("seconds", "peak_mib", "test_accuracy")}
               | {"min_accuracy": min(r["test_accuracy"] for r in rs)} for name, rs in runs.items()}
    results = {"machine": machine(), "preset": args.preset, "seeds": args.seeds, "summary": summary, "runs": runs}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    # Ratios from runs made back to back (same seed), so the machine's drift cancels in each pair.
    ratio = {name: statistics.median(d["seconds"] / o["seconds"] for d, o in zip(runs["dagrad"], rs))
             for name, rs in runs.items()}
    rows = [[name, f"{s['seconds']:.2f}", f"{ratio[name]:.2f}x", f"{100 * s['test_accuracy']:.2f}%",
             f"{100 * s['min_accuracy']:.2f}%", f"{s['peak_mib']:.0f}"] for name, s in summary.items()]
    print(f"# Whole '{args.preset}' command, median of {args.seeds} seeds ({results['machine']})\n")
    print(table(rows, ["contender", "seconds (median)", "dagrad/contender", "test accuracy (median)", "lowest",
                       "peak MiB"]))


if __name__ == "__main__":
    main()
