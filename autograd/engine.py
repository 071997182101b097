"""Reverse mode: topological order, the backward pass, and summing gradients back to shape."""
from __future__ import annotations

import numpy as np

from . import anomaly
from .grad_mode import STATE, enable_grad, no_grad


def topological_order(roots) -> list:
    """The nodes behind ``roots``, each before all nodes it depends on; iterative DFS, linear time."""
    order, visited = [], set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            fn, inputs = stack[-1]
            for t in inputs:
                parent = t.op
                if parent is not None and parent not in visited and t.requires_grad:
                    visited.add(parent)
                    stack.append((parent, iter(parent.inputs)))
                    break
            else:
                stack.pop()
                order.append(fn)
    order.reverse()
    return order


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
    return grad.reshape(shape) if lead else grad


def _seed(tensor, grad, create_graph: bool):
    """The starting gradient of one output: ones for a one-element output, else ``grad``."""
    from .tensor import Tensor
    if grad is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a one-element output, got shape {tensor.shape}; "
                f"pass grad= of that shape, or reduce the output first (e.g. .sum())")
        grad = np.ones(tensor.shape, dtype=tensor.dtype)
    else:
        grad = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=tensor.dtype)
        if grad.shape != tensor.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the output has shape {tensor.shape}")
    return Tensor(grad) if create_graph else grad


class _LeafSink:
    """Where leaf gradients go: accumulated into ``.grad``, each leaf owning its array."""

    def __init__(self, create_graph: bool):
        self.create_graph = create_graph
        self.owners = set()  # ids of the arrays already handed to a leaf in this pass

    def add(self, leaf, grad) -> None:
        from .tensor import Tensor
        if self.create_graph:
            leaf.grad = grad if leaf.grad is None else leaf.grad + grad
            return
        if leaf.grad is not None:
            leaf.grad.data += grad
            return
        owner = id(grad if grad.base is None else grad.base)
        if owner in self.owners or not grad.flags.writeable:
            grad = grad.copy()
        else:
            self.owners.add(owner)
        leaf.grad = Tensor._result(grad, None)


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, sink) -> None:
    """Push gradients from ``roots`` to the leaves. ``sink`` receives leaf gradients (``add``)
    and may also ``capture`` the gradient of chosen intermediate nodes."""
    pending = {}
    leaves_now = []
    for root, grad in zip(roots, grads):
        if root.op is None:
            leaves_now.append((root, grad))
        elif root.op in pending:
            pending[root.op] = pending[root.op] + grad
        else:
            pending[root.op] = grad
    for leaf, grad in leaves_now:
        sink.add(leaf, grad)
    order = topological_order(list(pending))
    check = STATE.anomaly
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        for fn in order:
            grad = pending.pop(fn, None)
            if grad is None:
                continue
            if fn.released:
                raise RuntimeError(
                    f"{type(fn).__name__}: backward through this graph a second time, but its saved "
                    f"arrays were freed by the first backward; pass retain_graph=True to the first "
                    f"backward() if you need to call it twice")
            sink.capture(fn, grad)
            input_grads = _apply_rule(fn, grad, create_graph)
            if check:
                anomaly.check_backward(fn, grad, input_grads)
            if not retain_graph:
                fn.release()
            for t, g in zip(fn.inputs, input_grads):
                if g is None or not t.requires_grad:
                    continue
                if g.shape != t.data.shape:
                    g = _shaped(fn, g, t)
                if g.dtype != t.data.dtype:
                    g = g.astype(t.data.dtype)
                parent = t.op
                if parent is None:
                    sink.add(t, g)
                elif parent in pending:
                    pending[parent] = pending[parent] + g
                else:
                    pending[parent] = g


def _apply_rule(fn, grad, create_graph: bool) -> tuple:
    """Run ``fn``'s gradient rule, on arrays, or on Tensors when the pass is being recorded."""
    if create_graph:
        saved = fn.saved
        fn.saved = fn.saved_as_tensors() if saved is not None else None
        try:
            input_grads = fn.backward(grad)
        finally:
            fn.saved = saved
    else:
        input_grads = fn.backward(grad)
    return input_grads if type(input_grads) is tuple else (input_grads,)


def _shaped(fn, grad, tensor):
    try:
        return sum_to(grad, tensor.data.shape)
    except ValueError:
        raise RuntimeError(f"{type(fn).__name__}: gradient of shape {grad.shape} does not fit its "
                           f"input of shape {tensor.data.shape}") from None


class _NoCapture(_LeafSink):
    def capture(self, fn, grad) -> None:
        pass


def backward(tensors, grads, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on."""
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad: no input had requires_grad=True, "
                "or it was computed under no_grad()")
    seeds = [_seed(t, g, create_graph) for t, g in zip(tensors, grads)]
    run_backward(tensors, seeds, retain_graph, create_graph, _NoCapture(create_graph))
