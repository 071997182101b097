"""examples/mnist.py --export-onnx: the trained model as ONNX, with the preprocessing it needs.

The exported graph takes the images as the model saw them; how raw pixels become that
(the preset's scaling, with the training set's mean and std for "standardize") is
stored in the file's metadata, where examples/serve_onnx.py reads it.
"""
from __future__ import annotations

import nn
from nn.datasets import load_mnist, mean_std


def preprocessing(preset, data_dir) -> dict:
    """The metadata that says how to scale raw 0..255 pixels for this preset's model."""
    metadata = {"dagrad.preset": preset.name, "dagrad.scaling": preset.scaling, "dagrad.dtype": preset.dtype}
    if preset.scaling == "standardize":
        mean, std = mean_std(load_mnist("train", root=data_dir)[0])
        metadata.update({"dagrad.mean": repr(float(mean)), "dagrad.std": repr(float(std))})
    return metadata


def export_onnx(model, preset, data_dir, example, path) -> None:
    """Write ``model`` to ``path`` as ONNX (any batch size), traced on ``example`` (a few test images)."""
    nn.export_onnx(model, example, path, metadata=preprocessing(preset, data_dir))
