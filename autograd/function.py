"""Function: the base of every op. Runs the forward on arrays and records the node."""
from __future__ import annotations

import itertools

import numpy as np
from numpy import ndarray

from . import anomaly
from .grad_mode import STATE

_new_tensor = object.__new__
# needs_input_grad tuples, one shared tuple per pattern: a node then adds no object for
# the cyclic GC to scan.
_ONE_INPUT = {False: (False,), True: (True,)}
_TWO_INPUTS = {(p, q): (p, q) for p in (False, True) for q in (False, True)}
_THREE_INPUTS = {(p, q, r): (p, q, r) for p in (False, True) for q in (False, True) for r in (False, True)}
_PATTERNS = {}  # the same for three or more inputs (and odd requires_grad values), filled as they appear
_sequence = itertools.count()  # creation order of nodes: a topological order for backward


def _pattern(inputs) -> tuple:
    """The shared needs_input_grad tuple of ``inputs`` (any truthy requires_grad counts)."""
    needs_input_grad = tuple([bool(t.requires_grad) for t in inputs])
    return _PATTERNS.setdefault(needs_input_grad, needs_input_grad)


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

    __slots__ = ("inputs", "needs_input_grad", "saved", "out", "seq", "scope", "created_at", "arrays",
                 "__dict__", "__weakref__")

    def forward(self, *arrays):
        """The op on ndarrays (one per input); returns the output ndarray."""
        raise NotImplementedError

    def backward(self, grad):
        """One gradient per input (None where ``needs_input_grad`` says none is needed)."""
        raise NotImplementedError

    # A rule that may overwrite its incoming gradient defines ``backward_in_place(grad)``;
    # the engine calls it instead of ``backward`` when nothing else refers to that array
    # (saving an allocation and, where the gradient is large, the peak of a step).
    backward_in_place = None

    def save(self, *values) -> None:
        """Keep what the gradient rule needs; freed after backward unless retain_graph."""
        self.saved = values

    @classmethod
    def apply(cls, *inputs, **attributes):
        """Run the op on Tensors and return the result Tensor, recording a node if needed."""
        fn = cls(**attributes)
        fn.saved = ()
        # One, two and three inputs (nearly every op; Linear with its bias) are spelled out: the
        # general path's list comprehensions and star-call cost a quarter of a small op's forward
        # (callgrind).
        if len(inputs) == 1:
            x, = inputs
            out = fn.forward(x.data)
            needs_input_grad = _ONE_INPUT.get(x.requires_grad) or _pattern(inputs)
        elif len(inputs) == 2:
            a, b = inputs
            a_data, b_data = a.data, b.data
            if a_data is b_data and a is not b:
                # e.g. x.detach() * x: two tensors, one array. A view keeps them apart, so a
                # differentiable backward can tell which saved array belongs to which input.
                b_data = fn.arrays = b_data.view()
            out = fn.forward(a_data, b_data)
            needs_input_grad = _TWO_INPUTS.get((a.requires_grad, b.requires_grad)) or _pattern(inputs)
        elif len(inputs) == 3:  # Linear with a bias
            a, b, c = inputs
            out = fn.forward(a.data, b.data, c.data)
            pattern = (a.requires_grad, b.requires_grad, c.requires_grad)
            needs_input_grad = _THREE_INPUTS.get(pattern) or _pattern(inputs)
        else:
            out = fn.forward(*[t.data for t in inputs])
            needs_input_grad = _pattern(inputs)
        if type(out) is not ndarray:  # NumPy returns 0-d results as scalars
            scalar, out = out, np.asarray(out)
            fn.saved = tuple([out if value is scalar else value for value in fn.saved])
        enabled, check, scope = STATE.mode  # this thread's switches (grad_mode.py)
        if check:
            anomaly.check_forward(fn, inputs, out)
        result = _new_tensor(Tensor)
        result.data = out
        result.grad = result.name = None
        if enabled and True in needs_input_grad:
            fn.inputs = inputs
            fn.needs_input_grad = needs_input_grad
            fn.out = out
            fn.seq = next(_sequence)
            fn.scope = scope
            if check:
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

    def saved_as_tensors(self) -> tuple:
        """The saved values as Tensors tied to the graph, for a differentiable backward.

        A saved input array becomes that input Tensor, the saved output a Tensor made by
        this node, any other floating array a constant.
        """
        arrays = [t.data for t in self.inputs]
        if getattr(self, "arrays", None) is not None:
            arrays[1] = self.arrays  # the view apply made for a second tensor sharing the first's array
        by_id = {id(array): t for array, t in zip(arrays, self.inputs)}
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
