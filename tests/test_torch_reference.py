"""PyTorch as a second reference, when it is installed: values, gradients and
Hessian-vector products of every case of tests/test_ops.py."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from test_ops import CASES

torch = pytest.importorskip("torch")


def run_torch(case, arrays):
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.torch(torch, *inputs) if case.torch else case.fn(*inputs)
    return inputs, out


def weights_like(shape, seed=3):
    return np.random.default_rng(seed).standard_normal(shape)


def as_array(value, shape):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy(force=True)   # force: abs and clamp have a ZeroTensor second derivative
    return np.zeros(shape) if value is None else value.data


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request):
    return request.param


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_torch(case, dtype):
    arrays = case.arrays(dtype)
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = case.fn(*ours)
    theirs, expected = run_torch(case, arrays)
    assert tuple(expected.shape) == out.shape
    assert str(expected.dtype) == f"torch.{np.dtype(dtype).name}" == f"torch.{out.dtype}"
    tolerance = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tolerance)
    w = weights_like(out.shape).astype(dtype)
    out.backward(w)
    expected.backward(torch.tensor(w))
    for x, t in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.data, as_array(t.grad, x.shape), **tolerance)


def test_hessian_vector_products_match_torch(case):
    arrays = case.arrays()
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs, expected = run_torch(case, arrays)
    w = weights_like(expected.shape)
    directions = [weights_like(a.shape, seed=10 + k) for k, a in enumerate(arrays)]

    first = ag.grad((case.fn(*ours) * w).sum(), ours, create_graph=True)
    projected = sum((g * v).sum() for g, v in zip(first, directions))
    second = ag.grad(projected, ours, allow_unused=True) if projected.requires_grad else [None] * len(ours)

    first_t = torch.autograd.grad((expected * torch.tensor(w)).sum(), theirs, create_graph=True)
    projected_t = sum((g * torch.tensor(v)).sum() for g, v in zip(first_t, directions))
    second_t = (torch.autograd.grad(projected_t, theirs, allow_unused=True) if projected_t.requires_grad
                else [None] * len(theirs))
    for x, g, t in zip(ours, second, second_t):
        np.testing.assert_allclose(as_array(g, x.shape), as_array(t, x.shape), rtol=1e-9, atol=1e-12)
