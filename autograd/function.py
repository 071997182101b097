"""Function: the base of every op. Runs the forward on arrays and records the node."""
from __future__ import annotations

import itertools

import numpy as np
from numpy import ndarray

from . import anomaly
from .grad_mode import STATE

_new_tensor = object.__new__
_PATTERNS = {}  # needs_input_grad tuples, interned
_sequence = itertools.count()  # creation order of nodes: a topological order for backward


class Function:
    """One node of the graph: an op's forward, its gradient rule, and what it saved.

    Subclasses define ``forward(*arrays)`` returning an ndarray and ``backward(grad)``
    returning one gradient per input (a tuple when there are several; ``None`` for
    inputs that need none). Constructor arguments are the op's attributes (``axis``,
    ``shape``...); they are shown when the graph is drawn.

    The backward rules use only operators, methods and NumPy functions that also work
    on Tensors, so with ``create_graph=True`` the engine runs the same rule on Tensors
    and the gradient is itself recorded. A node keeps its inputs but never its output
    Tensor, so the graph has no reference cycles and is freed by reference counting.
    """

    __slots__ = ("inputs", "needs_input_grad", "saved", "out", "seq", "scope", "created_at",
                 "__dict__", "__weakref__")

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def save(self, *values) -> None:
        """Keep what the gradient rule needs; freed after backward unless retain_graph."""
        self.saved = values

    @classmethod
    def apply(cls, *inputs, **attributes):
        """Run the op on Tensors and return the result Tensor, recording a node if needed."""
        fn = cls(**attributes)
        fn.saved = ()
        out = fn.forward(*[t.data for t in inputs])
        if type(out) is not ndarray:
            out = np.asarray(out)
        state = STATE
        if state.anomaly:
            anomaly.check_forward(fn, inputs, out)
        result = _new_tensor(Tensor)
        result.data = out
        result.grad = result.name = None
        if state.enabled:
            needs_input_grad = tuple([t.requires_grad for t in inputs])
            if True in needs_input_grad:
                # One shared tuple per pattern: a node then adds no object for the cyclic GC to scan.
                needs_input_grad = _PATTERNS.setdefault(needs_input_grad, needs_input_grad)
                fn.inputs = inputs
                fn.needs_input_grad = needs_input_grad
                fn.out = out
                fn.seq = next(_sequence)
                fn.scope = state.scope
                if state.anomaly:
                    fn.created_at = anomaly.user_frame()
                result.requires_grad = True
                result.op = fn
                return result
        result.requires_grad = False
        result.op = None
        return result

    def attributes(self) -> dict:
        """The op's attributes (constructor arguments), e.g. ``{'axis': 1}``."""
        return dict(vars(self))

    @property
    def released(self) -> bool:
        """True once backward freed the saved arrays (the structure, ``inputs``, stays)."""
        return self.saved is None

    def saved_as_tensors(self) -> tuple:
        """The saved values as Tensors tied to the graph, for a differentiable backward.

        A saved input array becomes that input Tensor, the saved output a Tensor made by
        this node, any other floating array a constant.
        """
        by_id = {id(t.data): t for t in self.inputs}
        values = []
        for value in self.saved:
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                if id(value) in by_id:
                    value = by_id[id(value)]
                elif value is self.out:
                    value = Tensor._result(value, self)
                else:
                    value = Tensor._result(value, None)
            values.append(value)
        return tuple(values)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.attributes().items())
        return f"{type(self).__name__}({args})"


from .tensor import Tensor  # noqa: E402  (Tensor's operators call Function.apply)
