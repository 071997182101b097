"""Inference over the 10,000 MNIST test images: dagrad against the same model exported to onnxruntime.

    python benchmarks/bench_onnx.py [--repeats 7] [--only fast|cnn|cnn-best] [--json]

The models of examples/mnist.py's presets, built by its ``build_model``: 'fast' (the MLP
784-256-10, ReLU), 'cnn' (conv 5x5 1->16, ReLU, max pool 2, conv 5x5 16->32, ReLU, max
pool 2, flatten, 512-128-10) and 'cnn-best' (the same with BatchNorm2d after each conv,
exported as BatchNormalization). Each is exported with nn.export_onnx and classifies all
10,000 images: the MLP in one call, the CNNs 1,000 images per call in both contenders (as
bench_cnn.py; dagrad's im2col columns of 10,000 images would take about 1.5 GB). The
contenders alternate, repeat by repeat, so machine drift hits both alike; figures are
medians after one warm-up. Weights are the initial ones: the time does not depend on them,
and the predictions of both are checked to agree. Needs MNIST (``MNIST_DIR``), onnx and
onnxruntime. Run it alone: two BLAS-heavy processes on 2 cores slow each other.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import nn  # noqa: E402
from autograd import Tensor, no_grad  # noqa: E402
from benchmarks.common import machine, settle, table  # noqa: E402
from nn.datasets import load_mnist, mean_std  # noqa: E402

MODELS = {"fast": "fast MLP (784-256-10, ReLU)",
          "cnn": "cnn preset (2 x conv5x5 + ReLU + maxpool2, 16 and 32 channels, 512-128-10)",
          "cnn-best": "cnn-best preset (the cnn with BatchNorm2d after each conv)"}


def model_of(name: str):
    """(the model with its initial weights, its input's shape for one image, images per call)
    for preset ``name``."""
    sys.path.insert(0, os.path.join(ROOT, "examples"))  # the presets' models, as mnist.py builds them
    try:
        from mnist import build_model
        from mnist_helpers.presets import PRESETS
    finally:
        sys.path.remove(os.path.join(ROOT, "examples"))
    preset = PRESETS[name]
    nn.manual_seed(0)
    model = build_model(preset, np.random.RandomState(0))
    return (model, (784,), 10000) if preset.architecture == "mlp" else (model, (1, 28, 28), 1000)


def contenders(model, images: np.ndarray, path: str, batch_size: int = 10000) -> dict:
    """name -> a function classifying all ``images`` (argmax labels), ``batch_size`` per call:
    dagrad under no_grad, onnxruntime on the exported file."""
    import onnxruntime
    nn.export_onnx(model, images[:2], path)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    model.eval()
    batches = [images[i:i + batch_size] for i in range(0, len(images), batch_size)]

    def dagrad():
        with no_grad():
            return np.concatenate([model(Tensor(batch)).data.argmax(axis=1) for batch in batches])

    def ort():
        return np.concatenate([session.run(None, {"input": batch})[0].argmax(axis=1) for batch in batches])

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
    parser.add_argument("--only", choices=sorted(MODELS), action="append", help="this preset's model only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    mean, std = mean_std(load_mnist("train")[0])
    images = ((load_mnist("test")[0] / 255.0 - mean) / std).astype(np.float32)  # (10000, 784)
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for name in args.only or MODELS:
            model, shape, batch_size = model_of(name)
            runs = contenders(model, images.reshape(-1, *shape), os.path.join(directory, "m.onnx"), batch_size)
            results[MODELS[name]] = {**race(runs, args.repeats), "images_per_call": batch_size}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    rows = [(name, f"{r['seconds']['dagrad'] * 1000:.0f}", f"{r['seconds']['onnxruntime'] * 1000:.0f}",
             f"{r['seconds']['dagrad'] / r['seconds']['onnxruntime']:.2f}x", f"{r['agreement']:.2%}")
            for name, r in results.items()]
    print(f"Inference over the 10,000 test images (the MLP in one call, the CNNs 1,000 per call), "
          f"median of {args.repeats} ({machine()})")
    print(table(rows, ["model", "dagrad ms", "onnxruntime ms", "dagrad / onnxruntime", "same labels"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
