"""GELU (exact and tanh) and the erf behind it: erf against math.erf in both dtypes,
finite differences to first and second order, and PyTorch's values and gradients."""
import math

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.gelu import GELU, NormalCDF, erf, gelu

RNG = np.random.default_rng(0)
POINTS = np.concatenate([np.linspace(-8, 8, 4001), RNG.standard_normal(2000) * 3, [0.0, -0.0, 1e-300, 5.99, 6.0, 40]])


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 3e-15), (np.float32, 1.2e-7)])
def test_erf_against_math_erf(dtype, tolerance):
    x = POINTS.astype(dtype)
    got = erf(x)
    assert got.dtype == dtype and got.shape == x.shape
    exact = np.array([math.erf(float(v)) for v in x])
    np.testing.assert_allclose(got, exact, rtol=0, atol=tolerance)
    clear = np.abs(exact) > 1e-14  # the accuracy is absolute: erf(0) is about 5e-16
    assert np.all(np.abs(got) <= 1) and np.array_equal(np.sign(got[clear]), np.sign(exact[clear]))


def test_erf_keeps_shape_and_odd_symmetry():
    x = RNG.standard_normal((3, 4, 5))
    np.testing.assert_array_equal(erf(-x), -erf(x))
    assert erf(np.float16([0.5])).dtype == np.float16


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4)])
def test_gradients_to_first_and_second_order(approximate, shape):
    x = Tensor(RNG.standard_normal(shape) * 2, requires_grad=True)
    op = lambda x: gelu(x, approximate)  # noqa: E731
    assert ag.gradcheck(op, [x])
    assert ag.gradgradcheck(op, [x])


def test_normal_cdf_node_to_second_order():
    x = Tensor(RNG.standard_normal(10) * 2, requires_grad=True)
    assert ag.gradcheck(NormalCDF.apply, [x])
    assert ag.gradgradcheck(NormalCDF.apply, [x])


def test_third_derivative_through_create_graph():
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    (g1,) = ag.grad(gelu(x).sum(), [x], create_graph=True)
    (g2,) = ag.grad(g1.sum(), [x], create_graph=True)
    (g3,) = ag.grad(g2.sum(), [x])
    # the second derivative of x Phi(x) is (2 - x**2) phi(x); the third by its central differences
    eps = 1e-4
    second = lambda v: (2 - v * v) * np.exp(-v * v / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    np.testing.assert_allclose(g3.data, (second(x.data + eps) - second(x.data - eps)) / (2 * eps), rtol=1e-6)


def test_bad_approximate():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        gelu(Tensor(np.zeros(2)), "erf")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_pytorch(approximate, dtype):
    torch = pytest.importorskip("torch")
    data = (RNG.standard_normal((4, 50)) * 3).astype(dtype)
    upstream = RNG.standard_normal((4, 50)).astype(dtype)
    x = Tensor(data.copy(), requires_grad=True)
    out = GELU.apply(x, approximate=approximate)
    (out * upstream).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    tout = torch.nn.functional.gelu(tx, approximate=approximate)
    (tout * torch.tensor(upstream)).sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    tol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=tol, atol=tol)
