"""Tensor: an ndarray, its gradient, and the node (op) that made it."""
from __future__ import annotations

import numpy as np

from .dtypes import as_float_array, is_python_scalar
from .torch_methods import TorchMethods
from .torch_shape_methods import TorchShapeMethods


class Tensor(TorchMethods, TorchShapeMethods):
    """A floating ndarray that records the ops applied to it, for reverse-mode gradients.

    ``data`` is anything ``np.asarray`` takes: floating arrays keep their dtype, the rest
    becomes the default dtype (float32). ``op`` is the node that made this tensor (None
    for leaves); ``grad`` is filled by ``backward()``. PyTorch's method names (``view``,
    ``unsqueeze``, ``clamp``, ``argmax``...) come from ``TorchMethods`` (torch_methods.py).
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
        """The array's shape, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype of the data (float32 by default)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    def __len__(self) -> int:
        """The length of the first axis, as for an ndarray."""
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
        """The data for NumPy (``np.asarray(t)``), cast or copied only on request."""
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __repr__(self) -> str:
        """Tensor([...], dtype=..., op=...): the values and where they came from."""
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
        """The truth of a one-element tensor, as NumPy's."""
        return bool(self.data)

    def __float__(self) -> float:
        """The value of a one-element tensor as a Python float."""
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
        """self + other, broadcasting; each side's gradient is grad, summed back to its shape."""
        return ew.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        """other + self (a number or array on the left)."""
        return ew.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        """self - other, broadcasting; the gradients are grad and -grad."""
        return ew.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        """other - self (a number or array on the left)."""
        return ew.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        """self * other, broadcasting; the gradients are grad * other and grad * self."""
        return ew.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        """other * self (a number or array on the left)."""
        return ew.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        """self / other, broadcasting; the gradients are grad / other and -grad * self / other**2."""
        return ew.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        """other / self (a number or array on the left)."""
        return ew.Div.apply(self._operand(other), self)

    def __pow__(self, exponent):
        """self ** exponent (a number, or a Tensor for a gradient in the exponent too)."""
        if is_python_scalar(exponent):
            return ew.Pow.apply(self, exponent=float(exponent))
        return ew.Pow.apply(self, self._operand(exponent))

    def __rpow__(self, base):
        """base ** self (a number or array as the base)."""
        return ew.Pow.apply(self._operand(base), self)

    def __neg__(self):
        """-self; the gradient is -grad."""
        return ew.Neg.apply(self)

    def __matmul__(self, other):
        """self @ other, NumPy's matmul; the gradients are grad @ other.T and self.T @ grad."""
        return linalg.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        """other @ self (an array on the left)."""
        return linalg.MatMul.apply(self._operand(other), self)

    # ---- comparisons: plain boolean arrays, never recorded ----
    def __lt__(self, other):
        """self < other elementwise, as a plain boolean array (not recorded)."""
        return self.data < _raw(other)

    def __le__(self, other):
        """self <= other elementwise, as a plain boolean array (not recorded)."""
        return self.data <= _raw(other)

    def __gt__(self, other):
        """self > other elementwise, as a plain boolean array (not recorded)."""
        return self.data > _raw(other)

    def __ge__(self, other):
        """self >= other elementwise, as a plain boolean array (not recorded)."""
        return self.data >= _raw(other)

    def __eq__(self, other):
        """self == other elementwise, as a plain boolean array (not recorded)."""
        return self.data == _raw(other)

    def __ne__(self, other):
        """self != other elementwise, as a plain boolean array (not recorded)."""
        return self.data != _raw(other)

    # ---- elementwise functions ----
    def exp(self):
        """e**x elementwise; the gradient is grad * e**x."""
        return ew.Exp.apply(self)

    def log(self):
        """Natural logarithm elementwise; the gradient is grad / x."""
        return ew.Log.apply(self)

    def sigmoid(self):
        """1 / (1 + e**-x) elementwise, without overflow; the gradient is grad * y * (1 - y)."""
        return ew.Sigmoid.apply(self)

    def tanh(self):
        """Hyperbolic tangent elementwise; the gradient is grad * (1 - y**2)."""
        return ew.Tanh.apply(self)

    def relu(self):
        """max(x, 0) elementwise; the gradient passes where x > 0."""
        return ew.ReLU.apply(self)

    # ---- reductions ----
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Sum over ``axis`` (None: all); the gradient is broadcast back.

        ``dim`` and ``keepdim`` are PyTorch's names for ``axis`` and ``keepdims`` (not both).
        """
        axis, keepdims = reduce.axes("Sum", self.data.shape, axis, keepdims, dim, keepdim)
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Mean over ``axis`` (None: all); the gradient is broadcast back, divided by the count.

        ``dim`` and ``keepdim`` are PyTorch's names for ``axis`` and ``keepdims`` (not both).
        """
        axis, keepdims = reduce.axes("Mean", self.data.shape, axis, keepdims, dim, keepdim)
        return reduce.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Maximum over ``axis`` (None: all); the gradient goes to the maxima, shared among ties.

        With ``dim=`` (PyTorch's spelling) the result is PyTorch's ``(values, indices)``
        pair, the gradient going to the indexed elements; see ``TorchMethods.min``.
        """
        axis, keepdims = reduce.axes("Max", self.data.shape, axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._values_indices("max", np.argmax, axis, keepdims)
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    # ---- shape ----
    def reshape(self, *shape):
        """The same data in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``, -1 allowed)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return shape_ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        """Axes permuted (reversed if none given), as NumPy; the gradient is permuted back.

        Two int arguments swap those two dims on any rank, as PyTorch's
        ``transpose(dim0, dim1)`` (on 2-D, ``transpose(0, 1)`` swaps too); a tuple, or as
        many ints as dims on another rank, is NumPy's full permutation.
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        elif len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return self.swapaxes(*axes)
        return shape_ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        """The transpose (axes reversed)."""
        return shape_ops.Transpose.apply(self, axes=None)

    def swapaxes(self, axis1: int, axis2: int):
        """This tensor with two axes exchanged (a Transpose); the gradient swaps them back."""
        axes = list(range(self.ndim))
        try:
            axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        except IndexError:
            raise ValueError(f"Transpose (swapaxes): axes ({axis1}, {axis2}) are out of range for a tensor "
                             f"of shape {self.shape}") from None
        return shape_ops.Transpose.apply(self, axes=tuple(axes))

    def repeat(self, repeats, axis=None):
        """Elements repeated as ``np.repeat``; the gradient sums the copies."""
        return shape_ops.Repeat.apply(self, repeats=repeats, axis=axis)

    def broadcast_to(self, shape):
        """A broadcast to ``shape``, as ``np.broadcast_to``; the gradient is summed back."""
        return shape_ops.BroadcastTo.apply(self, shape=tuple(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Axes ``start_dim`` to ``end_dim`` (both included) merged into one, as torch.flatten
        (a Reshape; a 0-d tensor becomes 1-d); the gradient is reshaped back."""
        shape = self.data.shape
        ndim = max(len(shape), 1)
        if not (-ndim <= start_dim < ndim and -ndim <= end_dim < ndim) or start_dim % ndim > end_dim % ndim:
            raise ValueError(f"flatten: start_dim={start_dim} and end_dim={end_dim} do not fit a tensor of "
                             f"shape {shape}")
        start, end = start_dim % ndim, end_dim % ndim
        merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return shape_ops.Reshape.apply(self, shape=shape[:start] + (merged,) + shape[end + 1:])

    def __getitem__(self, index):
        """``x[index]``, basic or integer-array indexing; the gradient is scattered back (repeats add)."""
        return shape_ops.GetItem.apply(self, index=shape_ops.normalize_index(index))

    # ---- NumPy interoperability ----
    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        """NumPy ufuncs on Tensors (``np.exp(t)``, ``np.ones(3) + t``) as recorded ops."""
        return interop.array_ufunc(ufunc, method, args, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy functions on Tensors (``np.sum(t)``...) as recorded ops where supported."""
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
