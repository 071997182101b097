"""examples/mnist.py's CNN presets: the model, a short training on real MNIST, and every option
the MLP presets have (metrics, plots, --save / --load --evaluate, --patience)."""
from dataclasses import replace

import numpy as np
import pytest

from test_mnist_example import MNIST_DIR, PNG_SIGNATURE, example, needs_mnist, run  # noqa: F401 (fixture)


@pytest.mark.parametrize("name", ["cnn", "cnn-best"])
def test_the_cnn_presets_build_convolutional_networks(example, name):
    import nn
    from mnist_helpers.presets import PRESETS
    preset = PRESETS[name]
    model = example.build_model(preset, None)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(preset.channels)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == preset.batch_norm
    out = model(np.zeros((2, 1, 28, 28), dtype=np.float32))
    assert out.shape == (2, 10) and out.dtype == np.float32


def _short_training(example, images=6400):
    """The cnn preset for one epoch on the first ``images`` training images; (model, data, preset)."""
    from mnist_helpers.presets import PRESETS, parse_args
    from mnist_helpers.report import Report
    preset = PRESETS["cnn"]
    (train_x, train_y), valid, (test_x, test_y) = example.load_data(preset, MNIST_DIR)
    assert train_x.shape == (55000, 1, 28, 28) and test_x.shape == (10000, 1, 28, 28)
    data = ((train_x[:images], train_y[:images]), (valid[0][:1000], valid[1][:1000]), (test_x, test_y))
    args = parse_args(["--quiet", "--preset", "cnn"])
    report = Report(replace(preset, epochs=1), args)
    model = example.build_model(preset, report.rng)
    example.train(replace(preset, epochs=1), model, data, args, report)
    return model, data, report


@needs_mnist
def test_a_hundred_steps_of_the_cnn_preset_reach_93_percent_and_evaluate_from_a_file(example, tmp_path):
    import nn
    pytest.importorskip("matplotlib")
    model, data, report = _short_training(example)
    assert len(report.history) == 1 and report.history[0]["valid_accuracy"] >= 0.93
    weights = tmp_path / "cnn.npz"
    nn.save(model, weights)
    metrics = run(example, tmp_path, "--preset", "cnn", "--load", str(weights), "--evaluate",
                  "--plots", str(tmp_path / "plots"))
    assert metrics["preset"] == "cnn" and metrics["history"] == []
    assert metrics["test_accuracy"] >= 0.93, metrics["test_accuracy"]
    for name in ("misclassified.png", "confusion.png"):
        assert (tmp_path / "plots" / name).read_bytes().startswith(PNG_SIGNATURE), name
