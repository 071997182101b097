"""Per-node overhead: microseconds per op, forward and backward, on small arrays.

    python benchmarks/bench_overhead.py [--json]

Times (1) chains of small elementwise ops, forward and backward separately, (2) one MLP
training step (784-100-10, sigmoid, cross-entropy, SGD) at batch sizes 1, 10, 100, 1000,
forward (with the loss) and backward (with the update) separately, and (3) the backward
of a 100,000-op chain; against PyTorch when it is installed. Run it alone: two BLAS-heavy
processes on 2 cores slow each other many times over.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from benchmarks.common import machine, settle, table, try_torch  # noqa: E402
from nn import functional as F  # noqa: E402

CHAIN = 1000          # ops per timed chain
DEEP_CHAIN = 100_000  # ops in the deep chain


def chain_dagrad(length):
    x = Tensor(np.ones(16, np.float32), requires_grad=True)
    y = x
    for _ in range(length // 2):
        y = (y * 1.0001).tanh()
    return x, y.sum()


def chain_torch(torch, length):
    x = torch.ones(16, requires_grad=True)
    y = x
    for _ in range(length // 2):
        y = (y * 1.0001).tanh()
    return x, y.sum()


def per_node(builders: dict, repeats=15) -> dict:
    """{name: (forward, backward) microseconds per node} of CHAIN-op chains, the builders
    taking turns repeat by repeat so machine drift hits all alike (medians)."""
    times = {name: ([], []) for name in builders}
    for _ in range(repeats + 1):
        for name, build in builders.items():
            start = time.perf_counter()
            loss = build(CHAIN)
            middle = time.perf_counter()
            loss.backward()
            end = time.perf_counter()
            times[name][0].append(middle - start)
            times[name][1].append(end - middle)
    return {name: tuple(1e6 * float(np.median(t[1:])) / CHAIN for t in pair) for name, pair in times.items()}


def timed_step(forward, optimizer):
    """A step function returning (forward, backward) seconds: ``forward()`` gives the loss
    (counted as forward); zeroing, backward and the update count as backward. The same
    calls in dagrad and PyTorch."""
    def step():
        start = time.perf_counter()
        loss = forward()
        middle = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return middle - start, time.perf_counter() - middle
    return step


def mlp_step_dagrad(batch):
    """One training step of the 784-100-10 sigmoid MLP (see ``timed_step``)."""
    model = nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
    x = np.random.default_rng(0).standard_normal((batch, 784)).astype(np.float32)
    y = np.arange(batch) % 10
    return timed_step(lambda: F.cross_entropy(model(Tensor(x)), y), nn.optim.SGD(model.parameters(), lr=0.01))


def mlp_step_torch(torch, batch):
    """The same step in PyTorch."""
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.Sigmoid(), torch.nn.Linear(100, 10))
    x = torch.randn(batch, 784)
    y = torch.arange(batch) % 10
    return timed_step(lambda: torch.nn.functional.cross_entropy(model(x), y),
                      torch.optim.SGD(model.parameters(), lr=0.01))


def alternate(steps: dict, rounds: int = 15, calls: int = 20) -> dict:
    """{name: (forward, backward)} median milliseconds per step, the contenders taking turns
    round by round."""
    times = {name: ([], []) for name in steps}
    for round_ in range(rounds + 1):
        for name, step in steps.items():
            settle()
            split = np.array([step() for _ in range(calls)]).mean(axis=0)
            if round_:
                times[name][0].append(split[0])
                times[name][1].append(split[1])
    return {name: tuple(1e3 * float(np.median(t)) for t in pair) for name, pair in times.items()}


def deep_chain_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(DEEP_CHAIN):
        y = y * 1.0001
    loss = y.sum()
    start = time.perf_counter()
    loss.backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    torch = try_torch()
    results = {"machine": machine()}
    builders = {"dagrad": lambda n: chain_dagrad(n)[1]}
    if torch is not None:
        builders["torch"] = lambda n: chain_torch(torch, n)[1]
    per = per_node(builders)
    results["dagrad_us_per_node"] = per["dagrad"]
    if torch is not None:
        results["torch_us_per_node"] = per["torch"]
    results["mlp_step_ms"] = {}
    for batch in (1, 10, 100, 1000):
        steps = {"dagrad": mlp_step_dagrad(batch)}
        if torch is not None:
            steps["torch"] = mlp_step_torch(torch, batch)
        results["mlp_step_ms"][batch] = alternate(steps)
    deep = [deep_chain_backward() for _ in range(5)]
    results["deep_chain_backward_s"] = float(np.median(deep))
    results["deep_chain_backward_s_fastest"] = float(min(deep))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"# Overhead ({results['machine']})\n")
    rows = [["dagrad", *(f"{v:.2f}" for v in results["dagrad_us_per_node"]), f"{sum(results['dagrad_us_per_node']):.2f}"]]
    if torch is not None:
        rows.append(["PyTorch", *(f"{v:.2f}" for v in results["torch_us_per_node"]),
                     f"{sum(results['torch_us_per_node']):.2f}"])
        ratios = [d / t for d, t in zip(results["dagrad_us_per_node"], results["torch_us_per_node"])]
        ratios.append(sum(results["dagrad_us_per_node"]) / sum(results["torch_us_per_node"]))
        rows.append(["dagrad/PyTorch", *(f"{r:.2f}x" for r in ratios)])
    print(table(rows, ["per node (us)", "forward", "backward", "both"]) + "\n")
    rows = []
    for batch, r in results["mlp_step_ms"].items():
        ours, theirs = r["dagrad"], r.get("torch")
        if theirs is None:
            rows.append([batch, *(f"{v:.3f}" for v in ours), "-", "-", "-", "-", "-"])
            continue
        ratios = [o / t for o, t in zip(ours, theirs)] + [sum(ours) / sum(theirs)]
        rows.append([batch, *(f"{v:.3f}" for v in ours), *(f"{v:.3f}" for v in theirs),
                     *(f"{x:.2f}x" for x in ratios)])
    print(table(rows, ["MLP step, batch", "dagrad forward (ms)", "dagrad backward (ms)", "PyTorch forward (ms)",
                       "PyTorch backward (ms)", "forward ratio", "backward ratio", "step ratio"]) + "\n")
    print(f"Backward of a {DEEP_CHAIN:,}-op chain: {results['deep_chain_backward_s']:.3f} s "
          f"(median of 5; fastest {results['deep_chain_backward_s_fastest']:.3f} s)")


if __name__ == "__main__":
    main()
