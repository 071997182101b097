"""Elementwise ops. Binary ops broadcast; the engine sums each gradient back to its input's shape."""
from __future__ import annotations

import numpy as np

from ..function import Function


def _not_broadcastable(fn, a, b) -> ValueError:
    return ValueError(f"{type(fn).__name__}: shapes {a.shape} and {b.shape} do not broadcast")


class Add(Function):
    """a + b.   d/da = 1, d/db = 1"""

    def forward(self, a, b):
        try:
            return a + b
        except ValueError:
            raise _not_broadcastable(self, a, b) from None

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """a - b.   d/da = 1, d/db = -1"""

    def forward(self, a, b):
        try:
            return a - b
        except ValueError:
            raise _not_broadcastable(self, a, b) from None

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Neg(Function):
    """-a.   d/da = -1"""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Mul(Function):
    """a * b.   d/da = b, d/db = a"""

    def forward(self, a, b):
        self.save(a, b)
        try:
            return a * b
        except ValueError:
            raise _not_broadcastable(self, a, b) from None

    def backward(self, grad):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """a / b.   d/da = 1 / b, d/db = -a / b**2 = -(a / b) / b"""

    def forward(self, a, b):
        try:
            out = a / b
        except ValueError:
            raise _not_broadcastable(self, a, b) from None
        self.save(b, out)
        return out

    def backward(self, grad):
        b, out = self.saved
        grad_a = grad / b
        return (grad_a if self.needs_input_grad[0] else None), (
            -grad_a * out if self.needs_input_grad[1] else None)


class Pow(Function):
    """a ** p for a constant p, or a ** b for a tensor b.

    d/da = p * a**(p - 1);  d/db = a**b * log(a), taken as 0 where a <= 0 (PyTorch also gives
    0 at a == 0, but NaN for a < 0, where a**b is mostly not real anyway).
    """

    def __init__(self, exponent: float | None = None):
        self.exponent = exponent

    def forward(self, a, b=None):
        try:
            out = a ** (self.exponent if b is None else b)
        except ValueError:
            raise _not_broadcastable(self, a, b) from None
        self.save(a, b, None if b is None else out)  # only d/db needs the output
        return out

    def backward(self, grad):
        a, b, out = self.saved
        if b is None:
            p = self.exponent
            if p == 0.0:
                return grad * 0.0  # a**0 = 1 everywhere, even at a = 0 where p * a**(p - 1) is NaN
            return grad * (2.0 * a if p == 2.0 else p * a ** (p - 1.0))
        grad_a = grad * b * a ** (b - 1.0) if self.needs_input_grad[0] else None
        grad_b = None
        if self.needs_input_grad[1]:
            positive = np.asarray(a) > 0
            grad_b = grad * out * np.log(np.where(positive, a, 1.0)) * positive
        return grad_a, grad_b


class Exp(Function):
    """exp(a).   d/da = exp(a), taken from the output"""

    def forward(self, a):
        out = np.exp(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * out


class Log(Function):
    """log(a).   d/da = 1 / a"""

    def forward(self, a):
        self.save(a)
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved
        return grad / a


def sigmoid_array(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) on an array, never overflowing, PyTorch's 0 and 1 at -inf and inf.

    Small arrays take z = exp(-|a|), which cannot overflow, and 1 / (1 + z) or z / (1 + z)
    by sign (clipping a at -709 instead, as before, gave 3e-308 rather than 0 for a
    below it, and its gradient times an infinity inf rather than NaN). Large ones let
    exp(-a) overflow to inf (1 / inf is the right 0) with the warning silenced, as
    np.maximum is slow on large arrays (470 us per million floats, against 120 for a
    negation) and np.errstate costs a fixed 1.5 us. np.divide(1.0, x) rather than
    np.reciprocal, which NumPy does not vectorise (105 against 210 us). Also used by the
    fused logistic losses.
    """
    if a.size < 2048:
        if a.ndim == 0:  # NumPy gives scalars for 0-d results; the in-place steps need arrays
            return sigmoid_array(a.reshape(1)).reshape(())
        z = np.abs(a)
        np.negative(z, out=z)
        np.exp(z, out=z)
        out = np.maximum(z, a >= 0)  # 1 where a >= 0 (z <= 1 there), else z; a NaN stays (np.where: 0.6 us more)
        z += 1.0
        return np.divide(out, z, out=out)
    out = np.negative(a)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    np.divide(1.0, out, out=out)
    return out


_ONES = {}  # dtype -> a read-only 0-d one (np.ones is a Python function: 5,000 instructions a call)


def one(dtype) -> np.ndarray:
    """A shared read-only 0-d array holding 1 in ``dtype``."""
    value = _ONES.get(dtype)
    if value is None:
        value = _ONES[dtype] = np.ones((), dtype)
        value.flags.writeable = False
    return value


class Sigmoid(Function):
    """1 / (1 + exp(-a)), without overflow for any a.   d/da = y (1 - y), from the output y"""

    def forward(self, a):
        out = sigmoid_array(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        result = 1.0 - out   # one new array for the three passes (rebound, not overwritten, on scalars
        result *= out        # and on Tensors under create_graph)
        result *= grad
        return result


class Tanh(Function):
    """tanh(a).   d/da = 1 - y**2, from the output y"""

    def forward(self, a):
        out = np.tanh(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad * (1.0 - out * out)


class ReLU(Function):
    """max(a, 0).   d/da = 1 where the output is not 0 (a > 0, or a NaN, as PyTorch), else 0

    It saves its output, which the graph keeps anyway, rather than a mask of its own:
    one byte per element less (1.1 MiB of the small CNN's first ReLU) and one pass less
    in the forward. The backward compares again, a slice at a time on large arrays, so
    the mask is never whole either (it was the peak of the small CNN's training step).
    """

    def forward(self, a):
        out = np.maximum(a, 0)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        if type(grad) is not np.ndarray or grad.shape != out.shape:
            if isinstance(grad, np.generic) or type(grad) is np.ndarray:  # a scalar, or a broadcast gradient
                return np.where(out != 0, grad, 0)
            return grad * (out != 0)  # a Tensor (create_graph)
        return self._masked(grad, np.empty_like(out))

    def backward_in_place(self, grad):
        """The same, written over ``grad`` (the engine's own array): no third array as large
        as the activation, which was the small CNN's peak (at its first ReLU's backward)."""
        (out,) = self.saved
        if grad.shape != out.shape or grad.dtype != out.dtype:
            return self.backward(grad)  # a broadcast gradient, or one NumPy would cast
        return self._masked(grad, grad)

    def _masked(self, grad, result):
        """grad where the output is not 0, else 0, into ``result``, a piece at a time. A product
        with the mask, which is 17x faster than np.where on a random mask; but NaN * 0 is
        NaN where PyTorch's rule gives 0, so a piece whose result is not all finite (a
        4 us dot product of 64K numbers tells) has its zeros put back."""
        (out,) = self.saved
        pieces = _pieces(out) if out.size >= _PIECE else [...]  # 0-d and empty arrays have no pieces
        for piece in pieces:
            part, kept = result[piece], out[piece]
            np.multiply(grad[piece], kept != 0, out=part)
            if not _all_finite(part):
                np.copyto(part, 0, where=kept == 0)
        return result


def _all_finite(a: np.ndarray) -> bool:
    """True when ``a`` holds no NaN or infinity (nor numbers whose squares overflow)."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        flat = a.ravel(order="K")  # a view
        return bool(np.isfinite(np.dot(flat, flat)))
    return bool(np.isfinite(a).all())


_PIECE = 1 << 16  # elements per slice of ReLU's backward


def _pieces(a: np.ndarray) -> list:
    """Index tuples slicing ``a`` along its outermost axis in memory into about _PIECE elements each
    (``a`` has at least one axis and one element)."""
    axis = max(range(a.ndim), key=lambda i: abs(a.strides[i]))
    step = max(1, _PIECE * a.shape[axis] // a.size)
    return [(slice(None),) * axis + (slice(i, i + step),) for i in range(0, a.shape[axis], step)]


class Where(Function):
    """condition ? a : b, with a boolean ``condition`` that is not differentiated.

    d/da = 1 where condition, d/db = 1 elsewhere.
    """

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        try:
            return np.where(self.condition, a, b)
        except ValueError:
            raise ValueError(f"Where: condition of shape {np.shape(self.condition)} and shapes {a.shape} "
                             f"and {b.shape} do not broadcast") from None

    def backward(self, grad):
        need_a, need_b = self.needs_input_grad
        return (np.where(self.condition, grad, 0.0) if need_a else None), (
            np.where(self.condition, 0.0, grad) if need_b else None)


class Cast(Function):
    """a.astype(dtype) between floating dtypes.   gradient: cast back to a's dtype"""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, a):
        self.save(a.dtype)
        return a.astype(self.dtype)

    def backward(self, grad):
        (dtype,) = self.saved
        return grad.astype(dtype)


class Abs(Function):
    """|a|.   d/da = sign(a), taken as 0 at a = 0 (PyTorch's subgradient) and at a NaN (as PyTorch)"""

    def forward(self, a):
        self.save(np.subtract(a > 0, a < 0, dtype=a.dtype))  # np.sign gives NaN at a NaN
        return np.abs(a)

    def backward(self, grad):
        (sign,) = self.saved
        return grad * sign


class Sqrt(Function):
    """sqrt(a).   d/da = 1 / (2 sqrt(a)), from the output (inf at a = 0, as PyTorch)"""

    def forward(self, a):
        out = np.sqrt(a)
        self.save(out)
        return out

    def backward(self, grad):
        (out,) = self.saved
        return grad / (2.0 * out)


class Clamp(Function):
    """min(max(a, low), high), either bound may be None.

    d/da = 1 where low <= a <= high (bounds included, as PyTorch), else 0 (a NaN a included).
    """

    def __init__(self, low=None, high=None):
        self.low = low
        self.high = high

    def forward(self, a):
        inside = np.ones(a.shape, dtype=bool)
        if self.low is not None:
            inside &= a >= self.low
        if self.high is not None:
            inside &= a <= self.high
        self.save(inside)
        out = a if self.low is None else np.maximum(a, np.asarray(self.low, dtype=a.dtype))
        return out if self.high is None else np.minimum(out, np.asarray(self.high, dtype=a.dtype))

    def backward(self, grad):
        (inside,) = self.saved
        if isinstance(grad, (np.ndarray, np.generic)):
            return np.where(inside, grad, 0)  # not grad * inside: a NaN gradient outside gives 0, as PyTorch
        return grad * inside.astype(grad.dtype)
