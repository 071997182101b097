"""The plot of examples/charlm.py --plots DIR: the loss curves (loss.png)."""
from __future__ import annotations

import os

import numpy as np

from common_helpers.plotting import pyplot


def write_plots(directory, history, step_losses) -> list:
    """Write loss.png into ``directory``: each step's batch loss (faint, with its running mean) and
    the evaluated train and validation losses. Returns the paths written (none without training)."""
    if not step_losses:
        return []
    plt = pyplot()
    os.makedirs(directory, exist_ok=True)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    steps = np.arange(1, len(step_losses) + 1)
    axes.plot(steps, step_losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="batch loss")
    axes.plot(steps, running_mean(step_losses, 50), color="tab:blue", linewidth=1.0,
              label="batch loss (mean of 50)")
    evaluated = [h for h in history if h["step"] > 0]
    if evaluated:
        axes.plot([h["step"] for h in evaluated], [h["train_loss"] for h in evaluated], "o-", color="tab:green",
                  label="train")
        axes.plot([h["step"] for h in evaluated], [h["val_loss"] for h in evaluated], "o-", color="tab:red",
                  label="validation")
    axes.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="Character-level language model")
    axes.grid(alpha=0.3)
    axes.legend()
    path = os.path.join(directory, "loss.png")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return [path]


def running_mean(values, window: int) -> np.ndarray:
    """The mean of the last ``window`` values (fewer at the start) at each position."""
    sums = np.cumsum(np.asarray(values, dtype=np.float64))
    counts = np.minimum(np.arange(1, len(sums) + 1), window)
    shifted = np.concatenate([np.zeros(window), sums])[:len(sums)]
    return (sums - shifted) / counts
