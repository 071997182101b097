"""Tensor: construction and the dtype policy, the array attributes, NumPy interoperability."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


# ---- construction and dtypes ----

@pytest.mark.parametrize("data, dtype", [
    ([1, 2, 3], np.float32),
    ([1.5, 2.5], np.float32),
    (3, np.float32),
    (2.5, np.float32),
    (True, np.float32),
    ([[True, False]], np.float32),
    (np.arange(3), np.float32),
    (np.arange(3, dtype=np.uint8), np.float32),
    (np.ones(2), np.float64),
    (np.ones(2, dtype=np.float32), np.float32),
    (np.ones(2, dtype=np.float16), np.float16),
    (np.float64(2.0), np.float64),
])
def test_dtype_policy(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype and isinstance(t.data, np.ndarray)
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=dtype))


def test_floating_arrays_are_not_copied():
    a = np.ones(3)
    assert Tensor(a).data is a
    assert Tensor(Tensor(a)).data is a


def test_set_default_dtype_changes_the_dtype_of_python_data():
    assert ag.get_default_dtype() == np.float32
    ag.set_default_dtype(np.float64)  # conftest restores it
    assert ag.get_default_dtype() == np.float64
    assert Tensor([1, 2]).dtype == np.float64 and Tensor(1.5).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32  # floating arrays still keep theirs
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    assert (x * 2 + 1).dtype == np.float32  # scalars take the tensor's dtype, not the default
    with pytest.raises(TypeError, match="int32"):
        ag.set_default_dtype(np.int32)


@pytest.mark.parametrize("data, named", [
    ("abc", "str"), (b"abc", "bytes"), (None, "NoneType"), (1 + 2j, "complex"), ([1j, 2], "complex"),
    (object(), "object"), (np.array([object()]), "object"), (["a", "b"], "<U1"), ([[1], [1, 2]], "list"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
])
def test_unsupported_data_raises_type_error_naming_the_type(data, named):
    with pytest.raises(TypeError, match="Tensor") as info:
        Tensor(data)
    assert named in str(info.value)


def test_complex_scalar_operand_is_rejected():
    with pytest.raises(TypeError, match="complex"):
        Tensor([1.0]) * 1j


# ---- attributes ----

def test_array_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="w")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2 and t.dtype == np.float64
    assert t.numpy() is t.data and t.name == "w" and t.requires_grad and t.grad is None and t.op is None
    assert Tensor([[4.0]]).item() == 4.0 and isinstance(Tensor([[4.0]]).item(), float)
    assert float(Tensor(2.5)) == 2.5
    with pytest.raises(ValueError, match=r"item.*\(2, 3\)"):
        t.item()
    text = repr(t * 2)
    assert "dtype=float64" in text and "op=Mul" in text
    assert "name='w'" in repr(t) and "requires_grad=True" in repr(t)


def test_detach_shares_data_and_leaves_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).detach()
    assert y.op is None and not y.requires_grad
    z = x * 2.0
    assert z.detach().data is z.data
    (y * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_astype_copies_to_another_float_dtype():
    x = Tensor([1.0, 2.0])
    assert x.astype(np.float64).dtype == np.float64 and x.dtype == np.float32


# ---- operators ----

@pytest.mark.parametrize("expression, op, value, gradient", [
    (lambda x: 2 * x, "Mul", [2.0, 4.0], [2.0, 2.0]),
    (lambda x: 1 - x, "Sub", [0.0, -1.0], [-1.0, -1.0]),
    (lambda x: 3 + x, "Add", [4.0, 5.0], [1.0, 1.0]),
    (lambda x: 4 / x, "Div", [4.0, 2.0], [-4.0, -1.0]),
    (lambda x: 2 ** x, "Pow", [2.0, 4.0], [2 * np.log(2), 4 * np.log(2)]),
    (lambda x: -x, "Neg", [-1.0, -2.0], [-1.0, -1.0]),
    (lambda x: np.ones(2) + x, "Add", [2.0, 3.0], [1.0, 1.0]),
    (lambda x: np.ones(2) - x, "Sub", [0.0, -1.0], [-1.0, -1.0]),
    (lambda x: np.full(2, 2.0) * x, "Mul", [2.0, 4.0], [2.0, 2.0]),
    (lambda x: np.ones(2) / x, "Div", [1.0, 0.5], [-1.0, -0.25]),
    (lambda x: np.ones((3, 2)) @ x, "MatMul", [3.0, 3.0, 3.0], [3.0, 3.0]),
    (lambda x: np.exp(x), "Exp", np.exp([1.0, 2.0]), np.exp([1.0, 2.0])),
    (lambda x: np.log(x), "Log", np.log([1.0, 2.0]), [1.0, 0.5]),
    (lambda x: np.tanh(x), "Tanh", np.tanh([1.0, 2.0]), 1 - np.tanh([1.0, 2.0]) ** 2),
    (lambda x: np.negative(x), "Neg", [-1.0, -2.0], [-1.0, -1.0]),
    (lambda x: np.power(x, 3), "Pow", [1.0, 8.0], [3.0, 12.0]),
    (lambda x: np.sum(x, axis=0), "Sum", 3.0, [1.0, 1.0]),
    (lambda x: np.mean(x), "Mean", 1.5, [0.5, 0.5]),
    (lambda x: np.max(x), "Max", 2.0, [0.0, 1.0]),
    (lambda x: np.reshape(x, (2, 1)), "Reshape", [[1.0], [2.0]], [1.0, 1.0]),
    (lambda x: np.transpose(x), "Transpose", [1.0, 2.0], [1.0, 1.0]),
    (lambda x: np.repeat(x, 2), "Repeat", [1.0, 1.0, 2.0, 2.0], [2.0, 2.0]),
    (lambda x: np.broadcast_to(x, (2, 2)), "BroadcastTo", [[1.0, 2.0]] * 2, [2.0, 2.0]),
    (lambda x: np.where(np.array([True, False]), x, 0.0), "Where", [1.0, 0.0], [1.0, 0.0]),
    (lambda x: np.concatenate([x, x]), "Concatenate", [1.0, 2.0, 1.0, 2.0], [2.0, 2.0]),
    (lambda x: np.stack([x, x]), "Stack", [[1.0, 2.0]] * 2, [2.0, 2.0]),
])
def test_operators_and_numpy_calls_record_ops(expression, op, value, gradient):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = expression(x)
    assert isinstance(y, Tensor) and type(y.op).__name__ == op
    np.testing.assert_allclose(y.data, value, rtol=1e-6)
    y.backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad.data, gradient, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_comparisons_return_plain_boolean_arrays():
    x, y = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([3.0, 2.0, 1.0])
    for result, expected in [(x > 1.5, [False, True, True]), (x >= 2, [False, True, True]),
                             (x < y, [True, False, False]), (x <= y, [True, True, False]),
                             (x == y, [False, True, False]), (x != y, [True, False, True]),
                             (0 < x, [True, True, True]), (np.full(3, 2.0) > x, [True, False, False]),
                             (np.isfinite(x), [True, True, True])]:
        assert type(result) is np.ndarray and result.dtype == bool
        np.testing.assert_array_equal(result, expected)
    assert {x: 1}[x] == 1  # still hashable by identity


def test_numpy_functions_without_gradient_rules_run_on_the_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert np.allclose(x, [1.0, 2.0]) and np.allclose(x * 1.0, Tensor([1.0, 2.0]))
    assert np.argmax(x) == 1 and np.zeros_like(x).shape == (2,)
    x.sum().backward()
    assert type(np.asarray(x.grad)) is np.ndarray and np.asarray(x.grad).dtype == np.float32
    with pytest.raises(TypeError, match="np.maximum"):
        np.maximum(x, 0)  # no gradient rule: refuse rather than silently cut the graph
    np.testing.assert_array_equal(np.maximum(x.detach(), 1.5), [1.5, 2.0])


def test_indexing_with_a_tensor_is_refused():
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="Tensor"):
        x[Tensor([0.0])]


# ---- errors name the op and the shape ----

@pytest.mark.parametrize("method, op", [("sum", "Sum"), ("mean", "Mean"), ("max", "Max")])
@pytest.mark.parametrize("axis", [5, -3, (0, 2)])
def test_reduction_axis_out_of_range_names_the_op_and_shape(method, op, axis):
    bad = axis if isinstance(axis, int) else 2
    message = rf"^{op}: axis {bad} is out of range for a tensor of shape \(2, 3\) \(2 dimensions\)$"
    with pytest.raises(ValueError, match=message):
        getattr(Tensor(np.ones((2, 3))), method)(axis=axis)


def test_swapaxes_out_of_range_names_transpose_and_the_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    for axes in [(0, 5), (-3, 1)]:
        with pytest.raises(ValueError, match=r"Transpose \(swapaxes\): axes .* shape \(2, 3\)"):
            x.swapaxes(*axes)
    assert x.swapaxes(-1, 0).shape == (3, 2)


def test_max_of_an_empty_tensor_names_the_op_and_shape():
    with pytest.raises(ValueError, match=r"^Max: cannot take the maximum of an empty tensor of shape \(0, 3\)$"):
        Tensor(np.ones((0, 3))).max()
    with pytest.raises(ValueError, match=r"^Max: .* over axes \(0,\) of an empty tensor of shape \(0, 3\)$"):
        Tensor(np.ones((0, 3))).max(axis=0)
    assert Tensor(np.ones((0, 3))).max(axis=1).shape == (0,)   # nothing empty to reduce: fine


def test_every_public_method_and_property_has_a_one_line_docstring():
    """STYLE.md: a one-line summary on every public name, operators included."""
    missing, long = [], []
    for name, value in vars(Tensor).items():
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if name in ("__init__", "__hash__", "__module__", "__doc__", "__slots__", "__weakref__") \
                or not (callable(value) or isinstance(value, property)):
            continue
        doc = (value.fget if isinstance(value, property) else value).__doc__
        if not doc:
            missing.append(name)
        elif len(doc.strip().splitlines()[0]) > 100:
            long.append(name)
    assert missing == [] and long == []
