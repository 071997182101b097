"""Embedding: a table of vectors looked up by integer id (PyTorch's torch.nn.modules.sparse)."""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.embedding import embedding_ids, padding_row

from .. import functional as F
from .. import init as initializers
from .module import Module, Parameter


class Embedding(Module):
    """``weight[ids]``: a (num_embeddings, embedding_dim) table, one row per id, for ids of
    any shape (an integer array, or a Tensor of whole numbers); the output has shape
    ``ids.shape + (embedding_dim,)``.

    ``weight`` is drawn from N(0, 1), as PyTorch's; the ``padding_idx`` row (if given)
    starts at zero and gets no gradient. An id out of range raises IndexError naming the
    layer, the id and the size.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=None,
                 rng: np.random.Generator | None = None):
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(f"Embedding: num_embeddings and embedding_dim must be positive, got "
                             f"{num_embeddings} and {embedding_dim}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_row(padding_idx, num_embeddings, "Embedding")
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        initializers.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, ids) -> Tensor:
        ids = embedding_ids(ids, self.num_embeddings, f"Embedding({self.num_embeddings}, {self.embedding_dim})")
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
