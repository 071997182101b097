"""BlasThreads: NumPy's BLAS thread count chosen by timing the batches of this very run.

On a quiet machine BLAS's threads help (the small CNN's epoch: 9.4 s with two threads, 11.8 s
with one). When another busy process shares the cores they hurt many times over: OpenBLAS's
threads spin while they wait for a core, so the same epoch took 119.5 s with two threads and
19.7 s with one. No fixed count suits both, and the load can change during a run, so ``fit``
measures: it runs a few batches with each count, keeps the faster, and measures again every
few seconds. The threads are set back as they were when training ends. A matrix product's
last bit can depend on the thread count, so two runs with one seed then agree to rounding;
``fit(..., blas_threads=None)`` keeps the count fixed, for runs that repeat bit for bit.
"""
from __future__ import annotations

import statistics
import time

from .base import Callback


def _blas_controller():
    """threadpoolctl's controller of the BLAS that NumPy loaded, or None (no threadpoolctl, no BLAS found)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    controllers = ThreadpoolController().select(user_api="blas").lib_controllers
    return controllers[0] if controllers else None


class BlasThreads(Callback):
    """Time batches under each BLAS thread count and train with the faster one.

    After ``warmup`` batches, runs ``probe`` batches with the library's own count, then
    ``probe`` with one thread, twice over, and keeps the count whose median batch was
    faster; ``every`` seconds later it measures again (once over), so a load that comes or
    goes is followed. ``controller`` is anything with ``get_num_threads()`` and
    ``set_num_threads(n)`` (threadpoolctl's, by default); without one, or with a single
    core, it does nothing. ``fit`` adds one unless given ``blas_threads=`` a number (fixed)
    or None (left alone). ``choices`` lists what it picked, as (batch count, threads).
    """

    def __init__(self, warmup: int = 2, probe: int = 3, every: float = 5.0, controller=None,
                 clock=time.perf_counter):
        self.warmup, self.probe, self.every, self.clock = warmup, probe, every, clock
        self.controller = controller
        self.choices = []

    def on_train_begin(self, logs=None):
        self.controller = self.controller or _blas_controller()
        self.original = self.controller.get_num_threads() if self.controller else 1
        self.options = (self.original, 1)
        self.batches, self.started, self.plan, self.times = 0, None, [], {}
        self.chosen_at = None

    def _active(self) -> bool:
        return self.controller is not None and self.original > 1

    def on_batch_begin(self, batch, logs=None):
        if not self._active():
            return
        if self.batches >= self.warmup and not self.plan and (
                self.chosen_at is None or self.clock() - self.chosen_at > self.every):
            rounds = 2 if self.chosen_at is None else 1
            self.plan = [n for _ in range(rounds) for n in self.options for _ in range(self.probe)]
            self.times = {n: [] for n in self.options}
        if self.plan:
            self.controller.set_num_threads(self.plan[0])
        self.started = self.clock()

    def on_batch_end(self, batch, logs=None):
        self.batches += 1
        if not self._active() or not self.plan or self.started is None:
            return
        self.times[self.plan.pop(0)].append(self.clock() - self.started)
        if not self.plan:
            best = min(self.options, key=lambda n: statistics.median(self.times[n]))
            self.controller.set_num_threads(best)
            self.chosen_at = self.clock()
            self.choices.append((self.batches, best))

    def on_train_end(self, logs=None):
        if self._active():
            self.controller.set_num_threads(self.original)
