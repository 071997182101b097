"""What every transform shares: fresh variables for the arguments, checks, and one gradient call.

Each call of a transformed function makes its own variables for the arguments it
differentiates: a new leaf sharing an array's (or a constant Tensor's) data, or, for a
Tensor that already requires grad (an outer transform's variable, a parameter), an
``Identity`` node on it. The node keeps the inner variable apart from the outer one, so
``grad(lambda x: grad(lambda y: x * y)(x))`` differentiates ``x * y`` in ``y`` alone,
giving x and then 1 (a shared variable would give 2x and then 2, the "perturbation
confusion" of naive nesting), while the outer transform still reaches ``x`` through it.

A result keeps its graph only when it depends on something outside the transform that
requires grad (an argument that did, a parameter captured by ``f``, an outer
transform's variable): only then are the gradients taken with ``create_graph``, so
nested transforms compose, and top-level results are plain Tensors (as torch.func).
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..gradients import grad as _engine_grad
from ..tensor import Tensor


class Identity(Function):
    """x itself, as a new node: a transform's own variable for a tensor that requires grad.

    d/dx = grad
    """

    def forward(self, x):
        return x.view()  # a view: never the same array as x, for saved_as_tensors' matching

    def backward(self, grad):
        return grad


def positions(argnums, count: int, name: str) -> tuple:
    """The argument positions ``argnums`` names (an int or a tuple of ints), checked against ``count``."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    for number in numbers:
        if not -count <= number < count:
            raise IndexError(f"{name}: argnums={argnums!r} is out of range: the function was called with "
                             f"{count} positional argument{'' if count == 1 else 's'}")
    normalized = tuple(number % count for number in numbers)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name}: argnums={argnums!r} names an argument twice")
    return normalized


def check_argnums(argnums, name: str) -> None:
    """An int or a non-empty tuple of ints (checked when the transform is made)."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not numbers or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in numbers):
        raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def variable(value, name: str) -> Tensor:
    """A transform's own variable for ``value``: a new leaf, or an Identity node (see the module doc).

    Call with recording on.
    """
    if isinstance(value, Tensor):
        if value.requires_grad:
            return Identity.apply(value)
        data = value.data
    else:
        try:
            data = Tensor(value).data
        except TypeError as error:
            raise TypeError(f"{name}: cannot differentiate with respect to a {type(value).__name__}: "
                            f"{error}") from None
    leaf = Tensor._result(data, None)
    leaf.requires_grad = True
    return leaf


def variables(values, name: str) -> list:
    return [variable(v, name) for v in values]


def call_with_variables(f, args, argnums, name: str):
    """``(f(*args) with the arguments named by argnums replaced by variables, the variables)``.

    Call with recording on.
    """
    where = positions(argnums, len(args), name)
    call = list(args)
    inputs = variables([args[p] for p in where], name)
    for p, x in zip(where, inputs):
        call[p] = x
    return f(*call), inputs


def tensor_output(out, name: str, what: str = "f") -> Tensor:
    """``out`` if it is a Tensor, else a TypeError naming what came back."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: {what} must return a Tensor, got {type(out).__name__}; compute it with "
                        f"dagrad's ops (a NumPy result or a Python number has no graph to differentiate)")
    return out


def tensor_outputs(out, name: str) -> tuple:
    """One Tensor, or a tuple or list of Tensors, as a tuple (the structure is kept by the caller)."""
    items = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if not items:
        raise TypeError(f"{name}: f returned an empty {type(out).__name__}; it must return Tensors")
    for item in items:
        tensor_output(item, name, "f (each of its outputs)" if len(items) > 1 else "f")
    return items


def split_aux(result, has_aux: bool, name: str):
    """(output, aux): with has_aux, ``result`` must be a pair."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name}: with has_aux=True, f must return a pair (output, aux), got "
                        f"{type(result).__name__}" + (f" of length {len(result)}"
                                                      if isinstance(result, (tuple, list)) else ""))
    return result[0], result[1]


def scalar_output(out, name: str) -> Tensor:
    out = tensor_output(out, name)
    if out.size != 1:
        raise ValueError(f"{name}: f must return a one-element Tensor (a scalar), got shape {out.shape}; "
                         f"for a function with several outputs use jacobian, or vjp with a cotangent")
    return out


def depends_on_outside(outputs, own) -> bool:
    """True if ``outputs`` reach a tensor requiring grad that the transform did not make.

    ``own``: the transform's variables. An Identity variable stands for an outer tensor,
    so it counts as outside at once; a walk looks for captured ones (parameters).
    """
    own_ids = set()
    for t in own:
        if t.op is not None:
            return True
        own_ids.add(id(t))
    seen, stack = set(), [t.op for t in outputs if t.op is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for t in fn.inputs:
            if not t.requires_grad or id(t) in own_ids:
                continue
            if t.op is None:
                return True
            stack.append(t.op)
    return False


def release(value, own):
    """A result for the caller: each Tensor in ``value`` (or in a tuple, list or dict of
    them) detached unless it depends on something outside (see depends_on_outside)."""
    if isinstance(value, Tensor):
        if value.op is None:
            return value.detach() if any(value is t for t in own) else value
        return value if depends_on_outside([value], own) else value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(release(v, own) for v in value)
    if isinstance(value, dict):
        return {k: release(v, own) for k, v in value.items()}
    return value


def as_like(value, like: Tensor, what: str, name: str):
    """A tangent or cotangent for ``like``: a Tensor (kept, so it may be differentiable) or an array."""
    if isinstance(value, Tensor):
        data = value.data
    else:
        value = data = np.asarray(value, dtype=like.dtype)
    if data.shape != like.shape:
        raise ValueError(f"{name}: {what} has shape {data.shape} but must have shape {like.shape}")
    return value


def gradients(outputs, inputs, grad_outputs, create_graph: bool, retain_graph: bool) -> list:
    """ag.grad of ``outputs`` with respect to ``inputs``, zeros for inputs they do not reach.

    Outputs that need no gradient (constants) are left out; no ``.grad`` is touched.
    """
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if pairs:
        found = _engine_grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                             create_graph=create_graph, allow_unused=True)
    else:
        found = [None] * len(inputs)
    results = []
    for x, g in zip(inputs, found):
        if g is None:
            g = Tensor._result(np.zeros(x.shape, dtype=x.dtype), None)
        elif not create_graph and g.requires_grad:
            g = g.detach()
        results.append(g)
    return results
