"""GELU, exact (x * Phi(x), Phi the standard normal CDF) or with PyTorch's tanh
approximation, each one node; and the error function it needs, which NumPy lacks.

erf is evaluated piecewise: |x| is cut into intervals of width 1/2 up to a point where
erf is 1 to the dtype's precision (6 for float64, 4 for float32), and on each interval
a polynomial in the offset from its centre, fitted once per dtype, on first use, to
``math.erf`` at Chebyshev nodes (degree 13 for float64: within 3e-15 of erf everywhere;
degree 7 for float32: within 1e-7). The accuracy is absolute, which is what GELU's
1 + erf needs (erf(0) comes out as about 5e-16, not 0).

Speed, measured on a (768, 512) array with the machine shared: ``math.erf`` element by
element is 3 to 5 times slower than this table, but the table (a gather per coefficient)
is still far slower than np.tanh, so the exact GELU costs several times the tanh one. A
single formula, erfc(x) = t exp(-x**2 + P(t)) with t = 1 / (1 + x / 2), ran about twice as
fast as the table in float32 but only to 3e-7; a rational fit x P(x**2) / Q(x**2) left
4e-7 after float32 rounding. Both were dropped for accuracy.
"""
from __future__ import annotations

import math

import numpy as np

from ..function import Function
from .nn import recorded

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)   # PyTorch's tanh GELU: tanh(s (x + 0.044715 x**3))
_TANH_CUBIC = 0.044715

_WIDTH = 0.5
_PLANS = {np.dtype(np.float64): (6.0, 13), np.dtype(np.float32): (4.0, 7)}  # dtype -> (end, degree)
_TABLES = {}


def _table(dtype: np.dtype) -> np.ndarray:
    """(degree + 1, intervals) coefficients: row p multiplies v**p, v the offset from the
    interval's centre in units of its width (v in [-1/2, 1/2])."""
    table = _TABLES.get(dtype)
    if table is None:
        end, degree = _PLANS[dtype]
        offsets = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1)) / 2
        rows = [np.polynomial.polynomial.polyfit(
                    offsets, [math.erf((k + 0.5 + v) * _WIDTH) for v in offsets], degree)
                for k in range(int(end / _WIDTH))]
        table = _TABLES[dtype] = np.ascontiguousarray(np.array(rows).T, dtype=dtype)
    return table


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of a floating array (float16 is computed in float32), a new array."""
    dtype = np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)
    end = _PLANS[dtype][0]
    table = _table(dtype)
    a = np.array(np.abs(x), dtype=dtype, ndmin=1)  # a fresh array, also for a 0-d x
    # beyond the end the last interval's end value, which is 1 to the dtype's precision
    np.minimum(a, dtype.type(end * (1.0 - 1e-7)), out=a)
    a *= dtype.type(1.0 / _WIDTH)
    index = a.astype(np.intp)
    a -= index
    a -= dtype.type(0.5)
    out = table[-1].take(index)
    for coefficients in table[-2::-1]:
        out *= a
        out += coefficients.take(index)
    np.minimum(out, 1.0, out=out)  # the fit may overshoot 1 by an ulp or two
    np.copysign(out, x.reshape(out.shape), out=out)
    return out.reshape(np.shape(x)).astype(x.dtype, copy=False)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 of an array (PyTorch's formula)."""
    out = erf(x * x.dtype.type(_SQRT_HALF))
    out += 1.0
    out *= 0.5
    return out


def _normal_pdf(x):
    """phi(x) = exp(-x**2 / 2) / sqrt(2 pi), on an array or (recorded) a Tensor."""
    return np.exp(x * x * -0.5) * _INV_SQRT_2PI


class NormalCDF(Function):
    """Phi(x), the standard normal CDF.   d/dx = phi(x) = exp(-x**2 / 2) / sqrt(2 pi)"""

    def forward(self, x):
        self.save(x)
        return normal_cdf(x)

    def backward(self, grad):
        (x,) = self.saved
        return grad * _normal_pdf(x)


class GELU(Function):
    """x * Phi(x) (``approximate="none"``) or 0.5 x (1 + tanh(s (x + c x**3))) (``"tanh"``),
    s = sqrt(2 / pi), c = 0.044715.

    d/dx = Phi(x) + x phi(x), or 0.5 (1 + t) + 0.5 x (1 - t**2) s (1 + 3 c x**2) with t the tanh.
    The exact forward keeps Phi(x), so its backward computes no erf again; the tanh form keeps
    only x and computes t again (a tanh costs about two products here, and a GPT's step keeps
    one such array per block less).
    """

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        if self.approximate == "none":
            part = normal_cdf(x)
            self.save(x, part)
            return x * part
        self.save(x, None)
        out = _tanh_part(x)  # out = 0.5 x (1 + t), in place on t
        out += 1.0
        out *= x
        out *= 0.5
        return out

    def backward(self, grad):
        x, part = self.saved
        if self.approximate == "none":
            if recorded(grad):  # Phi recomputed as a node, so that its own derivative is seen
                part = NormalCDF.apply(x)
            return grad * (part + x * _normal_pdf(x))
        if recorded(grad):
            part = ((x + x * x * x * _TANH_CUBIC) * _TANH_SCALE).tanh()
            slope = (1.0 - part * part) * (x * x * (3.0 * _TANH_CUBIC) + 1.0) * (x * (0.5 * _TANH_SCALE))
            return grad * ((part + 1.0) * 0.5 + slope)
        # the same formula in place on fresh arrays (ten temporaries otherwise)
        slope = np.multiply(x, x, out=np.empty_like(x))
        slope *= 3.0 * _TANH_CUBIC
        slope += 1.0
        slope *= x
        slope *= 0.5 * _TANH_SCALE
        t = _tanh_part(x)
        square = np.multiply(t, t, out=np.empty_like(t))
        np.subtract(1.0, square, out=square)
        slope *= square
        t += 1.0
        t *= 0.5
        slope += t
        slope *= grad
        return slope


def _tanh_part(x: np.ndarray) -> np.ndarray:
    """t = tanh(s x (1 + c x**2)) as a fresh array (also when x is 0-d)."""
    t = np.multiply(x, x, out=np.empty_like(x))
    t *= _TANH_CUBIC
    t += 1.0
    t *= x
    t *= _TANH_SCALE
    return np.tanh(t, out=t)


def gelu(x, approximate: str = "none"):
    """PyTorch's F.gelu: x * Phi(x), or its tanh approximation with ``approximate="tanh"``."""
    return GELU.apply(x, approximate=approximate)
