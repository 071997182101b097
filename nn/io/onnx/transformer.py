"""The nodes of a GPT as ONNX operators: the embedding as Gather, LayerNormalization, GELU
composed (ONNX's own Gelu needs opset 20), and attention as MatMul, the mask and Softmax.

The ids of an embedding are the model's input when it is traced (a float Tensor, as every
exported input: cast to int64 in the file) or constants (positions, ``np.arange(T)``). The
sequence length is the example's: the position ids and the causal mask are constants of
that length, so a file serves any batch size at that length. A causal model exported at its
full context also serves any shorter sequence, padded: its logits at the first T positions
do not depend on what follows them (tests/test_gpt_onnx.py).
"""
from __future__ import annotations

import math

import numpy as np

from autograd.ops.attention import MaskedSoftmax
from autograd.ops.causal_attention import CausalAttention, causal_bias
from autograd.ops.embedding import Embedding
from autograd.ops.gelu import _TANH_CUBIC, _TANH_SCALE, GELU
from autograd.ops.layer_norm import LayerNorm


def _scalar(graph, fn, value: float) -> str:
    return graph.constant(np.asarray(value, dtype=fn.out.dtype))


def _embedding(graph, fn, names):
    if fn.zero_padding:
        raise graph.unsupported(fn, "the gradient of a gradient of an embedding")
    ids = (graph.add("Cast", [names[1]], to=graph.tensor_type(np.int64)) if len(names) == 2
           else graph.constant(np.asarray(fn.ids, dtype=np.int64)))
    return graph.add("Gather", [names[0], ids], axis=0)


def _layer_norm(graph, fn, names):
    """LayerNormalization over the last ``dims`` axes; a missing weight is a constant of ones."""
    x, *params = names
    shape = fn.inputs[0].shape[fn.inputs[0].ndim - fn.dims:]
    weight = params.pop(0) if fn.affine[0] else graph.constant(np.ones(shape, dtype=fn.out.dtype))
    return graph.add("LayerNormalization", [x, weight, *params], axis=-fn.dims, epsilon=float(fn.eps))


def _gelu(graph, fn, names):
    """0.5 x (1 + erf(x / sqrt 2)), or 0.5 x (1 + tanh(s x (1 + c x**2)))."""
    (x,) = names
    if fn.approximate == "none":
        inner = graph.add("Erf", [graph.add("Mul", [x, _scalar(graph, fn, math.sqrt(0.5))])])
    else:
        cubic = graph.add("Add", [graph.add("Mul", [graph.add("Mul", [x, x]), _scalar(graph, fn, _TANH_CUBIC)]),
                                  _scalar(graph, fn, 1.0)])
        inner = graph.add("Tanh", [graph.add("Mul", [graph.add("Mul", [x, cubic]), _scalar(graph, fn, _TANH_SCALE)])])
    half = graph.add("Mul", [x, _scalar(graph, fn, 0.5)])
    return graph.add("Mul", [half, graph.add("Add", [inner, _scalar(graph, fn, 1.0)])])


def _masked(graph, fn, scores: str, allowed: np.ndarray) -> str:
    """Softmax over the last axis of ``scores`` where ``allowed`` (broadcast), -inf elsewhere."""
    minus_inf = _scalar(graph, fn, -np.inf)
    return graph.add("Softmax", [graph.add("Where", [graph.constant(allowed), scores, minus_inf])], axis=-1)


def _causal_attention(graph, fn, names):
    """softmax(q k^T * scale, causal) v as MatMul, Mul, Where(mask), Softmax, MatMul."""
    q, k, v = names
    rank = fn.inputs[1].ndim
    keys_t = graph.add("Transpose", [k], perm=list(range(rank - 2)) + [rank - 1, rank - 2])
    scores = graph.add("Mul", [graph.add("MatMul", [q, keys_t]), _scalar(graph, fn, fn.scale)])
    allowed = causal_bias(fn.inputs[0].shape[-2], fn.inputs[1].shape[-2], np.float32) == 0
    return graph.add("MatMul", [_masked(graph, fn, scores, allowed), v])


def _masked_softmax(graph, fn, names):
    if fn.axis not in (-1, fn.out.ndim - 1):
        raise graph.unsupported(fn, "a masked softmax along an axis other than the last")
    if fn.mask is None:
        return graph.add("Softmax", names, axis=-1)
    return _masked(graph, fn, names[0], np.asarray(fn.mask, dtype=bool))


TRANSFORMER_CONVERTERS = {Embedding: _embedding, LayerNorm: _layer_norm, GELU: _gelu,
                          CausalAttention: _causal_attention, MaskedSoftmax: _masked_softmax}
