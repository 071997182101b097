"""nn.Embedding, nn.LayerNorm, nn.GELU and the functions F.embedding, F.layer_norm, F.gelu,
F.scaled_dot_product_attention: PyTorch's defaults, initialisation and errors, finite
differences, and PyTorch's values and gradients when it is installed."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F

RNG = np.random.default_rng(0)


# ---- Embedding ----

def test_embedding_init_shapes_and_padding():
    nn.manual_seed(0)
    emb = nn.Embedding(500, 40, padding_idx=3)
    assert emb.weight.shape == (500, 40) and emb.weight.dtype == np.float32
    values = np.delete(emb.weight.data, 3, axis=0)
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1.0) < 0.02  # N(0, 1), as PyTorch
    assert not emb.weight.data[3].any()
    ids = np.array([[3, 1, 1], [0, 3, 499]])
    out = emb(ids)
    assert out.shape == (2, 3, 40) and not out.data[0, 0].any()
    out.sum().backward()
    assert not emb.weight.grad.data[3].any()
    np.testing.assert_array_equal(emb.weight.grad.data[1], np.full(40, 2.0))
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert repr(nn.Embedding(5, 2, padding_idx=1)).startswith("Embedding(5, 2, padding_idx=1)")


def test_embedding_accepts_tensors_of_whole_numbers_and_any_shape():
    emb = nn.Embedding(7, 3)
    np.testing.assert_array_equal(emb(Tensor(np.array([1.0, 6.0]))).data, emb.weight.data[[1, 6]])
    assert emb(np.array(4)).shape == (3,) and emb(np.zeros((2, 1, 2), dtype=np.int32)).shape == (2, 1, 2, 3)


def test_embedding_errors_name_the_layer_the_id_and_the_size():
    emb = nn.Embedding(10, 4)
    with pytest.raises(IndexError, match=r"Embedding\(10, 4\): id 10 is out of range for an embedding of size 10"):
        emb(np.array([[1, 10]]))
    with pytest.raises(IndexError, match="id -1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="whole numbers"):
        emb(np.array([1.5]))
    with pytest.raises(ValueError, match="padding_idx 10 is out of range"):
        nn.Embedding(10, 4, padding_idx=10)


def test_embedding_matches_pytorch():
    torch = pytest.importorskip("torch")
    ids = RNG.integers(0, 9, (4, 5))
    ours = nn.Embedding(9, 3, padding_idx=2, dtype=np.float64)
    theirs = torch.nn.Embedding(9, 3, padding_idx=2).double()
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.data)})
    weights = RNG.standard_normal((4, 5, 3))
    out, t_out = ours(ids), theirs(torch.from_numpy(ids))
    (out * weights).sum().backward()
    (t_out * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(F.embedding(ids, ours.weight, padding_idx=2).data, out.data)


# ---- LayerNorm ----

@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4), (3, 4)), ((5, 3), [3])])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_matches_pytorch(shape, normalized, affine, bias):
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias, dtype=np.float64)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-4, elementwise_affine=affine, bias=bias).double()
    for p in ours.parameters():
        p.data[...] = RNG.standard_normal(p.shape)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = RNG.standard_normal(shape)
    ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    weights = RNG.standard_normal(shape)
    out, t_out = ours(ours_x), theirs(theirs_x)
    (out * weights).sum().backward()
    (t_out * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-9, atol=1e-12)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_layer_norm_defaults_float32_gradcheck_and_errors():
    norm = nn.LayerNorm(4)
    assert norm.weight.dtype == np.float32 and (norm.weight.data == 1).all() and not norm.bias.data.any()
    out = norm(RNG.standard_normal((3, 4)).astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data.mean(axis=-1), 0.0, atol=1e-6)
    assert nn.LayerNorm(4, elementwise_affine=False).num_parameters() == 0
    x, w, b = (Tensor(RNG.standard_normal(s), requires_grad=True) for s in [(2, 3, 4), (3, 4), (3, 4)])
    f = lambda x, w, b: F.layer_norm(x, (3, 4), w, b) ** 2  # noqa: E731
    assert ag.gradcheck(f, [x, w, b]) and ag.gradgradcheck(f, [x, w, b])
    with pytest.raises(ValueError, match=r"LayerNorm: input of shape \(3, 5\) does not end in normalized_shape \(4,\)"):
        norm(np.zeros((3, 5)))


# ---- GELU ----

@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_pytorch(approximate):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((5, 7)) * 3
    ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = nn.GELU(approximate)(ours_x), torch.nn.GELU(approximate)(theirs_x)
    (out * out).sum().backward()
    (t_out * t_out).sum().backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_gelu_layer_and_function():
    x = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    np.testing.assert_array_equal(nn.GELU()(x).data, F.gelu(x).data)
    assert ag.gradgradcheck(lambda t: F.gelu(t, approximate="tanh"), [x])
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")


# ---- scaled_dot_product_attention ----

@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_pytorch(mask):
    torch = pytest.importorskip("torch")
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), RNG.standard_normal((2, 3, 6, 2))
    attn_mask = {"none": None, "causal": None, "float": RNG.standard_normal((4, 6)),
                 "bool": RNG.random((4, 6)) < 0.7}[mask]
    if mask == "bool":
        attn_mask[:, 0] = True  # True allows, as PyTorch's scaled_dot_product_attention
    ours = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=attn_mask, is_causal=mask == "causal", scale=0.3)
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if attn_mask is None else torch.from_numpy(attn_mask), is_causal=mask == "causal",
        scale=0.3)
    weights = RNG.standard_normal(out.shape)
    (out * weights).sum().backward()
    (t_out * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_scaled_dot_product_attention_takes_arrays_and_a_boolean_mask():
    q = RNG.standard_normal((3, 4))
    mask = np.tril(np.ones((3, 3), dtype=bool))
    a = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    b = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    assert a.shape == (3, 4)
