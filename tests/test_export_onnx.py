"""nn.export_onnx: every covered op alone, the MLP and CNN models, errors, atomic writes.

onnxruntime runs each exported file; its outputs must equal dagrad's (1e-5 relative,
float32) at the example's batch size and at another one.
"""
import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor, no_grad

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 3)).astype(np.float32)
MASK = np.array([True, False, True, True])


class Fn(nn.Module):
    """A module around a function of its input (the ops without a layer of their own)."""

    def __init__(self, f, name=""):
        self.f, self.name = f, name

    def forward(self, x):
        return self.f(x)


class Unexportable(ag.Function):
    """An op of the user's own: it has no ONNX form."""

    def forward(self, a):
        return a * 2.0

    def backward(self, grad):
        return grad * 2.0


class WithParameter(nn.Module):
    """f(x, p) with a parameter p of the given shape (ops recorded on a parameter, not the input)."""

    def __init__(self, f, shape):
        self.p = nn.Parameter(RNG.standard_normal(shape).astype(np.float32))
        self.f = f

    def forward(self, x):
        return self.f(x, self.p)


def batchnorm():
    layer = nn.BatchNorm1d(4)
    layer.running_mean[...] = RNG.standard_normal(4)
    layer.running_var[...] = RNG.uniform(0.5, 2.0, 4)
    layer.weight.data[...] = RNG.standard_normal(4)
    return layer


class SmallCNN(nn.Module):
    """conv, batch norm (eval: elementwise on its buffers), ReLU, max pool, avg pool, flatten, linear."""

    def __init__(self):
        self.weight = nn.Parameter(RNG.standard_normal((3, 2, 3, 3)).astype(np.float32))
        self.bias = nn.Parameter(RNG.standard_normal(3).astype(np.float32))
        self.scale = nn.Parameter(RNG.uniform(0.5, 1.5, 3).astype(np.float32))
        self.running_mean = RNG.standard_normal(3).astype(np.float32)
        self.fc = nn.Linear(3 * 2 * 2, 5)

    def forward(self, x):
        x = nn.functional.conv2d(x, self.weight, self.bias, padding=1)
        x = (x - self.running_mean[:, None, None]) * self.scale[:, None, None]
        x = nn.functional.max_pool2d(x.relu(), 2)
        x = nn.functional.avg_pool2d(x, 3, stride=2, padding=1)
        return self.fc(x.reshape(len(x), -1))


def conv(stride=1, padding=0, dilation=1, bias=True):
    return WithParameter(lambda x, w: nn.functional.conv2d(x, w, w[:, 0, 0, 0] if bias else None, stride=stride,
                                                           padding=padding, dilation=dilation), (3, 2, 3, 3))


def positive(x):
    return x * x + 0.5


# name: (make the module, the input's shape without the batch axis)
CASES = {
    "linear": (lambda: nn.Linear(4, 3), (4,)),
    "linear_no_bias": (lambda: nn.Linear(4, 3, bias=False), (4,)),
    "linear_3d": (lambda: nn.Linear(4, 3), (2, 4)),
    "matmul": (lambda: Fn(lambda x: x @ W), (4,)),
    "matmul_batched": (lambda: Fn(lambda x: x @ W), (2, 4)),
    "matmul_left": (lambda: Fn(lambda x: W.T @ x), (4, 2)),
    "add": (lambda: Fn(lambda x: x + W[:, 0] + 1.5), (4,)),
    "sub": (lambda: Fn(lambda x: 2.0 - x - W[:, 1]), (4,)),
    "mul": (lambda: Fn(lambda x: x * W[:, 0] * 3), (4,)),
    "div": (lambda: Fn(lambda x: x / 3.0 / positive(x)), (4,)),
    "neg": (lambda: Fn(lambda x: -x), (4,)),
    "pow": (lambda: Fn(lambda x: x ** 2 + positive(x) ** 0.5), (4,)),
    "pow_tensor": (lambda: Fn(lambda x: positive(x) ** x), (4,)),
    "exp": (lambda: Fn(lambda x: x.exp()), (4,)),
    "log": (lambda: Fn(lambda x: positive(x).log()), (4,)),
    "sigmoid": (lambda: nn.Sigmoid(), (4,)),
    "tanh": (lambda: nn.Tanh(), (4,)),
    "relu": (lambda: nn.ReLU(), (4,)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (4,)),
    "softmax": (lambda: nn.Softmax(), (4,)),
    "softmax_axis_1": (lambda: nn.Softmax(axis=1), (3, 4)),
    "log_softmax": (lambda: Fn(lambda x: nn.functional.log_softmax(x, axis=-1)), (4,)),
    "sum": (lambda: Fn(lambda x: x.sum(axis=1)), (4,)),
    "sum_all": (lambda: Fn(lambda x: x.sum()), (4,)),
    "sum_keepdims": (lambda: Fn(lambda x: x.sum(axis=(1, 2), keepdims=True)), (3, 4)),
    "mean": (lambda: Fn(lambda x: x.mean(axis=-1)), (3, 4)),
    "mean_batch": (lambda: Fn(lambda x: x.mean(axis=0, keepdims=True)), (4,)),
    "max": (lambda: Fn(lambda x: x.max(axis=1)), (4,)),
    "max_all": (lambda: Fn(lambda x: x.max()), (4,)),
    "reshape": (lambda: Fn(lambda x: x.reshape(x.shape[0], 12)), (3, 4)),
    "reshape_minus_one": (lambda: Fn(lambda x: x.reshape(-1, 2, 2)), (4,)),
    "flatten": (lambda: Fn(lambda x: x.reshape(len(x), -1)), (3, 2, 2)),
    "transpose": (lambda: Fn(lambda x: x.transpose(0, 2, 1)), (3, 4)),
    "transpose_all": (lambda: Fn(lambda x: x.T), (4,)),
    "swapaxes": (lambda: Fn(lambda x: x.swapaxes(-1, -2)), (3, 4)),
    "broadcast_to": (lambda: Fn(lambda x: x[:, :1].broadcast_to(x.shape)), (4,)),
    "broadcast_parameter": (lambda: WithParameter(lambda x, p: x + p.broadcast_to(x.shape), (4,)), (4,)),
    "broadcast_size_of_batch": (lambda: WithParameter(lambda x, p: x @ p.broadcast_to((3, 3)), (3,)), (3,)),
    "reshape_batch_merged": (lambda: Fn(lambda x: x.reshape(x.shape[0] * 4) * 2.0), (4,)),
    "reshape_square": (lambda: WithParameter(lambda x, p: x.reshape(len(x), 3, 2) + p.reshape(3, 3)[:, :2], (9,)),
                       (6,)),
    "repeat": (lambda: Fn(lambda x: x.repeat(2, axis=1)), (4,)),
    "repeat_counts": (lambda: Fn(lambda x: x.repeat([1, 0, 3, 1], axis=-1)), (4,)),
    "concatenate": (lambda: Fn(lambda x: ag.concatenate([x, x * 2.0], axis=1)), (4,)),
    "stack": (lambda: Fn(lambda x: ag.stack([x, -x], axis=1)), (4,)),
    "getitem_slices": (lambda: Fn(lambda x: x[:, 1:3, ::2]), (3, 4)),
    "getitem_reversed": (lambda: Fn(lambda x: x[:, ::-1]), (4,)),
    "getitem_negative": (lambda: Fn(lambda x: x[:, -3:-1]), (4,)),
    "getitem_batch_axis": (lambda: Fn(lambda x: x[1:] * 2.0 + x[-1]), (4,)),
    "getitem_int": (lambda: Fn(lambda x: x[:, 0] + x[:, -1]), (4,)),
    "getitem_array": (lambda: Fn(lambda x: x[:, [0, 2, 2]]), (4,)),
    "getitem_mask": (lambda: Fn(lambda x: x[:, MASK]), (4,)),
    "getitem_none_ellipsis": (lambda: Fn(lambda x: x[..., None, 1]), (3, 4)),
    "cast": (lambda: Fn(lambda x: x.astype(np.float64) * 2.0), (4,)),
    "where": (lambda: Fn(lambda x: ag.where(MASK, x, 0.0)), (4,)),
    "dropout": (lambda: nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)), (4,)),
    "dropout_alone": (lambda: nn.Dropout(0.5), (4,)),
    "batchnorm1d": (batchnorm, (4,)),
    "conv2d": (lambda: conv(padding=1), (2, 6, 6)),
    "conv2d_strided_dilated": (lambda: conv(stride=(2, 1), padding=(0, 2), dilation=2, bias=False), (2, 7, 6)),
    "max_pool2d": (lambda: Fn(lambda x: nn.functional.max_pool2d(x, 2)), (2, 6, 6)),
    "max_pool2d_padded": (lambda: Fn(lambda x: nn.functional.max_pool2d(x - 5.0, 3, stride=2, padding=1)),
                          (2, 7, 6)),
    "avg_pool2d_padded": (lambda: Fn(lambda x: nn.functional.avg_pool2d(x, (2, 3), stride=1, padding=1)),
                          (2, 5, 6)),
    "small_cnn": (SmallCNN, (2, 6, 6)),
    "parameter_only_ops": (lambda: WithParameter(lambda x, p: x * (p * 2.0).exp(), (4,)), (4,)),
}


def run_both(model, path, batch_sizes, dtype=np.float32, shape=(4,)):
    """Assert onnxruntime's output equals dagrad's at each batch size."""
    session = ort.InferenceSession(str(path))
    for n in batch_sizes:
        x = RNG.standard_normal((n, *shape)).astype(dtype)
        model.eval()
        with no_grad():
            expected = model(Tensor(x)).data
        (got,) = session.run(None, {"input": x})
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def export_and_run(path, make, shape, opset):
    """Export ``make()`` traced at batch 3, check the file, and run it at batch 3, 5 and 1."""
    model = make()
    nn.export_onnx(model, RNG.standard_normal((3, *shape)).astype(np.float32), path, opset=opset)
    onnx.checker.check_model(str(path), full_check=True)
    run_both(model, path, (3, 5, 1), shape=shape)


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_op_exports_and_runs_at_any_batch_size(tmp_path, case, opset):
    export_and_run(tmp_path / f"{case}.onnx", *CASES[case], opset)


def test_the_output_shape_follows_the_batch_axis_where_it_goes(tmp_path):
    nn.export_onnx(Fn(lambda x: x.T), np.zeros((3, 4), np.float32), tmp_path / "m.onnx")
    dims = onnx.load(str(tmp_path / "m.onnx")).graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value or d.dim_param for d in dims] == [4, "batch"]


def test_fixed_batch_export_keeps_the_traced_size(tmp_path):
    model = Fn(lambda x: x.reshape(x.shape[0], 12))
    nn.export_onnx(model, np.zeros((3, 3, 4), np.float32), tmp_path / "m.onnx", dynamic_batch=False)
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [3, 3, 4]
    run_both(model, tmp_path / "m.onnx", (3,), shape=(3, 4))


def test_the_fast_mlp_exports_with_its_parameter_names(tmp_path):
    model = nn.MLP([784, 256, 10])
    path = tmp_path / "mlp.onnx"
    nn.export_onnx(model, np.zeros((100, 784), np.float32), path, metadata={"scaling": "standardize"})
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.initializer] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert {p.key: p.value for p in proto.metadata_props} == {"scaling": "standardize"}
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "Relu", "Gemm", "Identity"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 784
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 10
    run_both(model, path, (100, 37), shape=(784,))


def test_float64_models_and_integer_examples(tmp_path):
    model = nn.MLP([4, 3, 2], activation="tanh", dtype="float64")
    nn.export_onnx(model, np.zeros((2, 4), np.uint8), tmp_path / "m.onnx")  # cast to the model's dtype
    run_both(model, tmp_path / "m.onnx", (2, 6), dtype=np.float64)


def test_the_modes_are_restored_after_the_trace(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4))
    model[2].eval()
    nn.export_onnx(model, np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == [True, True, True, False]


def test_an_op_without_onnx_form_names_it_and_its_module_and_writes_nothing(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), Fn(lambda x: Unexportable.apply(x)))
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"op Unexportable in module '1' \(Fn\): has no ONNX form"):
        nn.export_onnx(model, np.zeros((2, 4), np.float32), path)
    assert list(tmp_path.iterdir()) == []


def test_several_outputs(tmp_path):
    model = Fn(lambda x: (x.relu(), x.sum(axis=1)))
    nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    relu, total = session.run(["output0", "output1"], {"input": x})
    np.testing.assert_allclose(relu, np.maximum(x, 0))
    np.testing.assert_allclose(total, x.sum(axis=1), rtol=1e-5, atol=1e-6)


def test_a_constant_shaped_by_the_batch_is_refused_unless_the_batch_is_fixed(tmp_path):
    model = Fn(lambda x: x + np.ones(x.shape, np.float32))
    with pytest.raises(ValueError, match="op Add in the model .*constant whose shape follows the batch"):
        nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []
    nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx", dynamic_batch=False)
    run_both(model, tmp_path / "m.onnx", (3,))


def test_a_condition_computed_from_the_input_is_refused(tmp_path):
    model = Fn(lambda x: ag.where(x > 0, x, 0.0))  # x > 0 is a plain array: the file would hold its values
    with pytest.raises(ValueError, match="op Where .*its condition .* follows the batch"):
        nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx")


def test_a_model_that_changes_with_the_batch_size_is_refused(tmp_path):
    model = Fn(lambda x: x * 2.0 if len(x) == 3 else x.exp())
    with pytest.raises(ValueError, match="other ops at batch size 4 than at 3"):
        nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx")


def test_a_repeat_along_the_batch_is_refused_unless_the_batch_is_fixed(tmp_path):
    model = Fn(lambda x: x.repeat(2, axis=0))
    with pytest.raises(ValueError, match="op Repeat .*along the batch axis"):
        nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx")
    nn.export_onnx(model, np.zeros((3, 4), np.float32), tmp_path / "m.onnx", dynamic_batch=False)
    run_both(model, tmp_path / "m.onnx", (3,))


def test_indexing_with_two_arrays_is_refused(tmp_path):
    model = Fn(lambda x: x[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GetItem .*several integer arrays"):
        nn.export_onnx(model, np.zeros((2, 4), np.float32), tmp_path / "m.onnx")


def test_a_graph_cut_from_the_input_is_refused(tmp_path):
    model = Fn(lambda x: Tensor(x.data * 2.0))
    with pytest.raises(ValueError, match="does not depend on the input"):
        nn.export_onnx(model, np.zeros((2, 4), np.float32), tmp_path / "m.onnx")


def test_a_failed_export_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "m.onnx"
    nn.export_onnx(nn.Linear(4, 2), np.zeros((2, 4), np.float32), path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        nn.export_onnx(Fn(lambda x: Unexportable.apply(x)), np.zeros((2, 4), np.float32), path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_opset_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="opset"):
        nn.export_onnx(nn.Linear(4, 2), np.zeros((2, 4), np.float32), tmp_path / "m.onnx", opset=11)


@pytest.mark.skipif(not os.environ.get("MNIST_DIR"), reason="MNIST_DIR is not set")
def test_mnist_export_is_served_with_the_same_accuracy(tmp_path, capsys):
    sys.path.insert(0, str(EXAMPLES))
    try:
        mnist, serve = importlib.import_module("mnist"), importlib.import_module("serve_onnx")
    finally:
        sys.path.remove(str(EXAMPLES))
    path, metrics = tmp_path / "mnist.onnx", tmp_path / "metrics.json"
    assert mnist.main(["--quiet", "--epochs", "1", "--metrics-json", str(metrics), "--export-onnx", str(path)]) == 0
    dagrad_accuracy = json.loads(metrics.read_text())["test_accuracy"]
    metadata = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert metadata["dagrad.scaling"] == "standardize" and float(metadata["dagrad.std"]) > 0
    assert serve.main([str(path), "--batch-size", "4000"]) == 0
    served = serve.evaluate(path)
    assert served["correct"] == round(dagrad_accuracy * served["total"])
    assert f"({served['correct']}/10000)" in capsys.readouterr().out


@pytest.mark.parametrize("preset", ["fast", "cnn", "cnn-best"])
def test_bench_onnx_pieces_run(tmp_path, preset):
    from benchmarks import bench_onnx
    model, shape, _ = bench_onnx.model_of(preset)
    images = RNG.standard_normal((20, *shape)).astype(np.float32)
    runs = bench_onnx.contenders(model, images, str(tmp_path / "m.onnx"), batch_size=8)  # a short last call
    result = bench_onnx.race(runs, repeats=1, pause=lambda: None)
    assert set(result["seconds"]) == {"dagrad", "onnxruntime"} and result["agreement"] >= 0.9
    assert len(runs["onnxruntime"]()) == 20


def test_without_onnx_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install onnx"):
        nn.export_onnx(nn.Linear(4, 2), np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []
