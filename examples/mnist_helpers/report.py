"""What examples/mnist.py shows and writes: progress bars, epoch lines, weights, metrics JSON, plots."""
from __future__ import annotations

import json
import os
import sys

import numpy as np

import nn
from common_helpers.interrupted import interrupted
from nn.io.atomic import atomic_write


class Report(nn.callbacks.Callback):
    """Prints the run as it goes and keeps its history for the metrics file and the plots.

    A callback of ``model.fit``: a progress bar per epoch, the textbook's epoch line (from
    the logs' ``cost`` and ``train_accuracy`` when a callback before it put them there,
    else fit's ``loss`` and ``accuracy``), and what a Ctrl-C did.
    """

    def __init__(self, preset, args):
        self.preset, self.args = preset, args
        self.quiet = args.quiet
        # The textbook draws the weights and shuffles with one RandomState; the others use a Generator.
        self.rng = np.random.RandomState(args.seed) if preset.textbook_init else np.random.default_rng(args.seed)
        self.history = []
        self.interrupted = False
        self.saving = self.saved = False  # --save: begun, finished
        self.bar = None

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)

    def progress(self, epoch: int):
        """A tqdm bar on stderr for the epoch's batches, or None when quiet or without tqdm."""
        if self.quiet:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        width = len(str(self.preset.epochs))
        return tqdm(total=self.params["steps"], desc=f"epoch {epoch:>{width}}/{self.preset.epochs}",
                    leave=False, unit="batch", file=sys.stderr, mininterval=0.25)

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = self.progress(epoch + 1)

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update()
            if batch + 1 == self.params["steps"] or self.model.stop_training:  # the last batch, or Ctrl-C
                self.close_bar()

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_epoch_end(self, epoch, logs=None):
        self.epoch(epoch + 1, self.preset.epochs, logs.get("cost", logs["loss"]),
                   logs.get("train_accuracy", logs["accuracy"]), logs["val_accuracy"], logs["seconds"])

    def epoch(self, epoch, epochs, cost, train_accuracy, valid_accuracy, seconds) -> None:
        """One line per epoch, in the spirit of the textbook's '200/200 | Cost: ... | Train/Valid Acc.'."""
        self.history.append(dict(epoch=epoch, cost=float(cost), train_accuracy=float(train_accuracy),
                                 valid_accuracy=float(valid_accuracy), seconds=float(seconds)))
        width = len(str(epochs))
        self.say(f"{epoch:0{width}d}/{epochs} | Cost: {cost:.2f} | Train/Valid Acc.: "
                 f"{100 * train_accuracy:.2f}%/{100 * valid_accuracy:.2f}% | {seconds:.2f} s")

    def on_train_end(self, logs=None):
        """After a Ctrl-C (fit stopped and said where): say what happens next, the report and --save."""
        self.close_bar()
        if (logs or {}).get("interrupted"):
            self.interrupted = True
            done = len(self.history)
            print(f"Interrupted during epoch {done + 1}/{self.preset.epochs} ({done} complete): "
                  f"stopping with the weights as they are"
                  + (f", then saving them to {self.args.save}" if self.args.save else ""),
                  file=sys.stderr, flush=True)

    def finish(self, model, test_logits, test_images, test_labels) -> None:
        """The final line, then the weights (first: they are what the run was for), metrics and plots."""
        predictions = test_logits.argmax(axis=1)
        test_accuracy = float((predictions == test_labels).mean())
        last = self.history[-1] if self.history else {}
        epochs = len(self.history)
        print(f"Test accuracy: {100 * test_accuracy:.2f}% ({self.trained(epochs)})", flush=True)
        self.save(model)
        if self.args.metrics_json:
            self.write_metrics(test_accuracy, last)
        if self.args.plots:
            from mnist_helpers.plots import FULL_PASS, RUNNING_MEAN, write_plots
            written = write_plots(self.args.plots, self.history, test_images, test_labels, predictions,
                                  FULL_PASS if self.preset.full_train_eval else RUNNING_MEAN)
            self.say(f"Plots written to {self.args.plots}: " + ", ".join(os.path.basename(p) for p in written))

    def trained(self, epochs: int) -> str:
        """What the weights are: the preset and the epochs trained, or the checkpoint that was only evaluated."""
        if self.args.evaluate:
            return f"weights loaded from {self.args.load} into the {self.preset.name} preset's model; not trained"
        loaded = f", starting from {self.args.load}" if self.args.load else ""
        return f"{self.preset.name} preset, {epochs} epoch{'' if epochs == 1 else 's'}{loaded}"

    def save(self, model) -> None:
        """--save, at most once: a Ctrl-C in the final evaluation still saves, one while saving does not retry."""
        if self.args.save and not self.saving:
            self.saving = True
            nn.save(model, self.args.save)
            self.saved = True
            self.say(f"Weights saved to {self.args.save}")

    def stopped(self, during: str, model=None) -> int:
        """After a Ctrl-C outside training: --save (given the model), one line on stderr, and the exit status 130."""
        save = None if model is None else (lambda: self.save(model))
        return interrupted(during, self.args.save, lambda: self.saved, save, "the weights are")

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
