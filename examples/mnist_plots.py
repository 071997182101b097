"""The plots of examples/mnist.py --plots DIR: cost, accuracy, misclassified digits, confusion."""
from __future__ import annotations

import os

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plots needs matplotlib: pip install matplotlib (or pip install -e '.[plot]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def write_plots(directory, history, images, labels, predictions) -> None:
    """Write cost.png, accuracy.png, misclassified.png and confusion.png into ``directory``."""
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    epochs = [h["epoch"] for h in history]

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, [h["cost"] for h in history], marker="o")
    axes.set(xlabel="epoch", ylabel="cost", title="Training cost")
    _save(figure, directory, "cost.png")

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, [100 * h["train_accuracy"] for h in history], marker="o", label="train")
    axes.plot(epochs, [100 * h["valid_accuracy"] for h in history], marker="o", label="validation")
    axes.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    axes.legend()
    _save(figure, directory, "accuracy.png")

    wrong = np.flatnonzero(predictions != labels)[:25]
    figure, grid = plt.subplots(5, 5, figsize=(7, 7), sharex=True, sharey=True)
    for k, axes in enumerate(grid.ravel()):
        axes.axis("off")
        if k < len(wrong):
            i = wrong[k]
            axes.imshow(images[i].reshape(28, 28), cmap="Greys")
            axes.set_title(f"{k + 1}) t: {labels[i]} p: {predictions[i]}", fontsize=9)
    figure.suptitle("Misclassified test digits (t: true, p: predicted)")
    _save(figure, directory, "misclassified.png")

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
    _save(figure, directory, "confusion.png")


def _save(figure, directory, name) -> None:
    figure.tight_layout()
    figure.savefig(os.path.join(directory, name), dpi=100)
    import matplotlib.pyplot as plt
    plt.close(figure)
