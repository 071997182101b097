"""The 'cnn' and 'cnn-best' presets in PyTorch, as one script: load, train, validate, test.

    python benchmarks/cnn_torch.py --preset cnn --seed S [--epochs N]   # prints 'test_accuracy <fraction>'

The recipe is read from examples/mnist_helpers/presets.py, so it is the preset's: the same
network (PyTorch's default initialisation, which dagrad's layers copy), Adam on the same
one-cycle schedule, label smoothing, batch size, epochs, and a validation pass each epoch
as examples/mnist.py makes. The data are loaded and split by examples/mnist.py's own
code (NumPy only). Adam is written by hand, as in fast_torch.py: torch.optim's first use
imports its compiler stack, about a second that is not PyTorch's training speed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

from benchmarks.fast_torch import adam_step, one_cycle  # noqa: E402
from mnist import load_data  # noqa: E402  (NumPy only)
from mnist_helpers.augment import shift  # noqa: E402  (NumPy; imports dagrad's nn for its layer, not used here)
from mnist_helpers.presets import PRESETS  # noqa: E402


def torch_cnn(preset):
    """examples/mnist.py's build_cnn in PyTorch: the same layers in the same order."""
    layers, size, channels = [], 28, 1
    for width in preset.channels:
        layers.append(torch.nn.Conv2d(channels, width, preset.kernel, padding=preset.padding,
                                      bias=not preset.batch_norm))
        layers += [torch.nn.BatchNorm2d(width)] if preset.batch_norm else []
        layers += [torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        size, channels = (size + 2 * preset.padding - preset.kernel + 1) // 2, width
    layers += [torch.nn.Flatten()] + ([torch.nn.Dropout(preset.dropout)] if preset.dropout else [])
    sizes = [channels * size * size, *preset.hidden, 10]
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [torch.nn.ReLU()] + ([torch.nn.Dropout(preset.dropout)] if preset.dropout else [])
    return torch.nn.Sequential(*layers)


def accuracy(model, images, labels) -> float:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(torch.from_numpy(images[i:i + 1000])).argmax(1)
                                 for i in range(0, len(images), 1000)]).numpy()
    return float((predictions == labels).mean())


def run(preset, seed: int, data=None) -> float:
    """Train ``preset`` from ``seed``, printing a line per epoch; the test accuracy."""
    torch.manual_seed(seed)
    (X, y), (valid_x, valid_y), (test_x, test_y) = load_data(preset, data)
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    model = torch_cnn(preset)
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    steps = preset.epochs * (len(X) // preset.batch_size)
    rng, shifts = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    t = 0
    for epoch in range(1, preset.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(len(X)))
        for first in range(0, len(order) - preset.batch_size + 1, preset.batch_size):
            batch = order[first:first + preset.batch_size]
            images = X[batch]
            if preset.shift:  # examples/mnist_helpers/augment.py's random translations, on the NumPy batch
                images = torch.from_numpy(shift(images.numpy(), preset.shift, shifts))
            loss = torch.nn.functional.cross_entropy(model(images), y[batch],
                                                     label_smoothing=preset.label_smoothing)
            for p in params:
                p.grad = None
            loss.backward()
            lr, t = one_cycle(t, steps, preset.lr), t + 1
            adam_step(params, m, v, t, lr)
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: valid {accuracy(model, valid_x, valid_y):.4f}, {seconds:.2f} s", flush=True)
    return accuracy(model, test_x, test_y)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", choices=["cnn", "cnn-best"], default="cnn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--shift", type=int, help="override the preset's random shift (pixels)")
    parser.add_argument("--data")
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    if args.epochs:
        preset = replace(preset, epochs=args.epochs)
    if args.shift is not None:
        preset = replace(preset, shift=args.shift)
    print(f"test_accuracy {run(preset, args.seed, args.data):.4f}")


if __name__ == "__main__":
    main()
