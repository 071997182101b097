"""Tensor: an ndarray, its gradient, and the node (op) that made it."""
from __future__ import annotations

import numpy as np

from .dtypes import as_float_array, is_python_scalar


class Tensor:
    """A floating ndarray that records the ops applied to it, for reverse-mode gradients.

    ``data`` is anything ``np.asarray`` takes: floating arrays keep their dtype, the rest
    becomes the default dtype (float32). ``op`` is the node that made this tensor (None
    for leaves); ``grad`` is filled by ``backward()``.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "op", "__weakref__")
    __hash__ = object.__hash__  # comparisons return arrays, identity stays the hash

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        self.data = as_float_array(data.data if isinstance(data, Tensor) else data)
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.op = None

    @classmethod
    def _result(cls, data: np.ndarray, op) -> "Tensor":
        """Wrap an op's output without conversions (the hot path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = op is not None
        t.name = None
        t.op = op
        return t

    def _operand(self, other) -> "Tensor":
        """``other`` as a Tensor; Python and NumPy scalars take this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if type(other) is float or type(other) is int or is_python_scalar(other):
            return _constant(other, self.data.dtype)
        if isinstance(other, np.ndarray) and other.dtype.kind != "f":
            return Tensor._result(other.astype(self.data.dtype), None)
        return Tensor._result(as_float_array(other), None)

    # ---- the array ----
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._result(self.data, None)

    def astype(self, dtype) -> "Tensor":
        """This tensor in another floating dtype (recorded: the gradient is cast back)."""
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"astype: tensors hold floating data, got dtype {np.dtype(dtype)}")
        return ew.Cast.apply(self, dtype=dtype)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=100)
        extras = [f"dtype={self.dtype}"]
        if self.op is not None:
            extras.append(f"op={type(self.op).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}, {', '.join(extras)})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    # ---- gradients ----
    def backward(self, grad=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (reverse mode, iterative).

        ``grad`` may be omitted only for a one-element tensor. Saved arrays are freed
        unless ``retain_graph`` (which defaults to ``create_graph``, as in PyTorch);
        ``create_graph`` makes the gradients differentiable.
        """
        if retain_graph is None:
            retain_graph = create_graph
        engine.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None)."""
        self.grad = None

    # ---- arithmetic ----
    def __add__(self, other):
        return ew.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return ew.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return ew.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return ew.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return ew.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return ew.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return ew.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return ew.Div.apply(self._operand(other), self)

    def __pow__(self, exponent):
        if is_python_scalar(exponent):
            return ew.Pow.apply(self, exponent=float(exponent))
        return ew.Pow.apply(self, self._operand(exponent))

    def __rpow__(self, base):
        return ew.Pow.apply(self._operand(base), self)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(self._operand(other), self)

    # ---- comparisons: plain boolean arrays, never recorded ----
    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def __eq__(self, other):
        return self.data == _raw(other)

    def __ne__(self, other):
        return self.data != _raw(other)

    # ---- elementwise functions ----
    def exp(self):
        return ew.Exp.apply(self)

    def log(self):
        return ew.Log.apply(self)

    def sigmoid(self):
        return ew.Sigmoid.apply(self)

    def tanh(self):
        return ew.Tanh.apply(self)

    def relu(self):
        return ew.ReLU.apply(self)

    # ---- reductions ----
    def sum(self, axis=None, keepdims: bool = False):
        return reduce.Sum.apply(self, axis=reduce.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return reduce.Mean.apply(self, axis=reduce.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return reduce.Max.apply(self, axis=reduce.normalize_axis(axis, self.ndim), keepdims=keepdims)

    # ---- shape ----
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return shape_ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return shape_ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return shape_ops.Transpose.apply(self, axes=None)

    def swapaxes(self, axis1: int, axis2: int):
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return shape_ops.Transpose.apply(self, axes=tuple(axes))

    def repeat(self, repeats, axis=None):
        return shape_ops.Repeat.apply(self, repeats=repeats, axis=axis)

    def broadcast_to(self, shape):
        return shape_ops.BroadcastTo.apply(self, shape=tuple(shape))

    def __getitem__(self, index):
        return shape_ops.GetItem.apply(self, index=shape_ops.normalize_index(index))

    # ---- NumPy interoperability ----
    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        return interop.array_ufunc(ufunc, method, args, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return interop.array_function(func, args, kwargs)


_CONSTANTS = {}  # (value, dtype) -> read-only 0-d constant Tensor, shared by every graph


def _constant(value, dtype) -> Tensor:
    """A Python scalar as a 0-d constant of ``dtype``; the common ones (1.0, 0.5, 2...) are
    made once instead of once per op (saves about a fifth of a scalar op's forward)."""
    if not value or value != value:  # keep -0.0 apart from 0.0, and NaN (never equal) out
        return Tensor._result(np.asarray(value, dtype=dtype), None)
    key = (value, dtype)
    constant = _CONSTANTS.get(key)
    if constant is None:
        if len(_CONSTANTS) >= 1024:
            _CONSTANTS.clear()
        array = np.asarray(value, dtype=dtype)
        array.flags.writeable = False
        constant = _CONSTANTS[key] = Tensor._result(array, None)
    return constant


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


from . import engine, interop  # noqa: E402  (both use Tensor)
from .ops import elementwise as ew, linalg, reduce, shape as shape_ops  # noqa: E402
