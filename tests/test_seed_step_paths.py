"""The hot paths of the seed MLP's step: the logistic loss's gradient from the kept exp(-|z|),
Sigmoid's one-array rule, Linear's three-input record, and the 0-d loss's seed."""
import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_loss_gradient_is_sigmoid_minus_target_at_extremes(dtype):
    z = np.array([[-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0]], dtype=dtype)
    y = np.array([[0, 1, 0, 1, 0, 1, 0]], dtype=dtype)
    logits = ag.Tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, y, reduction="sum")
    loss.backward()
    with np.errstate(over="ignore"):
        expected = (1.0 / (1.0 + np.exp(-z.astype(np.float64))) - y).astype(dtype)
    assert logits.grad.dtype == dtype and loss.dtype == dtype
    np.testing.assert_allclose(logits.grad.data, expected, rtol=1e-6, atol=np.finfo(dtype).eps)


def test_logits_loss_broadcast_target_and_nan():
    logits = ag.Tensor(np.array([[0.5], [np.nan]]), requires_grad=True)
    target = ag.Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    with pytest.warns(UserWarning):
        F.binary_cross_entropy_with_logits(logits, target, reduction="mean").backward()
    s = 1.0 / (1.0 + np.exp(-0.5))
    np.testing.assert_allclose(logits.grad.data[0], [((s - 0.0) + (s - 1.0)) / 4])
    assert np.isnan(logits.grad.data[1, 0])
    np.testing.assert_allclose(target.grad.data, [[-(0.5 + np.nan) / 4] * 2], equal_nan=True)


def test_sigmoid_rule_on_arrays_scalars_and_second_order():
    x = ag.Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    y = x.sigmoid()
    (g,) = ag.grad(y.sum(), [x], create_graph=True)
    s = 1.0 / (1.0 + np.exp(-x.data))
    np.testing.assert_allclose(g.data, s * (1 - s))
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, s * (1 - s) * (1 - 2 * s))
    scalar = ag.Tensor(np.array(0.3), requires_grad=True)
    scalar.sigmoid().backward()
    sv = 1.0 / (1.0 + np.exp(-0.3))
    np.testing.assert_allclose(scalar.grad.data, sv * (1 - sv))


def test_linear_records_three_inputs_with_their_own_needs():
    layer = nn.Linear(3, 2, dtype=np.float64)
    x = ag.Tensor(np.ones((4, 3)))
    out = layer(x)
    assert out.op.needs_input_grad == (False, True, True)
    out.sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(layer.bias.grad.data, [4.0, 4.0])
    np.testing.assert_allclose(layer.weight.grad.data, np.full((2, 3), 4.0))


def test_zero_d_loss_seed_is_a_fresh_array_of_its_dtype():
    w = ag.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (w * w).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad.data, [2.0, 4.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("value", [-np.inf, -800.0, -3.0, -0.0, 0.0, 2.5, 800.0, np.inf, np.nan])
def test_sigmoid_of_one_value_as_an_array_and_as_0_d(dtype, value):
    from autograd.ops.elementwise import sigmoid_array
    with np.errstate(over="ignore"):
        expected = dtype(1.0 / (1.0 + np.exp(-np.float64(value))))
    for a in (np.array(value, dtype), np.array([value], dtype)):
        out = sigmoid_array(a)
        assert type(out) is np.ndarray and out.shape == a.shape and out.dtype == dtype
        np.testing.assert_allclose(out.reshape(()), expected, rtol=2 * np.finfo(dtype).eps, atol=0)
