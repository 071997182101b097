"""A temporary stand-in for nn.Embedding and nn.LSTM (batch_first, PyTorch's names and shapes),
used by the charlm tests only while those layers are not in nn yet; see ``standin_layers``.

Built on the engine's embedding and fused LSTM-step ops; unidirectional, no dropout.
"""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.ops.embedding import embedding
from autograd.ops.nn import Linear as LinearOp
from autograd.ops.recurrent import lstm_step


class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = nn.Parameter(np.random.default_rng(0).standard_normal((num_embeddings, embedding_dim))
                                   .astype(np.float32))

    def forward(self, ids):
        return embedding(ids, self.weight)


class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, batch_first=False):
        assert batch_first
        rng, bound = np.random.default_rng(1), 1 / math.sqrt(hidden_size)
        self.hidden_size, self.num_layers = hidden_size, num_layers
        for k in range(num_layers):
            shapes = {"weight_ih": (4 * hidden_size, input_size if k == 0 else hidden_size),
                      "weight_hh": (4 * hidden_size, hidden_size), "bias_ih": (4 * hidden_size,),
                      "bias_hh": (4 * hidden_size,)}
            for name, shape in shapes.items():
                setattr(self, f"{name}_l{k}",
                        nn.Parameter(rng.uniform(-bound, bound, shape).astype(np.float32)))

    def forward(self, x, hx=None):
        n, steps = x.shape[0], x.shape[1]
        zeros = ag.Tensor(np.zeros((self.num_layers, n, self.hidden_size), np.float32))
        h0, c0 = hx if hx is not None else (zeros, zeros)
        hs, cs = [], []
        for k in range(self.num_layers):
            gates = LinearOp.apply(x, getattr(self, f"weight_ih_l{k}"), getattr(self, f"bias_ih_l{k}"))
            h, c, outs = h0[k], c0[k], []
            for t in range(steps):
                h, c = lstm_step(gates[:, t], h, c, getattr(self, f"weight_hh_l{k}"), getattr(self, f"bias_hh_l{k}"))
                outs.append(h)
            x = ag.stack(outs, axis=1)
            hs.append(h)
            cs.append(c)
        return x, (ag.stack(hs), ag.stack(cs))


@pytest.fixture
def standin_layers(monkeypatch):
    """nn.Embedding and nn.LSTM, when nn has none yet."""
    for name, layer in (("Embedding", Embedding), ("LSTM", LSTM)):
        if not hasattr(nn, name):
            monkeypatch.setattr(nn, name, layer, raising=False)
