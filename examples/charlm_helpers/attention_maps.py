"""The attention of every head of a GPT (examples/gpt.py) over a prompt, and its heat maps."""
from __future__ import annotations

import os

import numpy as np

from autograd import Tensor, no_grad
from autograd.ops.attention import attention_weights


def attention_maps(model, ids) -> np.ndarray:
    """(n_layer, n_head, T, T): how much each position (row) attends to each earlier one
    (column), for one sequence of token ids (T <= block_size)."""
    ids = np.asarray(ids, dtype=np.int64).reshape(1, -1)
    T, C, heads = ids.shape[1], model.config.n_embd, model.config.n_head
    tf, maps = model.transformer, []
    with no_grad():
        x = tf["wte"](ids) + tf["wpe"](np.arange(T))
        for block in tf["h"]:
            qkv = block.attn.c_attn(block.ln_1(x)).data
            q, k = (qkv[..., i * C:(i + 1) * C].reshape(1, T, heads, C // heads).swapaxes(1, 2) for i in (0, 1))
            maps.append(attention_weights(Tensor(q), Tensor(k), is_causal=True).data[0])
            x = block(x)
    return np.stack(maps)


def plot_attention(model, ids, labels, path) -> str:
    """Heat maps of ``attention_maps``, one per layer (rows) and head (columns), written to
    ``path`` (returned); ``labels`` are the tokens' characters."""
    from common_helpers.plotting import pyplot
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    maps = attention_maps(model, ids)
    layers, heads, T, _ = maps.shape
    fig, axes = plt.subplots(layers, heads, figsize=(2.4 * heads, 2.4 * layers), squeeze=False)
    ticks = [repr(c)[1:-1] for c in labels]
    for (layer, head), ax in np.ndenumerate(axes):
        ax.imshow(maps[layer, head], cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"layer {layer}, head {head}", fontsize=8)
        ax.set_xticks(range(T), ticks, fontsize=5, rotation=90)
        ax.set_yticks(range(T), ticks, fontsize=5)
    fig.suptitle("attention of each head: row = the position reading, column = the position read")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
