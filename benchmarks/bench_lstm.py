"""The char-LSTM's training step, dagrad against PyTorch from the same weights on the same batches.

    python benchmarks/bench_lstm.py [--rounds 31] [--threads N] [--keep-heap] [--quick] [--json]

The model is the anchor recipe's (issue 20): an embedding of 64 over 65 characters, a
2-layer LSTM of 256 (batch_first), a linear head 256 -> 65; windows of 64 characters,
batch 32, cross-entropy, gradient clipping at 1.0, Adam 2e-3 (a constant rate: the
schedule costs nothing). The batches are random windows of tiny Shakespeare when
``SHAKESPEARE_DIR`` has it, else random ids (the same work). dagrad draws the weights and
PyTorch loads them through its state dict. Printed, each as dagrad/PyTorch:

- a training step (forward, loss, backward, clipping, Adam), the contenders alternating
  step by step with a pause before each (``common.settle``); the ratio is the median of
  the ratios of steps run side by side;
- the peak memory of one step: dagrad's by tracemalloc, PyTorch's from its profiler's
  allocation events, both above what was live before the step;
- where dagrad's step goes: each node class's forward (``Function.apply``: the node's
  NumPy work and its recording) and backward (its rule), the optimizer, the clipping,
  and the rest (the engine's walk, the modules' Python). Only this profiling pass wraps
  the methods; the timed steps run the engine untouched.

``--threads N`` limits both libraries' threads (BLAS through threadpoolctl, PyTorch's
intra-op pool); the default leaves NumPy's BLAS as it is and gives PyTorch every core.
Run it alone: two BLAS-heavy processes on 2 cores slow each other.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

import nn  # noqa: E402
from autograd import Function, Tensor  # noqa: E402
from benchmarks.bench_cnn import paired_ratio, peak_mib_torch  # noqa: E402
from benchmarks.bench_mlp import peak_memory  # noqa: E402
from benchmarks.common import machine, settle, table, try_torch  # noqa: E402
from nn import functional as F  # noqa: E402

VOCAB, EMBED, HIDDEN, LAYERS = 65, 64, 256, 2
WINDOW, BATCH, LR, CLIP = 64, 32, 2e-3, 1.0


class CharLSTM(nn.Module):
    """Embedding, a 2-layer batch-first LSTM, a linear head: logits (N, T, vocab) for ids (N, T)."""

    def __init__(self, vocab: int = VOCAB, embed: int = EMBED, hidden: int = HIDDEN, layers: int = LAYERS):
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids) -> Tensor:
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)


def torch_char_lstm(torch, vocab: int = VOCAB, embed: int = EMBED, hidden: int = HIDDEN, layers: int = LAYERS):
    """The same model in PyTorch, with the same parameter names."""
    class TorchCharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(vocab, embed)
            self.lstm = torch.nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
            self.head = torch.nn.Linear(hidden, vocab)

        def forward(self, ids):
            out, _ = self.lstm(self.embedding(ids))
            return self.head(out)
    return TorchCharLSTM()


def models(torch, seed: int = 0, **sizes):
    """dagrad's model drawn from ``seed`` and, with torch, PyTorch's loaded from its state dict."""
    nn.manual_seed(seed)
    ours = CharLSTM(**sizes)
    if torch is None:
        return ours, None
    theirs = torch_char_lstm(torch, **sizes)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return ours, theirs


def text_ids(vocab: int = VOCAB) -> np.ndarray:
    """Tiny Shakespeare as ids of its sorted characters when ``SHAKESPEARE_DIR`` has it
    (65 of them), else 100,000 random ids below ``vocab``."""
    path = os.path.join(os.environ.get("SHAKESPEARE_DIR", ""), "input.txt")
    if os.environ.get("SHAKESPEARE_DIR") and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        chars = sorted(set(text))
        if len(chars) == vocab:
            lookup = np.zeros(max(map(ord, chars)) + 1, dtype=np.int64)
            lookup[[ord(c) for c in chars]] = np.arange(len(chars))
            return lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    return np.random.default_rng(1).integers(0, vocab, 100_000)


def make_batches(ids: np.ndarray, count: int, batch: int = BATCH, window: int = WINDOW, seed: int = 0) -> list:
    """``count`` batches of random windows: inputs (batch, window) and the same shifted by one."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(count):
        starts = rng.integers(0, len(ids) - window - 1, batch)
        rows = ids[starts[:, None] + np.arange(window + 1)]
        found.append((rows[:, :-1], rows[:, 1:]))
    return found


class StepRunner:
    """One training step per ``epoch()``, on the next batch (cycling): the same calls for both
    libraries, given their model, optimizer, cross-entropy and clipping function."""

    def __init__(self, model, batches, optimizer, cross_entropy, clip):
        self.model, self.batches, self.index, self.optimizer = model, batches, 0, optimizer
        self.cross_entropy, self.clip, self.vocab = cross_entropy, clip, model.head.out_features

    def epoch(self) -> float:
        x, y = self.batches[self.index % len(self.batches)]
        self.index += 1
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.cross_entropy(self.model(x).reshape(-1, self.vocab), y.reshape(-1))
        loss.backward()
        self.clip(self.model.parameters(), CLIP)
        self.optimizer.step()
        return loss.item()


def race(runners: dict, steps: int, clock=time.perf_counter) -> dict:
    """Alternate the runners step by step, a pause before each; the seconds of each step
    after a warm-up one, by ``clock`` (``time.process_time`` counts CPU time only: on a loaded
    machine, with one thread, it leaves out the time other processes held the core)."""
    times = {name: [] for name in runners}
    for step in range(steps + 1):
        for name, runner in runners.items():
            settle()
            start = clock()
            runner.epoch()
            if step:
                times[name].append(clock() - start)
    return times


def runners(ours, theirs, torch, batches) -> dict:
    """{"dagrad": its StepRunner, "torch": PyTorch's on the same batches (when given)}."""
    found = {"dagrad": StepRunner(ours, batches, nn.optim.Adam(ours.parameters(), lr=LR), F.cross_entropy,
                                  nn.utils.clip_grad_norm_)}
    if theirs is not None:
        found["torch"] = StepRunner(theirs, [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches],
                                    torch.optim.Adam(theirs.parameters(), lr=LR), torch.nn.functional.cross_entropy,
                                    torch.nn.utils.clip_grad_norm_)
    return found


@contextlib.contextmanager
def node_timer(clock=time.perf_counter):
    """Time every node class's forward (``Function.apply``) and backward (its rule) while inside;
    yields {(class name, "forward" or "backward"): [seconds, calls]}. The wrappers are
    removed on exit."""
    totals = defaultdict(lambda: [0.0, 0])
    original_apply = Function.__dict__["apply"]

    def apply(cls, *inputs, **attributes):
        start = clock()
        try:
            return original_apply.__func__(cls, *inputs, **attributes)
        finally:
            entry = totals[cls.__name__, "forward"]
            entry[0] += clock() - start
            entry[1] += 1

    def timed(name: str, rule):
        def backward(self, grad):
            start = clock()
            try:
                return rule(self, grad)
            finally:
                entry = totals[name, "backward"]
                entry[0] += clock() - start
                entry[1] += 1
        return backward

    patched = []
    stack = list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for method in ("backward", "backward_in_place"):
            rule = cls.__dict__.get(method)
            if callable(rule):
                patched.append((cls, method, rule))
                setattr(cls, method, timed(cls.__name__, rule))
    Function.apply = classmethod(apply)
    try:
        yield totals
    finally:
        Function.apply = original_apply
        for cls, method, rule in patched:
            setattr(cls, method, rule)


def profile(runner, steps: int, clock=time.perf_counter) -> dict:
    """Per step, ms: each node class's forward and backward, clipping, Adam, the rest; the step."""
    clip, step = runner.clip, runner.optimizer.step
    parts = defaultdict(float)

    def timed(name, call):
        def run(*args, **kwargs):
            start = clock()
            try:
                return call(*args, **kwargs)
            finally:
                parts[name] += clock() - start
        return run

    runner.optimizer.step = timed("Adam step", step)
    runner.clip = timed("clip_grad_norm_", clip)
    try:
        with node_timer(clock) as totals:
            start = clock()
            for _ in range(steps):
                runner.epoch()
            total = clock() - start
    finally:
        runner.clip = clip
        del runner.optimizer.step
    rows = {f"{name} {direction}": (seconds, calls) for (name, direction), (seconds, calls) in totals.items()}
    rows.update({name: (seconds, steps) for name, seconds in parts.items()})
    ms = {name: 1e3 * seconds / steps for name, (seconds, _) in rows.items()}
    ms["rest (engine walk, modules' Python, loss glue)"] = 1e3 * total / steps - sum(ms.values())
    return {"step_ms": 1e3 * total / steps, "parts_ms": dict(sorted(ms.items(), key=lambda kv: -kv[1])),
            "calls_per_step": {name: calls / steps for name, (_, calls) in rows.items()}}


@contextlib.contextmanager
def limit_threads(threads: int | None, torch):
    """Inside, BLAS (through threadpoolctl) and PyTorch use ``threads`` threads; no change for None."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


def blas() -> str:
    """NumPy's BLAS and the kernels it runs (OpenBLAS picks them by CPU at load time, see the README)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    found = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')} kernels)" for i in threadpool_info()
             if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")]
    return ", ".join(found) or "unknown"


def run(rounds: int, profile_steps: int, threads: int | None = None, batch: int = BATCH, window: int = WINDOW,
        cpu_time: bool = False, keep_heap: bool = False, **sizes) -> dict:
    """The race, the peak memories and the profile; ``sizes`` (vocab, embed, hidden, layers)
    for a smaller model than the anchor's."""
    if keep_heap:  # as examples/charlm.py does: freed arrays stay in the heap (no fresh zeroed pages)
        from common_helpers.heap import keep_freed_memory
        keep_freed_memory()
    torch = try_torch()
    batches = make_batches(text_ids(sizes.get("vocab", VOCAB)), rounds + 1, batch, window)
    with limit_threads(threads, torch):
        ours, theirs = models(torch, **sizes)
        contenders = runners(ours, theirs, torch, batches)
        results = {"machine": machine(), "blas": blas(), "torch": torch.__version__ if torch is not None else None,
                   "threads": threads, "rounds": rounds, "clock": "CPU" if cpu_time else "wall",
                   "keep_heap": keep_heap}
        clock = time.process_time if cpu_time else time.perf_counter
        times = race(contenders, rounds, clock)
        results["step_ms"] = {name: 1e3 * statistics.median(t) for name, t in times.items()}
        results["ratio"] = paired_ratio(times)
        one_step = runners(*models(torch, **sizes), torch, batches[:1])
        for r in one_step.values():
            r.epoch()   # warm-up: the optimizer's state exists, as in the timed steps
        results["peak_mib"] = {"dagrad": peak_memory(one_step["dagrad"])}
        if theirs is not None:
            results["peak_mib"]["torch"] = peak_mib_torch(torch, one_step["torch"])
        results["profile"] = profile(contenders["dagrad"], profile_steps, clock)
    return results


def report(r: dict) -> str:
    step, memory, ratio = r["step_ms"], r["peak_mib"], r["ratio"]
    rows = [["training step (ms)", f"{step['dagrad']:.1f}", f"{step['torch']:.1f}" if "torch" in step else "-",
             f"{ratio:.2f}x" if ratio is not None else "-"],
            ["peak MiB of a step", f"{memory['dagrad']:.1f}", f"{memory['torch']:.1f}" if "torch" in memory else "-",
             f"{memory['dagrad'] / memory['torch']:.2f}x" if "torch" in memory else "-"]]
    threads = "threads as found" if r["threads"] is None else f"{r['threads']} thread(s)"
    threads += ", CPU time" if r["clock"] == "CPU" else ""
    threads += ", freed memory kept in the heap" if r.get("keep_heap") else ""
    lines = [f"# The char-LSTM step (embedding {EMBED}, LSTM {LAYERS}x{HIDDEN}, head {VOCAB}; batch {BATCH} x "
             f"{WINDOW}), float32, {threads}; medians of {r['rounds']} steps each, the ratio the median of "
             f"steps run side by side ({r['machine']}, NumPy's BLAS {r['blas']}, PyTorch {r['torch']})", "",
             table(rows, ["", "dagrad", "PyTorch", "dagrad/PyTorch"]), "",
             "Peak memory: tracemalloc for dagrad, PyTorch's profiler (allocation events) for PyTorch, "
             "each above what was live before the step.", "",
             f"## Where dagrad's step goes (a profiled run: {r['profile']['step_ms']:.1f} ms per step)", ""]
    calls = r["profile"]["calls_per_step"]
    rows = [[name, f"{ms:.2f}", f"{calls[name]:g}" if name in calls else "-"]
            for name, ms in r["profile"]["parts_ms"].items()]
    lines.append(table(rows, ["part", "ms per step", "calls per step"]))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31,
                        help="timed steps per contender (after a warm-up one; runs of 15 swung from 1.27x to 1.55x)")
    parser.add_argument("--profile-steps", type=int, default=5, help="steps of the per-node profile")
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS and PyTorch to this many threads")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time steps by process CPU time (meaningful with --threads 1 on a loaded machine)")
    parser.add_argument("--keep-heap", action="store_true",
                        help="keep freed memory in the heap, as examples/charlm.py does (common_helpers/heap.py)")
    parser.add_argument("--quick", action="store_true", help="a short run: 5 rounds, 3 profiled steps")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.profile_steps = 5, 3
    results = run(args.rounds, args.profile_steps, args.threads, cpu_time=args.cpu_time, keep_heap=args.keep_heap)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
