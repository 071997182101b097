"""Anomaly mode: find the first op whose forward or backward makes NaN or Inf, and where it was built."""
from __future__ import annotations

import os
import sys

import numpy as np

from .grad_mode import anomaly_mode

_PACKAGE_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name) + os.sep
    for name in ("autograd", "nn"))


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf while ``detect_anomaly()`` was on."""


def detect_anomaly():
    """Check every op's forward and backward for NaN/Inf and name the first culprit.

    Ops created inside remember the user's line that built them (a stack walk per op,
    so it is slow; off by default and free when off). Per thread, as PyTorch's.
    """
    return anomaly_mode(True)


def user_frame() -> str:
    """'file:line in function' of the innermost caller outside the autograd and nn packages."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = frame.f_code
    return f"{code.co_filename}:{frame.f_lineno} in {code.co_name}"


def _inputs(arrays, adjective: str = "") -> str:
    """'a finite input of shape (2,)' or 'finite inputs of shapes (4, 3) and (3,)'."""
    shapes = [str(tuple(np.shape(a))) for a in arrays]
    words = f"{adjective} " if adjective else ""
    if not shapes:
        return "no inputs"
    if len(shapes) == 1:
        return f"{'a' if words else 'an'} {words}input of shape {shapes[0]}"
    return f"{words}inputs of shapes {', '.join(shapes[:-1])} and {shapes[-1]}"


def _all_finite(arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays if getattr(a, "dtype", None) is not None
               and a.dtype.kind == "f")


def check_forward(fn, inputs, out: np.ndarray) -> None:
    """Raise when ``fn`` turned finite inputs into an output with NaN or Inf."""
    if np.isfinite(out).all() or not _all_finite([t.data for t in inputs]):
        return
    raise AnomalyError(
        f"{type(fn).__name__}: forward produced {_what(out)} from "
        f"{_inputs([t.data for t in inputs], 'finite')}; created at {user_frame()}")


def check_backward(fn, grad, input_grads) -> None:
    """Raise when ``fn``'s gradient rule turned a finite gradient into NaN or Inf."""
    arrays = [np.asarray(g) for g in input_grads if g is not None]
    if _all_finite(arrays) or not _all_finite([np.asarray(grad)]):
        return
    bad = next(a for a in arrays if not np.isfinite(a).all())
    where = getattr(fn, "created_at", None) or "an unknown line (build the graph inside detect_anomaly() to see it)"
    raise AnomalyError(
        f"{type(fn).__name__}: backward produced {_what(bad)} for "
        f"{_inputs([t.data for t in fn.inputs])}; created at {where}")


def _what(array: np.ndarray) -> str:
    return "NaN" if np.isnan(array).any() else "Inf"
