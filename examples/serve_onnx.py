"""Classify the MNIST test set with an ONNX model in onnxruntime: no dagrad in the loop.

    python examples/mnist.py --export-onnx mnist.onnx    # train, then export
    python examples/serve_onnx.py mnist.onnx             # accuracy and time, in onnxruntime

The raw pixels are scaled as the model was trained (the preset's scaling and the
training set's mean and std, from the file's metadata: see mnist_helpers/export.py) and shaped as
the model's input says: (N, 784) for an MLP, (N, 1, 28, 28) for the CNN presets. dagrad's
loader reads the test set; the model runs in onnxruntime only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from mnist import standardize  # noqa: E402
from nn.datasets import load_mnist, scale_symmetric  # noqa: E402


def preprocess(images: np.ndarray, metadata: dict, input_shape) -> np.ndarray:
    """Raw uint8 images as the exported model expects them: scaled, typed and shaped."""
    dtype = metadata.get("dagrad.dtype", "float32")
    if metadata.get("dagrad.scaling") == "symmetric":
        scaled = scale_symmetric(images, dtype)
    elif metadata.get("dagrad.scaling") == "standardize":
        scaled = standardize(images, float(metadata["dagrad.mean"]), float(metadata["dagrad.std"]), dtype)
    else:
        raise ValueError("the model's metadata does not say how to scale the pixels (export it with "
                         "examples/mnist.py --export-onnx)")
    return scaled.reshape(len(images), *input_shape[1:])


def evaluate(path, data_dir=None, batch_size: int | None = None) -> dict:
    """Accuracy and inference seconds of the ONNX model at ``path`` on the 10,000 test images,
    ``batch_size`` per call (by default all at once for an MLP, 1,000 at a time for images:
    a CNN's first feature maps of 10,000 images would take several hundred megabytes)."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("serve_onnx.py needs onnxruntime: pip install onnxruntime") from error
    session = onnxruntime.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    images, labels = load_mnist("test", root=data_dir)
    model_input = session.get_inputs()[0]
    x = preprocess(images, metadata, model_input.shape)
    batch_size = batch_size or (10000 if x.ndim == 2 else 1000)
    start = time.perf_counter()
    logits = np.concatenate([session.run(None, {model_input.name: x[i:i + batch_size]})[0]
                             for i in range(0, len(x), batch_size)])
    seconds = time.perf_counter() - start
    correct = int((logits.argmax(axis=1) == labels).sum())
    return {"correct": correct, "total": len(labels), "accuracy": correct / len(labels), "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Classify the MNIST test set with an ONNX model.")
    parser.add_argument("model", help="the .onnx file (examples/mnist.py --export-onnx PATH writes one)")
    parser.add_argument("--data", help="directory with the MNIST files (default: $MNIST_DIR, then a cache)")
    parser.add_argument("--batch-size", type=int, help="images per onnxruntime call (default: 10,000 for an MLP, "
                        "1,000 for a CNN)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.model):
        parser.error(f"no ONNX file {args.model!r}")
    try:
        result = evaluate(args.model, args.data, args.batch_size)
    except (OSError, ValueError) as error:  # missing MNIST files, a model without its metadata: one line
        print(f"serve_onnx.py: {error}".splitlines()[0], file=sys.stderr)
        return 2
    print(f"test accuracy {result['accuracy']:.2%} ({result['correct']}/{result['total']}) "
          f"in {result['seconds'] * 1000:.0f} ms with onnxruntime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
