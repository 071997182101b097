"""Creation functions with PyTorch's names: ag.tensor, zeros, ones, full, arange, randn,
rand, zeros_like, ones_like, cat; ag.manual_seed is in ``random.py``.

Each returns a new leaf Tensor owning its data. Tensors hold floating data, so
``dtype`` must be floating and defaults to ``ag.get_default_dtype()`` (float32), also
for ``arange`` and for integer data, where PyTorch would make an integer tensor.
Shapes are given as PyTorch does, ``zeros(2, 3)`` or ``zeros((2, 3))``.
"""
from __future__ import annotations

import numpy as np

from . import random
from .dtypes import as_float_array, get_default_dtype
from .functions import concatenate
from .ops.reduce import torch_spelling
from .tensor import Tensor


def _dtype(dtype, name: str) -> np.dtype:
    """``dtype`` (default: the default dtype), which must be floating."""
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: tensors hold floating data, got dtype {dtype}")
    return dtype


def _shape(shape: tuple) -> tuple:
    """``(2, 3)`` from ``(2, 3)`` or ``((2, 3),)`` (the two ways PyTorch takes a shape)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new leaf holding a copy of ``data`` (as ``torch.tensor``; ``Tensor(array)`` shares it).

    A floating array keeps its dtype unless ``dtype`` is given; anything else takes
    ``dtype`` or the default dtype.
    """
    raw = data.data if isinstance(data, Tensor) else data
    array = as_float_array(raw, None if dtype is None else _dtype(dtype, "tensor"))
    if isinstance(raw, np.ndarray) and np.may_share_memory(array, raw):
        array = array.copy()
    return _leaf(array, requires_grad)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _leaf(np.zeros(_shape(shape), _dtype(dtype, "zeros")), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _leaf(np.ones(_shape(shape), _dtype(dtype, "ones")), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` (an int or a tuple) filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _leaf(np.full(shape, fill_value, _dtype(dtype, "full")), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end) (``arange(5)`` is 0..4), floating (see the module)."""
    if end is None:
        start, end = 0, start
    return _leaf(np.arange(start, end, step).astype(_dtype(dtype, "arange")), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False, rng: np.random.Generator | None = None) -> Tensor:
    """Standard normal draws, from ``rng`` or the default generator (``ag.manual_seed``)."""
    dtype = _dtype(dtype, "randn")
    draws = (rng or random.default_rng()).standard_normal(_shape(shape), dtype=_drawn(dtype))
    return _leaf(draws.astype(dtype, copy=False), requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False, rng: np.random.Generator | None = None) -> Tensor:
    """Uniform draws in [0, 1), from ``rng`` or the default generator (``ag.manual_seed``)."""
    dtype = _dtype(dtype, "rand")
    draws = (rng or random.default_rng()).random(_shape(shape), dtype=_drawn(dtype))
    return _leaf(draws.astype(dtype, copy=False), requires_grad)


def _drawn(dtype: np.dtype) -> np.dtype:
    """The dtype NumPy's Generator draws in (float32 or float64), for ``dtype``."""
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (unless ``dtype`` is given) dtype; ``t`` a Tensor or an array."""
    like = _array(t)
    return zeros(like.shape, dtype=_like_dtype(like, dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (unless ``dtype`` is given) dtype; ``t`` a Tensor or an array."""
    like = _array(t)
    return ones(like.shape, dtype=_like_dtype(like, dtype), requires_grad=requires_grad)


def _array(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _like_dtype(like: np.ndarray, dtype):
    """``dtype`` if given, else ``like``'s when floating (an integer array gives the default dtype)."""
    if dtype is not None:
        return dtype
    return like.dtype if like.dtype.kind == "f" else None


def cat(tensors, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """PyTorch's name for ``concatenate``: join ``tensors`` along ``dim`` (or ``axis``; default 0)."""
    axis = torch_spelling("cat", axis, False, dim, None)[0]
    return concatenate(tensors, axis=0 if axis is None else axis)


manual_seed = random.manual_seed

__all__ = ["tensor", "zeros", "ones", "full", "arange", "randn", "rand", "zeros_like", "ones_like", "cat",
           "manual_seed"]


def from_numpy(array: np.ndarray) -> Tensor:
    """A leaf Tensor sharing ``array``'s memory, as ``torch.from_numpy``: writes to one show
    in the other. The array must be floating (tensors hold floating data); integer labels
    are used as the ndarray itself, or cast first (``array.astype(np.float32)``, a copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy ndarray, got {type(array).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"from_numpy: tensors hold floating data, got an array of dtype {array.dtype}; "
                        f"cast it (a copy) or pass integer labels as the ndarray itself")
    return Tensor._result(array, None)
