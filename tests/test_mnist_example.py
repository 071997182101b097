"""examples/mnist.py end to end on the real MNIST (MNIST_DIR; skipped without it), and its CLI."""
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MNIST_DIR = os.environ.get("MNIST_DIR")
needs_mnist = pytest.mark.skipif(not MNIST_DIR, reason="MNIST_DIR is not set")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example():
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("mnist")
    finally:
        sys.path.remove(str(EXAMPLES))


def run(example, tmp_path, *options) -> dict:
    metrics = tmp_path / "metrics.json"
    assert example.main(["--quiet", "--metrics-json", str(metrics), *options]) == 0
    return json.loads(metrics.read_text())


@needs_mnist
def test_one_epoch_of_fast_reaches_97_percent_and_writes_every_metric_and_plot(example, tmp_path):
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None  # the plots need the 'plot' extra
    plots = ["--plots", str(tmp_path / "plots")] if has_matplotlib else []
    metrics = run(example, tmp_path, "--preset", "fast", "--epochs", "1", *plots)
    assert metrics["test_accuracy"] >= 0.97
    for key in ("preset", "epochs", "train_accuracy", "valid_accuracy", "test_accuracy", "seconds_per_epoch",
                "history"):
        assert key in metrics
    assert metrics["preset"] == "fast" and metrics["epochs"] == 1 and len(metrics["history"]) == 1
    assert set(metrics["history"][0]) >= {"epoch", "cost", "train_accuracy", "valid_accuracy", "seconds"}
    assert all(0.0 <= metrics[k] <= 1.0 for k in ("train_accuracy", "valid_accuracy", "test_accuracy"))
    for name in ("cost.png", "accuracy.png", "misclassified.png", "confusion.png") if has_matplotlib else ():
        data = (tmp_path / "plots" / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, name


@needs_mnist
def test_seed_preset_follows_the_textbook_step_by_step(example, tmp_path):
    # The textbook's own NumPy code gives exactly these after 2 epochs (benchmarks/textbook_numpy.py).
    metrics = run(example, tmp_path, "--preset", "seed", "--epochs", "2")
    assert metrics["test_accuracy"] == pytest.approx(0.8947, abs=0.001)
    history = metrics["history"]
    assert [round(h["train_accuracy"], 4) for h in history] == pytest.approx([0.8453, 0.8834], abs=0.001)
    assert [round(h["valid_accuracy"], 4) for h in history] == pytest.approx([0.8886, 0.9174], abs=0.001)
    assert history[1]["cost"] < history[0]["cost"]


@needs_mnist
def test_saved_weights_evaluate_to_the_same_accuracy(example, tmp_path):
    weights = tmp_path / "model.npz"
    trained = run(example, tmp_path, "--preset", "seed", "--epochs", "1", "--save", str(weights))
    evaluated = run(example, tmp_path, "--preset", "seed", "--load", str(weights), "--evaluate")
    assert evaluated["test_accuracy"] == trained["test_accuracy"]
    assert evaluated["history"] == []


@pytest.mark.parametrize("name,image_shape", [("seed", (784,)), ("cnn", (1, 28, 28))])
def test_patience_stops_and_keeps_the_best_weights(example, name, image_shape):
    from mnist_helpers.presets import PRESETS
    from mnist_helpers.report import Report
    import nn
    rng = np.random.default_rng(0)
    images = rng.standard_normal((300, *image_shape))
    labels = rng.integers(0, 10, 300)
    data = ((images[:200], labels[:200]), (images[200:], labels[200:]), (images[200:], labels[200:]))
    preset = replace(PRESETS[name], lr=0.0, epochs=6, batch_size=50)  # nothing can improve after epoch 1
    args = example.parse_args(["--quiet", "--patience", "2"])
    report = Report(preset, args)
    model = example.build_model(preset, report.rng)
    first = {k: v.copy() for k, v in model.state_dict().items()}
    example.train(preset, model, data, args, report)
    assert len(report.history) == 3
    assert all(np.array_equal(first[k], v) for k, v in model.state_dict().items())
    assert isinstance(model, nn.Module)


def test_a_corrupt_data_directory_exits_2_with_one_line(tmp_path):
    # Missing files, and the hint for offline machines: tests/test_mnist_cli.py (without the network).
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"not an idx file")
    result = subprocess.run([sys.executable, str(EXAMPLES / "mnist.py"), "--data", str(tmp_path), "--quiet"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MNIST_DIR": ""})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(tmp_path) in result.stderr or "train-images" in result.stderr
