"""NumPy calls on Tensors: np.exp(t), np.ones(3) + t, np.where(c, t, 0) record ops like methods do.

This is also what lets the gradient rules, written with NumPy calls, run on Tensors
when ``create_graph=True``. Calls with no differentiable meaning run on the data.
"""
from __future__ import annotations

import numpy as np

from .grad_mode import STATE
from .tensor import Tensor  # tensor.py imports this module only after defining Tensor


def _as_tensor(value, like):
    return value if isinstance(value, Tensor) else like._operand(value)


def _first_tensor(values):
    return next(v for v in values if isinstance(v, Tensor))


def _binary(method):
    def call(a, b):
        like = _first_tensor((a, b))
        return method(_as_tensor(a, like), _as_tensor(b, like))
    return call


def _unary(method_name):
    return lambda a: getattr(a, method_name)()


_UFUNCS = {
    np.add: _binary(Tensor.__add__),
    np.subtract: _binary(Tensor.__sub__),
    np.multiply: _binary(Tensor.__mul__),
    np.true_divide: _binary(Tensor.__truediv__),
    np.power: _binary(Tensor.__pow__),
    np.matmul: _binary(Tensor.__matmul__),
    np.negative: Tensor.__neg__,
    np.exp: _unary("exp"),
    np.log: _unary("log"),
    np.tanh: _unary("tanh"),
    np.absolute: _unary("abs"),
    np.sqrt: _unary("sqrt"),
}
_FUNCTIONS = {}  # np.where -> functions.where, ...: filled on first use (functions imports the ops)


def _function_rules() -> dict:
    if not _FUNCTIONS:
        from . import functions
        _FUNCTIONS.update({
            np.where: functions.where, np.broadcast_to: functions.broadcast_to, np.sum: functions.sum,
            np.mean: functions.mean, np.max: functions.max, np.reshape: functions.reshape,
            np.transpose: functions.transpose, np.repeat: functions.repeat,
            np.concatenate: functions.concatenate, np.stack: functions.stack, np.matmul: functions.matmul,
            np.min: functions.min, np.clip: lambda a, a_min=None, a_max=None: a.clip(a_min, a_max),
        })
    return _FUNCTIONS


def _raw(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_raw(v) for v in value)
    return value


def _differentiable(values) -> bool:
    return STATE.mode[0] and any(isinstance(v, Tensor) and v.requires_grad for v in values)


def array_ufunc(ufunc, method, args, kwargs):
    """Route a NumPy ufunc on Tensors to the matching op; run others on the data.

    Those others may return booleans or integers (np.greater, np.isfinite); a floating
    result of a tensor that requires grad would silently cut the graph, so it raises.
    """
    rule = _UFUNCS.get(ufunc)
    if rule is not None and method == "__call__" and not kwargs:
        return rule(*args)
    result = getattr(ufunc, method)(*[_raw(a) for a in args], **{k: _raw(v) for k, v in kwargs.items()})
    if _differentiable(args) and any(np.asarray(r).dtype.kind in "fc" for r in _results(result)):
        raise TypeError(f"np.{ufunc.__name__} has no gradient rule in dagrad; use the Tensor's "
                        f"methods, or apply it to x.detach() / x.data")
    return result


def _results(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def array_function(func, args, kwargs):
    """Route np.where, np.broadcast_to, np.sum... on Tensors to ops; run the rest on the data.

    The rest runs on the data and returns plain arrays, outside the graph. That is fine
    for results that carry no gradient (np.allclose, np.argmax, np.zeros_like...), but a
    floating result computed from a tensor that needs a gradient (np.dot, np.sort...)
    would silently cut the graph, so that raises instead.
    """
    rule = _function_rules().get(func)
    if rule is not None:
        return rule(*args, **kwargs)
    result = func(*_raw(list(args)), **{k: _raw(v) for k, v in kwargs.items()})
    if (func not in _NO_GRADIENT_MEANING and getattr(result, "dtype", None) is not None
            and result.dtype.kind == "f" and _differentiable(list(args) + list(kwargs.values()))):
        raise TypeError(f"np.{func.__name__} has no gradient rule in dagrad; use the Tensor's methods or "
                        f"the functions in autograd, or apply it to x.detach() / x.data")
    return result


# Floating results that do not depend on the values, so no gradient is lost.
_NO_GRADIENT_MEANING = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.copyto}
