"""The figures of docs/attention.md: the causal mask, one GPT block's graph, and (given a
model saved by ``examples/charlm.py --preset gpt --save``) the heat maps of its heads.

    python docs/make_attention_figures.py [--model gpt.npz] [OUT_DIR]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from gpt import GPT, Block, GPTConfig  # noqa: E402


def causal_mask(path: str) -> None:
    """The mask of 8 positions beside the attention of one random head under it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from autograd.ops.attention import attention_weights
    T = 8
    rng = np.random.default_rng(0)
    q, k = Tensor(rng.standard_normal((T, 4))), Tensor(rng.standard_normal((T, 4)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.4))
    left.imshow(np.tril(np.ones((T, T))), cmap="Greys", vmin=0, vmax=1.6)
    left.set_title("allowed: key j <= query i")
    right.imshow(attention_weights(q, k, is_causal=True).data, cmap="Blues", vmin=0, vmax=1)
    right.set_title("softmax of the masked scores")
    for ax in (left, right):
        ax.set_xlabel("key position j")
        ax.set_ylabel("query position i")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def block_graph(path: str) -> None:
    """One Block of a small GPT (width 16, 2 heads) on a (1, 4, 16) input, as drawn by Module.graph."""
    nn.manual_seed(0)
    block = Block(GPTConfig(n_embd=16, n_head=2))
    x = Tensor(np.random.default_rng(0).standard_normal((1, 4, 16)).astype(np.float32), name="x")
    block.graph(x).render(path[:-len(".svg")], format="svg", cleanup=True)


def heads(model_path: str, path: str, prompt: str = "ROMEO:\nBut soft, what light") -> None:
    from charlm_helpers.attention_maps import plot_attention
    state = nn.load_state(model_path)
    chars = list(str(state["chars"]) if np.ndim(state["chars"]) == 0 else state["chars"])
    model = GPT(GPTConfig(vocab_size=len(chars)))
    model.load_state_dict(state["model"])
    lut = {c: i for i, c in enumerate(chars)}
    plot_attention(model, [lut[c] for c in prompt], prompt, path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default=os.path.join(ROOT, "docs", "figures"))
    parser.add_argument("--model", help="a trained GPT (examples/charlm.py --save) for the heads' heat maps")
    args = parser.parse_args(argv)
    causal_mask(os.path.join(args.out, "causal_mask.svg"))
    block_graph(os.path.join(args.out, "gpt_block.svg"))
    if args.model:
        heads(args.model, os.path.join(args.out, "gpt_heads.png"))


if __name__ == "__main__":
    main()
