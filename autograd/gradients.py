"""ag.grad: gradients of outputs with respect to chosen inputs, returned instead of accumulated."""
from __future__ import annotations

from . import engine
from .tensor import Tensor


class _Collector:
    """Receives the gradients of the requested inputs during one backward pass; ignores the rest."""

    def __init__(self, inputs):
        self.results = [None] * len(inputs)
        self.by_leaf, self.by_node = {}, {}
        for i, t in enumerate(inputs):
            table, key = (self.by_leaf, id(t)) if t.op is None else (self.by_node, t.op)
            table.setdefault(key, []).append(i)

    def _store(self, positions, grad) -> None:
        for i in positions:
            self.results[i] = grad if self.results[i] is None else self.results[i] + grad

    def add(self, leaf, grad) -> None:
        self._store(self.by_leaf.get(id(leaf), ()), grad)

    def capture(self, fn, grad) -> None:
        self._store(self.by_node.get(fn, ()), grad)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False) -> list:
    """Gradients of ``outputs`` with respect to ``inputs``, as a list of Tensors.

    Leaves' ``.grad`` is left untouched. ``grad_outputs`` weights each output (may be
    omitted for one-element outputs). An input the outputs do not depend on raises,
    unless ``allow_unused=True`` (its entry is then None). ``create_graph`` makes the
    results differentiable; ``retain_graph`` defaults to ``create_graph``.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("grad: an output does not require grad: it does not depend on any input "
                               "with requires_grad=True, or was computed under no_grad()")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [engine.seed_gradient(t, g, create_graph) for t, g in zip(outputs, grad_outputs)]
    collector = _Collector(inputs)
    on_node = collector.capture if collector.by_node else None
    engine.run_backward(outputs, seeds, retain_graph, create_graph, collector.add, on_node)
    handout = engine.Handout(create_graph)
    results = []
    for i, (t, g) in enumerate(zip(inputs, collector.results)):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) is not used by the outputs; "
                               f"pass allow_unused=True to get None for it")
        if g is not None:
            g = handout.own(g)
            g = g if create_graph else Tensor._result(g, None)
        results.append(g)
    return results
