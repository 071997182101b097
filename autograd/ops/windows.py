"""Sliding windows over images: argument checks, output sizes, im2col and col2im on arrays.

The conv and pooling ops (``conv.py``, ``pool.py``) and ``nn.functional`` share these.
Images are (N, C, H, W). A window of kernel k, dilation d covers d*(k-1)+1 pixels, so
along one axis of H pixels padded by p on both sides there are
(H + 2p - d*(k-1) - 1) // s + 1 windows at stride s, as in PyTorch.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pair(value, op: str, name: str, minimum: int) -> tuple:
    """``value`` (an int or an (h, w) pair) as a tuple of two Python ints, each >= ``minimum``."""
    items = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    items = (int(items[0]), int(items[1]))
    if min(items) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return items


def check_image(op: str, x: np.ndarray, name: str = "input") -> None:
    """A (N, C, H, W) array, else a ValueError naming ``op`` and the shape."""
    if x.ndim != 4:
        raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {x.shape}"
                         + (" (add a batch axis: x.reshape(1, *x.shape))" if x.ndim == 3 else ""))


def output_size(op: str, size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    """(OH, OW) of the windows over an image of ``size`` (H, W); a kernel that does not fit raises."""
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if n + 2 * p < span:
            raise ValueError(
                f"{op}: kernel {kernel} (dilation {dilation}, spanning {span} pixels) is larger than the "
                f"padded input: size {tuple(size)} with padding {padding}")
        out.append((n + 2 * p - span) // s + 1)
    return tuple(out)


def new_image(shape: tuple, dtype, batch_last: bool, fill=None) -> np.ndarray:
    """A new (N, C, H, W) array: a view of a (C, H, W, N) one when ``batch_last`` (the layout
    Conv2d returns, see conv_arrays.py), else C-ordered. ``fill`` None leaves it empty."""
    n, c, h, w = shape
    if batch_last:
        out = np.empty((c, h, w, n), dtype=dtype).transpose(3, 0, 1, 2)
    else:
        out = np.empty(shape, dtype=dtype)
    if fill is not None:
        out.fill(fill)
    return out


def batch_last_layout(x: np.ndarray) -> bool:
    """True when the (N, C, H, W) array ``x`` is a view of a C-ordered (C, H, W, N) array."""
    return x.ndim == 4 and x.shape[0] > 1 and x.transpose(1, 2, 3, 0).flags.c_contiguous


# Numbers of an image the pools work through at a time (4 MB in float32). 1 MB blocks, sized
# for L2, made the small CNN's first pool backward six blocks of 20 NumPy calls each; with
# 4 MB a training step took 0.3 to 0.5 ms less, with 16 MB no less again.
CACHE_BLOCK = 1 << 20


def channel_blocks(shape: tuple, limit: int | None = None):
    """Slices of channels of an (N, C, H, W) image of at most about ``limit`` numbers each, so
    several passes over one block find it in cache (pooling 4.7 MB at once streams it 3 times)."""
    n, c, h, w = shape
    step = max(1, (limit or CACHE_BLOCK) // max(1, n * h * w))
    return [slice(c0, min(c, c0 + step)) for c0 in range(0, c, step)]


def in_layout(x: np.ndarray, batch_last: bool) -> np.ndarray:
    """``x`` (N, C, H, W), copied into the batch-last layout or out of it unless already so."""
    if batch_last_layout(x) == batch_last:
        return x
    if batch_last:
        return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    return np.ascontiguousarray(x)


def padded(x: np.ndarray, padding: tuple, value: float = 0.0) -> np.ndarray:
    """``x`` with ``padding`` (ph, pw) pixels of ``value`` around its last two axes (x itself when 0)."""
    ph, pw = padding
    if not ph and not pw:
        return x
    n, c, h, w = x.shape
    out = new_image((n, c, h + 2 * ph, w + 2 * pw), x.dtype, batch_last_layout(x), value)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def offsets(kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple):
    """(i, j, rows, cols) for each kernel offset: the slices of a padded image that the offset
    (i, j) of every window covers, so image[:, :, rows, cols] is (N, C, OH, OW)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            yield i, j, rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def windows(x: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple) -> np.ndarray:
    """A read-only (N, C, kh, kw, OH, OW) view of the windows of an already padded ``x`` (no copy)."""
    sn, sc, sh, sw = x.strides
    shape = x.shape[:2] + tuple(kernel) + tuple(out_size)
    strides = (sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1])
    return as_strided(x, shape, strides, writeable=False)


def im2col(x: np.ndarray, kernel, stride, padding, dilation, out_size) -> np.ndarray:
    """(N, C*kh*kw, OH*OW): every window of ``x`` as a column, in F.unfold's order."""
    n, c = x.shape[:2]
    cols = np.empty((n, c * kernel[0] * kernel[1], out_size[0] * out_size[1]), dtype=x.dtype)
    cols.reshape(n, c, *kernel, *out_size)[...] = windows(padded(x, padding), kernel, stride, dilation, out_size)
    return cols


def col2im(cols: np.ndarray, size: tuple, kernel, stride, padding, dilation, out_size) -> np.ndarray:
    """The adjoint of im2col: (N, C*kh*kw, L) columns summed back into (N, C, H, W), overlaps adding.

    One strided slice-add per kernel offset (kh*kw of them) into a preallocated array.
    """
    (kh, kw), (ph, pw) = kernel, padding
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, *out_size)
    out = np.zeros((n, c, size[0] + 2 * ph, size[1] + 2 * pw), dtype=cols.dtype)
    for i, j, rows, columns in offsets(kernel, stride, dilation, out_size):
        out[:, :, rows, columns] += blocks[:, :, i, j]
    return out[:, :, ph:ph + size[0], pw:pw + size[1]]


def window_label(op: str, kernel, **settings) -> str:
    """A drawing's label, e.g. ``Conv2d(5x5, stride=2, padding=(1, 0))``: the kernel, then each
    setting given as (value, default) whose value differs, a square pair shown as one int."""
    parts = [f"{kernel[0]}x{kernel[1]}"] if kernel is not None else []
    for name, (value, default) in settings.items():
        if value != default:
            parts.append(f"{name}={value[0] if value[0] == value[1] else value}")
    return f"{op}({', '.join(parts)})"
