"""PyTorch's names on tensors and in the engine (issues 21 and 24): gradients by gradcheck and
gradgradcheck, values against PyTorch when it is installed."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

rng = np.random.default_rng(0)
MASK = rng.random((3, 4)) > 0.5

# (name, function of the tensors, input shapes): each differentiable twice.
CASES = [
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute-negative", lambda x: x.permute((-1, 0, 1)), [(2, 3, 4)]),
    ("var", lambda x: x.var(), [(3, 4)]),
    ("var-dim", lambda x: x.var(1), [(3, 4)]),
    ("var-keepdim-biased", lambda x: x.var(dim=(0, 2), unbiased=False, keepdim=True), [(2, 3, 4)]),
    ("var-correction-axis", lambda x: x.var(axis=0, correction=2, keepdims=True), [(4, 3)]),
    ("std", lambda x: x.std(dim=1), [(3, 4)]),
    ("expand", lambda x: x.expand(2, -1, 4), [(3, 1)]),
    ("cumsum", lambda x: x.cumsum(1), [(3, 4)]),
    ("cumsum-negative", lambda x: x.cumsum(-3), [(2, 3, 2)]),
    ("einsum-matmul", lambda a, b: ag.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    ("einsum-batched", lambda a, b: ag.einsum("bij,bkj->bik", a, b), [(2, 3, 4), (2, 5, 4)]),
    ("einsum-implicit", lambda a, b: ag.einsum("ij,jk", a, b), [(3, 4), (4, 2)]),
    ("einsum-sum-away", lambda a, b: ag.einsum("ij,k->k", a, b), [(2, 3), (4,)]),
    ("einsum-outer-three", lambda a, b, c: ag.einsum("i,j,k->ijk", a, b, c), [(2,), (3,), (2,)]),
    ("split", lambda x: x.split(2, dim=1)[1] * 2 + x.split([1, 3], 1)[1].sum(), [(3, 4)]),
    ("chunk", lambda x: x.chunk(3, dim=0)[-1], [(5, 2)]),
    ("transpose-two", lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    ("masked_fill", lambda x: x.masked_fill(MASK, -2.0), [(3, 4)]),
    ("masked_fill-broadcast", lambda x: x.masked_fill(Tensor(MASK[0]), 0.5), [(2, 3, 4)]),
    ("tril", lambda x: ag.tril(x), [(2, 3, 4)]),
    ("triu", lambda x: x.triu(diagonal=1), [(4, 3)]),
    ("tril-negative", lambda x: x.tril(-1), [(4, 4)]),
    ("contiguous", lambda x: x.contiguous() * x, [(3,)]),
]


def _inputs(shapes):
    return [Tensor(rng.standard_normal(s) + 0.5, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradients(name, fn, shapes):
    assert ag.gradcheck(fn, _inputs(shapes))
    assert ag.gradgradcheck(fn, _inputs(shapes))


# (name, ours, PyTorch's, input shapes): the same call in both libraries.
TORCH_CASES = [
    ("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("var", lambda x: x.var(), lambda x: x.var(), [(3, 4)]),
    ("var-dim", lambda x: x.var(1, keepdim=True), lambda x: x.var(1, keepdim=True), [(3, 4)]),
    ("var-biased", lambda x: x.var(dim=(0, 2), unbiased=False), lambda x: x.var(dim=(0, 2), unbiased=False),
     [(2, 3, 4)]),
    ("var-correction", lambda x: x.var(0, correction=2), lambda x: x.var(0, correction=2), [(4, 3)]),
    ("std", lambda x: x.std(dim=1), lambda x: x.std(dim=1), [(3, 4)]),
    ("expand", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), [(3, 1)]),
    ("cumsum", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), [(3, 4)]),
    ("transpose", lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    ("transpose-2d", lambda x: x.transpose(0, 1), lambda x: x.transpose(0, 1), [(2, 3)]),
    ("masked_fill", lambda x: x.masked_fill(MASK, -2.0),
     lambda x: x.masked_fill(__import__("torch").from_numpy(MASK), -2.0), [(3, 4)]),
    ("einsum", lambda a, b: ag.einsum("bij,bkj->bik", a, b),
     lambda a, b: __import__("torch").einsum("bij,bkj->bik", a, b), [(2, 3, 4), (2, 5, 4)]),
    ("einsum-implicit", lambda a, b: ag.einsum("ij,jk", a, b),
     lambda a, b: __import__("torch").einsum("ij,jk", a, b), [(3, 4), (4, 2)]),
]


@pytest.mark.parametrize("name, ours, theirs, shapes", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_values_and_gradients_as_pytorch(name, ours, theirs, shapes):
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s) for s in shapes]
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def _torch_pair(shapes):
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s) for s in shapes]
    return torch, [Tensor(a) for a in arrays], [torch.from_numpy(a.copy()) for a in arrays]


@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
def test_tril_triu_as_pytorch(diagonal):
    torch, (ours,), (theirs,) = _torch_pair([(2, 4, 5)])
    np.testing.assert_array_equal(ag.tril(ours, diagonal).numpy(), torch.tril(theirs, diagonal).numpy())
    np.testing.assert_array_equal(ag.triu(ours, diagonal).numpy(), torch.triu(theirs, diagonal).numpy())


@pytest.mark.parametrize("length, size", [(7, 3), (6, 2), (5, 5), (4, 9), (0, 2)])
def test_split_sizes_as_pytorch(length, size):
    torch, (ours,), (theirs,) = _torch_pair([(length, 2)])
    assert [p.shape for p in ours.split(size)] == [tuple(p.shape) for p in theirs.split(size)]
    assert [p.shape for p in ag.split(ours, size)] == [tuple(p.shape) for p in theirs.split(size)]


@pytest.mark.parametrize("length, chunks", [(6, 4), (7, 3), (5, 5), (3, 5), (10, 3), (1, 2)])
def test_chunk_sizes_as_pytorch(length, chunks):
    torch, (ours,), (theirs,) = _torch_pair([(2, length)])
    expected = [tuple(p.shape) for p in theirs.chunk(chunks, dim=1)]
    assert [p.shape for p in ours.chunk(chunks, dim=1)] == expected
    assert [p.shape for p in ag.chunk(ours, chunks, 1)] == expected


def test_split_sections_must_add_up():
    with pytest.raises(ValueError, match="do not add up"):
        Tensor(np.ones((4, 2))).split([1, 2])


def test_transpose_keeps_numpys_permutation_and_swaps_two_dims():
    x = Tensor(rng.standard_normal((2, 3, 4)))
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    m = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.transpose(0, 1).numpy(), m.numpy().T)
    np.testing.assert_array_equal(m.transpose(1, 0).numpy(), m.numpy().T)
    np.testing.assert_array_equal(m.transpose(0, 0).numpy(), m.numpy())


def test_small_questions():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert Tensor(3.0).tolist() == 3.0
    assert x.dim() == 2 and x.numel() == 6
    y = x * 2
    assert x.is_leaf and not y.is_leaf and Tensor(1.0).is_leaf
    with ag.no_grad():
        assert (x * 2).is_leaf
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.double() is x or x.dtype != np.float64
    assert not x.float().is_leaf  # a recorded cast, as PyTorch


def test_float_cast_is_differentiable():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x.float() * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_from_numpy_shares_memory():
    array = np.zeros((2, 3))
    t = ag.from_numpy(array)
    assert t.is_leaf and not t.requires_grad and t.dtype == np.float64
    array[0, 0] = 5.0
    assert t.numpy()[0, 0] == 5.0
    t.numpy()[1, 2] = -1.0
    assert array[1, 2] == -1.0
    assert np.shares_memory(t.numpy(), array)
    with pytest.raises(TypeError, match="floating"):
        ag.from_numpy(np.arange(3))


def test_var_std_spellings_agree():
    x = Tensor(rng.standard_normal((3, 4)))
    np.testing.assert_allclose(x.var(1).numpy(), np.var(x.numpy(), axis=1, ddof=1))
    np.testing.assert_allclose(x.var(axis=1, unbiased=False).numpy(), np.var(x.numpy(), axis=1))
    np.testing.assert_allclose(x.std(dim=0, keepdim=True).numpy(), np.std(x.numpy(), axis=0, ddof=1, keepdims=True))
    np.testing.assert_allclose(x.std(correction=0).numpy(), np.std(x.numpy()))


def test_expand_and_masked_fill_errors():
    x = Tensor(np.ones((3, 1)))
    with pytest.raises(ValueError, match="expand"):
        x.expand(4)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.masked_fill(np.ones((2, 2), bool), 0.0)
    with pytest.raises(TypeError, match="boolean"):
        x.masked_fill(np.ones((3, 1)), 0.0)


def test_einsum_errors_name_the_equation():
    a = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Einsum"):
        ag.einsum("ij,jk->ik", a, Tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="operands"):
        ag.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="diagonal"):
        ag.einsum("ii->i", Tensor(np.ones((2, 2))))
    assert np.allclose(ag.einsum("ij->ji", np.ones((2, 3))), np.ones((3, 2)))
