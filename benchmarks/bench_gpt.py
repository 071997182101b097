"""The GPT of the anchor recipe, dagrad (examples/gpt.py) against PyTorch (gpt_torch.py) from
the same weights on the same batches.

    python benchmarks/bench_gpt.py [--rounds 7] [--steps 5] [--threads N] [--keep-heap] [--profile] [--json]

The recipe is nanoGPT's CPU one for tiny Shakespeare: 4 layers, 4 heads, width 128,
context 64, batch 12, no dropout, no biases, vocabulary 65, a head tied to the token
embedding; AdamW with betas (0.9, 0.99), weight decay 0.1 on the matrices, lr 1e-3, the
gradients' norm clipped to 1.0. Timed, each as dagrad/PyTorch:

- a training step (zero_grad, forward, cross-entropy, backward, clipping, AdamW), in blocks
  of ``--steps`` steps over the same batches, the contenders alternating block by block with
  a pause before each (``common.settle``); the ratio is the median of the paired blocks';
- the peak memory of one step above what was live before it: dagrad's by tracemalloc,
  PyTorch's from its profiler's allocation events (``bench_cnn.peak_mib_torch``);
- with ``--profile``, where dagrad's step goes, per node class: every Function subclass's
  forward and backward timed by wrappers installed for the measurement only, and the
  optimizer and clipping apart. The rest of the step ("other") is the engine's and the
  modules' Python.

``--threads 1`` runs both libraries on one thread (on a shared machine two-thread timings are
not even ordered); ``--keep-heap`` keeps freed memory in glibc's heap, as examples/charlm.py
does (examples/common_helpers/heap.py): dagrad's arrays are plain mallocs, so by default each
step's large ones come back as fresh pages the kernel zeroes. Run it alone: two BLAS-heavy
processes on 2 cores slow each other.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from contextlib import contextmanager

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

import nn  # noqa: E402
from autograd.function import Function  # noqa: E402
from benchmarks.bench_cnn import paired_ratio, peak_mib_torch  # noqa: E402
from benchmarks.common import machine, settle, table, try_torch  # noqa: E402
from benchmarks.gpt_torch import torch_gpt  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from nn import functional as F  # noqa: E402

CONFIG = GPTConfig(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False)
BATCH, LR, BETAS, DECAY, CLIP = 12, 1e-3, (0.9, 0.99), 0.1, 1.0


def torch_state(torch, model) -> dict:
    """dagrad's state dict as PyTorch tensors (the tied head is under both of its names in both)."""
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.state_dict().items()}


def decay_groups(named, decay: float) -> list:
    """nanoGPT's groups: weight decay on the matrices (and embeddings), none on gains and biases."""
    named = list(named)
    return [{"params": [p for _, p in named if p.ndim >= 2], "weight_decay": decay},
            {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0}]


class DagradGPT:
    def __init__(self, model, batches):
        self.model, self.batches = model, batches
        self.params = list(model.parameters())
        self.opt = nn.optim.AdamW(decay_groups(model.named_parameters(), DECAY), lr=LR, betas=BETAS)

    def step(self, x, y) -> float:
        logits = self.model(x)
        loss = F.cross_entropy(logits.reshape(-1, CONFIG.vocab_size), y.reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        nn.optim.clip_grad_norm_(self.params, CLIP)
        self.opt.step()
        return loss.item()

    def epoch(self) -> None:
        for x, y in self.batches:
            self.step(x, y)


class TorchGPT:
    def __init__(self, torch, model, batches):
        self.torch, self.model = torch, model
        self.batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]
        self.opt = torch.optim.AdamW(decay_groups(model.named_parameters(), DECAY), lr=LR, betas=BETAS)

    def step(self, x, y) -> float:
        logits = self.model(x)
        loss = self.torch.nn.functional.cross_entropy(logits.view(-1, CONFIG.vocab_size), y.view(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
        self.opt.step()
        return loss.item()

    def epoch(self) -> None:
        for x, y in self.batches:
            self.step(x, y)


def make_batches(count: int, seed: int = 0) -> list:
    """Random windows of token ids and the same shifted by one (the timing does not depend on the text)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, CONFIG.vocab_size, size=(count, BATCH, CONFIG.block_size + 1))
    return [(w[:, :-1].copy(), w[:, 1:].copy()) for w in ids]


def contenders(torch, steps: int) -> dict:
    nn.manual_seed(0)
    ours = GPT(CONFIG)
    batches = make_batches(steps)
    runners = {"dagrad": DagradGPT(ours, batches)}
    if torch is not None:
        theirs = torch_gpt(CONFIG)
        theirs.load_state_dict(torch_state(torch, ours))
        runners["torch"] = TorchGPT(torch, theirs, batches)
        # the same weights and batch give the same loss (float32 rounding apart)
        x, y = batches[0]
        with torch.no_grad():
            theirs_loss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)).view(-1, CONFIG.vocab_size),
                                                            torch.from_numpy(y).view(-1)).item()
        ours_loss = F.cross_entropy(ours(x).reshape(-1, CONFIG.vocab_size), y.reshape(-1)).item()
        if abs(theirs_loss - ours_loss) > 1e-4:
            raise SystemExit(f"dagrad's loss {ours_loss} and PyTorch's {theirs_loss} differ: not the same model")
    return runners


def race(runners: dict, rounds: int) -> dict:
    """Seconds of each block of steps, per contender, the contenders taking turns."""
    for runner in runners.values():  # warm-up: the optimizers' state, BLAS threads, caches
        runner.epoch()
    times = defaultdict(list)
    for _ in range(rounds):
        for name, runner in runners.items():
            settle()
            start = time.perf_counter()
            runner.epoch()
            times[name].append(time.perf_counter() - start)
    return dict(times)


def peak_mib_dagrad(runner) -> float:
    """Peak MiB allocated during one step, above what was allocated before it (tracemalloc)."""
    x, y = runner.batches[0]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    runner.step(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2 ** 20


class _OneStep:
    """A runner's first batch as an ``epoch`` of one step (what peak_mib_torch times)."""

    def __init__(self, runner):
        self.runner = runner

    def epoch(self) -> None:
        self.runner.step(*self.runner.batches[0])


# ---- where dagrad's time goes ----
def _all_functions(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_functions(sub)


def _timed(table_: dict, key: str, method):
    def wrapper(self, *args):
        start = time.perf_counter()
        try:
            return method(self, *args)
        finally:
            table_[key] += time.perf_counter() - start
    return wrapper


@contextmanager
def per_node_timers():
    """name -> seconds, filled by wrappers around every node class's forward and backward
    (each class's own methods; a subclass calling its base's is counted once, under its own)."""
    seconds = defaultdict(float)
    saved = []
    for cls in set(_all_functions()):
        for method in ("forward", "backward", "backward_in_place"):
            own = cls.__dict__.get(method)
            if callable(own):
                saved.append((cls, method, own))
                label = f"{cls.__name__} {'forward' if method == 'forward' else 'backward'}"
                setattr(cls, method, _timed(seconds, label, own))
    try:
        yield seconds
    finally:
        for cls, method, own in saved:
            setattr(cls, method, own)


def profile(runner, steps: int) -> list:
    """(what, ms per step, share) rows: each node class's forward and backward, the optimizer,
    clipping, and the rest of the step, over ``steps`` steps."""
    opt_step, clip = runner.opt.step, nn.optim.clip_grad_norm_
    with per_node_timers() as seconds:
        runner.opt.step = lambda: _timed(seconds, "AdamW step", lambda _: opt_step())(None)
        nn.optim.clip_grad_norm_ = lambda params, norm: _timed(seconds, "clip_grad_norm_",
                                                               lambda _: clip(params, norm))(None)
        try:
            start = time.perf_counter()
            for x, y in runner.batches[:steps]:
                runner.step(x, y)
            total = time.perf_counter() - start
        finally:
            del runner.opt.step
            nn.optim.clip_grad_norm_ = clip
    seconds = dict(seconds)
    seconds["other (Python: modules, engine, loss.item)"] = total - sum(seconds.values())
    n = min(steps, len(runner.batches))
    return sorted(((k, 1e3 * v / n, v / total) for k, v in seconds.items()), key=lambda r: -r[1])


def run(rounds: int, steps: int, with_profile: bool, threads: int | None = None, keep_heap: bool = False) -> dict:
    if keep_heap:  # as examples/charlm.py does: freed arrays stay in the heap (no fresh zeroed pages)
        from common_helpers.heap import keep_freed_memory
        keep_freed_memory()
    torch = try_torch()
    if threads:  # both libraries on this many threads (a shared machine: 1 keeps them out of each other's way)
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
        if torch is not None:
            torch.set_num_threads(threads)
    runners = contenders(torch, steps)
    times = race(runners, rounds)
    result = {"machine": machine(), "threads": threads or "all", "keep_heap": keep_heap, "rounds": rounds,
              "steps": steps,
              "step_ms": {k: 1e3 * statistics.median(t) / steps for k, t in times.items()},
              "ratio": paired_ratio(times) if torch is not None else None,
              "peak_mib": {"dagrad": peak_mib_dagrad(runners["dagrad"])}}
    if torch is not None:
        result["peak_mib"]["torch"] = peak_mib_torch(torch, _OneStep(runners["torch"]))
    if with_profile:
        result["profile"] = profile(runners["dagrad"], steps)
    return result


def report(r: dict) -> str:
    ms, peak = r["step_ms"], r["peak_mib"]
    rows = [["training step (ms)", f"{ms['dagrad']:.2f}", f"{ms.get('torch', float('nan')):.2f}",
             f"{r['ratio']:.2f}x" if r["ratio"] else "-"],
            ["peak MiB of a step", f"{peak['dagrad']:.1f}", f"{peak.get('torch', float('nan')):.1f}",
             f"{peak['dagrad'] / peak['torch']:.2f}x" if "torch" in peak else "-"]]
    text = [f"GPT of the anchor recipe ({r['machine']}; threads: {r['threads']}; keep heap: {r['keep_heap']}; "
            f"{r['rounds']} rounds of {r['steps']} steps)",
            table(rows, ["", "dagrad", "PyTorch", "dagrad/PyTorch"])]
    if "profile" in r:
        text += ["", "Where dagrad's step goes (per node class):",
                 table([[k, f"{v:.2f}", f"{100 * s:.1f}%"] for k, v, s in r["profile"]], ["", "ms/step", "share"])]
    return "\n".join(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also time dagrad's step per node class")
    parser.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: all cores)")
    parser.add_argument("--keep-heap", action="store_true",
                        help="keep freed memory in the heap, as examples/charlm.py does (common_helpers/heap.py)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = run(args.rounds, args.steps, args.profile, args.threads, args.keep_heap)
    print(json.dumps(r, indent=1) if args.json else report(r))


if __name__ == "__main__":
    main()
