"""The default floating dtype and the conversion of user data to floating arrays."""
from __future__ import annotations

import numbers

import numpy as np

_default = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python numbers, lists, ints and bools (float32 unless changed)."""
    global _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: need a floating dtype, got {dtype}")
    _default = dtype


def get_default_dtype() -> np.dtype:
    """The dtype given to Python numbers, lists, ints and bools."""
    return _default


def as_float_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` to a floating ndarray without copying a floating array.

    Floating arrays keep their dtype; everything else becomes ``dtype`` (default: the
    default dtype). Raises TypeError for data that is not numeric.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind == "f" and dtype is None:
        return data
    if isinstance(data, np.generic) and data.dtype.kind == "f" and dtype is None:
        return np.asarray(data)
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(f"Tensor: unsupported data type {type(data).__name__}")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as error:
        raise TypeError(f"Tensor: cannot convert {type(data).__name__} to an array: {error}") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(f"Tensor: unsupported data type {type(data).__name__} (dtype {array.dtype})")
    target = _default if dtype is None else np.dtype(dtype)
    if array.dtype.kind == "f" and dtype is None and isinstance(data, np.ndarray):
        return array
    return array.astype(target, copy=False)


def is_python_scalar(value) -> bool:
    """True for Python and NumPy scalars, which take the other operand's dtype (NumPy's weak scalars)."""
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex)
