"""The training recipes of examples/mnist.py, its command line, and which recipe a checkpoint fits."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np

import nn
from common_helpers.numbers import whole
from mnist_helpers.checks import path_problem


@dataclass(frozen=True)
class Preset:
    """Everything that defines one training run."""

    name: str
    hidden: tuple          # hidden layer widths
    activation: str        # "sigmoid", "relu" or "tanh"
    dtype: str             # "float32" or "float64"
    scaling: str           # "symmetric" ([-1, 1], the textbook) or "standardize" (mean 0, std 1)
    loss: str              # "logistic" (per-class BCE summed) or "softmax" (cross-entropy, mean)
    optimizer: str         # "sgd" or "adam"
    lr: float              # SGD's rate, or the one-cycle peak for Adam
    batch_size: int
    epochs: int
    l2: float = 0.0        # the textbook's L2: w -= lr * (grad + l2 * w), weights only
    label_smoothing: float = 0.0
    dropout: float = 0.0
    textbook_init: bool = False  # N(0, 0.1) weights from RandomState(seed), which also shuffles
    full_train_eval: bool = False  # evaluate the whole training set each epoch, as the textbook
    # The CNN presets: architecture "cnn" is, per entry of ``channels``, a conv (kernel x kernel,
    # padding), a BatchNorm2d if batch_norm, ReLU and a 2x2 max pool; then flatten and the MLP of
    # ``hidden`` widths (dropout before each Linear). Inputs are (N, 1, 28, 28) images.
    architecture: str = "mlp"      # "mlp" or "cnn"
    channels: tuple = ()
    kernel: int = 5
    padding: int = 0
    batch_norm: bool = False
    shift: int = 0         # training batches moved by up to this many pixels each way (examples/mnist_helpers/augment.py)


PRESETS = {
    # The textbook's network exactly (Raschka, Python Machine Learning, ch. 12).
    "seed": Preset("seed", hidden=(100,), activation="sigmoid", dtype="float64", scaling="symmetric",
                   loss="logistic", optimizer="sgd", lr=0.0005, batch_size=100, epochs=200, l2=0.01,
                   textbook_init=True, full_train_eval=True),
    # The shortest time to 98% test accuracy.
    "fast": Preset("fast", hidden=(256,), activation="relu", dtype="float32", scaling="standardize",
                   loss="softmax", optimizer="adam", lr=5e-3, batch_size=128, epochs=3,
                   label_smoothing=0.1),
    # The best accuracy within a minute.
    "best": Preset("best", hidden=(1024,), activation="relu", dtype="float32", scaling="standardize",
                   loss="softmax", optimizer="adam", lr=2e-3, batch_size=128, epochs=15,
                   label_smoothing=0.1, dropout=0.2),
    # The shortest time to 99% test accuracy with a CNN.
    "cnn": Preset("cnn", hidden=(128,), activation="relu", dtype="float32", scaling="standardize",
                  loss="softmax", optimizer="adam", lr=8e-3, batch_size=64, epochs=1, label_smoothing=0.1,
                  architecture="cnn", channels=(16, 32)),
    # The best accuracy within two minutes with a CNN.
    "cnn-best": Preset("cnn-best", hidden=(128,), activation="relu", dtype="float32", scaling="standardize",
                       loss="softmax", optimizer="adam", lr=8e-3, batch_size=64, epochs=5, label_smoothing=0.1,
                       dropout=0.2, architecture="cnn", channels=(16, 32), batch_norm=True, shift=1),
}


# The seed preset's RandomState takes seeds 0..2**32 - 1 only; every preset takes the same range.
MAX_SEED = 2 ** 32 - 1


def parse_args(argv=None) -> argparse.Namespace:
    """The example's options (the README's MNIST section lists them); every path is checked here, before training."""
    parser = argparse.ArgumentParser(
        description="Train an MLP or a CNN on MNIST with dagrad, or evaluate saved weights (--load --evaluate).")
    parser.add_argument("--preset", choices=list(PRESETS), default="fast",
                        help="MLPs: seed: the textbook's network; fast: 98%% soonest (default); best: most "
                             "accurate in a minute. CNNs: cnn: 99%% soonest; cnn-best: most accurate in "
                             "two minutes")
    parser.add_argument("--epochs", type=whole(1), metavar="N", help="override the preset's number of epochs")
    parser.add_argument("--data", metavar="DIR",
                        help="directory with the MNIST files (default: $MNIST_DIR, then a cache)")
    parser.add_argument("--seed", type=whole(0, MAX_SEED), default=1, metavar="S",
                        help=f"random seed from 0 to {MAX_SEED} (weights, shuffling, dropout)")
    parser.add_argument("--metrics-json", metavar="PATH", help="write the run's metrics as JSON")
    parser.add_argument("--plots", metavar="DIR", help="write cost, accuracy, misclassified and confusion PNGs")
    parser.add_argument("--save", metavar="PATH", help="save the trained weights (.npz, written atomically)")
    parser.add_argument("--load", metavar="PATH", help="load weights before training or evaluating")
    parser.add_argument("--evaluate", action="store_true", help="only evaluate (with --load)")
    parser.add_argument("--patience", type=whole(1), metavar="N",
                        help="stop when validation accuracy has not improved for N epochs; keep the best weights")
    parser.add_argument("--quiet", action="store_true", help="print only the final line")
    parser.add_argument("--export-onnx", metavar="PATH",
                        help="write the trained model as ONNX (needs onnx; serve it with examples/serve_onnx.py)")
    args = parser.parse_args(argv)
    if args.evaluate and not args.load:
        parser.error("--evaluate needs --load PATH")
    problem = path_problem(args)
    if problem:  # one line, no usage text: the options were understood, a path is wrong
        parser.exit(2, f"{parser.prog}: {problem}\n")
    return args


def preset_from(args: argparse.Namespace) -> Preset:
    """The chosen preset with the command line's overrides applied."""
    preset = PRESETS[args.preset]
    return replace(preset, epochs=args.epochs) if args.epochs is not None else preset


def load_problem(error: Exception, args: argparse.Namespace, build) -> str:
    """Why ``--load`` failed, in one line: nn.load's ``error``, or the preset whose model
    (``build(preset, rng)``) the checkpoint fits, when that is another one."""
    for name, preset in PRESETS.items():
        if name == args.preset:
            continue
        try:
            nn.load(build(preset, np.random.RandomState(0)), args.load)
        except (OSError, nn.CheckpointError):
            continue
        return (f"--load {args.load}: the weights of the {name} preset, which do not fit the "
                f"{args.preset} preset's model: pass --preset {name}")
    return str(error)
