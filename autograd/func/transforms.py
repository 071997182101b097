"""grad, value_and_grad, vjp, jvp and hvp: functions of Tensors, built on the reverse mode.

Forward mode (jvp) is the "double vjp" trick, two reverse passes: for a fresh
cotangent ``u``, ``g(u) = J^T u`` is recorded (create_graph), and since ``g`` is linear
in ``u``, the vjp of ``g`` with the tangent ``v`` is ``J v``. It needs no forward rule
per op (every op's backward is already differentiable, as gradgradcheck checks), at
about the cost of three backward passes instead of one forward-mode sweep.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor
from . import core


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """A function returning ``(f(*args), gradient of f)``; with has_aux ``((value, aux), gradient)``.

    As ``grad`` (see there), with the value too: one forward and one backward pass.
    """
    return _value_and_grad(f, argnums, has_aux, "value_and_grad")


def grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """The gradient of ``f`` as a function: ``grad(f)(x)`` is df/dx, ``grad(grad(f))`` the second derivative.

    ``f`` returns a one-element Tensor (else use jacobian or vjp); with has_aux, a pair
    ``(output, aux)``, aux passed through as it is, and the result is ``(gradient, aux)``.
    ``argnums`` (an int or a tuple) says which arguments; the gradient has that
    argument's shape, a tuple of them for a tuple. Arguments may be Tensors, arrays or
    numbers. No ``.grad`` is touched. Results keep a graph only if they depend on a
    tensor from outside that requires grad (so transforms nest); at the top level they
    are plain Tensors.
    """
    both = _value_and_grad(f, argnums, has_aux, "grad")

    def grad_f(*args):
        value, grads = both(*args)
        return (grads, value[1]) if has_aux else grads

    return grad_f


def _value_and_grad(f: Callable, argnums, has_aux: bool, name: str) -> Callable:
    core.check_argnums(argnums, name)

    def value_and_grad_f(*args):
        with enable_grad():
            result, inputs = core.call_with_variables(f, args, argnums, name)
            out, aux = core.split_aux(result, has_aux, name)
            out = core.scalar_output(out, name)
            keep = core.depends_on_outside([out], inputs)
            grads = core.gradients([out], inputs, [None], create_graph=keep, retain_graph=keep)
        value = core.release((out, aux) if has_aux else out, inputs)
        return value, (tuple(grads) if isinstance(argnums, tuple) else grads[0])

    return value_and_grad_f


def _tuple(values, name: str, what: str) -> tuple:
    if isinstance(values, (tuple, list)):
        return tuple(values)
    raise TypeError(f"{name}: {what} must be a tuple or list, got {type(values).__name__}")


def vjp(f: Callable, *primals) -> tuple:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` is the tuple of ``cotangent^T J``, one per primal.

    ``f`` returns a Tensor, or a tuple of Tensors (then ``vjp_fn`` takes one cotangent
    per output). ``vjp_fn`` may be called many times; the graph lives as long as it does.
    """
    with enable_grad():
        inputs = core.variables(primals, "vjp")
        result = f(*inputs)
        outs = core.tensor_outputs(result, "vjp")
        outside = core.depends_on_outside(outs, inputs)

    def vjp_fn(cotangents) -> tuple:
        """The tuple of ``cotangents^T J``, one per primal (a tuple of cotangents if f returned one)."""
        given = (cotangents,) if isinstance(result, Tensor) else _tuple(cotangents, "vjp", "the cotangents (one per output of f)")
        if len(given) != len(outs):
            raise ValueError(f"vjp: f returned {len(outs)} outputs, got {len(given)} cotangents")
        given = [core.as_like(c, o, f"cotangent {i}", "vjp") for i, (c, o) in enumerate(zip(given, outs))]
        keep = outside or any(isinstance(c, Tensor) and c.requires_grad for c in given)
        with enable_grad():
            return tuple(core.gradients(outs, inputs, given, create_graph=keep, retain_graph=True))

    return core.release(result, inputs), vjp_fn


def _primals_and_tangents(primals, tangents, name: str):
    single = not isinstance(primals, (tuple, list))
    primals = (primals,) if single else tuple(primals)
    tangents = (tangents,) if single and not isinstance(tangents, (tuple, list)) else _tuple(
        tangents, name, "tangents (one per primal)")
    if len(tangents) != len(primals):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents")
    return single, primals, tangents


def jvp(f: Callable, primals, tangents) -> tuple:
    """``(f(*primals), J v)``: the derivative of ``f`` at ``primals`` in the direction ``tangents``.

    ``primals`` and ``tangents`` are tuples, one entry per argument of ``f`` (or a single
    Tensor or array each). ``J v`` has the structure of ``f``'s output. Computed by two
    reverse passes (the double-vjp trick, see the module doc), not a forward sweep.
    """
    _, primals, tangents = _primals_and_tangents(primals, tangents, "jvp")
    with enable_grad():
        inputs = core.variables(primals, "jvp")
        result = f(*inputs)
        outs = core.tensor_outputs(result, "jvp")
        tangents = [core.as_like(t, x, f"tangent {i}", "jvp") for i, (t, x) in enumerate(zip(tangents, inputs))]
        keep = core.depends_on_outside(outs, inputs) or any(
            isinstance(t, Tensor) and t.requires_grad for t in tangents)
        dummies = [Tensor._result(np.zeros(o.shape, dtype=o.dtype), None) for o in outs]
        for u in dummies:
            u.requires_grad = True
        transposed = core.gradients(outs, inputs, dummies, create_graph=True, retain_graph=True)  # J^T u
        products = core.gradients(transposed, dummies, tangents, create_graph=keep, retain_graph=keep)  # J v
    return core.release(result, inputs), (products[0] if isinstance(result, Tensor) else type(result)(products))


def hvp(f: Callable, primals, tangents) -> tuple:
    """``(f(*primals), H v)``: the Hessian of a scalar ``f`` times ``tangents``, without forming H.

    Reverse over reverse: the gradient is recorded (create_graph), then its vjp with ``v``
    is ``H^T v = H v`` (H is symmetric). Two backward passes, memory of one gradient.
    ``primals`` and ``tangents`` as in jvp; ``H v`` has the structure of ``primals``.
    """
    single, primals, tangents = _primals_and_tangents(primals, tangents, "hvp")
    with enable_grad():
        inputs = core.variables(primals, "hvp")
        out = core.scalar_output(f(*inputs), "hvp")
        tangents = [core.as_like(t, x, f"tangent {i}", "hvp") for i, (t, x) in enumerate(zip(tangents, inputs))]
        keep = core.depends_on_outside([out], inputs) or any(
            isinstance(t, Tensor) and t.requires_grad for t in tangents)
        first = core.gradients([out], inputs, [None], create_graph=True, retain_graph=True)
        products = core.gradients(first, inputs, tangents, create_graph=keep, retain_graph=keep)
    return core.release(out, inputs), (products[0] if single else tuple(products))
