"""Draw one training step of the MNIST MLP, with every parameter's gradient, to an SVG.

    python examples/graph.py                 # writes graph.svg
    python examples/graph.py step.png        # the format follows the suffix (svg, png, pdf)

Uses a real batch of MNIST when $MNIST_DIR holds it, else random images of the same
shape. Rendering needs Graphviz (apt-get install graphviz / brew install graphviz).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn import functional as F  # noqa: E402


def mnist_batch(size: int, rng: np.random.Generator):
    """(images in [0, 1] of shape (size, 784), int labels): MNIST from $MNIST_DIR, else random."""
    if os.environ.get("MNIST_DIR"):
        from nn.datasets import load_mnist
        images, labels = load_mnist("train", download=False)
        pick = rng.choice(len(images), size, replace=False)
        return images[pick].astype(np.float32) / 255.0, labels[pick]
    return rng.random((size, 784), dtype=np.float32), rng.integers(0, 10, size)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="graph.svg", help="file to write (default: graph.svg)")
    parser.add_argument("--batch", type=int, default=16, help="images in the batch (default: 16)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    nn.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
    images, labels = mnist_batch(args.batch, np.random.default_rng(args.seed))
    loss = F.cross_entropy(model(Tensor(images, name="images")), labels)
    model.zero_grad()
    loss.backward()

    graph = ag.make_dot(loss, params=dict(model.named_parameters()), show_grad=True)
    output = Path(args.output)
    path = graph.render(output.with_suffix(""), format=output.suffix.lstrip(".") or "svg", cleanup=True)
    print(f"loss {loss.item():.4f}; wrote {path}")
    return Path(path)


if __name__ == "__main__":
    main()
