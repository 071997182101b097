"""The plots of examples/mnist.py --plots DIR: cost, accuracy, misclassified digits, confusion."""
from __future__ import annotations

import os

import numpy as np

from common_helpers.plotting import pyplot as _pyplot


# What the training accuracy of an epoch is: fit's running mean over the epoch's batches (the
# weights changing under it, so it lies under the validation accuracy early on), or, for the
# textbook's preset, one pass over the whole training set after the epoch.
RUNNING_MEAN = "train (running mean over the epoch)"
FULL_PASS = "train (whole set, after the epoch)"


def write_plots(directory, history, images, labels, predictions, train_label: str = RUNNING_MEAN) -> list:
    """Write cost.png, accuracy.png, misclassified.png and confusion.png into ``directory``.

    Only plots with something to show: no cost or accuracy without training epochs, no
    misclassified digits when there are none. ``train_label`` names the training accuracy
    (``RUNNING_MEAN`` or ``FULL_PASS``). Returns the paths written.
    """
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    written = []
    if history:
        written += _training_plots(plt, directory, history, train_label)
    wrong = np.flatnonzero(predictions != labels)[:25]
    if len(wrong):
        written.append(_misclassified_plot(plt, directory, images, labels, predictions, wrong))
    written.append(_confusion_plot(plt, directory, labels, predictions))
    return written


def _training_plots(plt, directory, history, train_label: str) -> list:
    """cost.png and accuracy.png over the epochs."""
    epochs = [h["epoch"] for h in history]

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, [h["cost"] for h in history], marker="o")
    axes.set(xlabel="epoch", ylabel="cost", title="Training cost")
    epoch_axis(axes, epochs)
    cost = _save(figure, directory, "cost.png")

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, [100 * h["train_accuracy"] for h in history], marker="o", label=train_label)
    axes.plot(epochs, [100 * h["valid_accuracy"] for h in history], marker="o", label="validation (after the epoch)")
    axes.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    epoch_axis(axes, epochs)
    axes.legend()
    return [cost, _save(figure, directory, "accuracy.png")]


def epoch_axis(axes, epochs) -> None:
    """Whole-number ticks only on the epoch axis, half an epoch of margin (one epoch gets the tick 1)."""
    from matplotlib.ticker import MaxNLocator
    axes.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def _misclassified_plot(plt, directory, images, labels, predictions, wrong) -> str:
    """The first 25 misclassified test digits, with their true and predicted labels."""
    figure, grid = plt.subplots(5, 5, figsize=(7, 7), sharex=True, sharey=True)
    for k, axes in enumerate(grid.ravel()):
        axes.axis("off")
        if k < len(wrong):
            i = wrong[k]
            axes.imshow(images[i].reshape(28, 28), cmap="Greys")
            axes.set_title(f"{k + 1}) t: {labels[i]} p: {predictions[i]}", fontsize=9)
    figure.suptitle("Misclassified test digits (t: true, p: predicted)")
    return _save(figure, directory, "misclassified.png")


def _confusion_plot(plt, directory, labels, predictions) -> str:
    """The 10 x 10 confusion matrix of the test set, with counts."""
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    figure, axes = plt.subplots(figsize=(6, 5.5))
    image = axes.imshow(confusion, cmap="Blues")
    for (true, predicted), count in np.ndenumerate(confusion):
        axes.text(predicted, true, str(count), ha="center", va="center", fontsize=7,
                  color="white" if count > confusion.max() / 2 else "black")
    axes.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test)", xticks=range(10),
             yticks=range(10))
    figure.colorbar(image)
    return _save(figure, directory, "confusion.png")


def _save(figure, directory, name) -> str:
    path = os.path.join(directory, name)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    import matplotlib.pyplot as plt
    plt.close(figure)
    return path
