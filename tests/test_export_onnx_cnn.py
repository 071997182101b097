"""nn.export_onnx for the CNN layers and ops: each alone (unfold and fold too), batch norm as one named
BatchNormalization, outputs that are strided views, and the cnn / cnn-best presets' models.

onnxruntime's outputs must equal dagrad's (1e-5 relative, float32) at the example's batch
size and at others (the batch axis is dynamic).
"""
import functools
import importlib
import json
import os
import sys

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import functional as F
from nn.datasets import load_mnist, mean_std

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from test_export_onnx import EXAMPLES, Fn, export_and_run, run_both  # noqa: E402 (after the skips)

RNG = np.random.default_rng(14)
IMAGES = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)  # constant images, (N, C, H, W)
KERNEL = RNG.standard_normal((2, 3, 3, 2)).astype(np.float32)


def with_statistics(layer):
    """A batch norm layer with running statistics, scale and shift far from their initial values."""
    channels = layer.num_features
    layer.running_mean[...] = RNG.standard_normal(channels)
    layer.running_var[...] = RNG.uniform(0.5, 2.0, channels)
    layer.weight.data[...] = RNG.standard_normal(channels)
    layer.bias.data[...] = RNG.standard_normal(channels)
    return layer


class TwiceThrough(nn.Module):
    """One batch norm called twice: two BatchNormalization nodes sharing one set of initializers."""

    def __init__(self):
        self.norm = with_statistics(nn.BatchNorm2d(2))

    def forward(self, x):
        return self.norm(self.norm(x).relu())


def shifted(layer, shift=-5.0):
    """``layer`` after ``x + shift``: every value negative, so max pooling's padding must be -inf, not 0."""
    return nn.Sequential(Fn(lambda x: x + shift), layer)


# name: (make the module, the input's shape without the batch axis)
LAYERS = {
    "conv2d": (lambda: nn.Conv2d(2, 3, 3), (2, 6, 6)),
    "conv2d_padded": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 6, 6)),
    "conv2d_strided": (lambda: nn.Conv2d(2, 4, 3, stride=2), (2, 7, 6)),
    "conv2d_dilated": (lambda: nn.Conv2d(2, 3, 3, padding=2, dilation=2), (2, 7, 7)),
    "conv2d_no_bias": (lambda: nn.Conv2d(2, 3, 3, bias=False), (2, 5, 5)),
    "conv2d_non_square": (lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
                          (2, 7, 6)),
    "conv2d_non_square_no_bias": (lambda: nn.Conv2d(1, 2, (1, 4), padding=(0, 2), bias=False), (1, 3, 5)),
    "conv2d_one_by_one": (lambda: nn.Conv2d(3, 2, 1), (3, 4, 4)),
    "max_pool2d": (lambda: nn.MaxPool2d(2), (2, 6, 6)),
    "max_pool2d_padded": (lambda: shifted(nn.MaxPool2d(3, stride=2, padding=1)), (2, 7, 6)),
    "max_pool2d_non_square": (lambda: shifted(nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1))), (2, 5, 7)),
    "avg_pool2d": (lambda: nn.AvgPool2d(2), (2, 6, 6)),
    "avg_pool2d_padded": (lambda: shifted(nn.AvgPool2d(3, stride=2, padding=1), 5.0), (2, 7, 6)),
    "avg_pool2d_non_square": (lambda: nn.AvgPool2d((3, 2), stride=(1, 2), padding=(1, 0)), (2, 5, 6)),
    "unfold": (lambda: Fn(lambda x: F.unfold(x, 3)), (2, 6, 5)),
    "unfold_strided_dilated": (lambda: Fn(lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))),
                               (2, 7, 6)),
    "fold": (lambda: Fn(lambda x: F.fold(x, (6, 5), 3)), (2 * 9, 4 * 3)),
    "fold_strided_dilated": (lambda: Fn(lambda x: F.fold(x, (7, 6), (2, 3), dilation=(2, 1), padding=1,
                                                         stride=2)), (2 * 6, 4 * 3)),
    "fold_rows_no_window_covers": (lambda: Fn(lambda x: F.fold(x, (8, 9), 3, stride=2)), (2 * 9, 3 * 4)),
    "unfold_then_fold": (lambda: Fn(lambda x: F.fold(F.unfold(x, 3, stride=2), (8, 8), 3, stride=2)), (2, 8, 8)),
    "conv_as_unfold_and_matmul": (lambda: Fn(lambda x: (KERNEL.reshape(2, -1) @ F.unfold(x, (3, 2)))
                                             .reshape(len(x), 2, 4, 4)), (3, 6, 5)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "flatten_all": (lambda: nn.Flatten(0), (2, 3, 4)),
    "flatten_batch_and_channels": (lambda: nn.Flatten(0, 1), (2, 3, 4)),
    "flatten_middle": (lambda: nn.Flatten(1, 2), (2, 3, 4)),
    "flatten_last_two": (lambda: nn.Flatten(-2, -1), (2, 3, 4)),
    "flatten_one_axis": (lambda: nn.Flatten(2, 2), (2, 3, 4)),
    "batch_norm2d": (lambda: with_statistics(nn.BatchNorm2d(3)), (3, 4, 5)),
    "batch_norm2d_eps": (lambda: with_statistics(nn.BatchNorm2d(2, eps=0.1)), (2, 3, 3)),
    "batch_norm1d": (lambda: with_statistics(nn.BatchNorm1d(4)), (4,)),
    "batch_norm_twice": (TwiceThrough, (2, 3, 3)),
    "conv_bn_relu_pool": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False),
                                                with_statistics(nn.BatchNorm2d(4)), nn.ReLU(), nn.MaxPool2d(2),
                                                nn.Flatten(), nn.Linear(4 * 3 * 3, 5)), (2, 6, 7)),
    # Conv2d's outputs are strided views of its GEMM's block: every use of one must export.
    "conv_view_transposed": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), Fn(lambda y: y.transpose(0, 2, 3, 1))),
                             (2, 5, 5)),
    "conv_view_sliced": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), Fn(lambda y: y[:, 1:, ::2, -2:])), (2, 6, 6)),
    "conv_view_reduced": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), Fn(lambda y: y.sum(axis=(2, 3)))),
                          (2, 5, 6)),
    "conv_view_into_matmul": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), Fn(lambda y: y @ KERNEL[0, 0].T)),
                              (2, 5, 4)),
    "conv_view_folded_into_a_constant": (lambda: Fn(lambda x: x + F.conv2d(IMAGES, KERNEL)[1]), (2, 3, 3)),
}


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("case", sorted(LAYERS))
def test_each_cnn_layer_exports_and_runs_at_any_batch_size(tmp_path, case, opset):
    export_and_run(tmp_path / f"{case}.onnx", *LAYERS[case], opset)


def graph_of(path):
    graph = onnx.load(str(path)).graph
    return [i.name for i in graph.initializer], [node.op_type for node in graph.node]


def test_batch_norm_is_one_node_on_the_layers_named_arrays(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), with_statistics(nn.BatchNorm2d(2, eps=1e-3)))
    nn.export_onnx(model, np.zeros((2, 1, 5, 5), np.float32), tmp_path / "m.onnx")
    initializers, ops = graph_of(tmp_path / "m.onnx")
    assert initializers == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var"]
    assert ops == ["Conv", "BatchNormalization", "Identity"]
    (node,) = [n for n in onnx.load(str(tmp_path / "m.onnx")).graph.node if n.op_type == "BatchNormalization"]
    assert onnx.helper.get_attribute_value(node.attribute[0]) == pytest.approx(1e-3)
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "m.onnx")).graph.initializer}
    np.testing.assert_array_equal(stored["1.running_var"], model[1].running_var)


def test_batch_norm_called_twice_stores_its_arrays_once(tmp_path):
    model = TwiceThrough()
    nn.export_onnx(model, np.zeros((2, 2, 3, 3), np.float32), tmp_path / "m.onnx")
    initializers, ops = graph_of(tmp_path / "m.onnx")
    assert initializers == ["norm.weight", "norm.bias", "norm.running_mean", "norm.running_var"]
    assert ops == ["BatchNormalization", "Relu", "BatchNormalization", "Identity"]


def test_the_same_formula_outside_a_batch_norm_exports_op_by_op(tmp_path):
    norm = with_statistics(nn.BatchNorm2d(2))
    view = (-1, 1, 1)

    def by_hand(x):  # batch norm's eval formula written out in a module of its own
        scale = (1.0 / np.sqrt(norm.running_var + norm.eps)).reshape(view)
        return (x - norm.running_mean.reshape(view)) * (norm.weight.reshape(view) * scale) + norm.bias.reshape(view)

    model = Fn(by_hand)
    model.norm = norm
    nn.export_onnx(model, np.zeros((2, 2, 3, 3), np.float32), tmp_path / "m.onnx")
    assert "BatchNormalization" not in graph_of(tmp_path / "m.onnx")[1]
    run_both(model, tmp_path / "m.onnx", (2, 4), shape=(2, 3, 3))


def test_a_strided_example_input_exports(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.MaxPool2d(2))
    wide = RNG.standard_normal((3, 6, 6, 4)).astype(np.float32)
    example = wide.transpose(0, 3, 1, 2)[:, ::2]  # (3, 2, 6, 6), neither C- nor F-contiguous
    assert not example.flags.c_contiguous and not example.flags.f_contiguous
    nn.export_onnx(model, example, tmp_path / "m.onnx")
    run_both(model, tmp_path / "m.onnx", (3, 2), shape=(2, 6, 6))


def test_a_folded_conv_output_is_stored_in_row_major_order(tmp_path):
    folded = F.conv2d(IMAGES, KERNEL)[1].data  # the folded constant: a view in the conv's own (batch-last) layout
    assert not folded.flags.c_contiguous
    nn.export_onnx(LAYERS["conv_view_folded_into_a_constant"][0](), np.zeros((2, 2, 3, 3), np.float32),
                   tmp_path / "m.onnx")
    (stored,) = onnx.load(str(tmp_path / "m.onnx")).graph.initializer
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(stored), folded)


def examples(*names):
    """The example modules ``names`` (mnist, mnist_helpers.presets, serve_onnx), imported from examples/."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(str(EXAMPLES))


def preset_model(name):
    """The model examples/mnist.py builds for preset ``name`` (through its build_model), with
    batch norm statistics that are not the initial ones."""
    mnist, presets = examples("mnist", "mnist_helpers.presets")
    preset = presets.PRESETS[name]
    model = mnist.build_model(preset, np.random.RandomState(1))
    for layer in model.modules():
        if isinstance(layer, nn.BatchNorm2d):
            with_statistics(layer)
    return model, preset


@pytest.mark.parametrize("name", ["cnn", "cnn-best"])
def test_the_cnn_presets_models_export_and_run_at_any_batch_size(tmp_path, name):
    model, preset = preset_model(name)
    path = tmp_path / f"{name}.onnx"
    nn.export_onnx(model, RNG.standard_normal((2, 1, 28, 28)).astype(np.float32), path)  # as mnist.py exports
    initializers, ops = graph_of(path)
    named = [n for n in model.state_dict() if not n.endswith("num_batches_tracked")]
    assert [n for n in initializers if n != "const_0"] == named  # const_0: the flatten's target shape
    assert ops.count("Conv") == len(preset.channels) and ops.count("MaxPool") == len(preset.channels)
    assert ops.count("BatchNormalization") == (len(preset.channels) if preset.batch_norm else 0)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1, 28, 28]
    run_both(model, path, (2, preset.batch_size, 7), shape=(1, 28, 28))


@pytest.mark.skipif(not os.environ.get("MNIST_DIR"), reason="MNIST_DIR is not set")
def test_the_cnn_preset_exported_by_mnist_py_serves_with_the_same_accuracy(tmp_path, capsys):
    """mnist.py --preset cnn --load --evaluate --export-onnx, then serve_onnx.py: the same test
    accuracy. The weights: sixteen steps of the preset's training, seeded (a full epoch would
    take a minute)."""
    mnist, presets, serve = examples("mnist", "mnist_helpers.presets", "serve_onnx")
    preset = presets.PRESETS["cnn"]
    images, labels = load_mnist("train", root=os.environ["MNIST_DIR"])
    steps = 16
    train_x = mnist.standardize(images[:steps * preset.batch_size].reshape(-1, 1, 28, 28), *mean_std(images),
                                preset.dtype)
    model = mnist.build_model(preset, None)
    optimizer, schedule = mnist.make_optimizer(preset, model, steps)
    model.compile(optimizer, loss=functools.partial(mnist.loss_of, preset))
    model.fit(train_x, labels[:len(train_x)], 1, preset.batch_size, schedule=schedule, verbose=0, seed=0)
    weights, path, metrics = tmp_path / "cnn.npz", tmp_path / "cnn.onnx", tmp_path / "metrics.json"
    nn.save(model, weights)
    assert mnist.main(["--quiet", "--preset", "cnn", "--load", str(weights), "--evaluate",
                       "--metrics-json", str(metrics), "--export-onnx", str(path)]) == 0
    dagrad_accuracy = json.loads(metrics.read_text())["test_accuracy"]
    assert dagrad_accuracy > 0.6  # 82.8% here: agreeing is not agreeing on one class
    proto = onnx.load(str(path))
    assert [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == \
        ["batch", 1, 28, 28]
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["dagrad.preset"] == "cnn" and metadata["dagrad.scaling"] == "standardize"
    capsys.readouterr()
    assert serve.main([str(path), "--batch-size", "3000"]) == 0  # not a divisor of 10,000: a short last batch
    assert f"({round(dagrad_accuracy * 10000)}/10000)" in capsys.readouterr().out


def test_float64_batch_norm_and_max_pool(tmp_path):
    """onnxruntime's CPU provider has float64 BatchNormalization and MaxPool (not Conv or
    AveragePool: a float64 CNN exports, and other runtimes may run it, but not this one)."""
    model = nn.Sequential(with_statistics(nn.BatchNorm2d(2, dtype="float64")), nn.MaxPool2d(2))
    nn.export_onnx(model, np.zeros((2, 2, 4, 4)), tmp_path / "m.onnx")
    assert graph_of(tmp_path / "m.onnx")[1] == ["BatchNormalization", "MaxPool", "Identity"]
    run_both(model, tmp_path / "m.onnx", (2, 5), dtype=np.float64, shape=(2, 4, 4))
