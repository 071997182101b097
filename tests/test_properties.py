"""Property tests: binary ops over random broadcastable shapes, against a reference that
undoes broadcasting by counting (np.bincount), independently of the engine's sum_to."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import broadcastable_shapes, mutually_broadcastable_shapes

from autograd import Tensor

# op, forward on arrays, partial derivatives (d/da, d/db) on arrays
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a * b), np.ones_like(a * b))),
    "sub": (lambda a, b: a - b, lambda a, b: (np.ones_like(a * b), -np.ones_like(a * b))),
    "mul": (lambda a, b: a * b, lambda a, b: (b + 0 * a, a + 0 * b)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b + 0 * a, -a / b ** 2)),
}
# derandomize: the same examples every run, so CI cannot turn red on a draw the last run never made.
SETTINGS = settings(max_examples=30, deadline=None, database=None, derandomize=True)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Each input element's gradient: the sum over the output elements it was copied to."""
    size = int(np.prod(shape))
    owner = np.broadcast_to(np.arange(size).reshape(shape), grad.shape)
    return np.bincount(owner.ravel(), weights=grad.ravel(), minlength=size).reshape(shape)


def values(shape, seed, divisor=False):
    rng = np.random.default_rng(seed)
    if divisor:
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.standard_normal(shape)


def check_binary(name, shape_a, shape_b, seed, dtype=np.float64):
    forward, partials = BINARY[name]
    a_data = values(shape_a, seed).astype(dtype)
    b_data = values(shape_b, seed + 1, divisor=name == "div").astype(dtype)
    a, b = Tensor(a_data, requires_grad=True), Tensor(b_data, requires_grad=True)
    out = forward(a, b)
    expected = forward(a_data, b_data)
    assert out.shape == expected.shape and out.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=tolerance)
    weights = values(expected.shape, seed + 2).astype(dtype)
    out.backward(weights)
    da, db = partials(a_data.astype(np.float64), b_data.astype(np.float64))
    for x, partial in [(a, da), (b, db)]:
        assert x.grad.shape == x.shape and x.grad.dtype == dtype
        np.testing.assert_allclose(x.grad.data, unbroadcast(weights * partial, x.shape), rtol=tolerance * 10,
                                   atol=tolerance * 10)


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 2 ** 16), float32=st.booleans())
def test_binary_ops_over_mutually_broadcastable_shapes(name, shapes, seed, float32):
    shape_a, shape_b = shapes.input_shapes
    check_binary(name, shape_a, shape_b, seed, np.float32 if float32 else np.float64)


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(data=st.data(), shape=st.lists(st.integers(1, 3), max_size=3).map(tuple), seed=st.integers(0, 2 ** 16))
def test_binary_ops_with_one_side_broadcast(name, data, shape, seed):
    other = data.draw(broadcastable_shapes(shape, min_dims=0, max_dims=3, max_side=3))
    check_binary(name, shape, other, seed)
    check_binary(name, other, shape, seed)


def test_unbroadcast_reference_itself():
    grad = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(unbroadcast(grad, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(unbroadcast(grad, (2, 1)), [[3.0], [12.0]])
    np.testing.assert_array_equal(unbroadcast(grad, ()), 15.0)
