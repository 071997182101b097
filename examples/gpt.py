"""A GPT in dagrad, read top to bottom as nanoGPT's model.py: a config, causal self-attention,
a GELU MLP, a block (LayerNorms and residuals), the model (token and position embeddings,
the blocks, a final LayerNorm, a head tied to the token embedding), and generate.

The names are nanoGPT's (transformer.wte, transformer.h.0.attn.c_attn, lm_head...), so a
PyTorch GPT of the same shape loads its state dict into this one, and back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import nn
from autograd import no_grad
from nn import functional as F


@dataclass
class GPTConfig:
    block_size: int = 64      # the longest context, in tokens
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False        # biases in the Linears and LayerNorms


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        if config.n_embd % config.n_head:
            raise ValueError(f"GPT: n_embd {config.n_embd} is not divisible by n_head {config.n_head}")
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v of all heads
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (B, T, C) -> (B, nh, T, hs): each head attends on its own slice of the channels
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # softmax(q k^T / sqrt(hs) + causal mask) v: token t sees tokens 0..t only
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # the heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's form; the exact one needs erf, slower here
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))  # the residual stream: each sub-layer adds to it
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),   # token embedding
            wpe=nn.Embedding(config.block_size, config.n_embd),   # position embedding
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias)))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer["wte"].weight = self.lm_head.weight  # weight tying: one matrix, two uses
        # GPT-2's initialisation: N(0, 0.02), the projections into the residual stream scaled down by depth
        for name, p in self.named_parameters():
            if p.ndim == 2:
                std = 0.02 / math.sqrt(2 * config.n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        """Token ids (B, T), T <= block_size -> logits (B, T, vocab_size)."""
        B, T = np.shape(idx)
        if T > self.config.block_size:
            raise ValueError(f"GPT: a sequence of {T} tokens is longer than block_size {self.config.block_size}")
        tf = self.transformer
        x = tf["drop"](tf["wte"](idx) + tf["wpe"](np.arange(T)))
        for block in tf["h"]:
            x = block(x)
        return self.lm_head(tf["ln_f"](x))

    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """Continue each row of ``idx`` (B, T) by ``max_new_tokens`` tokens drawn one at a time
        from softmax(logits / temperature), over the ``top_k`` likeliest only if given."""
        rng = np.random.default_rng() if rng is None else rng
        idx = np.array(idx, dtype=np.int64, ndmin=2)
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.config.block_size:]).data[:, -1, :] / temperature
                if top_k is not None:
                    kth = np.sort(logits, axis=-1)[:, -min(top_k, logits.shape[-1]), None]
                    logits = np.where(logits < kth, -np.inf, logits)
                probs = np.exp((logits - logits.max(axis=-1, keepdims=True)).astype(np.float64))
                probs /= probs.sum(axis=-1, keepdims=True)
                nxt = [rng.choice(len(p), p=p) for p in probs]
                idx = np.concatenate([idx, np.array(nxt)[:, None]], axis=1)
        return idx
