"""The edge bugs the random programs found (issue 23), each as its smallest program, with
PyTorch's answer written out: 0-d and empty tensors on the fast paths, NaN and infinity."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.ops.batchnorm import BatchNormTrain
from nn import functional as F


def leaf(value, dtype=np.float64):
    return ag.Tensor(np.asarray(value, dtype=dtype), requires_grad=True)


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_of_a_0d_tensor(dtype):
    x = leaf(0.5, dtype)
    (x - x.relu()).sum().backward()
    assert x.grad.item() == 0.0 and x.grad.dtype == dtype


@pytest.mark.parametrize("shape", [(0, 1, 3), (2, 0), (0,)])
def test_relu_backward_of_an_empty_tensor(shape):
    x = leaf(np.zeros(shape))
    x.relu().exp().sum().backward()
    assert x.grad.shape == shape


def test_conv2d_of_a_batch_of_0():
    x, w, b = leaf(np.zeros((0, 3, 9, 8))), leaf(np.ones((4, 3, 3, 3))), leaf(np.ones(4))
    y = F.conv2d(x, w, b)
    assert y.shape == (0, 4, 7, 6)
    y.sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(w.grad.numpy(), 0.0)
    np.testing.assert_array_equal(b.grad.numpy(), 0.0)


def test_conv2d_of_a_batch_of_0_under_create_graph():
    x, w = leaf(np.zeros((0, 1, 4, 4))), leaf(np.ones((2, 1, 3, 3)))
    (grad_w,) = ag.grad(F.conv2d(x, w).sum(), [w], create_graph=True)
    np.testing.assert_array_equal(grad_w.numpy(), 0.0)


def test_conv2d_with_an_empty_kernel_raises():
    with pytest.raises(ValueError, match=r"Conv2d: weight of shape \(2, 1, 0, 3\)"):
        F.conv2d(leaf(np.zeros((1, 1, 4, 4))), leaf(np.zeros((2, 1, 0, 3))))


@pytest.mark.parametrize("name, value", [("softmax", 1.0), ("log_softmax", 0.0)])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor(name, value, dim):
    x = leaf(0.3)
    y = getattr(x, name)(dim=dim)
    assert y.shape == () and y.item() == value
    y.backward()
    assert x.grad.item() == 0.0


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0,), 0), ((0, 3), 0), ((0, 3), 1)])
def test_softmax_over_an_empty_axis(name, shape, dim):
    x = leaf(np.zeros(shape))
    y = getattr(x, name)(dim=dim)
    assert y.shape == shape
    y.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_of_a_0d_tensor_take_axis_0_and_minus_1(name, dim):
    x = leaf(2.0)
    y = getattr(x, name)(axis=dim)
    assert y.shape == () and y.item() == 2.0
    y.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("shape, axis, kept", [((0,), None, ()), ((2, 0), 1, (2,)), ((0, 3), 0, (3,))])
def test_mean_of_nothing_is_nan_silently(shape, axis, kept):
    x = leaf(np.zeros(shape))
    y = x.mean(axis=axis)
    assert y.shape == kept and np.isnan(y.numpy()).all()
    y.sum().backward()
    assert x.grad.shape == shape


def test_matmul_with_an_empty_vector():
    x = leaf(np.zeros((0, 0)))
    (x @ leaf(np.zeros(0))).sum().backward()
    assert x.grad.shape == (0, 0)


def test_linear_with_0_features():
    x, w = leaf(np.zeros((3, 4, 0))), leaf(np.zeros((2, 0)))
    y = F.linear(x, w)
    np.testing.assert_array_equal(y.numpy(), np.zeros((3, 4, 2)))
    y.sum().backward()
    assert x.grad.shape == (3, 4, 0) and w.grad.shape == (2, 0)


def test_batch_norm_of_a_batch_of_0():
    x, w, b = leaf(np.zeros((0, 3, 2, 2))), leaf(np.ones(3)), leaf(np.zeros(3))
    y = BatchNormTrain.apply(x, w, b, eps=1e-5)
    assert y.shape == (0, 3, 2, 2)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 0.0)


@pytest.mark.parametrize("loss, target", [(F.binary_cross_entropy, np.zeros((0, 2))),
                                          (F.binary_cross_entropy_with_logits, np.zeros((0, 2))),
                                          (F.cross_entropy, np.zeros(0, int))])
def test_mean_loss_of_a_batch_of_0_is_nan_silently(loss, target):
    x = leaf(np.zeros((0, 2)))
    y = loss(x, target)
    assert np.isnan(y.item())
    y.backward()
    assert x.grad.shape == (0, 2)


# ---- NaN and infinity: PyTorch's gradients, no RuntimeWarning ----

def test_relu_passes_the_gradient_at_a_nan():
    x = leaf([np.nan, -1.0, 2.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("step, flat_at", [(lambda t: t.relu(), -1.0), (lambda t: t.clamp(max=1.0), 2.0)])
def test_relu_and_clamp_stop_a_nan_gradient_where_they_are_flat(step, flat_at):
    x = leaf([flat_at, 0.5])
    (step(x) * ag.Tensor([np.nan, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


def test_relu_stops_a_nan_gradient_in_pieces():
    """ReLU's backward on a large array goes a piece at a time, in place: NaN * 0 is put back to 0."""
    x = leaf(np.tile([-1.0, 2.0], 1 << 16))
    upstream = np.full(x.shape, np.nan)
    upstream[1::2] = 1.0
    (x.relu() * ag.Tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:4], [0.0, 1.0, 0.0, 1.0])


def test_abs_gradient_at_a_nan_is_0():
    x = leaf([np.nan, -2.0, 0.0])
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -1.0, 0.0])


def test_softmax_with_an_infinity():
    y = leaf([np.inf, 1.0]).softmax(dim=0)
    assert np.isnan(y.numpy()).all()  # inf - inf, as PyTorch


def test_max_with_a_nan_has_nan_gradients():
    x = leaf([1.0, np.nan, 3.0])
    y = x.max(axis=0)
    assert np.isnan(y.item())
    y.backward()
    assert np.isnan(x.grad.numpy()).all()  # PyTorch's amax: 0/0 ties


@pytest.mark.parametrize("op", [
    lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2, padding=1), lambda x: F.unfold(x, 2),
    lambda x: BatchNormTrain.apply(x, leaf(np.ones(2)), leaf(np.zeros(2)), eps=1e-5),
    lambda x: F.conv2d(x, leaf(np.ones((3, 2, 2, 2)))), lambda x: x.softmax(dim=1), lambda x: x.relu()])
def test_second_derivatives_of_a_batch_of_0(op):
    x = leaf(np.zeros((0, 2, 4, 4)))
    (grad,) = ag.grad((op(x) ** 2).sum(), [x], create_graph=True)
    grad.sum().backward()
    assert grad.shape == x.shape == x.grad.shape


def test_cross_entropy_of_no_classes_raises():
    with pytest.raises(ValueError, match=r"CrossEntropy: logits of shape \(2, 0\)"):
        F.cross_entropy(leaf(np.zeros((2, 0))), np.zeros((2, 0)))


def test_sigmoid_of_a_large_array_with_nan_and_infinities():
    """The large-array path (exp left to overflow, silenced) against the small one, in float32."""
    special = np.array([-np.inf, np.nan, np.inf, -1e4, 1e4, 0.5], np.float32)
    large = leaf(np.tile(special, 500)[::-1], np.float32)
    small = leaf(special[::-1], np.float32)
    y = large.sigmoid()
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy()[:6], small.sigmoid().numpy())
    y.sum().backward()
    assert large.grad.dtype == np.float32
