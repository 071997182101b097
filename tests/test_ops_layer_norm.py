"""The fused layer-norm node: finite differences to first and second order over shapes and
options, the composed formula, the gradients asked for, errors, and PyTorch."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.layer_norm import layer_norm

RNG = np.random.default_rng(0)

# (input shape, normalized_shape)
CASES = [((5,), (5,)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 1, 3), 3)]
AFFINE = [(True, True), (True, False), (False, True), (False, False)]


def leaf(*shape, scale=1.0, shift=0.0, requires_grad=True):
    return Tensor(RNG.standard_normal(shape) * scale + shift, requires_grad=requires_grad)


def composed(x, shape, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    out = centred * ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5
    out = out if weight is None else out * weight
    return out if bias is None else out + bias


def inputs_for(shape, normalized, affine):
    norm = (normalized,) if isinstance(normalized, int) else normalized
    x = leaf(*shape, scale=2.0, shift=1.0)
    weight = leaf(*norm, shift=1.0) if affine[0] else None
    bias = leaf(*norm) if affine[1] else None
    return x, weight, bias, norm


@pytest.mark.parametrize("shape, normalized", CASES)
@pytest.mark.parametrize("affine", AFFINE)
def test_gradients_to_first_and_second_order(shape, normalized, affine):
    x, weight, bias, _ = inputs_for(shape, normalized, affine)
    params = [p for p in (weight, bias) if p is not None]

    def op(x, *params):
        it = iter(params)
        return layer_norm(x, normalized, next(it) if affine[0] else None, next(it) if affine[1] else None,
                          eps=1e-3)
    assert ag.gradcheck(op, [x, *params])
    assert ag.gradgradcheck(op, [x, *params])


@pytest.mark.parametrize("shape, normalized", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_the_composed_formula(shape, normalized, dtype):
    x, weight, bias, norm = inputs_for(shape, normalized, (True, True))
    x, weight, bias = (Tensor(t.data.astype(dtype), requires_grad=True) for t in (x, weight, bias))
    out, ref = layer_norm(x, normalized, weight, bias), composed(x, norm, weight, bias)
    assert out.dtype == dtype
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(out.data, ref.data, rtol=tol, atol=tol)
    upstream = RNG.standard_normal(shape)
    got = ag.grad((out * upstream).sum(), [x, weight, bias])
    want = ag.grad((ref * upstream).sum(), [x, weight, bias])
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.data, w.data, rtol=tol * 10, atol=tol * 10)


def test_only_the_gradients_asked_for():
    x, weight, bias = leaf(2, 3, requires_grad=False), leaf(3), leaf(3, requires_grad=False)
    (g,) = ag.grad(layer_norm(x, (3,), weight, bias).sum(), [weight])
    np.testing.assert_allclose(g.data, ag.grad(composed(x, (3,), weight, bias).sum(), [weight])[0].data)


def test_shape_errors_name_the_op_and_shapes():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end in .*\(4,\)"):
        layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(2,\) does not match .*\(3,\)"):
        layer_norm(x, (3,), Tensor(np.ones(2)))


@pytest.mark.parametrize("shape, normalized", CASES)
def test_against_pytorch(shape, normalized):
    torch = pytest.importorskip("torch")
    x, weight, bias, norm = inputs_for(shape, normalized, (True, True))
    upstream = RNG.standard_normal(shape)
    out = layer_norm(x, normalized, weight, bias)
    grads = ag.grad((out * upstream).sum(), [x, weight, bias])
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, weight, bias))
    tout = torch.nn.functional.layer_norm(tx, norm, tw, tb, eps=1e-5)
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for g, t in zip(grads, (tx, tw, tb)):
        np.testing.assert_allclose(g.data, t.grad.numpy(), rtol=1e-9, atol=1e-11)
