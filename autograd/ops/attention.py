"""Scaled dot-product attention: two batched matrix products around a masked softmax.

Only the softmax is a new node; the products, the scale, a float mask and dropout are
the engine's own ops, so everything is differentiable to any order. The softmax leaves
out the positions a boolean mask disallows and, as PyTorch's scaled_dot_product_attention
does, gives zeros (not NaN) in a row where nothing is allowed.
"""
from __future__ import annotations

import math

import numpy as np

from .. import random as engine_random
from .nn import Softmax, _max, _softmax_axis

_OP = "scaled_dot_product_attention"


class MaskedSoftmax(Softmax):
    """softmax along ``axis`` over the positions where ``mask`` (broadcast to the input) is
    True, 0 elsewhere; a row with no allowed position, or only -inf scores, is all 0.

    d/da = y * (grad - sum(grad * y)), from the output y (0 at the masked positions).
    """

    def __init__(self, axis: int = -1, mask: np.ndarray | None = None):
        super().__init__(axis)
        self.mask = mask

    def attributes(self) -> dict:
        return {"axis": self.axis, "mask": None if self.mask is None else self.mask.shape}

    def forward(self, a):
        out = a.copy() if self.mask is None else np.where(self.mask, a, -np.inf).astype(a.dtype, copy=False)
        axis = _softmax_axis(out, self.axis, "MaskedSoftmax")
        shift = np.array(_max(out, axis))
        shift[shift == -np.inf] = 0  # an empty row: exp(-inf - 0) = 0 rather than NaN
        out -= shift
        np.exp(out, out=out)
        total = out.sum(axis=axis, keepdims=True)
        total[total == 0] = 1
        out /= total
        self.save(out, axis)
        return out


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """True when an array of ``shape`` broadcasts to ``target`` without growing it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def masked_softmax(x, mask: np.ndarray | None = None, axis: int = -1):
    """softmax of Tensor ``x`` along ``axis`` (any rank), leaving out where ``mask`` is False."""
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if not _broadcasts_to(mask.shape, x.shape):
            raise ValueError(f"MaskedSoftmax: mask of shape {mask.shape} does not broadcast to the input's "
                             f"shape {x.shape}")
    return MaskedSoftmax.apply(x, axis=axis, mask=mask)


def _check_shapes(query, key, value) -> tuple:
    """The batch shape of the scores; a ValueError naming the op and the shapes otherwise."""
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"{_OP}: query, key and value need at least 2 dimensions (..., L or S, E); got {shapes}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{_OP}: query and key need the same embedding size (last axis); got {shapes}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{_OP}: key and value need the same sequence length (axis -2); got {shapes}")
    try:
        return np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{_OP}: the batch dimensions of {shapes} do not broadcast") from None


def attention_weights(query, key, attn_mask=None, is_causal: bool = False, scale: float | None = None):
    """softmax(query @ key^T * scale + mask) over the keys, shape (..., L, S), before dropout.

    ``attn_mask``: a boolean array (True where attention is allowed) or a float array or
    Tensor added to the scores; ``is_causal`` allows key j for query i when j <= i.
    """
    length, keys = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query * scale) @ key.swapaxes(-1, -2)
    allowed = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{_OP}: pass attn_mask or is_causal=True, not both")
        allowed = np.tril(np.ones((length, keys), dtype=bool))
    elif attn_mask is not None:
        mask_shape = tuple(np.shape(attn_mask))
        if not _broadcasts_to(mask_shape, scores.shape):
            raise ValueError(f"{_OP}: attn_mask of shape {mask_shape} does not broadcast to the attention "
                             f"scores of shape {scores.shape} (..., L, S)")
        if isinstance(attn_mask, np.ndarray) and attn_mask.dtype == bool:
            allowed = attn_mask
        else:
            scores = scores + attn_mask
    return MaskedSoftmax.apply(scores, axis=-1, mask=allowed)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 rng: np.random.Generator | None = None):
    """PyTorch's F.scaled_dot_product_attention: softmax(q k^T * scale + mask) v.

    Shapes (..., L, E), (..., S, E), (..., S, Ev) to (..., L, Ev), batch axes broadcast;
    ``scale`` defaults to 1 / sqrt(E). A boolean ``attn_mask`` is True where attention is
    allowed, a float one is added to the scores; ``is_causal`` masks the future (top-left
    aligned, as PyTorch). A query allowed no key gets zeros. ``dropout_p`` drops attention
    weights (kept ones scaled by 1 / (1 - p)), drawn from ``rng`` or the engine's default
    generator (``ag.manual_seed``).
    """
    _check_shapes(query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{_OP}: dropout_p must lie in [0, 1], got {dropout_p}")
    weights = attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        generator = engine_random.default_rng() if rng is None else rng
        keep = generator.random(weights.shape) >= dropout_p
        factor = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
        weights = weights * (keep * factor).astype(weights.dtype)
    return weights @ value
