"""examples/charlm.py's model files: the weights with what sampling needs, the vocabulary and the preset.

One ``nn.save`` of a dict: ``model/...`` (the state dict, PyTorch's names), ``vocab`` (the
characters' code points, int32, sorted) and ``preset`` (its name, a string). The format is
``.npz``, or safetensors for a ``.safetensors`` path (the preset then sits in its metadata).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import nn


@dataclass
class Checkpoint:
    """What a file saved by ``save_checkpoint`` holds."""

    preset: str
    tokenizer: nn.data.CharTokenizer
    state: dict          # the model's state dict


def save_checkpoint(path, model, tokenizer, preset: str) -> None:
    """Write the model, its vocabulary and the preset's name to ``path``, atomically."""
    vocab = np.array([ord(char) for char in tokenizer.chars], dtype=np.int32)
    nn.save({"model": model, "vocab": vocab, "preset": preset}, path)


def read_checkpoint(path) -> Checkpoint:
    """The checkpoint at ``path``; OSError or nn.CheckpointError, in one line naming it, when it is
    unreadable or not one of charlm.py's."""
    state = nn.load_state(path)
    missing = [key for key in ("model", "vocab", "preset") if key not in state]
    if missing or not isinstance(state["model"], dict):
        raise nn.CheckpointError(f"{path} is not a model saved by charlm.py --save: it has no "
                                 f"{' and no '.join(missing or ['model'])} entry")
    vocab = np.asarray(state["vocab"])
    if vocab.ndim != 1 or vocab.dtype.kind not in "iu" or vocab.size == 0:
        raise nn.CheckpointError(f"{path}: its vocabulary is {vocab.dtype} of shape {vocab.shape}, "
                                 f"not a list of character codes")
    try:
        chars = "".join(chr(int(code)) for code in vocab)
    except (ValueError, OverflowError):
        raise nn.CheckpointError(f"{path}: its vocabulary holds codes that are not characters") from None
    return Checkpoint(str(np.asarray(state["preset"])), nn.data.CharTokenizer(chars), state["model"])
