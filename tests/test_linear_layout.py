"""nn.Linear's weight layout by dtype; its gradients the same in either layout."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.ops import nn as fused


@pytest.mark.parametrize("dtype, c_order", [(np.float32, False), (np.float64, True), (np.float16, False)])
def test_linear_weight_takes_the_layout_its_dtype_runs_fastest_in(dtype, c_order):
    weight = nn.Linear(5, 3, dtype=dtype).weight.data
    assert weight.shape == (3, 5) and weight.dtype == dtype
    assert weight.flags.c_contiguous == c_order and weight.flags.f_contiguous != c_order


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_gradients_agree_across_layouts(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(dtype)
    grads = []
    for order in ("C", "F"):
        layer = nn.Linear(5, 3, dtype=dtype)
        layer.weight.data = np.asarray(np.arange(15, dtype=dtype).reshape(3, 5) / 7, order=order)
        layer.bias.data[...] = 0.5
        (layer(Tensor(x)) ** 2).sum().backward()
        assert layer.weight.grad.data.flags.f_contiguous == (order == "F")  # the update stays contiguous
        grads.append((layer.weight.grad.data, layer.bias.grad.data))
    for c, f in zip(*grads):
        np.testing.assert_allclose(c, f, rtol=1e-6)


def test_linear_gradients_are_recorded_under_create_graph():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    f = lambda *t: fused.Linear.apply(*t)  # noqa: E731
    assert ag.gradcheck(f, [x, w, b]) and ag.gradgradcheck(f, [x, w, b])
