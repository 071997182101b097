"""Embedding lookup: rows of a weight gathered by integer ids, and its adjoint, the rows
of a gradient summed back by id.

The two ops are each other's gradient (both are linear), so the lookup is
differentiable to any order. Summing rows by id is the costly half: ``np.add.at`` is
slow for many repeated ids, so small tables use a one-hot matrix product and larger
ones sort the ids and add each run of equal ids with ``np.add.reduceat`` (measured on
2,048 ids of width 64 to 256: add.at 1.4-5.3 ms, bincount per column 0.4-2.4 ms,
one-hot product 0.15-0.77 ms, sort and reduceat 0.18-1.1 ms over 65 rows; the one-hot
product's cost grows with the table: at 128 rows it took twice as long as the sort).
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .nn import recorded

_ONE_HOT_ROWS = 80  # tables up to this many rows sum by a one-hot matrix product,
_ONE_HOT_LIMIT = 1 << 22  # unless the one-hot matrix would pass this many elements


def embedding_ids(ids, num_embeddings: int, op: str = "embedding") -> np.ndarray:
    """``ids`` (an integer array, or a Tensor or array of whole numbers) as an int64 array,
    each checked to lie in [0, num_embeddings); otherwise IndexError naming ``op``."""
    data = np.asarray(getattr(ids, "data", ids))
    if data.dtype.kind == "b" or data.dtype.kind not in "iuf":
        raise TypeError(f"{op}: ids must be integers, got dtype {data.dtype}")
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or np.any(data != np.floor(data)):
            raise TypeError(f"{op}: ids must be whole numbers, got a floating array that is not")
    data = data.astype(np.int64, copy=False)
    if data.size:
        low, high = int(data.min()), int(data.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: id {bad} is out of range for an embedding of size {num_embeddings} "
                             f"(ids must lie in [0, {num_embeddings - 1}])")
    return data


def padding_row(padding_idx, num_embeddings: int, op: str = "embedding"):
    """``padding_idx`` as a row number in [0, num_embeddings) (negative counts from the end, as PyTorch)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for an embedding of size "
                         f"{num_embeddings}")
    return int(padding_idx) % num_embeddings


class Embedding(Function):
    """weight[ids]: one row of ``weight`` (num_embeddings, dim) per id, shape ids.shape + (dim,).

    d/dweight = the rows of grad summed by id (EmbeddingGrad), the ``padding_idx`` row left
    at zero. ``zero_padding`` also zeroes the output where an id is ``padding_idx``: that is
    the adjoint of EmbeddingGrad, used as its gradient, not PyTorch's forward.
    """

    def __init__(self, ids: np.ndarray, padding_idx: int | None = None, zero_padding: bool = False):
        self.ids, self.padding_idx, self.zero_padding = ids, padding_idx, zero_padding

    def attributes(self) -> dict:
        return {"ids": self.ids.shape, "padding_idx": self.padding_idx}

    def forward(self, weight, ids=None):  # ids: the traced input, when exporting (the ids attribute is used)
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                             f"{weight.shape}")
        out = weight[self.ids]  # a copy (integer indexing)
        if self.zero_padding and self.padding_idx is not None:
            out[self.ids == self.padding_idx] = 0
        self.save(weight.shape[0])
        return out

    def backward(self, grad):
        (rows,) = self.saved
        if recorded(grad):
            grad_weight = EmbeddingGrad.apply(grad, ids=self.ids, rows=rows, padding_idx=self.padding_idx)
        else:
            grad_weight = scatter_rows(grad, self.ids, rows, self.padding_idx)
        return grad_weight if len(self.needs_input_grad) == 1 else (grad_weight, None)  # ids: no gradient


class EmbeddingGrad(Function):
    """zeros(rows, dim) with row ids[k] += grad[k] for every k (the ``padding_idx`` row kept 0).

    d/dgrad = its gradient gathered back by id (Embedding), zero where the id is padding.
    """

    def __init__(self, ids: np.ndarray, rows: int, padding_idx: int | None = None):
        self.ids, self.rows, self.padding_idx = ids, rows, padding_idx

    def attributes(self) -> dict:
        return {"ids": self.ids.shape, "rows": self.rows, "padding_idx": self.padding_idx}

    def forward(self, grad):
        return scatter_rows(grad, self.ids, self.rows, self.padding_idx)

    def backward(self, grad):
        if recorded(grad):
            return Embedding.apply(grad, ids=self.ids, padding_idx=self.padding_idx, zero_padding=True)
        out = grad[self.ids]
        if self.padding_idx is not None:
            out[self.ids == self.padding_idx] = 0
        return out


def scatter_rows(grad: np.ndarray, ids: np.ndarray, rows: int, padding_idx: int | None = None) -> np.ndarray:
    """The (rows, dim) array whose row r is the sum of grad's rows at the ids equal to r."""
    width = grad.shape[-1]
    flat_ids = ids.reshape(-1)
    flat = grad.reshape(-1, width)
    if rows <= _ONE_HOT_ROWS and rows * flat_ids.size <= _ONE_HOT_LIMIT:
        one_hot = np.zeros((rows, flat_ids.size), dtype=grad.dtype)
        one_hot[flat_ids, np.arange(flat_ids.size)] = 1
        out = one_hot @ flat
    else:
        order = np.argsort(flat_ids, kind="stable")
        ordered = flat_ids[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        out = np.zeros((rows, width), dtype=grad.dtype)
        if starts.size:
            out[ordered[starts]] = np.add.reduceat(flat[order], starts, axis=0)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


def embedding(ids, weight, padding_idx: int | None = None):
    """PyTorch's F.embedding: ``weight[ids]`` for ids of any shape (an integer array, or a
    Tensor of whole numbers); repeated ids add their gradients, the ``padding_idx`` row gets
    none. An id out of range raises IndexError naming the id and the size."""
    rows = weight.shape[0] if weight.ndim else 0
    data = embedding_ids(ids, rows)
    padding = padding_row(padding_idx, rows)
    if getattr(ids, "requires_grad", False):  # a traced input (export): recorded as an input, no gradient
        return Embedding.apply(weight, ids, ids=data, padding_idx=padding)
    return Embedding.apply(weight, ids=data, padding_idx=padding)
