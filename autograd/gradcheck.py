"""gradcheck and gradgradcheck: the engine's gradients against central finite differences."""
from __future__ import annotations

import numpy as np

from .gradients import grad
from .grad_mode import enable_grad
from .tensor import Tensor

_EXHAUSTIVE_LIMIT = 512   # inputs up to this size are checked element by element
_DIRECTIONS = 8           # random directions for larger inputs


class GradcheckError(AssertionError, ValueError):
    """The engine's gradient and the finite-difference estimate disagree."""


def _float64_inputs(inputs):
    """Each Tensor input as a new float64 leaf (differentiable where the original was, or all)."""
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    any_marked = any(t.requires_grad for t in tensors)
    converted = []
    for x in inputs:
        if isinstance(x, Tensor):
            wants = x.requires_grad or not any_marked
            # a C-ordered copy, so that perturbing x.data.reshape(-1) in place perturbs x
            x = Tensor(np.array(x.data, dtype=np.float64, order="C"), requires_grad=wants, name=x.name)
        converted.append(x)
    return converted


def _projected(fn, inputs, weights_cache):
    """fn(*inputs) reduced to a scalar by a fixed random weighting of its elements."""
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    if out.size == 1:
        return out.sum()
    if "w" not in weights_cache:
        weights_cache["w"] = np.random.default_rng(0).standard_normal(out.shape)
    return (out * weights_cache["w"]).sum()


def _value(fn, inputs, cache) -> float:
    with enable_grad():
        return float(_projected(fn, inputs, cache).data)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central differences in float64.

    Inputs are copied to float64. A non-scalar output is reduced by a fixed random
    weighting. Inputs of up to 512 elements are checked element by element, larger ones
    along 8 random directions. Returns True or raises GradcheckError naming the input,
    the index (or direction) and both values.
    """
    inputs = _float64_inputs(list(inputs) if isinstance(inputs, (list, tuple)) else [inputs])
    targets = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    cache = {}
    with enable_grad():
        out = _projected(fn, inputs, cache)
        if out.requires_grad:
            analytic = grad(out, [x for _, x in targets], allow_unused=True)
        else:
            analytic = [None] * len(targets)
    for (position, x), g in zip(targets, analytic):
        g = np.zeros_like(x.data) if g is None else np.asarray(g.data, dtype=np.float64)
        _compare(fn, inputs, cache, position, x, g, eps, atol, rtol)
    return True


def _compare(fn, inputs, cache, position, x, analytic, eps, atol, rtol) -> None:
    flat = x.data.reshape(-1)
    if flat.size <= _EXHAUSTIVE_LIMIT:
        directions = ((index, None) for index in range(flat.size))
    else:
        rng = np.random.default_rng(1)
        directions = ((f"direction {k}", rng.standard_normal(flat.size)) for k in range(_DIRECTIONS))
    for index, direction in directions:
        saved = flat.copy()
        step = eps * (direction if direction is not None else _unit(flat.size, index))
        flat += step
        plus = _value(fn, inputs, cache)
        flat[:] = saved - step
        minus = _value(fn, inputs, cache)
        flat[:] = saved
        numeric = (plus - minus) / (2 * eps)
        exact = float(analytic.reshape(-1)[index]) if direction is None else float(
            analytic.reshape(-1) @ direction)
        if not abs(exact - numeric) <= atol + rtol * abs(numeric):
            where = tuple(int(i) for i in np.unravel_index(index, x.shape)) if direction is None else index
            raise GradcheckError(
                f"gradcheck: input {position} (shape {x.shape}) at {where}: "
                f"analytic {exact:.8g} vs numerical {numeric:.8g}")


def _unit(size: int, index: int) -> np.ndarray:
    e = np.zeros(size)
    e[index] = 1.0
    return e


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check second derivatives: gradcheck of a random weighting of the first gradients.

    The first gradients are taken with ``create_graph=True``, so this checks that every
    gradient rule is itself differentiated correctly.
    """
    inputs = _float64_inputs(list(inputs) if isinstance(inputs, (list, tuple)) else [inputs])
    rng = np.random.default_rng(2)
    weights = {}
    cache = {}

    def first_gradients(*xs):
        with enable_grad():
            out = _projected(fn, xs, cache)
            targets = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            if not out.requires_grad:
                return Tensor(np.zeros(()))
            grads = grad(out, targets, create_graph=True, allow_unused=True)
            total = Tensor(np.zeros(()))
            for k, (x, g) in enumerate(zip(targets, grads)):
                if g is None:
                    continue
                if k not in weights:
                    weights[k] = rng.standard_normal(x.shape)
                total = total + (g * weights[k]).sum()
            return total

    return gradcheck(first_gradients, inputs, eps=eps, atol=atol, rtol=rtol)
