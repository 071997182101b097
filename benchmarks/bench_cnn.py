"""The small CNN, dagrad against PyTorch from the same weights on the same batches.

    python benchmarks/bench_cnn.py [--rounds 9] [--quick] [--json]

The network is the issue's: conv(1->16, 5x5) ReLU maxpool2 conv(16->32, 5x5) ReLU maxpool2
flatten linear(512->10), float32, batch 128, Adam, cross-entropy. dagrad draws the
weights and PyTorch loads them through its state dict. Timed, each as dagrad/PyTorch:

- a training step (forward, loss, backward, Adam), blocks of steps over the same batches;
- inference of the 10,000 test images under no_grad, in batches of 1,000 for both;
- the peak memory of one training step: dagrad's by tracemalloc, PyTorch's from its
  profiler's allocation events (``profile_memory=True``), both as the highest total of
  live bytes during the step above what was live before it;
- each conv and pooling layer's forward and backward on its own, on the inputs it sees in
  the network (the first conv's input needs no gradient, as in training).

The contenders alternate, block by block, with a pause before each (see
``common.settle``), and every ratio is the median of the ratios of blocks run side by
side. Needs MNIST (``MNIST_DIR``) and PyTorch for the ratios; without PyTorch it prints
dagrad's figures alone. Run it alone: two BLAS-heavy processes on 2 cores slow each other.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nn  # noqa: E402
from autograd import Tensor, no_grad  # noqa: E402
from autograd.ops import conv_arrays  # noqa: E402
from benchmarks.common import machine, settle, table, try_torch  # noqa: E402
from benchmarks.bench_mlp import peak_memory, race  # noqa: E402
from benchmarks.contenders import DagradRunner, _step  # noqa: E402
from nn import functional as F  # noqa: E402
from nn.datasets import load_mnist, mean_std, train_valid_split  # noqa: E402

BATCH, LR, PREDICT_BATCH = 128, 1e-3, 1000
LAYERS = {"conv1": 0, "pool1": 2, "conv2": 3, "pool2": 5}   # name -> index in the Sequential


def small_cnn(lib, **dtype):
    """The issue's small CNN from ``lib`` (``nn`` or ``torch.nn``): the same names, the same state dict."""
    return lib.Sequential(lib.Conv2d(1, 16, 5, **dtype), lib.ReLU(), lib.MaxPool2d(2),
                          lib.Conv2d(16, 32, 5, **dtype), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(),
                          lib.Linear(512, 10, **dtype))


def models(torch, seed: int = 0):
    """dagrad's small CNN drawn from ``seed`` and, with torch, PyTorch's loaded from its state dict."""
    nn.manual_seed(seed)
    ours = small_cnn(nn)
    if torch is None:
        return ours, None
    theirs = small_cnn(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


class DagradCNN(DagradRunner):
    """dagrad as a user writes it: the Sequential, F.cross_entropy, nn.optim.Adam; ``epoch()``
    is one pass over the given batches."""

    def __init__(self, model, batches):
        super().__init__(model, F.cross_entropy, nn.optim.Adam(model.parameters(), lr=LR), batches)

    def predict(self, X) -> np.ndarray:
        self.model.eval()
        with no_grad():
            return np.concatenate([self.model(Tensor(X[i:i + PREDICT_BATCH])).data.argmax(axis=1)
                                   for i in range(0, len(X), PREDICT_BATCH)])


class TorchCNN:
    """The same in PyTorch, on the same batches (as tensors sharing the arrays)."""

    def __init__(self, torch, model, batches):
        self.torch, self.model = torch, model
        self.batches = [(torch.from_numpy(xb), torch.from_numpy(yb.astype(np.int64))) for xb, yb in batches]
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    def epoch(self) -> None:
        self.model.train()
        for xb, yb in self.batches:
            _step(self.torch.nn.functional.cross_entropy(self.model(xb), yb), self.optimizer, None)

    def predict(self, X) -> np.ndarray:
        self.model.eval()
        with self.torch.no_grad():
            return np.concatenate([self.model(self.torch.from_numpy(X[i:i + PREDICT_BATCH])).argmax(1).numpy()
                                   for i in range(0, len(X), PREDICT_BATCH)])


def runners(ours, theirs, torch, batches) -> dict:
    found = {"dagrad": DagradCNN(ours, batches)}
    if theirs is not None:
        found["torch"] = TorchCNN(torch, theirs, batches)
    return found


def paired_ratio(times: dict, numerator: str = "dagrad", denominator: str = "torch") -> float | None:
    """The median of the ratios of blocks run side by side (the machine's drift cancels in each pair)."""
    if denominator not in times:
        return None
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def summary(times: dict, per: int) -> dict:
    """Median seconds per item of each contender, and the paired ratio."""
    return {"seconds": {name: statistics.median(t) / per for name, t in times.items()},
            "ratio": paired_ratio(times)}


def peak_mib_torch(torch, runner) -> float:
    """Peak MiB live during the runner's steps, above what was live before: the running total of
    the allocation and free events PyTorch's profiler records (CPU tensors use plain malloc)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        runner.epoch()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for event in events:
        live += event.nbytes()
        peak = max(peak, live)
    return peak / 2 ** 20


def scratch_mib() -> float:
    """MiB of the conv's scratch buffers (``conv_arrays.scratch``) this thread keeps between
    steps: allocated by the warm-up step, so outside the peak above what was live before."""
    return conv_arrays.scratch_nbytes() / 2 ** 20


def layer_inputs(model, xb) -> dict:
    """name -> the array each timed layer sees for the batch ``xb`` (a forward pass without a graph)."""
    inputs, x = {}, Tensor(xb)
    with no_grad():
        for index, layer in enumerate(model):
            for name, at in LAYERS.items():
                if at == index:
                    inputs[name] = x.data
            x = layer(x)
    return inputs


def layer_timers(ours, theirs, torch, inputs: dict, repeats: int) -> dict:
    """name -> {contender -> a block timing ``repeats`` forward and backward passes of that layer alone}.

    Each block returns its median forward and backward seconds. The first conv's input needs
    no gradient, as in training; the others do. Gradients are reset, so nothing accumulates.
    """
    rng = np.random.default_rng(0)
    timers = {}
    for name, index in LAYERS.items():
        x = inputs[name]
        needs_grad = name != "conv1"
        with no_grad():
            out = ours[index](Tensor(x)).data
        # The gradient in the layout of the layer's own output, as it arrives in the network
        # (batch-last for dagrad's convs and pools, see conv_arrays.py); PyTorch's is contiguous.
        grad = np.empty_like(out)
        grad[...] = rng.standard_normal(out.shape).astype(np.float32)

        def dagrad_once(layer=ours[index], x=x, grad=grad, needs_grad=needs_grad):
            layer.zero_grad()
            xt = Tensor(x, requires_grad=needs_grad)
            start = time.perf_counter()
            out = layer(xt)
            middle = time.perf_counter()
            out.backward(grad)
            return middle - start, time.perf_counter() - middle
        blocks = {"dagrad": dagrad_once}
        if theirs is not None:
            # PyTorch's input and gradient contiguous, the layout its own layers make
            def torch_once(layer=theirs[index], x=torch.from_numpy(np.ascontiguousarray(x)),
                           grad=torch.from_numpy(np.ascontiguousarray(grad)), needs_grad=needs_grad):
                layer.zero_grad(set_to_none=True)
                xt = x.detach().requires_grad_(needs_grad)
                start = time.perf_counter()
                out = layer(xt)
                middle = time.perf_counter()
                out.backward(grad)
                return middle - start, time.perf_counter() - middle
            blocks["torch"] = torch_once
        timers[name] = {k: _repeated(once, repeats) for k, once in blocks.items()}
    return timers


def _repeated(once, repeats: int):
    def block():
        pairs = [once() for _ in range(repeats)]
        return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    return block


def per_layer(timers: dict, rounds: int) -> dict:
    """Race each layer's blocks; medians of forward and backward, and their paired ratios."""
    results = {}
    for name, blocks in timers.items():
        forward, backward = {k: [] for k in blocks}, {k: [] for k in blocks}
        for round_ in range(rounds + 1):
            for contender, block in blocks.items():
                settle(0.1)
                f, b = block()
                if round_:
                    forward[contender].append(f)
                    backward[contender].append(b)
        results[name] = {"forward": summary(forward, 1), "backward": summary(backward, 1)}
    return results


def load(quick: bool):
    """Standardized (N, 1, 28, 28) float32 training and test images, as the cnn presets use."""
    images, labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    mean, std = mean_std(images)
    scale = lambda x: ((x / 255.0 - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)  # noqa: E731
    (train_x, train_y), _ = train_valid_split(images, labels)
    count = 2_000 if quick else len(test_images)
    return scale(train_x), train_y, scale(test_images[:count]), test_labels[:count]


def run(rounds: int, steps: int, repeats: int, quick: bool) -> dict:
    torch = try_torch()
    train_x, train_y, test_x, test_y = load(quick)
    order = np.random.default_rng(0).permutation(len(train_x))[:steps * BATCH]
    batches = [(train_x[order[i:i + BATCH]], train_y[order[i:i + BATCH]]) for i in range(0, len(order), BATCH)]
    ours, theirs = models(torch)
    contenders = runners(ours, theirs, torch, batches)
    results = {"machine": machine(), "batch": BATCH, "steps_per_block": steps, "rounds": rounds,
               "torch": torch.__version__ if torch is not None else None}
    step_times = race(contenders, rounds)
    results["training_step"] = summary(step_times, steps)
    results["test_images"] = len(test_x)
    inference = {name: SimpleNamespace(epoch=lambda r=r: r.predict(test_x)) for name, r in contenders.items()}
    results["inference"] = summary(race(inference, max(3, rounds // 2)), 1)
    predictions = {name: r.predict(test_x) for name, r in contenders.items()}
    results["test_accuracy"] = {name: float((p == test_y).mean()) for name, p in predictions.items()}
    if theirs is not None:
        agreement = float((predictions["dagrad"] == predictions["torch"]).mean())
        results["agreement"] = agreement
        if agreement < 0.98:
            raise SystemExit(f"dagrad and PyTorch disagree on {1 - agreement:.1%} of the test images after the "
                             "same steps; the comparison is not fair")
    one_step = runners(*models(torch), torch, batches[:1])
    for r in one_step.values():
        r.epoch()   # warm-up: optimizer state exists, as in the timed steps
    results["peak_mib"] = {"dagrad": peak_memory(one_step["dagrad"])}
    results["scratch_mib"] = scratch_mib()
    if theirs is not None:
        results["peak_mib"]["torch"] = peak_mib_torch(torch, one_step["torch"])
    timers = layer_timers(ours, theirs, torch, layer_inputs(ours, batches[0][0]), repeats)
    results["layers"] = per_layer(timers, rounds)
    return results


def _cell(part: dict, scale: float = 1e3) -> list:
    s, ratio = part["seconds"], part["ratio"]
    return [f"{scale * s['dagrad']:.2f}", f"{scale * s['torch']:.2f}" if "torch" in s else "-",
            f"{ratio:.2f}x" if ratio is not None else "-"]


def report(r: dict) -> str:
    memory = r["peak_mib"]
    memory_ratio = f"{memory['dagrad'] / memory['torch']:.2f}x" if "torch" in memory else "-"
    rows = [["training step (ms)"] + _cell(r["training_step"]),
            [f"inference, {r['test_images']:,} images (ms)"] + _cell(r["inference"]),
            ["peak MiB of a training step", f"{memory['dagrad']:.1f}",
             f"{memory['torch']:.1f}" if "torch" in memory else "-", memory_ratio]]
    lines = [f"# The small CNN, batch {r['batch']}, float32; medians, ratios are medians of blocks run side "
             f"by side ({r['machine']}, PyTorch {r['torch']})", "",
             table(rows, ["", "dagrad", "PyTorch", "dagrad/PyTorch"]), "",
             "Peak memory: tracemalloc for dagrad, PyTorch's profiler (allocation events) for PyTorch, "
             "each above what was live before the step.",
             f"dagrad also keeps {r['scratch_mib']:.1f} MiB of scratch columns between steps "
             "(allocated once, by the warm-up step).", "",
             "## Each layer alone (ms, median of a block of repeats)", ""]
    rows = []
    for name, part in r["layers"].items():
        for direction in ("forward", "backward"):
            rows.append([name, direction] + _cell(part[direction]))
    lines.append(table(rows, ["layer", "direction", "dagrad", "PyTorch", "dagrad/PyTorch"]))
    accuracy = ", ".join(f"{k} {v:.2%}" for k, v in r["test_accuracy"].items())
    lines.append(f"\nTest accuracy after the timed steps: {accuracy}"
                 + (f"; the same prediction on {r['agreement']:.2%} of the images" if "agreement" in r else ""))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed blocks per contender (after a warm-up one)")
    parser.add_argument("--steps", type=int, default=20, help="training steps per block")
    parser.add_argument("--repeats", type=int, default=10, help="passes per block in the per-layer timing")
    parser.add_argument("--quick", action="store_true", help="a short run: 3 rounds of 5 steps, 2,000 test images")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.repeats = 3, 5, 5
    results = run(args.rounds, args.steps, args.repeats, args.quick)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
