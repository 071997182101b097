"""The sequence layers of nn.functional: embedding, layer_norm, gelu, scaled_dot_product_attention.

Each is the engine's node (``autograd/ops/embedding.py``, ``layer_norm.py``, ``gelu.py``,
``attention.py``) behind PyTorch's signature; arguments that are not Tensors become
constant Tensors.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor, as_tensor
from autograd.ops import attention, embedding as lookup
from autograd.ops.gelu import GELU
from autograd.ops.layer_norm import layer_norm as _layer_norm

from .layers import _tensor


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """``weight[input]``: one row of ``weight`` (num_embeddings, embedding_dim) per id, for
    ids of any shape (an integer array, or a Tensor of whole numbers). Repeated ids add
    their gradients; the ``padding_idx`` row gets none. An id out of range raises
    IndexError naming the id and the size."""
    weight = weight if isinstance(weight, Tensor) else as_tensor(weight)
    return lookup.embedding(input, weight, padding_idx)


def layer_norm(input, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """``input`` normalised over its last ``len(normalized_shape)`` axes (mean 0, biased
    variance 1, ``eps`` inside the square root), then scaled by ``weight`` and shifted by
    ``bias`` (each of shape ``normalized_shape``, optional); one node."""
    return _layer_norm(_tensor(input), normalized_shape, weight, bias, eps)


def gelu(input, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the standard normal CDF), or with ``approximate="tanh"``
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3))), PyTorch's; one node."""
    return GELU.apply(_tensor(input), approximate=approximate)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 rng: np.random.Generator | None = None) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value, PyTorch's: (..., L, E), (..., S, E),
    (..., S, Ev) to (..., L, Ev). A boolean ``attn_mask`` is True where attention is
    allowed, a float one is added to the scores; ``is_causal`` masks the future; ``scale``
    defaults to 1 / sqrt(E); ``dropout_p`` drops attention weights (from ``rng``)."""
    query = _tensor(query)
    return attention.scaled_dot_product_attention(query, _tensor(key, query), _tensor(value, query), attn_mask,
                                                  dropout_p, is_causal, scale, rng)


__all__ = ["embedding", "layer_norm", "gelu", "scaled_dot_product_attention"]
