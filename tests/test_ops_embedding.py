"""The embedding lookup and its scatter-add gradient: finite differences to first and
second order, both summing paths against np.add.at, padding, bad ids, and PyTorch."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops import embedding as embedding_ops
from autograd.ops.embedding import Embedding, EmbeddingGrad, embedding, scatter_rows

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("ids_shape", [(), (5,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_gradients_to_first_and_second_order(ids_shape, padding_idx):
    ids = RNG.integers(0, 4, ids_shape)
    weight = Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    # The padding row gets no gradient by design: keep it out of the function, so that finite
    # differences agree (it is still looked up, as zeros).
    keep = np.ones((4, 1))
    if padding_idx is not None:
        keep[padding_idx] = 0
    op = lambda w: embedding(ids, w * keep, padding_idx=padding_idx) ** 2  # noqa: E731
    assert ag.gradcheck(op, [weight])
    assert ag.gradgradcheck(op, [weight])


def test_the_adjoint_is_differentiable_too():
    ids = np.array([[0, 2, 2], [1, 0, 2]])
    grad = Tensor(RNG.standard_normal((2, 3, 5)), requires_grad=True)
    op = lambda g: EmbeddingGrad.apply(g, ids=ids, rows=3, padding_idx=2) ** 2  # noqa: E731
    assert ag.gradcheck(op, [grad])
    assert ag.gradgradcheck(op, [grad])


@pytest.mark.parametrize("rows", [3, 80, 81, 300])  # both sides of the one-hot / sort switch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("one_hot_limit", [None, 10])  # a one-hot matrix that would be too large
def test_repeated_ids_sum_as_add_at(rows, dtype, one_hot_limit, monkeypatch):
    if one_hot_limit is not None:
        monkeypatch.setattr(embedding_ops, "_ONE_HOT_LIMIT", one_hot_limit)
    ids = RNG.integers(0, min(rows, 7) if rows > 80 else rows, (6, 50))
    grad = RNG.standard_normal((6, 50, 8)).astype(dtype)
    expected = np.zeros((rows, 8), dtype)
    np.add.at(expected, ids.reshape(-1), grad.reshape(-1, 8))
    out = scatter_rows(grad, ids, rows)
    assert out.dtype == dtype and out.shape == (rows, 8)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    expected[1] = 0
    np.testing.assert_allclose(scatter_rows(grad, ids, rows, padding_idx=1), expected, rtol=1e-5, atol=1e-5)


def test_padding_row_gets_no_gradient_but_is_looked_up():
    weight = Tensor(RNG.standard_normal((5, 2)), requires_grad=True)
    out = embedding(np.array([0, 3, 3, 4]), weight, padding_idx=3)
    np.testing.assert_array_equal(out.data[1], weight.data[3])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.data, [[1, 1], [0, 0], [0, 0], [0, 0], [1, 1]])


def test_ids_as_tensor_of_whole_numbers_and_empty_ids():
    weight = Tensor(RNG.standard_normal((5, 2)), requires_grad=True)
    out = embedding(Tensor(np.array([[1.0, 4.0]])), weight)
    np.testing.assert_array_equal(out.data, weight.data[[[1, 4]]])
    empty = embedding(np.zeros((0, 3), dtype=int), weight)
    assert empty.shape == (0, 3, 2)
    empty.sum().backward()
    np.testing.assert_array_equal(weight.grad.data, np.zeros((5, 2)))


@pytest.mark.parametrize("ids, message", [([0, 5], "id 5 .*size 5"), ([-1, 2], "id -1 .*size 5")])
def test_id_out_of_range_names_op_id_and_size(ids, message):
    with pytest.raises(IndexError, match="embedding: " + message):
        embedding(np.array(ids), Tensor(np.zeros((5, 2))))


def test_bad_ids_and_weights():
    weight = Tensor(np.zeros((5, 2)))
    with pytest.raises(TypeError, match="whole numbers"):
        embedding(np.array([0.5]), weight)
    with pytest.raises(TypeError, match="integers"):
        embedding(np.array([True]), weight)
    with pytest.raises(ValueError, match="padding_idx 5"):
        embedding(np.array([0]), weight, padding_idx=5)
    with pytest.raises(ValueError, match="2-D"):
        Embedding.apply(Tensor(np.zeros(5)), ids=np.array([0]))


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_against_pytorch(padding_idx):
    torch = pytest.importorskip("torch")
    ids = RNG.integers(0, 70, (4, 9))
    w = RNG.standard_normal((70, 6))
    upstream = RNG.standard_normal((4, 9, 6))
    weight = Tensor(w.copy(), requires_grad=True)
    out = embedding(ids, weight, padding_idx=padding_idx)
    (out * upstream).sum().backward()
    tw = torch.tensor(w, requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(ids), tw, padding_idx=padding_idx)
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy())
    np.testing.assert_allclose(weight.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-12)
