"""ag.checkpoint: a block whose intermediates are not kept, but recomputed during backward.

``checkpoint(fn, *args)`` gives what ``fn(*args)`` gives, as one ``Checkpoint`` node
that keeps only its inputs. Its gradient rule runs ``fn`` again with recording on and
backpropagates through that fresh graph, so a deep network keeps one activation per
block instead of all of them, for about one extra forward pass.

Tensors ``fn`` uses without taking them as arguments (module parameters captured by a
closure) are found in the forward: ``fn`` runs with recording on, the graph it made is
walked for the tensors requiring grad that existed before (arguments and captured
leaves), and then dropped; those become the node's inputs. So their gradients reach
them through the ordinary engine: ``backward()``, ``ag.grad`` and ``create_graph``
(second derivatives through the recomputed graph) all work, and a second backward
without ``retain_graph=True`` raises the engine's error. A tensor computed outside
``fn`` (not a leaf) must be passed as an argument. ``fn`` runs again as it is at
backward time: leave its modules' train/eval mode and its parameters alone in between.

Randomness (dropout) is drawn again when ``fn`` is recomputed, so the masks would
differ: pass the generators ``fn`` draws from as ``rngs=[...]`` and their states are
replayed for the recomputation (and put back afterwards), e.g.
``rngs=[nn.init.default_rng()]`` for layers created without their own ``rng``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import engine
from .function import Function, _sequence
from .func.core import Identity
from .grad_mode import enable_grad, is_grad_enabled
from .tensor import Tensor


def checkpoint(fn: Callable, *args, rngs=()) -> Tensor:
    """``fn(*args)`` without keeping its intermediates: they are recomputed during backward.

    ``fn`` returns one Tensor; the gradients are those of ``fn(*args)``, for the
    arguments and for the leaves ``fn`` captures (parameters). ``rngs``: NumPy
    Generators ``fn`` draws from, replayed on recomputation. Under ``no_grad`` this is
    ``fn(*args)``. See the module doc for what is supported.
    """
    if not is_grad_enabled():
        return fn(*args)
    rngs = tuple(rngs)
    for g in rngs:
        if not isinstance(g, np.random.Generator):
            raise TypeError(f"checkpoint: rngs must be numpy.random.Generator objects, got {type(g).__name__}")
    states = tuple(g.bit_generator.state for g in rngs)
    start = next(_sequence)  # every node fn makes is numbered above this
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"checkpoint: fn must return one Tensor, got {type(out).__name__}")
    if out.op is None or out.op.seq < start:
        return out  # fn recorded nothing of its own: nothing to recompute
    inputs = _outside_tensors(out, start, args)
    return Checkpoint.apply(*inputs, fn=fn, args=args, rngs=rngs, states=states, result=out.data)


def _outside_tensors(out: Tensor, start: int, args) -> list:
    """The tensors requiring grad that ``out``'s graph reaches and that existed before fn ran."""
    arguments = {id(a) for a in args if isinstance(a, Tensor)}
    found, seen, stack = {}, set(), [out.op]
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if not t.requires_grad or id(t) in found:
                continue
            if t.op is None or t.op.seq < start:
                if t.op is not None and id(t) not in arguments:
                    raise ValueError(f"checkpoint: fn uses a tensor of shape {t.shape} computed outside it "
                                     f"(by {type(t.op).__name__}) without taking it as an argument; pass it "
                                     f"as an argument (leaves such as parameters may be captured)")
                found[id(t)] = t
            elif id(t.op) not in seen:
                seen.add(id(t.op))
                stack.append(t.op)
    first = [a for a in args if isinstance(a, Tensor) and id(a) in found]
    return list({id(t): t for t in first + list(found.values())}.values())


class _Name(str):
    """A function's name shown bare in drawn graphs: Checkpoint(block), not Checkpoint('block')."""

    def __repr__(self) -> str:
        return str(self)


class Checkpoint(Function):
    """fn(*args), recomputed in backward.   d/d(inputs): backprop through the recomputed graph"""

    def __init__(self, fn, args, rngs, states, result):
        self.fn, self.args, self.rngs, self.states, self.result = fn, args, rngs, states, result

    def forward(self, *arrays):
        result, self.result = self.result, None  # the node keeps it as its output, nothing else
        self.save(self.states)
        return result

    def attributes(self) -> dict:
        return {"fn": _Name(getattr(self.fn, "__name__", type(self.fn).__name__))}

    def backward(self, grad):
        (states,) = self.saved
        create_graph = isinstance(grad, Tensor)  # the engine hands Tensors exactly then
        wanted = {id(t): n for n, t in enumerate(self.inputs) if self.needs_input_grad[n]}
        entries, call = [], list(self.args)
        with enable_grad(), _replayed(self.rngs, states):
            for p, a in enumerate(self.args):
                if isinstance(a, Tensor) and id(a) in wanted:
                    call[p] = _Entry.apply(a)
                    entries.append((wanted[id(a)], call[p].op))
            out = self.fn(*call)
        if not isinstance(out, Tensor) or out.shape != grad.shape:
            raise RuntimeError("checkpoint: fn returned something else when recomputed during backward")
        grads = [None] * len(self.inputs)

        def add(n, g):
            grads[n] = g if grads[n] is None else grads[n] + g

        def on_leaf(leaf, g):
            if id(leaf) not in wanted:
                raise RuntimeError(f"checkpoint: when recomputed, fn used a tensor of shape {leaf.shape} "
                                   f"requiring grad that it did not use in the forward; fn must use the "
                                   f"same tensors each time")
            add(wanted[id(leaf)], g)

        if out.requires_grad:
            engine.run_backward([out], [grad], create_graph, create_graph, on_leaf)
        for n, entry in entries:
            entry.capture = False  # a later pass (a second derivative) goes through to the argument
            if entry.captured is not None:
                add(n, entry.captured)
        return tuple(grads)


class _Entry(Identity):
    """An argument's stand-in in the recomputed graph: the inner pass stops there and keeps
    the gradient (the outer pass delivers it); afterwards it is the identity."""

    def __init__(self):
        self.capture, self.captured = True, None

    def attributes(self) -> dict:
        return {}

    def backward(self, grad):
        if self.capture:
            self.captured = grad
            return None
        return grad


class _replayed:
    """Generators set to ``states`` inside, and back to where they were afterwards."""

    def __init__(self, rngs, states):
        self.rngs, self.states = rngs, states

    def __enter__(self):
        self.now = [g.bit_generator.state for g in self.rngs]
        for g, state in zip(self.rngs, self.states):
            g.bit_generator.state = state

    def __exit__(self, *exc):
        for g, state in zip(self.rngs, self.now):
            g.bit_generator.state = state
