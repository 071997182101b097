"""pad and one_hot: PyTorch's helpers that give a tensor a new shape, with nothing to learn.

``pad`` takes PyTorch's pad tuple, last axis first: ``(left, right)`` pads the last axis,
``(left, right, top, bottom)`` the last two. "constant" is one node (``autograd/ops/pad.py``);
"reflect", "replicate" and "circular" pick elements of the input by integer indexing, so
their gradient sums each element's copies back into it.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor
from autograd.ops.pad import Pad

MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002 (PyTorch's names)
    """``input`` padded as ``torch.nn.functional.pad``: ``pad`` is (before, after) pairs, last axis first.

    ``mode``: "constant" (``value``, default 0; a negative width crops), "reflect" (the
    mirror image without the edge, each width smaller than its axis), "replicate" (the
    edge repeated) or "circular" (wrapped around, each width at most its axis).
    gradient: constant, the output's gradient cropped back; the others, the gradient of
    every copy of an element summed into it.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    widths = _widths(pad, x.shape)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {sorted(MODES)}, got {mode!r}")
    if mode == "constant":
        return _constant(x, widths, 0.0 if value is None else float(value))
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: value is for mode='constant' only, got value={value} with mode={mode!r}")
    return _picked(x, widths, mode)


def _widths(pad, shape: tuple) -> list:
    """PyTorch's flat pad tuple, last axis first, as one (before, after) pair per axis of ``shape``."""
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise ValueError(f"pad: the pad tuple needs an even length of at most 2 * {len(shape)} "
                         f"(input of shape {shape}), got {pad}")
    if not all(isinstance(w, (int, np.integer)) for w in pad):
        raise TypeError(f"pad: the widths must be ints, got {pad}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)][::-1]
    return [(0, 0)] * (len(shape) - len(pairs)) + pairs


def _constant(x: Tensor, widths: list, value: float) -> Tensor:
    """Negative widths crop first (a slice), the positive ones pad (one Pad node)."""
    for (before, after), size in zip(widths, x.shape):
        if size - max(-before, 0) - max(-after, 0) < 0:
            raise ValueError(f"pad: widths {widths} crop more than the input of shape {x.shape} has")
    if any(before < 0 or after < 0 for before, after in widths):
        x = x[tuple(slice(max(-before, 0), size - max(-after, 0)) for (before, after), size in zip(widths, x.shape))]
    widths = tuple((max(before, 0), max(after, 0)) for before, after in widths)
    if not any(before or after for before, after in widths):
        return x
    return Pad.apply(x, widths=widths, value=value)


def _picked(x: Tensor, widths: list, mode: str) -> Tensor:
    """Reflect, replicate or circular padding as ``x`` indexed by the padded positions of each axis."""
    first = next((axis for axis, pair in enumerate(widths) if pair != (0, 0)), len(widths))
    positions = []
    for (before, after), size in zip(widths[first:], x.shape[first:]):
        limit = size - 1 if mode == "reflect" else size
        if max(before, after) > limit:
            raise ValueError(f"pad: {mode} padding of {max(before, after)} needs an axis longer than that "
                             f"({'more than' if mode == 'reflect' else 'at least'} the width), "
                             f"got an input of shape {x.shape}")
        index = np.pad(np.arange(size), (max(before, 0), max(after, 0)), mode=MODES[mode])
        positions.append(index[max(-before, 0):len(index) - max(-after, 0)])
    if not positions:
        return x
    return x[(slice(None),) * first + np.ix_(*positions)]


def one_hot(labels, num_classes: int = -1) -> np.ndarray:
    """Integer labels of any shape as one-hot rows: shape ``labels.shape + (num_classes,)``, int64.

    As ``torch.nn.functional.one_hot``, with ``num_classes=-1`` meaning the largest label
    plus one, but an int64 NumPy array, as every integer result here (``argmax``, labels):
    a Tensor is floating, and ``Tensor(F.one_hot(y, C))`` is the float32 one. Losses take it
    as a target as it is.
    """
    array = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if array.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {array.dtype}")
    if num_classes == -1:
        if array.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; give num_classes")
        num_classes = int(array.max()) + 1
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), "
                         f"got values from {array.min()} to {array.max()}")
    return (array[..., None] == np.arange(num_classes)).astype(np.int64)


__all__ = ["pad", "one_hot"]
