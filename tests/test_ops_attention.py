"""Masked softmax and scaled dot-product attention: finite differences to first and
second order over shapes, masks, scale and dropout; empty rows; errors; and PyTorch's
values and gradients."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.attention import MaskedSoftmax, masked_softmax, scaled_dot_product_attention

RNG = np.random.default_rng(0)

# (query, key, value) shapes: 2-D, batched, heads, broadcast batch axes, L != S, Ev != E
SHAPES = [((3, 4), (3, 4), (3, 2)), ((2, 3, 4), (2, 5, 4), (2, 5, 3)), ((2, 2, 3, 2), (2, 2, 3, 2), (2, 2, 3, 2)),
          ((2, 1, 4, 3), (1, 2, 2, 3), (1, 2, 2, 2))]


def leaf(*shape):
    return Tensor(RNG.standard_normal(shape), requires_grad=True)


def bool_mask(length, keys, empty_row=True):
    mask = RNG.random((length, keys)) < 0.6
    mask[:, 0] = True
    if empty_row:
        mask[-1] = False  # a query allowed nothing: zeros, as PyTorch
    return mask


def masks(length, keys):
    """(name, attn_mask, is_causal) cases for scores of (..., length, keys)."""
    return [("none", None, False), ("causal", None, True), ("bool", bool_mask(length, keys), False),
            ("float", RNG.standard_normal((length, keys)), False)]


@pytest.mark.parametrize("shape, axis", [((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 2, 2, 3), -1)])
@pytest.mark.parametrize("masked", [False, True])
def test_masked_softmax_to_second_order_on_any_rank_and_axis(shape, axis, masked):
    mask = (RNG.random(shape) < 0.7) if masked else None
    op = lambda x: masked_softmax(x, mask, axis)  # noqa: E731
    x = leaf(*shape)
    assert ag.gradcheck(op, [x])
    assert ag.gradgradcheck(op, [x])
    if not masked:
        np.testing.assert_allclose(op(x).data, x.softmax(axis).data, rtol=1e-12)


def test_masked_softmax_rows_with_nothing_allowed_are_zero():
    x = leaf(3, 4)
    mask = np.array([[True, False, True, False], [False] * 4, [True] * 4])
    out = masked_softmax(x, mask)
    np.testing.assert_array_equal(out.data[1], 0)
    np.testing.assert_array_equal(out.data[0, [1, 3]], 0)
    np.testing.assert_allclose(out.data.sum(axis=-1), [1, 0, 1])
    infinite = Tensor(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    np.testing.assert_array_equal(MaskedSoftmax.apply(infinite).data, [[0, 0], [1, 0]])
    with pytest.raises(ValueError, match=r"MaskedSoftmax: mask of shape \(2,\) does not broadcast .*\(3, 4\)"):
        masked_softmax(x, np.ones(2, dtype=bool))


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("mask_case", range(4))
def test_attention_to_first_and_second_order(shapes, mask_case):
    q, k, v = (leaf(*s) for s in shapes)
    name, mask, causal = masks(shapes[0][-2], shapes[1][-2])[mask_case]
    inputs = [q, k, v]
    if name == "float":
        inputs.append(Tensor(mask, requires_grad=True))  # a float mask is differentiable too

    def op(q, k, v, *float_mask):
        return scaled_dot_product_attention(q, k, v, float_mask[0] if float_mask else mask, is_causal=causal,
                                            scale=0.7)
    assert ag.gradcheck(op, inputs)
    assert ag.gradgradcheck(op, inputs)


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_drops_weights_from_the_generator_given(p):
    q, k, v = leaf(2, 3, 4), leaf(2, 3, 4), leaf(2, 3, 2)
    op = lambda q, k, v: scaled_dot_product_attention(q, k, v, dropout_p=p, rng=np.random.default_rng(5))  # noqa
    assert ag.gradcheck(op, [q, k, v])
    assert ag.gradgradcheck(op, [q, k, v])
    weights = (q @ k.swapaxes(-1, -2) * 0.5).softmax(-1).data
    keep = np.random.default_rng(5).random(weights.shape) >= p
    expected = (weights * keep / (1 - p) if p < 1 else np.zeros_like(weights)) @ v.data
    np.testing.assert_allclose(op(q, k, v).data, expected, rtol=1e-12, atol=1e-14)
    ag.manual_seed(3)
    first = scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
    ag.manual_seed(3)
    np.testing.assert_array_equal(scaled_dot_product_attention(q, k, v, dropout_p=0.5).data, first)


def test_errors_name_the_op_and_shapes():
    q, k, v = leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query and key .*key \(2, 5, 3\)"):
        scaled_dot_product_attention(q, leaf(2, 5, 3), v)
    with pytest.raises(ValueError, match=r"key and value need the same sequence length"):
        scaled_dot_product_attention(q, k, leaf(2, 4, 3))
    with pytest.raises(ValueError, match=r"at least 2 dimensions"):
        scaled_dot_product_attention(leaf(4), k, v)
    with pytest.raises(ValueError, match=r"batch dimensions .* do not broadcast"):
        scaled_dot_product_attention(leaf(3, 3, 4), k, v)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\) does not broadcast to the attention "
                                         r"scores of shape \(2, 3, 5\)"):
        scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), dtype=bool), is_causal=True)
    with pytest.raises(ValueError, match=r"dropout_p must lie in \[0, 1\]"):
        scaled_dot_product_attention(q, k, v, dropout_p=1.5)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("mask_case", range(4))
@pytest.mark.parametrize("scale", [None, 0.3])
def test_against_pytorch(shapes, mask_case, scale):
    torch = pytest.importorskip("torch")
    arrays = [RNG.standard_normal(s) for s in shapes]
    name, mask, causal = masks(shapes[0][-2], shapes[1][-2])[mask_case]
    if name == "float":
        mask[0, :] = -np.inf  # a row of -inf: zeros, as PyTorch
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = scaled_dot_product_attention(*ours, attn_mask=mask, is_causal=causal, scale=scale)
    upstream = RNG.standard_normal(out.shape)
    (out * upstream).sum().backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_mask = None if mask is None else torch.tensor(mask)
    t_out = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=t_mask, is_causal=causal,
                                                             scale=scale)
    (t_out * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, t in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_is_kept():
    q, k, v = (Tensor(RNG.standard_normal((2, 3, 4)).astype(np.float32), requires_grad=True) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.1, rng=np.random.default_rng(0))
    out.sum().backward()
    assert out.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in (q, k, v))
