"""What examples/mnist.py shows and writes: progress bars, epoch lines, metrics JSON, plots."""
from __future__ import annotations

import json
import sys

import numpy as np

from nn.atomic import atomic_write


class Report:
    """Prints the run as it goes and keeps its history for the metrics file and the plots."""

    def __init__(self, preset, args):
        self.preset, self.args = preset, args
        self.quiet = args.quiet
        # The textbook draws the weights and shuffles with one RandomState; the others use a Generator.
        self.rng = np.random.RandomState(args.seed) if preset.textbook_init else np.random.default_rng(args.seed)
        self.history = []

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)

    def progress(self, batches, epoch: int):
        """The batches, behind a tqdm bar on stderr when tqdm is installed and we are not quiet."""
        if self.quiet:
            return batches
        try:
            from tqdm import tqdm
        except ImportError:
            return batches
        width = len(str(self.preset.epochs))
        return tqdm(batches, desc=f"epoch {epoch:>{width}}/{self.preset.epochs}",
                    leave=False, unit="batch", file=sys.stderr, mininterval=0.25)

    def epoch(self, epoch, epochs, cost, train_accuracy, valid_accuracy, seconds) -> None:
        """One line per epoch, in the spirit of the textbook's '200/200 | Cost: ... | Train/Valid Acc.'."""
        self.history.append(dict(epoch=epoch, cost=float(cost), train_accuracy=float(train_accuracy),
                                 valid_accuracy=float(valid_accuracy), seconds=float(seconds)))
        width = len(str(epochs))
        self.say(f"{epoch:0{width}d}/{epochs} | Cost: {cost:.2f} | Train/Valid Acc.: "
                 f"{100 * train_accuracy:.2f}%/{100 * valid_accuracy:.2f}% | {seconds:.2f} s")

    def finish(self, model, test_logits, test_images, test_labels) -> None:
        """The final line, then the metrics file and plots if asked for."""
        predictions = test_logits.argmax(axis=1)
        test_accuracy = float((predictions == test_labels).mean())
        last = self.history[-1] if self.history else {}
        print(f"Test accuracy: {100 * test_accuracy:.2f}% ({self.preset.name} preset, "
              f"{len(self.history)} epochs)", flush=True)
        if self.args.metrics_json:
            self.write_metrics(test_accuracy, last)
        if self.args.plots:
            from mnist_plots import write_plots
            write_plots(self.args.plots, self.history, test_images, test_labels, predictions)

    def write_metrics(self, test_accuracy: float, last: dict) -> None:
        """The metrics JSON of API.md, written atomically."""
        seconds = [h["seconds"] for h in self.history]
        metrics = dict(preset=self.preset.name, epochs=len(self.history),
                       train_accuracy=last.get("train_accuracy"), valid_accuracy=last.get("valid_accuracy"),
                       test_accuracy=test_accuracy,
                       seconds_per_epoch=float(np.mean(seconds)) if seconds else 0.0,
                       history=self.history)
        with atomic_write(self.args.metrics_json, "w") as file:
            file.write(json.dumps(metrics, indent=2) + "\n")
