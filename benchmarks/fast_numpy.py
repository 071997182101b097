"""The 'fast' preset written by hand in NumPy, as one script: load, train 3 epochs, test.

    python benchmarks/fast_numpy.py --seed S      # prints 'test_accuracy <fraction>'

Same data, split, preprocessing, initial weights (nn.MLP after nn.manual_seed(S)), shuffle
order and recipe as ``python examples/mnist.py --seed S``, so both should reach the same
accuracy; bench_time_to_98.py times the two (and PyTorch) as whole commands.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nn  # noqa: E402  (for the initial weights only, so both start alike)
from benchmarks.handwritten_fast import HandwrittenReluMLP  # noqa: E402
from nn.datasets import load_mnist, mean_std, train_valid_split  # noqa: E402

BATCH, EPOCHS, PEAK_LR, SMOOTHING = 128, 3, 5e-3, 0.1


def standardized(images, mean, std):
    out = np.multiply(images, 1.0 / (255.0 * std), dtype=np.float32)
    out -= mean / std
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data")
    args = parser.parse_args()
    images, labels = load_mnist("train", root=args.data)
    test_images, test_labels = load_mnist("test", root=args.data)
    mean, std = mean_std(images)
    (X, y), _ = train_valid_split(standardized(images, mean, std), labels)
    nn.manual_seed(args.seed)
    weights = [p.data for p in nn.MLP([784, 256, 10], activation="relu", dtype="float32").parameters()]
    steps = EPOCHS * (len(X) // BATCH)
    schedule = nn.optim.OneCycleLR(nn.optim.SGD([nn.Parameter(np.zeros(1))], lr=PEAK_LR), PEAK_LR, steps)
    network = HandwrittenReluMLP(weights, schedule.lr_at, SMOOTHING)
    rng = np.random.default_rng(args.seed)
    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        for start in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[start:start + BATCH]
            network.step(X[batch], y[batch])
    accuracy = (network.logits(standardized(test_images, mean, std)).argmax(axis=1) == test_labels).mean()
    print(f"test_accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
