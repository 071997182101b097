"""Data parallelism on this machine: the small CNN's training step on 2 processes against 1.

    python benchmarks/bench_ddp.py [--rounds 9] [--steps 20] [--json] [--no-torch] [--smoke]

The network, batch and optimizer are bench_cnn.py's (the small CNN, float32, a global
batch of 128, Adam, cross-entropy), on random images (the timing does not depend on the
pixels). Timed, each in its own processes, one after the other:

- dagrad, one process, default BLAS threads, the whole batch of 128;
- dagrad, ``mpiexec -n 2``, one BLAS thread each, 64 images each, inside
  ``nn.distributed.DistributedDataParallel`` (gradients all-reduced during backward);
- PyTorch, one process, default threads, 128 images;
- PyTorch's own DistributedDataParallel, 2 processes (gloo over TCP on 127.0.0.1), one
  thread each, 64 images each.

A step on 2 ranks lasts until the slower rank ends it (the block's time is the maximum
over ranks). Communication is reported two ways: the exposed cost, a DDP step minus the
same rank's step without any all-reduce (blocks of each alternate), and for dagrad the
time spent at the end of backward waiting for the all-reduce to finish (sending what is
left, waiting, handing the means over). Bytes all-reduced per step are what each rank
puts in its all-reduces (a ring all-reduce moves 2(N-1)/N of that per rank).

Needs mpi4py and mpiexec (``pip install -e ".[mpi]"``) for the 2-rank rows and PyTorch for
its rows (skipped without it). Run it alone: other processes on the 2 cores spoil it.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GLOBAL_BATCH, LR, WORLD = 128, 1e-3, 2
SMOKE = dict(rounds=1, steps=2)


# ---- the workers: one contender each, printing one JSON line (rank 0) ----
def images(count: int, seed: int = 0) -> tuple:
    """Random standardized images (N, 1, 28, 28) float32 and labels, the same on every rank."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, count)


def share(rank: int, world: int) -> slice:
    per = GLOBAL_BATCH // world
    return slice(rank * per, (rank + 1) * per)


def timed_blocks(contenders: dict, rounds: int, steps: int, slowest) -> dict:
    """name -> seconds per step of each block; the contenders alternate block by block after a
    warm-up block each; ``slowest(seconds)`` is the maximum over ranks (and a barrier)."""
    times = {name: [] for name in contenders}
    for round_ in range(rounds + 1):
        for name, step in contenders.items():
            slowest(0.0)  # every rank starts the block together
            start = time.perf_counter()
            for _ in range(steps):
                step()
            seconds = slowest(time.perf_counter() - start)
            if round_:
                times[name].append(seconds / steps)
    return times


def dagrad_worker(rounds: int, steps: int) -> dict:
    import nn
    from autograd import Tensor
    from benchmarks.bench_cnn import small_cnn
    from nn import distributed as dist
    from nn import functional as F
    from nn.distributed import ddp as ddp_module

    dist.init()
    rank, world = dist.rank(), dist.world_size()
    X, y = images(GLOBAL_BATCH)
    X, y = X[share(rank, world)], y[share(rank, world)]
    nn.manual_seed(0)
    model = small_cnn(nn)
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    waiting = [0.0]

    def step(forward):
        optimizer.zero_grad()
        F.cross_entropy(forward(Tensor(X)), y).backward()
        optimizer.step()

    contenders = {"local": lambda: step(model)}
    result = {"world": world, "images_per_process": len(X)}
    if world > 1:
        wrapped = dist.DistributedDataParallel(model)
        finish = ddp_module._Pass.finish

        def timed_finish(self):
            start = time.perf_counter()
            finish(self)
            waiting[0] += time.perf_counter() - start
        ddp_module._Pass.finish = timed_finish
        contenders = {"ddp": lambda: step(wrapped), **contenders}
        buckets = wrapped._reducer.buckets
        result["buckets"] = len(buckets)
        result["bytes_per_step"] = int(sum((b.size + len(b.params)) * b.dtype.itemsize for b in buckets))
    else:
        result["bytes_per_step"] = 0

    def slowest(seconds):
        return float(dist.all_reduce(np.array([seconds]), "max")[0])
    times = timed_blocks(contenders, rounds, steps, slowest)
    result["step"] = statistics.median(times[next(iter(contenders))])
    if world > 1:
        result["wait"] = waiting[0] / ((rounds + 1) * steps)
        result["exposed"] = statistics.median(a - b for a, b in zip(times["ddp"], times["local"]))
    return result if rank == 0 else None


def torch_worker(rounds: int, steps: int) -> dict:
    import torch
    from benchmarks.bench_cnn import models

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world > 1:
        import torch.distributed as tdist
        torch.set_num_threads(1)
        tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['MASTER_PORT']}",
                                 rank=rank, world_size=world)
    else:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    X, y = images(GLOBAL_BATCH)
    X, y = torch.from_numpy(X[share(rank, world)]), torch.from_numpy(y[share(rank, world)].astype(np.int64))
    _, model = models(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    def step(forward):
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(forward(X), y).backward()
        optimizer.step()

    result = {"world": world, "images_per_process": len(X), "threads": torch.get_num_threads()}
    contenders = {"local": lambda: step(model)}
    if world > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(model)

        def local():
            with wrapped.no_sync():  # the same wrapped step without its all-reduce
                step(wrapped)
        contenders = {"ddp": lambda: step(wrapped), "local": local}
        result["bytes_per_step"] = int(sum(p.numel() * p.element_size() for p in model.parameters()))

        def slowest(seconds):
            t = torch.tensor([seconds], dtype=torch.float64)
            tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
            return float(t[0])
    else:
        result["bytes_per_step"] = 0

        def slowest(seconds):
            return seconds
    times = timed_blocks(contenders, rounds, steps, slowest)
    result["step"] = statistics.median(times[next(iter(contenders))])
    if world > 1:
        result["exposed"] = statistics.median(a - b for a, b in zip(times["ddp"], times["local"]))
        tdist.destroy_process_group()
    return result if rank == 0 else None


# ---- the driver: each contender in fresh processes ----
def _env(threads: int | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
        if threads is not None:
            env[name] = str(threads)
    return env


def _launch(commands: list, env_of, timeout: float) -> dict:
    """Start the commands together; the JSON line one of them printed."""
    jobs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_of(i))
            for i, command in enumerate(commands)]
    outputs = []
    try:
        for job in jobs:
            out, err = job.communicate(timeout=timeout)
            if job.returncode:
                raise SystemExit(f"bench_ddp: {' '.join(commands[0])} failed:\n{err[-2000:]}")
            outputs.append(out)
    finally:
        for job in jobs:
            if job.poll() is None:
                job.kill()
    return next(json.loads(line) for out in outputs for line in out.splitlines() if line.startswith("{"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(rounds: int, steps: int, with_torch: bool, timeout: float) -> dict:
    me = [sys.executable, os.path.abspath(__file__), "--rounds", str(rounds), "--steps", str(steps)]
    results = {"global_batch": GLOBAL_BATCH, "rounds": rounds, "steps_per_block": steps}
    results["dagrad 1 process"] = _launch([me + ["--worker", "dagrad"]], lambda i: _env(None), timeout)
    if shutil.which("mpiexec") is None:
        print("bench_ddp: mpiexec not found; skipping the 2-rank rows", file=sys.stderr)
    else:
        results["dagrad DDP"] = _launch([["mpiexec", "-n", str(WORLD)] + me + ["--worker", "dagrad"]],
                                        lambda i: _env(1), timeout)
    if with_torch:
        results["torch 1 process"] = _launch([me + ["--worker", "torch"]], lambda i: _env(None), timeout)
        port = _free_port()

        def env_of(rank):
            return {**_env(1), "RANK": str(rank), "WORLD_SIZE": str(WORLD), "MASTER_ADDR": "127.0.0.1",
                    "MASTER_PORT": str(port)}
        results["torch DDP"] = _launch([me + ["--worker", "torch"]] * WORLD, env_of, timeout)
    return results


def report(r: dict) -> str:
    from benchmarks.common import machine, table
    rows = []
    for name, how in (("dagrad 1 process", "1 x default threads"), ("dagrad DDP", f"{WORLD} x 1 thread"),
                      ("torch 1 process", "1 x default threads"), ("torch DDP", f"{WORLD} x 1 thread")):
        if name not in r:
            continue
        c = r[name]
        alone = r.get(name.split()[0] + " 1 process")
        ms = lambda key: f"{1e3 * c[key]:.2f}" if key in c else "-"  # noqa: E731
        rows.append([name, how, c["images_per_process"], ms("step"),
                     f"{c['step'] / alone['step']:.2f}x" if alone and c is not alone else "-",
                     ms("wait"), ms("exposed"), f"{c['bytes_per_step'] / 2**20:.3f}" if c["bytes_per_step"] else "-"])
    lines = [f"# The small CNN, global batch {r['global_batch']}: a training step on {WORLD} processes against 1 "
             f"(medians of {r['rounds']} blocks of {r['steps_per_block']} steps; {machine()})", "",
             table(rows, ["", "processes", "images each", "step (ms)", "vs 1 process", "all-reduce wait (ms)",
                          "exposed comm (ms)", "MiB all-reduced"])]
    if "dagrad DDP" in r and "torch DDP" in r:
        lines.append(f"\ndagrad DDP / PyTorch DDP: {r['dagrad DDP']['step'] / r['torch DDP']['step']:.2f}x; "
                     f"dagrad DDP / PyTorch 1 process: {r['dagrad DDP']['step'] / r['torch 1 process']['step']:.2f}x")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed blocks per contender (after a warm-up one)")
    parser.add_argument("--steps", type=int, default=20, help="training steps per block")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch's rows out")
    parser.add_argument("--smoke", action="store_true", help="check that it runs: 1 block of 2 steps")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--timeout", type=float, default=600, help="seconds each launch may take")
    parser.add_argument("--worker", choices=["dagrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.steps = SMOKE["rounds"], SMOKE["steps"]
    if args.worker:
        result = (dagrad_worker if args.worker == "dagrad" else torch_worker)(args.rounds, args.steps)
        if result is not None:
            print(json.dumps(result), flush=True)
        return
    with_torch = not args.no_torch
    if with_torch and importlib.util.find_spec("torch") is None:
        print("bench_ddp: PyTorch is not installed; skipping its rows", file=sys.stderr)
        with_torch = False
    results = run(args.rounds, args.steps, with_torch, args.timeout)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
