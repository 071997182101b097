"""What examples/mnist.py shows and writes: progress bars, epoch lines, weights, metrics JSON, plots."""
from __future__ import annotations

import contextlib
import json
import os
import sys

import numpy as np

import nn
from nn.atomic import atomic_write


class Report:
    """Prints the run as it goes and keeps its history for the metrics file and the plots."""

    def __init__(self, preset, args):
        self.preset, self.args = preset, args
        self.quiet = args.quiet
        # The textbook draws the weights and shuffles with one RandomState; the others use a Generator.
        self.rng = np.random.RandomState(args.seed) if preset.textbook_init else np.random.default_rng(args.seed)
        self.history = []
        self.interrupted = False

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

    @contextlib.contextmanager
    def interruptible(self):
        """Turn Ctrl-C inside the block into a clean stop: say when, and carry on to the report and --save."""
        try:
            yield
        except KeyboardInterrupt:
            self.interrupted = True
            done = len(self.history)
            print(f"\nInterrupted during epoch {done + 1}/{self.preset.epochs} ({done} complete): "
                  f"stopping with the weights as they are"
                  + (f", then saving them to {self.args.save}" if self.args.save else ""),
                  file=sys.stderr, flush=True)

    def finish(self, model, test_logits, test_images, test_labels) -> None:
        """The final line, then the weights (first: they are what the run was for), metrics and plots."""
        predictions = test_logits.argmax(axis=1)
        test_accuracy = float((predictions == test_labels).mean())
        last = self.history[-1] if self.history else {}
        epochs = len(self.history)
        print(f"Test accuracy: {100 * test_accuracy:.2f}% ({self.preset.name} preset, "
              f"{epochs} epoch{'' if epochs == 1 else 's'})", flush=True)
        if self.args.save:
            nn.save(model, self.args.save)
            self.say(f"Weights saved to {self.args.save}")
        if self.args.metrics_json:
            self.write_metrics(test_accuracy, last)
        if self.args.plots:
            from mnist_plots import write_plots
            written = write_plots(self.args.plots, self.history, test_images, test_labels, predictions)
            self.say(f"Plots written to {self.args.plots}: " + ", ".join(os.path.basename(p) for p in written))

    def write_metrics(self, test_accuracy: float, last: dict) -> None:
        """The metrics JSON (preset, epochs, accuracies, seconds per epoch, history), written atomically."""
        seconds = [h["seconds"] for h in self.history]
        metrics = dict(preset=self.preset.name, epochs=len(self.history),
                       train_accuracy=last.get("train_accuracy"), valid_accuracy=last.get("valid_accuracy"),
                       test_accuracy=test_accuracy,
                       seconds_per_epoch=float(np.mean(seconds)) if seconds else 0.0,
                       history=self.history)
        with atomic_write(self.args.metrics_json, "w") as file:
            file.write(json.dumps(metrics, indent=2) + "\n")
