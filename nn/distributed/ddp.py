"""DistributedDataParallel: every rank trains the same model on its own share of the batch.

How the gradients are averaged. The parameters are laid out, in reverse order (the last
layers' gradients are ready first), in contiguous buckets of at most ``bucket_cap_mb``
(the first at most 1 MB, so that communication starts early), as PyTorch's DDP does.
The wrapper's forward passes its output through an identity node; its rule, the first
of the module's to run in backward, counts how many gradients each parameter will
receive in this graph and watches the engine's leaf sums (``engine.running_backward``).
When a parameter's last gradient arrives it is copied into its bucket; when a bucket is
full, a non-blocking all-reduce (MPI ``Iallreduce``) of it starts while the backward pass
goes on (buckets start in order, the same on every rank, as MPI requires). When every
rule has run, the buckets still open (parameters this rank did not use) are sent too,
all are awaited, divided by the world size and handed to ``.grad``.
"""
from __future__ import annotations

import weakref

import numpy as np

from autograd import Tensor, engine
from autograd.function import Function
from autograd.grad_mode import is_grad_enabled
from ..modules import Module

from .world import comm

_FIRST_BUCKET_MB = 1.0


class DistributedDataParallel(Module):
    """``module`` trained in data parallel: after ``backward()`` each parameter's ``.grad``
    is the mean over ranks of the ranks' own gradients, the same on every rank.

    The module is kept as ``.module`` with its own Parameter objects (so names and state
    dict keys start with ``module.``, as PyTorch's). When built, it checks that every rank's
    model has the same parameters and buffers (names, shapes, dtypes; ValueError naming
    the first that differs) and copies rank 0's values to every rank. Each rank then feeds
    its own share of the batch (``nn.distributed.shard``).

    Batch norm keeps per-rank statistics: each rank normalises with its own share's batch
    statistics and updates its own running averages (PyTorch's DDP default); only rank 0's
    are copied, once, when the wrapper is built. In a world of one this is a pass-through.
    A backward with ``create_graph=True`` is refused in a world of more than one.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0):
        self.module = module
        world = comm()
        self._reducer = None if world is None else _Reducer(world, module, bucket_cap_mb)

    def forward(self, *args, **kwargs):
        """The module's output; when it will be differentiated, marked to start the all-reduce."""
        out = self.module(*args, **kwargs)
        if self._reducer is None or not is_grad_enabled():
            return out
        return self._reducer.mark(out)

    def backward_without_data(self) -> None:
        """Take part in a step's all-reduce with zero gradients, on a rank whose share of the
        batch is empty (a last batch smaller than the world): every rank must join each
        all-reduce. Each ``.grad`` becomes the mean of the other ranks' gradients, as when
        this rank's ``backward()`` had contributed zeros (PyTorch's ``join`` shadows uneven
        inputs the same way). Does nothing in a world of one.
        """
        if self._reducer is not None:
            self._reducer.reduce_zeros()

    def broadcast_buffers(self) -> None:
        """Copy rank 0's buffers (batch norm's running statistics) to every rank.

        PyTorch's DDP does this before each forward by default; ``fit`` does it after each
        epoch's training, so that validation and checkpoints see one model on every rank.
        """
        if self._reducer is not None:
            for _, array in self.module.named_buffers():
                _broadcast_in_place(self._reducer.world, array)


class _Reducer:
    """The buckets of one wrapped module and the communicator they are reduced over."""

    def __init__(self, world, module: Module, bucket_cap_mb: float):
        self.world = world
        named = list(module.named_parameters())
        buffers = list(module.named_buffers())
        _check_same_model(world, named, buffers)
        for array in [p.data for _, p in named] + [array for _, array in buffers]:
            _broadcast_in_place(world, array)
        self.names = {id(p): name for name, p in named}
        self.buckets = _plan_buckets([p for _, p in reversed(named)], bucket_cap_mb)
        self.place = {id(p): (b, slot) for b, bucket in enumerate(self.buckets)
                      for slot, p in enumerate(bucket.params)}

    def reduce_zeros(self) -> None:
        """Every bucket all-reduced with this rank's zeros (and no parameter flagged as used)."""
        from mpi4py import MPI
        buffers = [np.zeros(b.size + len(b.params), dtype=b.dtype) for b in self.buckets]
        MPI.Request.Waitall([self.world.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM) for buffer in buffers])
        _hand_over(self.buckets, buffers, self.world.Get_size())

    def mark(self, out):
        """``out`` with each Tensor in it that requires grad passed through a ``_StartReduce``
        node; the first of them to run in backward starts the pass."""
        return _marked(out, _Start(self))


def _marked(out, start):
    """``out`` (a Tensor, or a tuple, list or dict of them) with its Tensors marked."""
    if isinstance(out, Tensor):
        return _StartReduce.apply(out, start=start) if out.requires_grad else out
    if isinstance(out, (tuple, list)):
        items = [_marked(item, start) for item in out]
        return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)  # named tuples too
    if isinstance(out, dict):
        return {key: _marked(item, start) for key, item in out.items()}
    return out


class _Start:
    """One forward's outputs: the first of their nodes to run in backward starts the all-reduce."""

    def __init__(self, reducer: _Reducer):
        self.reducer = reducer
        self.outputs = []  # the module's outputs (the _StartReduce nodes' inputs)
        self.running = None  # a weak reference to the LeafGradients of the pass it started

    def begin(self) -> None:
        leaves = engine.running_backward()
        if leaves is None or (self.running is not None and self.running() is leaves):
            return  # autograd.grad (nothing to average), or a second output in the same pass
        if leaves.create_graph:
            raise RuntimeError("DistributedDataParallel: backward(create_graph=True) is not supported "
                               "in a world of more than one")
        self.running = weakref.ref(leaves)
        _Pass(self.reducer, leaves, _uses(self.outputs, self.reducer.names))


class _StartReduce(Function):
    """The identity, marking where the wrapped module's output leaves it.

    d/dx = grad; its rule runs before any of the module's, and starts the all-reduce.
    """

    def __init__(self, start: _Start):
        self.start = start

    def forward(self, x):
        return x.view()

    def backward(self, grad):
        self.start.begin()
        return grad

    def attributes(self) -> dict:
        return {}

    @classmethod
    def apply(cls, x, start):
        out = super().apply(x, start=start)
        start.outputs.append(x)
        return out


class _Bucket:
    """Parameters of one dtype whose gradients travel in one message: ``bounds[slot]`` is
    where parameter ``slot`` lies in the flat buffer; after ``size`` comes one flag per
    parameter, 1 where a rank used it (a parameter no rank used keeps its ``.grad``)."""

    def __init__(self, params: list):
        self.params = params
        self.dtype = params[0].dtype
        ends = np.cumsum([p.size for p in params])
        self.bounds = list(zip([0, *ends[:-1].tolist()], ends.tolist()))
        self.size = int(ends[-1])


def _plan_buckets(params: list, cap_mb: float) -> list:
    """Consecutive runs of ``params`` of one dtype, each at most the cap (the first at most 1 MB)
    unless a single parameter is larger."""
    buckets, run, used, cap = [], [], 0, min(cap_mb, _FIRST_BUCKET_MB) * 2**20
    for p in params:
        nbytes = p.data.nbytes
        if run and (used + nbytes > cap or p.dtype != run[0].dtype):
            buckets.append(_Bucket(run))
            run, used, cap = [], 0, cap_mb * 2**20
        run.append(p)
        used += nbytes
    if run:
        buckets.append(_Bucket(run))
    return buckets


def _uses(outputs: list, names: dict) -> dict:
    """How many gradients each wrapped parameter receives in the graph under ``outputs``
    (one per edge from a node to it, as the engine hands them to the leaf)."""
    uses, seen = {}, set()
    stack = [outputs]  # lists of tensors: the outputs, then each node's inputs
    while stack:
        for t in stack.pop():
            if not t.requires_grad:
                continue
            op = t.op
            if op is None:
                if id(t) in names:
                    uses[t] = uses.get(t, 0) + 1
            elif id(op) not in seen:
                seen.add(id(op))
                stack.append(op.inputs)
    return uses


class _Pass:
    """One backward pass's all-reduce: fills the buckets as gradients complete, sends each
    when full, and at the end of the pass waits for all and writes the means to ``.grad``."""

    def __init__(self, reducer: _Reducer, leaves, uses: dict):
        from mpi4py import MPI
        self.mpi = MPI
        self.reducer, self.leaves, self.uses = reducer, leaves, uses
        buckets = reducer.buckets
        self.buffers = [np.zeros(b.size + len(b.params), dtype=b.dtype) for b in buckets]
        self.missing = [len(b.params) for b in buckets]
        self.taken = set()  # ids of the parameters already copied into their bucket
        self.launched, self.requests = 0, []
        for p in uses:
            leaves.watchers[p] = self.ready
        leaves.finishers.append(self.finish)

    def ready(self, p, total) -> None:
        """The engine's watcher: ``total`` is ``p``'s gradient summed so far."""
        self.uses[p] -= 1
        if self.uses[p] == 0:
            del self.leaves.watchers[p]
            del self.leaves.sums[p]
            self.take(p, total)
            self.launch()

    def take(self, p, grad) -> None:
        b, slot = self.reducer.place[id(p)]
        bucket, buffer = self.reducer.buckets[b], self.buffers[b]
        if grad is not None:
            start, stop = bucket.bounds[slot]
            np.copyto(buffer[start:stop].reshape(p.shape), grad)
            buffer[bucket.size + slot] = 1
        self.taken.add(id(p))
        self.missing[b] -= 1

    def launch(self) -> None:
        """Start the all-reduce of every full bucket whose predecessors have started."""
        started = self.launched
        while self.launched < len(self.buffers) and self.missing[self.launched] == 0:
            buffer = self.buffers[self.launched]
            self.requests.append(self.reducer.world.Iallreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM))
            self.launched += 1
        if self.launched > started > 0:
            self.mpi.Request.Testall(self.requests)  # let MPI progress the earlier messages meanwhile

    def finish(self) -> None:
        """The engine's finisher: send what is left, wait, and hand each parameter its mean."""
        names, sums = self.reducer.names, self.leaves.sums
        for bucket in self.reducer.buckets:
            for p in bucket.params:
                if id(p) not in self.taken:
                    self.take(p, sums.pop(p, None))
                elif p in sums:
                    raise RuntimeError(
                        f"DistributedDataParallel: parameter {names[id(p)]!r} received a gradient after its "
                        f"bucket was sent: it is used outside the wrapped module's forward")
        self.launch()
        self.mpi.Request.Waitall(self.requests)
        _hand_over(self.reducer.buckets, self.buffers, self.reducer.world.Get_size())


def _hand_over(buckets: list, buffers: list, world_size: int) -> None:
    """Divide the all-reduced sums by the world size and add each to its parameter's ``.grad``
    (a parameter no rank used, its flag 0 after the sum, keeps its ``.grad``)."""
    for bucket, buffer in zip(buckets, buffers):
        means = buffer[:bucket.size]
        means /= world_size
        for slot, p in enumerate(bucket.params):
            if buffer[bucket.size + slot] == 0:
                continue
            start, stop = bucket.bounds[slot]
            mean = means[start:stop].reshape(p.shape)
            if p.grad is None:
                p.grad = Tensor._result(mean, None)
            else:
                p.grad.data += mean


def _check_same_model(world, named: list, buffers: list) -> None:
    """Raise ValueError on every rank, naming the first parameter or buffer that differs
    (name, shape, dtype or count) between rank 0 and another rank."""
    mine = [("parameter", name, p.shape, p.dtype.str) for name, p in named]
    mine += [("buffer", name, np.shape(a), np.asarray(a).dtype.str) for name, a in buffers]
    everyone = world.allgather(mine)
    for r, theirs in enumerate(everyone[1:], 1):
        problem = _difference(everyone[0], theirs, r)
        if problem:
            raise ValueError(f"DistributedDataParallel: rank {r}'s model differs from rank 0's: {problem}")


def _difference(first: list, other: list, r: int) -> str | None:
    for (kind, name, shape, dtype), (kind_r, name_r, shape_r, dtype_r) in zip(first, other):
        if (kind, name) != (kind_r, name_r):
            return f"{kind} {name!r} on rank 0 where rank {r} has {kind_r} {name_r!r}"
        if shape != shape_r:
            return f"{kind} {name!r} has shape {shape} on rank 0 and {shape_r} on rank {r}"
        if dtype != dtype_r:
            return f"{kind} {name!r} has dtype {np.dtype(dtype)} on rank 0 and {np.dtype(dtype_r)} on rank {r}"
    if len(first) != len(other):
        longer, who = (first, 0) if len(first) > len(other) else (other, r)
        kind, name = longer[min(len(first), len(other))][:2]
        return (f"rank 0 has {len(first)} parameters and buffers, rank {r} has {len(other)}: "
                f"{kind} {name!r} is only on rank {who}")
    return None


def _broadcast_in_place(world, array: np.ndarray) -> None:
    """Overwrite ``array`` with rank 0's (the same shape and dtype everywhere)."""
    if array.flags.c_contiguous and array.flags.writeable:
        world.Bcast(array, root=0)
    else:
        data = np.ascontiguousarray(array)
        world.Bcast(data, root=0)
        array[...] = data
