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

import contextlib
import os
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


IDLE_LOAD = 0.5  # a load average under this at the start of training: nothing else is running


def _load_average() -> float:
    """The machine's load average over the last minute (infinite where the system does not say,
    so that training measures at once)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("inf")


@contextlib.contextmanager
def last_choice():
    """Inside, the BLAS thread count the last training chose (``BlasThreads.last_choice``), set
    back after: ``evaluate`` and ``predict`` run too few batches to measure for themselves, and
    under load the library's own count made the final test pass of the small CNN twice as slow."""
    chosen = BlasThreads.last_choice
    controller = _blas_controller() if chosen else None
    if controller is None:
        yield
        return
    before = controller.get_num_threads()
    controller.set_num_threads(chosen)
    try:
        yield
    finally:
        controller.set_num_threads(before)


class BlasThreads(Callback):
    """Time batches under each BLAS thread count and train with the faster one.

    On an idle machine (load average under ``IDLE_LOAD`` when training starts) it keeps
    the library's count for the first ``every`` seconds, since the measuring itself costs
    a little; otherwise, after ``warmup`` batches, it runs at least ``probe`` batches and ``seconds`` with the
    library's own count, then as many with one thread, twice over, and keeps one thread if its median batch was
    faster by ``margin`` (else the library's count: on a quiet machine one thread is the
    slower by up to a quarter, beside a busy process the library's count by many times);
    ``every`` seconds later it measures again (once over), and each time the answer stays
    the same it waits twice as long (up to 16 x ``every``), so a load that comes or goes is
    followed at little cost. ``controller`` is anything with ``get_num_threads()`` and
    ``set_num_threads(n)`` (threadpoolctl's, by default); without one, or with a single
    core, it does nothing. ``fit`` adds one unless given ``blas_threads=None`` (the threads
    left alone). ``choices`` lists what it picked, as (batch count, threads);
    ``BlasThreads.last_choice`` keeps the latest pick of any run, for ``evaluate`` and ``predict``.
    """

    last_choice = None

    def __init__(self, warmup: int = 2, probe: int = 4, seconds: float = 0.2, every: float = 5.0,
                 margin: float = 1.15, controller=None, clock=time.perf_counter, load=None):
        self.warmup, self.probe, self.seconds, self.every = warmup, probe, seconds, every
        self.margin, self.controller, self.clock = margin, controller, clock
        self.load = load or _load_average
        self.choices = []

    def on_train_begin(self, logs=None):
        self.controller = self.controller or _blas_controller()
        self.original = self.controller.get_num_threads() if self.controller else 1
        self.options = (self.original, 1)
        self.batches, self.started, self.blocks, self.block, self.times = 0, None, [], None, {}
        self.chosen_at, self.wait = None, self.every
        if self.load() < IDLE_LOAD:  # nothing else runs: keep the library's count, measure in ``every`` s
            self.chosen_at = self.clock()

    def _active(self) -> bool:
        return self.controller is not None and self.original > 1

    def on_batch_begin(self, batch, logs=None):
        if not self._active():
            return
        if self.block is None and self.batches >= self.warmup and (
                self.chosen_at is None or self.clock() - self.chosen_at > self.wait):
            rounds = 2 if self.chosen_at is None else 1
            self.blocks = [n for _ in range(rounds) for n in self.options]
            self.times = {n: [] for n in self.options}
            self._next_block()
        self.started = self.clock()

    def _next_block(self) -> None:
        """Time the next count for at least ``probe`` batches and ``seconds``: after a batch with
        more threads OpenBLAS's idle threads spin for about 0.1 s, which a block outlasts."""
        self.block = self.blocks.pop(0)
        self.block_started, self.block_batches = self.clock(), 0
        self.controller.set_num_threads(self.block)

    def on_batch_end(self, batch, logs=None):
        self.batches += 1
        if not self._active() or self.block is None or self.started is None:
            return
        now = self.clock()
        self.times[self.block].append(now - self.started)
        self.block_batches += 1
        if self.block_batches < self.probe or now - self.block_started < self.seconds:
            return
        if self.blocks:
            self._next_block()
            return
        self.block = None
        many, one = (statistics.median(self.times[n]) for n in self.options)
        best = 1 if one * self.margin < many else self.original   # one thread must win clearly
        self.controller.set_num_threads(best)
        # The same answer again: measure less often (up to every 16 x ``every`` seconds).
        same = bool(self.choices) and self.choices[-1][1] == best
        self.wait = min(2 * self.wait, 16 * self.every) if same else self.every
        self.chosen_at = self.clock()
        self.choices.append((self.batches, best))
        BlasThreads.last_choice = best

    def on_train_end(self, logs=None):
        if self._active():
            self.controller.set_num_threads(self.original)
