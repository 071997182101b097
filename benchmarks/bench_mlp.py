"""Seconds per training epoch: dagrad as a user writes it, against hand-written NumPy and PyTorch.

    python benchmarks/bench_mlp.py [--epochs 9] [--json]

Three configurations: the textbook's 784-100-10 sigmoid MLP (batch 100, SGD with L2) in
float64 and in float32, and the 'fast' preset's 784-256-10 ReLU network (batch 128, Adam on
a one-cycle schedule, smoothed cross-entropy). Within a configuration the contenders run
alternately, epoch by epoch, so machine drift hits all alike; each figure is the median of
the epochs after one warm-up epoch. The seed configurations also race dagrad, in alternating
blocks of 25 steps, against a strict hand-written loop (``textbook_numpy.StrictMLP``) and against
its own array calls written out by hand (``engine_by_hand``: what the engine itself costs).
Also: inference over the 10,000 test images against a bare NumPy forward pass, and the peak
memory of one epoch. Needs MNIST (``MNIST_DIR``).
Run it alone: two BLAS-heavy processes on 2 cores slow each other many times over.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd import Tensor, no_grad  # noqa: E402
from benchmarks import contenders  # noqa: E402
from benchmarks.common import in_blocks, machine, median_seconds, settle, table, try_torch  # noqa: E402
from nn.datasets import load_mnist, mean_std, scale_symmetric, train_valid_split  # noqa: E402


def load(dtype, scaling):
    """(train_x, train_y, test_x, test_y) preprocessed like the example's presets."""
    images, labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    if scaling == "symmetric":
        scale = lambda x: scale_symmetric(x, dtype)  # noqa: E731
    else:
        mean, std = mean_std(images)
        scale = lambda x: ((x / 255.0 - mean) / std).astype(dtype)  # noqa: E731
    (train_x, train_y), _ = train_valid_split(scale(images), labels)
    return train_x, train_y, scale(test_images), test_labels


def race(runners: dict, epochs: int) -> dict:
    """Alternate the runners epoch by epoch; the seconds of each epoch after a warm-up one."""
    times = {name: [] for name in runners}
    for epoch in range(epochs + 1):
        for name, runner in runners.items():
            settle()
            start = time.perf_counter()
            runner.epoch()
            if epoch:
                times[name].append(time.perf_counter() - start)
    return times


STRICT_BLOCK = 25  # steps: dagrad and the strict loop alternate this often within an epoch


def race_blocks(runners: dict, epochs: int, block: int) -> dict:
    """Alternate the runners every ``block`` steps within each epoch; the seconds per step of each
    block after a warm-up epoch. Finer than epoch by epoch: this machine's speed drifts by 20% from
    one epoch to the next, which the pairs of 2,500 steps did not cancel. Both runners use NumPy's
    BLAS threads, so no pause is needed between them (see ``settle``)."""
    times = {name: [] for name in runners}
    for epoch in range(epochs + 1):
        unfinished = {name: in_blocks(runner.steps(), block) for name, runner in runners.items()}
        while unfinished:
            for name in list(unfinished):
                start = time.perf_counter()
                steps = next(unfinished[name], 0)
                seconds = time.perf_counter() - start
                if not steps:
                    del unfinished[name]
                elif epoch:
                    times[name].append(seconds / steps)
    return times


def against_strict(dtype, train, test, epochs: int) -> dict:
    """dagrad against the strict NumPy loop, and against its own array calls written by hand (the
    engine's floor, ``engine_by_hand``), in alternating blocks of steps, from the same weights on the
    same batches (fresh runners, so the main race's training is not disturbed)."""
    runners = contenders.seed_runners(*train, dtype, None)
    runners = {name: runners[name] for name in ("dagrad", "strict", "by_hand")}
    per_step = race_blocks(runners, epochs, STRICT_BLOCK)
    accuracies = {k: accuracy(r, *test) for k, r in runners.items()}
    if max(accuracies.values()) - min(accuracies.values()) > 0.002:
        raise SystemExit(f"dagrad, the strict loop and dagrad's calls by hand disagree ({accuracies}); "
                         f"the comparison is not fair")
    steps = len(train[0]) // contenders.SEED_BATCH

    def over(a, b):
        return statistics.median(x / y for x, y in zip(per_step[a], per_step[b]))
    return {"seconds_per_epoch": statistics.median(per_step["strict"]) * steps,
            "dagrad_over": over("dagrad", "strict"), "by_hand_over": over("by_hand", "strict"),
            "dagrad_over_by_hand": over("dagrad", "by_hand"),
            "engine_microseconds_per_step": 1e6 * statistics.median(
                d - h for d, h in zip(per_step["dagrad"], per_step["by_hand"])),
            "dagrad_seconds_per_epoch": statistics.median(per_step["dagrad"]) * steps,
            "block_steps": STRICT_BLOCK, "blocks": len(per_step["strict"]), "test_accuracy": accuracies}


def peak_memory(runner) -> float:
    """Peak MiB allocated during one epoch, above what was allocated before it (tracemalloc)."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    runner.epoch()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2 ** 20


def accuracy(runner, test_x, test_y) -> float:
    return float((runner.predict(test_x) == test_y).mean())


def configuration(name, dtype, torch, epochs) -> dict:
    """Race one configuration; check dagrad and NumPy learned the same thing from the same weights."""
    fast = name == "fast"
    train_x, train_y, test_x, test_y = load(dtype, "standardize" if fast else "symmetric")
    make = contenders.fast_runners if fast else contenders.seed_runners
    runners = make(train_x, train_y, dtype, torch, epochs=epochs + 2)  # warm-up, timed, memory
    for name in ("strict", "by_hand"):  # raced on their own, block by block (against_strict)
        runners.pop(name, None)
    epoch_seconds = race(runners, epochs)
    seconds = {name: statistics.median(t) for name, t in epoch_seconds.items()}
    # Ratios from epochs run side by side, so the machine's drift cancels in each pair.
    ratios = {name: statistics.median(d / o for d, o in zip(epoch_seconds["dagrad"], t))
              for name, t in epoch_seconds.items() if name != "dagrad"}
    accuracies = {k: accuracy(r, test_x, test_y) for k, r in runners.items()}
    if abs(accuracies["dagrad"] - accuracies["numpy"]) > 0.002:
        raise SystemExit(f"{name}: dagrad and NumPy disagree ({accuracies}); the comparison is not fair")
    result = {"seconds_per_epoch": seconds, "dagrad_over": ratios, "epoch_seconds": epoch_seconds,
              "test_accuracy": accuracies,
              "peak_mib": {k: peak_memory(runners[k]) for k in ("dagrad", "numpy")}}
    if not fast:
        result["inference"] = inference(runners["dagrad"].model, test_x)
        strict = result["strict"] = against_strict(dtype, (train_x, train_y), (test_x, test_y), epochs)
        seconds["strict"], ratios["strict"] = strict["seconds_per_epoch"], strict["dagrad_over"]
    return result


def inference(model, test_x) -> dict:
    """Seconds to classify the test set under no_grad, against the same forward pass in bare NumPy."""
    W1, b1, W2, b2 = (p.data for p in model.parameters())

    def bare():
        h = test_x @ W1.T + b1
        h = 1.0 / (1.0 + np.exp(-h))
        return (h @ W2.T + b2).argmax(axis=1)

    def engine():
        with no_grad():
            return model(Tensor(test_x)).data.argmax(axis=1)
    times = {"dagrad": [], "numpy": []}
    for _ in range(15):
        times["dagrad"].append(median_seconds(engine, repeats=1, warmup=0))
        times["numpy"].append(median_seconds(bare, repeats=1, warmup=0))
    return {k: statistics.median(v) for k, v in times.items()}


def report(results: dict) -> str:
    rows = []
    for name, r in results["configurations"].items():
        s, ratio = r["seconds_per_epoch"], r["dagrad_over"]
        torch_cell = f"{s['torch']:.3f} ({ratio['torch']:.2f}x)" if "torch" in s else "-"
        strict_cell = f"{s['strict']:.3f} ({ratio['strict']:.2f}x)" if "strict" in s else "-"
        rows.append([name, f"{s['numpy']:.3f}", f"{s['dagrad']:.3f} ({ratio['numpy']:.2f}x)", strict_cell, torch_cell,
                     f"{r['peak_mib']['dagrad']:.1f} / {r['peak_mib']['numpy']:.1f}"])
    lines = [f"# Seconds per epoch, medians; ratios are medians of epochs run side by side "
             f"({results['machine']})", "",
             table(rows, ["configuration", "hand-written NumPy", "dagrad (vs NumPy)", "strict NumPy loop (dagrad/strict)",
                          "PyTorch (dagrad/PyTorch)",
                          "peak MiB dagrad / NumPy"])]
    if any("strict" in r for r in results["configurations"].values()):
        lines.append(f"\nThe strict NumPy loop runs in blocks of {STRICT_BLOCK} steps alternating with dagrad's within "
                     f"each epoch (its seconds per epoch: the median step times the steps of an epoch); "
                     f"dagrad/strict is the median of the blocks' ratios.")
    for name, r in results["configurations"].items():
        if "strict" in r:
            k = r["strict"]
            lines.append(f"\nThe engine's own cost ({name}): dagrad's array calls written by hand, raced in the same "
                         f"blocks, take {k['by_hand_over']:.2f}x the strict loop's time; dagrad takes "
                         f"{k['dagrad_over_by_hand']:.2f}x theirs, {k['engine_microseconds_per_step']:.0f} us a step.")
    for name, r in results["configurations"].items():
        if "inference" in r:
            i = r["inference"]
            lines.append(f"\nInference, 10,000 test images ({name}): dagrad {1e3 * i['dagrad']:.1f} ms, "
                         f"NumPy {1e3 * i['numpy']:.1f} ms ({i['dagrad'] / i['numpy']:.2f}x)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=9, help="timed epochs per contender (after one warm-up)")
    parser.add_argument("--only", choices=["seed64", "seed32", "fast"], action="append",
                        help="run only these configurations")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    torch = try_torch()
    chosen = args.only or ["seed64", "seed32", "fast"]
    dtypes = {"seed64": np.float64, "seed32": np.float32, "fast": np.float32}
    results = {"machine": machine(), "configurations": {}}
    for name in chosen:
        results["configurations"][name] = configuration(name, dtypes[name], torch, args.epochs)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
