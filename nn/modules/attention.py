"""MultiheadAttention, PyTorch's: projections of query, key and value, scaled dot-product
attention per head, the heads joined and projected out."""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.attention import attention_weights

from .. import functional as F
from .. import init as initializers
from .linear import Linear
from .module import Module, Parameter


def _array(mask):
    """A mask as an ndarray (a Tensor's data), or None."""
    if mask is None:
        return None
    return np.asarray(mask.data if isinstance(mask, Tensor) else mask)


def _additive(mask: np.ndarray, dtype) -> np.ndarray:
    """A mask as numbers added to the scores: a boolean one (True blocks) as -inf where True."""
    if mask.dtype == bool:
        return np.where(mask, -np.inf, 0.0).astype(dtype)
    return mask.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of width ``embed_dim // num_heads``, as PyTorch's.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` takes (L, N, E), (S, N, E), (S, N, E)
    (batch first with ``batch_first=True``, or unbatched (L, E)) and returns
    ``(attn_output, attn_weights)``: output (L, N, E), weights (N, L, S) averaged over the
    heads, or (N, num_heads, L, S) with ``average_attn_weights=False``, None when
    ``need_weights=False``. Masks are PyTorch MultiheadAttention's: a boolean ``attn_mask``
    ((L, S) or (N * num_heads, L, S)) is True where a query may NOT attend, a boolean
    ``key_padding_mask`` ((N, S)) is True at keys to ignore; float masks are added to the
    scores. ``is_causal=True`` without ``attn_mask`` masks the future (PyTorch asks for the
    mask as well). ``dropout`` drops attention weights in training; the weights returned are
    those used, after dropout, as PyTorch's.

    Parameters ``in_proj_weight`` (3E, E) (query, key, value rows, Xavier-uniform),
    ``in_proj_bias`` (3E,) (zeros), ``out_proj.weight``, ``out_proj.bias`` (zeros).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype=None, rng: np.random.Generator | None = None):
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads}), both positive")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first, self.rng = float(dropout), batch_first, rng
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        initializers.xavier_uniform_(self.in_proj_weight, rng=rng)
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, rng=rng)
        if bias:
            initializers.zeros_(self.out_proj.bias)

    def _projections(self, query, key, value) -> tuple:
        """q, k, v (N, L or S, E): one product when query, key and value are one Tensor."""
        w, b, e = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:
            qkv = F.linear(query, w, b)
            return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
        return tuple(F.linear(x, w[k * e:(k + 1) * e], None if b is None else b[k * e:(k + 1) * e])
                     for k, x in enumerate((query, key, value)))

    def _heads(self, x):
        """(N, L, E) to (N, heads, L, head_dim)."""
        n, length = x.shape[:2]
        return x.reshape(n, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _mask(self, attn_mask, key_padding_mask, shape: tuple, unbatched: bool, dtype):
        """The masks as one: a boolean array True where attention is allowed, or a float array
        added to the scores, of a shape that broadcasts to the scores ``shape`` (N, heads, L, S)."""
        n, heads, length, keys = shape
        attn_mask, key_padding_mask = _array(attn_mask), _array(key_padding_mask)
        masks = []
        if attn_mask is not None:
            allowed = [(length, keys), ((1 if unbatched else n) * heads, length, keys)]
            if attn_mask.shape not in allowed:
                raise ValueError(f"MultiheadAttention: attn_mask of shape {attn_mask.shape} should be {allowed[0]} "
                                 f"or {allowed[1]} (L, S) or (N * num_heads, L, S)")
            masks.append(attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(shape))
        if key_padding_mask is not None:
            expected = (keys,) if unbatched else (n, keys)
            if key_padding_mask.shape != expected:
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {key_padding_mask.shape} should "
                                 f"be {expected} (N, S)")
            masks.append(key_padding_mask.reshape(-1, 1, 1, keys))
        if not masks:
            return None
        if all(mask.dtype == bool for mask in masks):
            return ~np.logical_or.reduce(np.broadcast_arrays(*masks)) if len(masks) > 1 else ~masks[0]
        return sum(_additive(mask, dtype) for mask in masks)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
        like = self.in_proj_weight
        query, key, value = (x if isinstance(x, Tensor) else like._operand(x) for x in (query, key, value))
        shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        e = self.embed_dim
        if (query.ndim not in (2, 3) or not query.ndim == key.ndim == value.ndim
                or any(x.shape[-1] != e for x in (query, key, value))):
            raise ValueError(f"MultiheadAttention: query, key and value must all be (L, N, {e}) "
                             f"{'(batch first) ' if self.batch_first else ''}or all unbatched (L, {e}); got {shapes}")
        unbatched = query.ndim == 2
        same = query is key, key is value
        if unbatched:
            query, key, value = (x.reshape(1, *x.shape) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.swapaxes(0, 1) for x in (query, key, value))
        if same[0]:
            key = query
        if same[1]:
            value = key
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"MultiheadAttention: key and value need the same length and batch as each other, "
                             f"and the batch of query; got {shapes}")
        n, length, keys = query.shape[0], query.shape[1], key.shape[1]
        q, k, v = (self._heads(x) for x in self._projections(query, key, value))
        mask = self._mask(attn_mask, key_padding_mask, (n, self.num_heads, length, keys), unbatched, like.dtype)
        weights = attention_weights(q, k, mask, is_causal=is_causal and mask is None)
        if self.dropout and self.training:
            weights = F.dropout(weights, self.dropout, True, rng=self.rng)
        out = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, e)
        out = self.out_proj(out)
        if unbatched:
            out = out.reshape(length, e)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights.reshape(weights.shape[1:]) if unbatched else weights)

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")
