"""The 'gpt' and 'lstm' presets of examples/charlm.py in PyTorch, as one script: load, train, evaluate.

    python benchmarks/charlm_torch.py --preset gpt --seed S [--steps N]   # prints 'val_loss <nats> seconds <s>'

The recipe is read from examples/charlm_helpers/presets.py, so it is the preset's: the same
network (the GPT of benchmarks/gpt_torch.py, nanoGPT's; or embedding, LSTM and head), the
optimizer, warm-up and cosine schedule (charlm.py's own ``learning_rate``), clipping, the
same text split, the same random training windows (nn.data.RandomWindows, NumPy) and the
same evaluation windows. Timed as a whole command against ``python examples/charlm.py``:
what a user of either library waits for. Needs tiny Shakespeare (SHAKESPEARE_DIR).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

import nn  # noqa: E402  (NumPy only here: the tokenizer, the windows, the data)
from benchmarks.bench_lstm import torch_char_lstm  # noqa: E402
from benchmarks.gpt_torch import torch_gpt  # noqa: E402
from charlm import EVAL_SEED, learning_rate  # noqa: E402
from charlm_helpers.presets import PRESETS  # noqa: E402
from gpt import GPTConfig  # noqa: E402


def build(preset, vocab_size: int):
    """The preset's network in PyTorch (its default initialisation)."""
    options = preset.model_options
    if preset.model == "gpt":
        return torch_gpt(GPTConfig(vocab_size=vocab_size, **options))
    return torch_char_lstm(torch, vocab_size, options["embedding_dim"], options["hidden_size"], options["num_layers"])


def loss_of(model, inputs, targets):
    logits = model(torch.from_numpy(inputs.astype(np.int64)))
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             torch.from_numpy(targets.astype(np.int64)).reshape(-1))


def evaluate(model, preset, ids) -> float:
    """charlm.py's evaluation: the mean loss over the same random windows of ``ids``."""
    starts = np.random.default_rng(EVAL_SEED).integers(0, len(ids) - preset.block_size, size=preset.eval_windows)
    total = 0.0
    with torch.no_grad():
        for chunk in np.array_split(starts, math.ceil(len(starts) / preset.eval_batch)):
            inputs, targets = nn.data.windows_at(ids, chunk, preset.block_size)
            total += loss_of(model, inputs, targets).item() * len(chunk)
    return total / len(starts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="gpt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    preset = replace(preset, steps=args.steps if args.steps is not None else preset.steps)
    torch.manual_seed(args.seed)
    text = nn.datasets.load_shakespeare()
    tokenizer = nn.data.CharTokenizer(text)
    ids = tokenizer.encode(text)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    model = build(preset, tokenizer.vocab_size)
    params = list(model.parameters())
    if preset.optimizer == "adamw":
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": preset.weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW(groups, lr=preset.lr, betas=preset.betas)
    else:
        optimizer = torch.optim.Adam(params, lr=preset.lr, betas=preset.betas)
    batches = nn.data.RandomWindows(train_ids, preset.block_size, preset.batch_size, seed=[args.seed, 0])
    start = time.perf_counter()
    for step in range(preset.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(preset, step)
        loss = loss_of(model, *next(batches))
        optimizer.zero_grad()
        loss.backward()
        if preset.clip:
            torch.nn.utils.clip_grad_norm_(params, preset.clip)
        optimizer.step()
    seconds = time.perf_counter() - start
    print(f"val_loss {evaluate(model, preset, val_ids):.4f} seconds {seconds:.1f}")


if __name__ == "__main__":
    main()
