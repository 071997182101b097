"""Reverse mode: the backward pass over the graph, and summing gradients back to shape.

Nodes are numbered as they are created (``fn.seq``), so creation order is already a
topological order: a max-heap on that number pops every node after all the nodes that
consume its output. No separate sort and no recursion; each node is pushed once, or not
at all when it is the only node left to run.
"""
from __future__ import annotations

import threading
from heapq import heappop, heappush
from sys import getrefcount

import numpy as np
from numpy import ndarray

from . import anomaly
from .grad_mode import STATE
from .tensor import Tensor


def sum_to(grad, shape: tuple):
    """Sum a broadcast gradient back to ``shape`` (the one place where broadcasting is undone)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        return np.broadcast_to(grad, shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(grad.shape[lead:])
    # A rule may return a gradient that the input broadcasts up to (constant along an axis).
    return grad if grad.shape == shape else np.broadcast_to(grad, shape)


def seed_gradient(tensor, grad, create_graph: bool):
    """The starting gradient of one output: ones for a one-element output, else ``grad``."""
    if grad is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a one-element output, got shape {tensor.shape}; "
                f"pass grad= of that shape, or reduce the output first (e.g. .sum())")
        data = tensor.data  # a loss is 0-d: np.array is one C call, np.ones a Python function
        grad = np.array(1, dtype=data.dtype) if data.ndim == 0 else np.ones(data.shape, dtype=data.dtype)
    elif create_graph and isinstance(grad, Tensor):
        if grad.shape != tensor.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the output has shape {tensor.shape}")
        return grad if grad.dtype == tensor.dtype else grad.astype(tensor.dtype)  # stays in the graph
    else:
        grad = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=tensor.dtype)
        if grad.shape != tensor.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the output has shape {tensor.shape}")
    return Tensor(grad) if create_graph else grad


class Handout:
    """Gives out gradient arrays so that each receiver owns its own.

    An array already given to someone else (or a view of it), or a read-only one (a
    broadcast view), is copied first, so an in-place edit of one gradient (clipping,
    say) never changes another. Under create_graph the copy is a recorded op.
    """

    def __init__(self, create_graph: bool):
        self.create_graph = create_graph
        self.given = set()  # ids of the arrays (or their bases) already given out

    def own(self, grad):
        data = grad.data if self.create_graph else grad
        if type(data) is not np.ndarray:  # NumPy turns 0-d sums into scalars
            data = np.asarray(data)
            grad = Tensor(data) if self.create_graph else data
        owner = id(data if data.base is None else data.base)
        shared = owner in self.given or not data.flags.writeable
        self.given.add(owner)
        if not shared:
            return grad
        return grad * 1.0 if self.create_graph else grad.copy()


class LeafGradients:
    """Sums each leaf's gradient over the pass, then adds it to ``.grad`` when the pass is over.

    Handing over only at the end matters: an array given to a leaf may still be pending
    for another node, so it must not be added into before every rule has run.
    """

    def __init__(self, create_graph: bool):
        self.create_graph = create_graph
        self.sums = {}  # leaf -> its gradient summed over this pass
        # For code that must act during the pass (DistributedDataParallel's all-reduce):
        self.watchers = {}   # leaf -> watcher(leaf, its sum so far), called on each gradient it receives
        self.finishers = []  # called when every rule has run, before the sums are delivered

    def add(self, leaf, grad) -> None:
        sums = self.sums
        sums[leaf] = sums[leaf] + grad if leaf in sums else grad
        if self.watchers and leaf in self.watchers:
            self.watchers[leaf](leaf, sums[leaf])

    def deliver(self) -> None:
        own = Handout(self.create_graph).own
        if self.create_graph:
            for leaf, grad in self.sums.items():
                leaf.grad = own(grad) if leaf.grad is None else leaf.grad + grad
            return
        result = Tensor._result
        for leaf, grad in self.sums.items():
            if leaf.grad is None:
                leaf.grad = result(own(grad), None)
            else:
                leaf.grad.data += grad


def _references_of_a_sole_local() -> int:
    """What ``getrefcount`` says of an array held by one local variable and nothing else
    (2 in CPython 3.11: the variable and the call's argument), measured rather than assumed."""
    pending = {0: np.empty(1)}
    grad = pending.pop(0)
    return getrefcount(grad)


_SOLE = _references_of_a_sole_local()


def _owned(grad) -> bool:
    """True when the engine's local ``grad`` is the only reference to its memory: no other
    node, leaf sum or caller can see it, so a rule may overwrite it. A view counts when it
    covers the whole of a base that nothing else holds (max pooling returns one)."""
    base = grad.base
    if base is None:
        return grad.flags.writeable
    # getrefcount(base) here: the view's .base, the local, the call's argument
    return (type(base) is ndarray and base.base is None and base.size == grad.size
            and getrefcount(base) <= _SOLE + 1 and grad.flags.writeable)


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, on_leaf, on_node=None) -> None:
    """Push gradients from ``roots`` down to the leaves.

    ``on_leaf(tensor, grad)`` receives every leaf gradient; ``on_node(fn, grad)``, if given,
    the total gradient of each node's output once it is complete.
    """
    pending = {}  # node -> sum of the gradients of its output received so far
    heap = []     # (-seq, node): the most recently created node pops first
    for root, grad in zip(roots, grads):
        if root.op is None:
            on_leaf(root, grad)
        elif root.op in pending:
            pending[root.op] = pending[root.op] + grad
        else:
            pending[root.op] = grad
            heappush(heap, (-root.op.seq, root.op))
    state = STATE
    switches = _, check, scope = state.mode
    state.mode = (bool(create_graph), check, scope)
    try:
        while heap:
            fn = heappop(heap)[1]
            grad = pending.pop(fn)
            while fn is not None:
                if fn.saved is None:
                    raise RuntimeError(
                        f"{type(fn).__name__}: backward through this graph a second time, but its saved "
                        f"arrays were freed by the first backward; pass retain_graph=True to the first "
                        f"backward() if you need to call it twice")
                if on_node is not None:
                    on_node(fn, grad)
                if create_graph:
                    input_grads = _differentiable_rule(fn, grad)
                elif (fn.backward_in_place is not None and not check and type(grad) is ndarray
                      and getrefcount(grad) == _SOLE and _owned(grad)):
                    input_grads = fn.backward_in_place(grad)
                else:
                    input_grads = fn.backward(grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if check:
                    anomaly.check_backward(fn, grad, input_grads)
                if not retain_graph:
                    fn.saved = fn.out = None
                # With the heap empty, the first parent reached is ready (every node left is
                # upstream of it), so it runs next without a heap round trip: a chain, most of
                # a network, never touches the heap (5% of a small node's backward, callgrind).
                follow = None
                for t, g in zip(fn.inputs, input_grads):
                    if g is None or not t.requires_grad:
                        continue
                    if type(g) is not ndarray and not create_graph:
                        g = np.asarray(g)  # NumPy turns 0-d results into scalars
                    data = t.data
                    if g.shape != data.shape:
                        g = _fit_shape(fn, g, data.shape)
                    if g.dtype is not data.dtype and g.dtype != data.dtype:
                        g = g.astype(data.dtype)
                    parent = t.op
                    if parent is None:
                        on_leaf(t, g)
                    elif parent in pending:
                        total = pending.pop(parent)
                        if (type(total) is ndarray and getrefcount(total) == _SOLE and _owned(total)
                                and total.dtype == g.dtype):
                            total += g  # nothing else sees the sum so far (a node used twice): add into it
                        else:
                            total = total + g
                        pending[parent] = total
                    else:
                        pending[parent] = g
                        if follow is None and not heap:
                            follow = parent
                        else:
                            heappush(heap, (-parent.seq, parent))
                # Nothing but ``pending`` may keep a gradient alive, so that the next rule can find
                # it unshared (see _owned): the last loop value and the rule's tuple hold one.
                grad = g = total = input_grads = None
                if follow is not None and heap:  # another parent went on the heap: queue this one too
                    heappush(heap, (-follow.seq, follow))
                    follow = None
                fn = follow
                if fn is not None:
                    grad = pending.pop(fn)
    finally:
        state.mode = switches


def _differentiable_rule(fn, grad):
    """Run ``fn``'s rule on Tensors (saved arrays swapped for graph Tensors) so it is recorded."""
    saved = fn.saved
    fn.saved = fn.saved_as_tensors()
    try:
        return fn.backward(grad)
    finally:
        fn.saved = saved


def _fit_shape(fn, grad, shape):
    try:
        return sum_to(grad, shape)
    except ValueError:
        raise RuntimeError(f"{type(fn).__name__}: gradient of shape {grad.shape} does not fit its "
                           f"input of shape {shape}") from None


def backward(tensors, grads, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on."""
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad: no input had requires_grad=True, "
                "or it was computed under no_grad()")
    seeds = [seed_gradient(t, g, create_graph) for t, g in zip(tensors, grads)]
    leaves = LeafGradients(create_graph)
    running = _running.__dict__.setdefault("passes", [])
    running.append(leaves)
    try:
        run_backward(tensors, seeds, retain_graph, create_graph, leaves.add)
        for finish in leaves.finishers:
            finish()
    finally:
        running.pop()
    leaves.deliver()


_running = threading.local()  # .passes: the LeafGradients of this thread's backward() calls under way


def running_backward() -> LeafGradients | None:
    """The LeafGradients of this thread's innermost ``backward()`` under way (None outside one, and
    in ``autograd.grad``): a rule may watch leaves or add finishers there, as DistributedDataParallel does."""
    passes = getattr(_running, "passes", None)
    return passes[-1] if passes else None
