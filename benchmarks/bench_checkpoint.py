"""Gradient checkpointing: peak memory and time of one forward+backward, plain against ag.checkpoint.

    python benchmarks/bench_checkpoint.py [--blocks 16] [--layers 2] [--width 512] [--batch 1024]
                                          [--repeats 3] [--json]

A deep chain of wide layers, float32: ``blocks`` blocks of ``layers`` x (Linear(width,
width) + tanh), a batch of random inputs, the mean square of the output as the loss.
Plain, every Linear and tanh keeps its output until backward; checkpointed, each
block is one ``ag.checkpoint`` node that keeps only its input and recomputes the block
during backward. Peak memory is tracemalloc's (NumPy's allocations are traced) during
forward+backward, above what was allocated before (the weights); it includes the
parameters' gradients, the same in both. Times are medians of ``repeats`` steps, the
two taking turns; the extra cost is also given in forward passes. Run it alone.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from benchmarks.common import machine, settle, table  # noqa: E402


def build(blocks: int, layers: int, width: int, seed: int = 0):
    """The chain: a list of nn.Sequential blocks, float32."""
    rng = np.random.default_rng(seed)
    return [nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width, rng=rng), nn.Tanh())])
            for _ in range(blocks)]


def forward(model, x: Tensor, checkpointed: bool) -> Tensor:
    h = x
    for block in model:
        h = ag.checkpoint(block, h) if checkpointed else block(h)
    return (h * h).mean()


def step(model, x: Tensor, checkpointed: bool) -> tuple:
    """(forward seconds, backward seconds) of one step; the gradients are dropped after."""
    for block in model:
        block.zero_grad()
    start = time.perf_counter()
    loss = forward(model, x, checkpointed)
    middle = time.perf_counter()
    loss.backward()
    end = time.perf_counter()
    return middle - start, end - middle


def peak_mib(model, x: Tensor, checkpointed: bool) -> float:
    """tracemalloc's peak during one forward+backward, above the memory in use before it."""
    for block in model:
        block.zero_grad()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step(model, x, checkpointed)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / 2 ** 20


def measure(blocks: int, layers: int, width: int, batch: int, repeats: int, pause=settle) -> dict:
    """Peak MiB of each way, then median seconds of ``repeats`` steps each (``pause`` before each)."""
    model = build(blocks, layers, width)
    x = Tensor(np.random.default_rng(1).standard_normal((batch, width), dtype=np.float32))
    result = {"config": dict(blocks=blocks, layers=layers, width=width, batch=batch),
              "activation_mib": batch * width * 4 / 2 ** 20,
              "peak_mib": {name: peak_mib(model, x, name == "checkpointed") for name in ("plain", "checkpointed")}}
    times = {"plain": [], "checkpointed": []}
    for _ in range(repeats + 1):  # the first round warms up
        for name in times:
            pause()
            times[name].append(step(model, x, name == "checkpointed"))
    medians = {name: [statistics.median(t[k] for t in runs[1:]) for k in (0, 1)] for name, runs in times.items()}
    result["seconds"] = {name: {"forward": f, "backward": b, "step": f + b} for name, (f, b) in medians.items()}
    return result


def report(result: dict) -> str:
    peak, seconds = result["peak_mib"], result["seconds"]
    plain, ckpt = seconds["plain"], seconds["checkpointed"]
    extra = (ckpt["step"] - plain["step"]) / plain["forward"]
    c = result["config"]
    rows = [[name, f"{peak[name]:.0f}", f"{seconds[name]['forward']:.3f}", f"{seconds[name]['backward']:.3f}",
             f"{seconds[name]['step']:.3f}"] for name in ("plain", "checkpointed")]
    return "\n".join([
        f"### {c['blocks']} blocks of {c['layers']} x (Linear {c['width']} + tanh), batch {c['batch']}, float32 "
        f"({machine()})", "",
        table(rows, ["", "peak MiB", "forward s", "backward s", "forward+backward s"]), "",
        f"Checkpointed peak: {peak['checkpointed'] / peak['plain']:.2f} of plain; step time "
        f"{ckpt['step'] / plain['step']:.2f}x plain, {extra:.2f} extra forward passes "
        f"(one activation is {result['activation_mib']:.1f} MiB)."])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2, help="Linear + tanh layers per block")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = measure(args.blocks, args.layers, args.width, args.batch, args.repeats)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return result


if __name__ == "__main__":
    main()
