"""Inference over the 10,000 MNIST test images: dagrad against the same model exported to onnxruntime.

    python benchmarks/bench_onnx.py [--repeats 7] [--json]

Two models: the 'fast' preset's MLP (784-256-10, ReLU) and a small CNN (two 3x3 conv +
ReLU + 2x2 max-pool blocks, 8 and 16 channels, and a Linear to 10; the example has no
CNN preset in this checkout). Each is exported with nn.export_onnx and run in one call
on all 10,000 images (dagrad under no_grad, as examples/mnist.py predicts). The two
contenders alternate, repeat by repeat, so machine drift hits both alike; figures are
medians after one warm-up. Weights are the initial ones: the time does not depend on
them, and the predictions of both are checked to agree. Needs MNIST (``MNIST_DIR``),
onnx and onnxruntime. Run it alone: two BLAS-heavy processes on 2 cores slow each other.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nn  # noqa: E402
from autograd import Tensor, no_grad  # noqa: E402
from benchmarks.common import machine, settle, table  # noqa: E402
from nn import functional as F  # noqa: E402
from nn.datasets import load_mnist, mean_std  # noqa: E402


class SmallCNN(nn.Module):
    """(N, 784) images -> two conv/ReLU/max-pool blocks (8, 16 channels) -> Linear(784, 10)."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.conv1 = nn.Parameter(rng.normal(0, 0.3, (8, 1, 3, 3)).astype(np.float32))
        self.conv2 = nn.Parameter(rng.normal(0, 0.1, (16, 8, 3, 3)).astype(np.float32))
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = x.reshape(len(x), 1, 28, 28)
        x = F.max_pool2d(F.conv2d(x, self.conv1, padding=1).relu(), 2)
        x = F.max_pool2d(F.conv2d(x, self.conv2, padding=1).relu(), 2)
        return self.fc(x.reshape(len(x), -1))


def models() -> dict:
    """name -> model: the fast preset's MLP and the small CNN."""
    nn.manual_seed(0)
    return {"fast MLP": nn.MLP([784, 256, 10]), "small CNN": SmallCNN()}


def contenders(model, images: np.ndarray, path: str) -> dict:
    """name -> a function classifying all ``images`` (argmax labels): dagrad, onnxruntime."""
    import onnxruntime
    nn.export_onnx(model, images[:2], path)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    model.eval()

    def dagrad():
        with no_grad():
            return model(Tensor(images)).data.argmax(axis=1)

    def ort():
        return session.run(None, {"input": images})[0].argmax(axis=1)

    return {"dagrad": dagrad, "onnxruntime": ort}


def race(runs: dict, repeats: int, pause=settle) -> dict:
    """Alternate the contenders (``pause()`` before each); each one's median seconds after a
    warm-up, and the share of labels they agree on."""
    times, labels = {name: [] for name in runs}, {}
    for repeat in range(repeats + 1):
        for name, run in runs.items():
            pause()
            start = time.perf_counter()
            labels[name] = run()
            if repeat:
                times[name].append(time.perf_counter() - start)
    first, *others = labels.values()
    agreement = min((float((first == other).mean()) for other in others), default=1.0)
    return {"seconds": {name: statistics.median(t) for name, t in times.items()}, "agreement": agreement}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    mean, std = mean_std(load_mnist("train")[0])
    images = ((load_mnist("test")[0] / 255.0 - mean) / std).astype(np.float32)
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, model in models().items():
            results[name] = race(contenders(model, images, os.path.join(directory, "m.onnx")), args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    rows = [(name, f"{r['seconds']['dagrad'] * 1000:.0f}", f"{r['seconds']['onnxruntime'] * 1000:.0f}",
             f"{r['seconds']['dagrad'] / r['seconds']['onnxruntime']:.2f}x", f"{r['agreement']:.2%}")
            for name, r in results.items()]
    print(f"Inference over the 10,000 test images, one call, median of {args.repeats} ({machine()})")
    print(table(rows, ["model", "dagrad ms", "onnxruntime ms", "dagrad / onnxruntime", "same labels"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
