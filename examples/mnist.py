"""Train an MLP or a CNN on MNIST with dagrad: data, model, compile and fit, report.

    python examples/mnist.py                  # 'fast': 98% test accuracy in a few seconds
    python examples/mnist.py --preset seed    # the textbook's 784-100-10 sigmoid network
    python examples/mnist.py --preset best    # the best accuracy within a minute
    python examples/mnist.py --preset cnn     # a CNN: 99% in one epoch (cnn-best: 99.4% in five)
    mpiexec -n 2 python examples/mnist.py --preset cnn   # the same, data-parallel on 2 processes

Options and plots live in mnist_helpers/: presets.py (with checks.py), report.py and plots.py.
"""
from __future__ import annotations

import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import nn  # noqa: E402
from autograd import Tensor, no_grad  # noqa: E402
from common_helpers.ranks import join_quietly, on_rank_zero  # noqa: E402
from mnist_helpers.augment import RandomShift  # noqa: E402
from mnist_helpers.export import export_onnx  # noqa: E402
from mnist_helpers.presets import load_problem, parse_args, preset_from  # noqa: E402
from mnist_helpers.report import Report  # noqa: E402
from nn import functional as F  # noqa: E402
from nn.datasets import load_mnist, mean_std, scale_symmetric, train_valid_split  # noqa: E402


def load_data(preset, data_dir):
    """(train, valid, test) pairs of float images and int labels; valid is the last 5,000."""
    train_images, train_labels = load_mnist("train", root=data_dir)
    test_images, test_labels = load_mnist("test", root=data_dir)
    if preset.architecture == "cnn":  # images as (N, 1, 28, 28), as the convolutions take them
        train_images, test_images = train_images.reshape(-1, 1, 28, 28), test_images.reshape(-1, 1, 28, 28)
    if preset.scaling == "symmetric":
        scale = lambda images: scale_symmetric(images, preset.dtype)  # noqa: E731
    else:
        mean, std = mean_std(train_images)
        scale = lambda images: standardize(images, mean, std, preset.dtype)  # noqa: E731
    train, valid = train_valid_split(scale(train_images), train_labels)
    return train, valid, (scale(test_images), test_labels)


def standardize(images, mean, std, dtype):
    """(images / 255 - mean) / std in one pass over a preallocated array."""
    out = np.multiply(images, 1.0 / (255.0 * std), dtype=dtype)
    out -= mean / std
    return out


def build_model(preset, rng):
    """The MLP; with textbook_init, N(0, 0.1) weights drawn by ``rng`` as the textbook draws them."""
    if preset.architecture == "cnn":
        return build_cnn(preset)
    sizes = [784, *preset.hidden, 10]
    model = nn.MLP(sizes, activation=preset.activation, dropout=preset.dropout, dtype=preset.dtype)
    if preset.textbook_init:
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        for layer in linears:  # the textbook stores (in, out) matrices: draw those, then transpose
            layer.weight.data[...] = rng.normal(0.0, 0.1, size=layer.weight.shape[::-1]).T
            layer.bias.data[...] = 0.0
    return model


def build_cnn(preset):
    """Per entry of ``preset.channels``: conv, [batch norm], ReLU, 2x2 max pool; then flatten and the MLP head."""
    layers, size, channels = [], 28, 1
    for width in preset.channels:
        layers.append(nn.Conv2d(channels, width, preset.kernel, padding=preset.padding,
                                bias=not preset.batch_norm, dtype=preset.dtype))
        layers += [nn.BatchNorm2d(width, dtype=preset.dtype)] if preset.batch_norm else []
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        size, channels = (size + 2 * preset.padding - preset.kernel + 1) // 2, width
    layers += [nn.Flatten()] + ([nn.Dropout(preset.dropout)] if preset.dropout else [])
    head = nn.MLP([channels * size * size, *preset.hidden, 10], activation=preset.activation,
                  dropout=preset.dropout, dtype=preset.dtype)
    return nn.Sequential(*layers, *head)


def make_optimizer(preset, model, steps):
    """SGD with the textbook's L2 on weights only, or Adam on a one-cycle schedule."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    others = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    if preset.optimizer == "sgd":
        optimizer = nn.optim.SGD([{"params": weights, "weight_decay": preset.l2}, {"params": others}],
                                 lr=preset.lr)
        return optimizer, None
    optimizer = nn.optim.Adam(model.parameters(), lr=preset.lr)
    return optimizer, nn.optim.OneCycleLR(optimizer, max_lr=preset.lr, total_steps=steps, pct_start=0.25)


def loss_of(preset, logits, labels):
    """Per-class logistic loss summed over the batch (textbook), or smoothed softmax cross-entropy."""
    if preset.loss == "logistic":
        targets = np.eye(10, dtype=logits.dtype)[labels]
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="sum")
    return F.cross_entropy(logits, labels, label_smoothing=preset.label_smoothing)


def predict(model, images, batch_size=None):
    """Logits for every image, without recording a graph (images for a CNN 500 at a time: the
    im2col columns of 10,000 would take a gigabyte)."""
    batch_size = batch_size or (10000 if images.ndim == 2 else 500)
    model.eval()
    with no_grad():
        return np.concatenate([model(Tensor(images[i:i + batch_size])).data
                               for i in range(0, len(images), batch_size)])


class FullPass(nn.callbacks.Callback):
    """The textbook's figures after each epoch: the cost and the accuracy over the whole training set."""

    def __init__(self, preset, images, labels):
        self.preset, self.images, self.labels = preset, images, labels

    def on_epoch_end(self, epoch, logs=None):
        """logs["cost"]: the summed logistic loss plus l2 * sum(w ** 2); logs["train_accuracy"]."""
        logits = predict(self.model, self.images)
        with no_grad():
            loss = loss_of(self.preset, Tensor(logits), self.labels).item()
        logs["cost"] = loss + self.preset.l2 * sum(float((p.data ** 2).sum())
                                                   for n, p in self.model.named_parameters() if n.endswith("weight"))
        logs["train_accuracy"] = float((logits.argmax(axis=1) == self.labels).mean())


def train(preset, model, data, args, report):
    """compile and fit: one pass over shuffled batches per epoch, then validation; report prints each epoch."""
    (train_x, train_y), valid, _ = data
    optimizer, schedule = make_optimizer(preset, model, preset.epochs * (len(train_x) // preset.batch_size))
    if preset.shift:  # fit trains the model behind the random shifts; the model itself stays the preset's
        model = nn.Sequential(RandomShift(preset.shift), model)
    model.compile(optimizer, loss=functools.partial(loss_of, preset), metrics=["accuracy"])
    callbacks = [FullPass(preset, train_x, train_y)] if preset.full_train_eval else []
    if args.patience:  # a tie is no improvement; the best epoch's weights come back at the end
        stopping = nn.callbacks.EarlyStopping("val_accuracy", patience=args.patience, restore_best_weights=True)
        callbacks.append(stopping)
    # report.rng shuffles (for seed, after drawing the weights), so the steps are the hand-written loop's
    model.fit(train_x, train_y, preset.epochs, preset.batch_size, validation_data=valid, schedule=schedule,
              callbacks=[*callbacks, report], verbose=0, seed=report.rng, drop_last=True)
    if args.patience and stopping.stopped_epoch is not None:
        report.say(f"Stopping: validation accuracy has not improved for {args.patience} epochs; "
                   f"keeping the weights of epoch {stopping.best_epoch + 1}")


def main(argv=None) -> int:
    join_quietly()  # under mpiexec: one process of several (fit is then data-parallel), rank 0 speaks
    args = parse_args(argv)  # also checks every path, so a typo never costs a finished run
    args = on_rank_zero(args, save=None, metrics_json=None, plots=None, export_onnx=None, quiet=True)
    preset = preset_from(args)
    report = Report(preset, args)
    try:
        data = load_data(preset, args.data)
    except (OSError, ValueError) as error:  # missing or corrupt files: the reason and how to fix it
        print(f"mnist.py: cannot load MNIST: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while reading or downloading: one line, no traceback
        return report.stopped("while loading MNIST")
    nn.manual_seed(args.seed)
    model = build_model(preset, report.rng)
    if args.load:
        try:
            nn.load(model, args.load)
        except (OSError, nn.CheckpointError) as error:  # which file, what is wrong, which --preset it fits
            print(f"mnist.py: {load_problem(error, args, build_model)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # nothing trained yet, so nothing to save
            return report.stopped(f"while reading {args.load}")
    if not args.evaluate:  # Ctrl-C stops fit after the batch; the weights are still reported and saved
        train(preset, model, data, args, report)
    try:
        evaluate(preset, model, data, args, report)
    except KeyboardInterrupt:  # as in training, the weights are still saved
        return report.stopped("during the final evaluation", model)
    return 130 if report.interrupted else 0


def evaluate(preset, model, data, args, report) -> None:
    """The test accuracy; then --save, --metrics-json, --plots and --export-onnx."""
    test_x, test_y = data[2]
    test_logits = predict(model, test_x)
    report.finish(model, test_logits, test_x, test_y)  # --save first, then --metrics-json, --plots
    if args.export_onnx:
        export_onnx(model, preset, args.data, test_x[:2], args.export_onnx)


if __name__ == "__main__":
    sys.exit(main())
