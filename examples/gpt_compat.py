"""Stand-ins for names that are landing in nn and Tensor (nn.Embedding, nn.LayerNorm,
F.scaled_dot_product_attention, Tensor.split, two-argument transpose), so examples/gpt.py
runs before they are merged. Temporary: removed once main has them."""
from __future__ import annotations

import numpy as np

import autograd as ag
import nn
from autograd.ops.attention import scaled_dot_product_attention as _sdpa
from autograd.ops.embedding import embedding as _embedding
from autograd.ops.layer_norm import layer_norm as _layer_norm


class Embedding(nn.Module):
    def __init__(self, num_embeddings: int, embedding_dim: int):
        self.weight = nn.Parameter(np.random.default_rng().standard_normal(
            (num_embeddings, embedding_dim)).astype(ag.get_default_dtype()))

    def forward(self, ids):
        return _embedding(ids, self.weight)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape: int, bias: bool = True):
        dtype = ag.get_default_dtype()
        self.normalized_shape = (normalized_shape,)
        self.weight = nn.Parameter(np.ones(normalized_shape, dtype=dtype))
        self.bias = nn.Parameter(np.zeros(normalized_shape, dtype=dtype)) if bias else None

    def forward(self, x):
        return _layer_norm(x, self.normalized_shape, self.weight, self.bias)


def split(x, size: int, dim: int):
    count = x.shape[dim] // size
    index = [slice(None)] * x.ndim
    parts = []
    for i in range(count):
        index[dim] = slice(i * size, (i + 1) * size)
        parts.append(x[tuple(index)])
    return parts


def transpose(x, d0: int, d1: int):
    return x.swapaxes(d0, d1)


def scaled_dot_product_attention(q, k, v, dropout_p: float = 0.0, is_causal: bool = False):
    return _sdpa(q, k, v, dropout_p=dropout_p, is_causal=is_causal)


class GELU(nn.Module):
    def __init__(self, approximate: str = "none"):
        self.approximate = approximate

    def forward(self, x):
        from autograd.ops.gelu import gelu
        return gelu(x, self.approximate)
