"""nn.Linear's weight layout by dtype, and the bias gradient taken as one product with ones."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.ops import nn as fused
from autograd.ops.nn import column_sums


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


@pytest.mark.parametrize("shape", [(100, 10), (1, 4), (0, 3), (7, 0), (5, 1)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_column_sums_match_numpys_sum_over_rows(shape, dtype):
    rows = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    out = column_sums(rows)
    assert out.shape == (shape[1],) and out.dtype == dtype
    np.testing.assert_allclose(out, rows.sum(axis=0), rtol=1e-3 if dtype == np.float16 else 1e-6, atol=1e-6)


def test_column_sums_take_views_and_carry_nan_and_inf():
    rows = np.arange(12.0).reshape(3, 4).T  # a transposed (non-contiguous) view
    np.testing.assert_array_equal(column_sums(rows), rows.sum(axis=0))
    special = np.array([[np.inf, 1.0, np.nan], [1.0, -np.inf, 0.0], [-np.inf, 2.0, 0.0]])
    with np.errstate(invalid="ignore"):  # inf - inf is NaN in both
        np.testing.assert_array_equal(column_sums(special), special.sum(axis=0))


def test_column_sums_keep_no_more_than_a_few_vectors_of_ones():
    for n in range(1, 60):
        column_sums(np.ones((n, 2)))
    assert len(fused._ONES) <= 16
    assert not any(ones.flags.writeable for ones in fused._ONES.values())


def test_linear_bias_gradient_is_still_recorded_under_create_graph():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    f = lambda *t: fused.Linear.apply(*t)  # noqa: E731
    assert ag.gradcheck(f, [x, w, b]) and ag.gradgradcheck(f, [x, w, b])
