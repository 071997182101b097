"""What examples/charlm.py shows and writes: a progress bar, a line per evaluation, the model file,
the metrics JSON, the plots; and what a Ctrl-C did."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading

from charlm_helpers.checkpoint import save_checkpoint
from common_helpers.interrupted import interrupted
from nn.io.atomic import atomic_write


class Report:
    """Prints the run as it goes and keeps its history for the metrics file and the plots."""

    def __init__(self, args):
        self.args, self.quiet = args, args.quiet
        self.history = []       # one dict per evaluation: step, train_loss, val_loss, seconds
        self.step_losses = []   # each training step's batch loss
        self.interrupted = False
        self.saving = self.saved = False  # --save: begun, finished
        self.bar = None

    def say(self, line: str) -> None:
        if not self.quiet:
            if self.bar is not None:
                self.bar.write(line, file=sys.stdout)
            else:
                print(line, flush=True)

    def start(self, steps: int) -> None:
        """A tqdm bar on stderr over the training steps (none when quiet or without tqdm)."""
        if self.quiet:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=steps, desc="training", leave=False, unit="step", file=sys.stderr, mininterval=0.25)

    def step(self, loss: float) -> None:
        self.step_losses.append(loss)
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {loss:.3f}", refresh=False)
            self.bar.update()

    def evaluation(self, step: int, steps: int, train_loss: float, val_loss: float, seconds: float) -> None:
        """Keep an evaluation and print its line."""
        self.history.append(dict(step=step, train_loss=train_loss, val_loss=val_loss, seconds=seconds))
        width = len(str(steps))
        self.say(f"step {step:>{width}}/{steps} | train {train_loss:.4f} | val {val_loss:.4f} | {seconds:.1f} s")

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def stopping(self, step: int, steps: int) -> None:
        """After a Ctrl-C in training: say where it stopped and what happens next."""
        self.interrupted = True
        self.close_bar()
        print(f"Interrupted at step {step}/{steps}: stopping with the weights as they are"
              + (f", then saving them to {self.args.save}" if self.args.save else ""), file=sys.stderr, flush=True)

    def finish(self, preset, steps: int, seconds: float) -> None:
        """The final line: the final model's losses."""
        last = self.history[-1]
        print(f"Validation loss: {last['val_loss']:.4f} nats per character (train {last['train_loss']:.4f}; "
              f"{preset.name} preset, {steps} step{'' if steps == 1 else 's'}, {seconds:.1f} s)", flush=True)

    def save(self, model, tokenizer, preset) -> None:
        """--save, at most once: a Ctrl-C after training still saves, one while saving does not retry."""
        if self.args.save and not self.saving:
            self.saving = True
            save_checkpoint(self.args.save, model, tokenizer, preset.name)
            self.saved = True
            self.say(f"Model saved to {self.args.save}")

    def stopped(self, during: str, save=None) -> int:
        """After a Ctrl-C outside the training steps: ``save()`` (if given), one line on stderr, status 130."""
        return interrupted(during, self.args.save, lambda: self.saved, save, "the model is")

    def write_metrics(self, preset, steps: int, seconds: float, sample: str | None, **extra) -> None:
        """The metrics JSON (preset, steps, the final losses, seconds, history, sample, then ``extra``),
        written atomically."""
        last = self.history[-1]
        metrics = dict(preset=preset.name, steps=steps, train_loss=last["train_loss"], val_loss=last["val_loss"],
                       seconds=seconds, history=self.history, sample=sample, **extra)
        with atomic_write(self.args.metrics_json, "w") as file:
            file.write(json.dumps(metrics, indent=2) + "\n")

    def plots(self, extra=()) -> None:
        """--plots: loss.png, when there was training, and what each of ``extra`` (a function of the
        directory returning the path it wrote) draws."""
        from charlm_helpers.plots import write_plots
        written = write_plots(self.args.plots, self.history, self.step_losses)
        written += [draw(self.args.plots) for draw in extra]
        if written:
            self.say(f"Plots written to {self.args.plots}: " + ", ".join(os.path.basename(p) for p in written))
        else:
            self.say(f"No plots written to {self.args.plots}: nothing was trained")


@contextlib.contextmanager
def ctrl_c_stops_after_the_step(install: bool = True):
    """Yields a flag object whose ``stop`` a first Ctrl-C sets (the loop ends after the current
    step); a second Ctrl-C raises KeyboardInterrupt at once. Only in the main thread, when
    nobody else handles SIGINT, and when ``install`` (not under mpiexec, where one Ctrl-C
    ends every rank); otherwise the KeyboardInterrupt lands where it lands."""
    flag = _Flag()
    if not install or threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag
        return

    def stop_after_the_step(signum, frame):
        if flag.stop:
            raise KeyboardInterrupt
        flag.stop = True

    previous = signal.signal(signal.SIGINT, stop_after_the_step)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class _Flag:
    stop = False
