"""The fused training-mode batch norm node: finite differences to first and second order,
the unfused formula, the statistics it hands back, and PyTorch when installed."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.ops.batchnorm import BatchNormTrain

RNG = np.random.default_rng(0)


def leaf(*shape, scale=1.0, shift=0.0):
    return Tensor(RNG.standard_normal(shape) * scale + shift, requires_grad=True)


def unfused(x, weight, bias, eps=1e-5):
    """The elementwise formula _BatchNorm used before (and uses when the dtypes differ)."""
    axes, view = (0,) + tuple(range(2, x.ndim)), (-1,) + (1,) * (x.ndim - 2)
    centred = x - x.mean(axis=axes, keepdims=True)
    variance = (centred * centred).mean(axis=axes, keepdims=True)
    return centred * (variance + eps) ** -0.5 * weight.reshape(view) + bias.reshape(view)


SHAPES = [(5, 3), (3, 2, 3, 3), (2, 3, 1, 4), (4, 1, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_to_first_and_second_order(shape):
    c = shape[1]
    inputs = [leaf(*shape, scale=2.0, shift=1.0), leaf(c, shift=1.0), leaf(c)]
    op = lambda *t: BatchNormTrain.apply(*t, eps=1e-5)  # noqa: E731
    assert ag.gradcheck(op, inputs)
    assert ag.gradgradcheck(op, inputs)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True), (True, True, False)])
def test_only_the_gradients_asked_for(needs):
    x, w, b = (Tensor(RNG.standard_normal(s), requires_grad=r) for s, r in zip(((4, 2, 3, 3), (2,), (2,)), needs))
    grads = ag.grad((BatchNormTrain.apply(x, w, b) ** 2).sum(), [t for t in (x, w, b) if t.requires_grad])
    expected = ag.grad((unfused(x, w, b) ** 2).sum(), [t for t in (x, w, b) if t.requires_grad])
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
def test_values_gradients_and_statistics_match_the_unfused_formula(shape):
    x, w, b = leaf(*shape, scale=3.0, shift=-2.0), leaf(shape[1]), leaf(shape[1])
    stats = []
    out = BatchNormTrain.apply(x, w, b, eps=1e-5, stats=stats)
    ref = unfused(x, w, b)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-10, atol=1e-12)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(stats[0][0], x.data.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(stats[0][1], x.data.var(axis=axes), rtol=1e-12)
    weights = RNG.standard_normal(shape)
    for g, e in zip(ag.grad((out * weights).sum(), [x, w, b]), ag.grad((ref * weights).sum(), [x, w, b])):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-9, atol=1e-10)


def test_float32_stays_float32_and_layers_use_the_fused_node_in_training_only():
    bn = nn.BatchNorm2d(3)
    x = Tensor(RNG.standard_normal((4, 3, 5, 5)).astype(np.float32), requires_grad=True)
    out = bn(x)
    assert out.dtype == np.float32 and type(out.op) is BatchNormTrain
    out.sum().backward()
    assert x.grad.dtype == np.float32 and bn.weight.grad.dtype == np.float32
    bn.eval()
    assert type(bn(x).op) is not BatchNormTrain    # eval: the elementwise formula (ONNX export traces it)
    assert type(nn.BatchNorm1d(3)(leaf(4, 3).astype(np.float32)).op) is BatchNormTrain


def test_a_float64_batch_through_a_float32_layer_keeps_the_unfused_promotion():
    bn = nn.BatchNorm1d(2)
    assert bn(Tensor(RNG.standard_normal((4, 2)))).dtype == np.float64


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2)])
def test_against_pytorch(shape):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal(shape) * 2 + 1
    ours = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(3, dtype=np.float64)
    theirs = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(3, dtype=torch.float64)
    ours.weight.data[...] = [0.5, 2.0, -1.0]
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    weights = RNG.standard_normal(shape)
    xt, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xt) * weights).sum().backward()
    (theirs(tt) * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
