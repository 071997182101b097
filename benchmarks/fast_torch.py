"""The 'fast' preset in PyTorch, as one script: load, train 3 epochs, test.

    python benchmarks/fast_torch.py --seed S      # prints 'test_accuracy <fraction>'

The recipe measured with PyTorch 2.13 on this machine, with the preset's batch of 128.
The Adam step is written by hand: torch.optim's first use imports its compiler stack,
about a second that would not be PyTorch's training speed. Data loading and the split are
the same code as dagrad's (NumPy only).
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nn.datasets import load_mnist, mean_std, train_valid_split  # noqa: E402  (NumPy only)

BATCH, EPOCHS, PEAK_LR, SMOOTHING = 128, 3, 5e-3, 0.1


def one_cycle(step: int, total: int, peak: float = PEAK_LR) -> float:
    """PyTorch's OneCycleLR (cos, two phases, pct_start 0.25, div 25, final div 1e4)."""
    initial, final = peak / 25, peak / 25 / 1e4
    warmup = 0.25 * total - 1
    if step <= warmup:
        start, end, fraction = initial, peak, step / warmup
    else:
        start, end, fraction = peak, final, (step - warmup) / (total - 1 - warmup)
    return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))


def adam_step(params, m, v, t: int, lr: float) -> None:
    """One Adam update (betas 0.9, 0.999, eps 1e-8) of ``params`` in place; ``t`` counts from 1."""
    with torch.no_grad():
        for p, mp, vp in zip(params, m, v):
            mp.mul_(0.9).add_(p.grad, alpha=0.1)
            vp.mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
            denom = (vp / (1 - 0.999 ** t)).sqrt_().add_(1e-8)
            p.addcdiv_(mp, denom, value=-lr / (1 - 0.9 ** t))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    images, labels = load_mnist("train", root=args.data)
    test_images, test_labels = load_mnist("test", root=args.data)
    mean, std = mean_std(images)
    scale = lambda x: torch.from_numpy(((x / 255.0 - mean) / std).astype(np.float32))  # noqa: E731
    (X, y), _ = train_valid_split(images, labels)
    X, y = scale(X), torch.from_numpy(y.astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    steps = EPOCHS * (len(X) // BATCH)
    rng = np.random.default_rng(args.seed)
    t = 0
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(X)))
        for start in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[start:start + BATCH]
            loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch], label_smoothing=SMOOTHING)
            for p in params:
                p.grad = None
            loss.backward()
            lr, t = one_cycle(t, steps), t + 1
            adam_step(params, m, v, t, lr)
    with torch.no_grad():
        predictions = model(scale(test_images)).argmax(1).numpy()
    print(f"test_accuracy {(predictions == test_labels).mean():.4f}")


if __name__ == "__main__":
    main()
