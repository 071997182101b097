"""More of PyTorch's Tensor spellings (issues 21 and 24): permute, expand, split, chunk,
masked_fill, tril, triu, contiguous, cumsum, var, std, float, double, and the small
questions a PyTorch user asks (tolist, dim, numel, is_leaf).

A mixin that Tensor inherits, beside ``TorchMethods``; each method composes ops that
exist (Transpose, BroadcastTo, GetItem, Where, Cast, the reductions) or the one added
for it (Cumsum), so each is differentiable twice as they are.
"""
from __future__ import annotations

import numpy as np


def _dim(op: str, dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis of a tensor with ``ndim`` axes (PyTorch's range check)."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def _sizes(shape) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """``tensor`` cut along ``dim`` into pieces of ``split_size_or_sections`` (the last may be
    shorter), or into pieces of the listed sizes, as ``torch.split``; each piece is a
    GetItem of a slice, so its gradient lands in its part."""
    shape = tensor.shape
    dim = _dim("split", dim, len(shape))
    length = shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and length:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] if length else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} do not add up to {length}, the length of dim {dim} "
                             f"of shape {shape}")
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * dim
    return tuple(tensor[lead + (slice(int(lo), int(hi)),)] for lo, hi in zip(bounds[:-1], bounds[1:]))


def chunk(tensor, chunks: int, dim: int = 0) -> tuple:
    """``tensor`` cut along ``dim`` into at most ``chunks`` pieces of ceil(length / chunks), as
    ``torch.chunk`` (so fewer pieces may come back, e.g. 6 rows in 4 chunks give 3 of 2)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = tensor.shape[_dim("chunk", dim, tensor.ndim)]
    return split(tensor, max(-(-length // chunks), 1), dim)


def _triangle(op: str, tensor, diagonal: int, lower: bool):
    if tensor.ndim < 2:
        raise ValueError(f"{op}: expects a tensor with at least 2 dimensions, got shape {tensor.shape}")
    rows, cols = tensor.shape[-2:]
    keep = np.tri(rows, cols, diagonal, dtype=bool)
    if not lower:
        keep = ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    return tensor.masked_fill(~keep, 0.0)


def tril(tensor, diagonal: int = 0):
    """The lower triangle of the last two dims (entries j - i <= diagonal kept, the rest 0), as
    ``torch.tril``; the gradient passes where the entries were kept."""
    return _triangle("tril", tensor, diagonal, lower=True)


def triu(tensor, diagonal: int = 0):
    """The upper triangle of the last two dims (entries j - i >= diagonal kept, the rest 0), as
    ``torch.triu``; the gradient passes where the entries were kept."""
    return _triangle("triu", tensor, diagonal, lower=False)


class TorchShapeMethods:
    """More PyTorch-named Tensor methods (see the module docstring)."""

    __slots__ = ()

    # ---- shape ----
    def permute(self, *dims):
        """Axes in the order ``dims`` (``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``), as
        PyTorch: one Transpose; the gradient is permuted back."""
        dims = _sizes(dims)
        ndim = self.ndim
        axes = tuple(int(d) % max(ndim, 1) for d in dims)
        if sorted(axes) != list(range(ndim)) or any(not -ndim <= d < max(ndim, 1) for d in dims):
            raise ValueError(f"permute: {dims} is not a permutation of the {ndim} dims of shape {self.shape}")
        return shape_ops.Transpose.apply(self, axes=axes)

    def expand(self, *sizes):
        """A broadcast to ``sizes`` (-1 keeps that dim's size; new dims go in front), as PyTorch's
        ``expand``; the gradient is summed back. Unlike PyTorch the result is a read-only view."""
        sizes = _sizes(sizes)
        shape = self.shape
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer dims than shape {shape}")
        target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        if any(n < 0 for n in target):
            raise ValueError(f"expand: -1 is not allowed for a new leading dim: {sizes}")
        return self.broadcast_to(target)

    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Pieces along ``dim``, as ``torch.split`` (see ``autograd.split``)."""
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most ``chunks`` pieces along ``dim``, as ``torch.chunk`` (see ``autograd.chunk``)."""
        return chunk(self, chunks, dim)

    def contiguous(self):
        """This tensor (NumPy arrays need no layout change for any op here), as a no-op."""
        return self

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` (a boolean array or Tensor, broadcast to this shape) is True,
        this tensor elsewhere, as PyTorch: one Where; the gradient passes where mask is False.

        A Tensor mask holds floats here (tensors are floating): its nonzero entries count as True.
        """
        mask = mask.data != 0 if hasattr(mask, "requires_grad") else np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, self.shape)
        except ValueError:
            raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast to {self.shape}") from None
        return ew.Where.apply(self._operand(value), self, condition=mask)

    def tril(self, diagonal: int = 0):
        """The lower triangle (see ``autograd.tril``)."""
        return tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        """The upper triangle (see ``autograd.triu``)."""
        return triu(self, diagonal)

    def cumsum(self, dim: int):
        """Running sums along ``dim``, as ``torch.cumsum``; one Cumsum node (gradient: the reversed
        running sum of the gradient)."""
        return Cumsum.apply(self, axis=_dim("cumsum", dim, self.ndim))

    # ---- statistics ----
    def var(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None, axis=None,
            keepdims=None):
        """Variance over ``dim`` (None: all): sum((x - mean)^2) / (n - correction), as PyTorch.

        ``correction`` defaults to 1 (``unbiased=True``; ``unbiased=False`` is 0).
        ``axis``/``keepdims`` are NumPy's names. Composed of Mean, Sub, Mul and Sum, so the
        gradient, 2 (x - mean) / (n - correction), and its own are recorded.
        """
        if axis is not None:
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        if correction is None:
            correction = 1 if unbiased else 0
        axes = reduce.normalize_axis(dim, self.shape, "var")
        count = self.size if axes is None else int(np.prod([self.shape[a] for a in axes], dtype=np.int64))
        centred = self - self.mean(axis=axes, keepdims=True)
        return (centred * centred).sum(axis=axes, keepdims=bool(keepdim)) / max(count - correction, 0)

    def std(self, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None, axis=None,
            keepdims=None):
        """Standard deviation, sqrt(var(...)) with the same arguments, as PyTorch."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    # ---- dtype ----
    def float(self):
        """This tensor as float32 (a Cast, differentiable; itself when already float32)."""
        return self if self.dtype == np.float32 else ew.Cast.apply(self, dtype=np.float32)

    def double(self):
        """This tensor as float64 (a Cast, differentiable; itself when already float64)."""
        return self if self.dtype == np.float64 else ew.Cast.apply(self, dtype=np.float64)

    # ---- questions ----
    def tolist(self):
        """The data as nested Python lists (a number for a 0-d tensor)."""
        return self.data.tolist()

    def dim(self) -> int:
        """The number of dims (``ndim``)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements (``size``, NumPy's name for it)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no recorded op made (made by the user, or under no_grad), as PyTorch."""
        return self.op is None


from .ops import elementwise as ew, reduce, shape as shape_ops  # noqa: E402  (the ops import Tensor)
from .ops.cumulative import Cumsum  # noqa: E402
