"""nn.MultiheadAttention against torch.nn.MultiheadAttention with copied weights: outputs,
attention weights and every gradient over layouts, masks (boolean and float, attention and
key padding), self- and cross-attention; finite differences; dropout; shape errors."""
import itertools

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor

RNG = np.random.default_rng(0)
E, HEADS, L, S, N = 8, 2, 4, 5, 3


def twin_of(torch, module):
    twin = torch.nn.MultiheadAttention(module.embed_dim, module.num_heads, bias=module.in_proj_bias is not None,
                                       batch_first=module.batch_first).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in module.state_dict().items()})
    return twin.eval()


def masks(kind, unbatched, S):
    """(attn_mask, key_padding_mask) of PyTorch MHA's meaning (True blocks)."""
    if kind == "none":
        return None, None
    attn = RNG.random((L, S)) < 0.3
    attn[:, 0] = False  # every query keeps a key
    pad = RNG.random((S,) if unbatched else (N, S)) < 0.3
    pad[..., 0] = False
    if kind == "bool":
        return attn, pad
    if kind == "float":
        return RNG.standard_normal((L, S)), None
    if kind == "heads":  # 3-D, one mask per batch element and head
        per = RNG.random(((1 if unbatched else N) * HEADS, L, S)) < 0.3
        per[..., 0] = False
        return per, None
    return RNG.standard_normal((L, S)), pad  # float attention mask with a boolean padding mask


GRID = list(itertools.product(["seq", "batch_first", "unbatched"], ["self", "cross"],
                              ["none", "bool", "float", "heads", "mixed"], [True, False], [True, False]))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # PyTorch, on "mixed"
@pytest.mark.parametrize("layout, attention, mask_kind, bias, average", GRID)
def test_matches_pytorch(layout, attention, mask_kind, bias, average):
    torch = pytest.importorskip("torch")
    module = nn.MultiheadAttention(E, HEADS, bias=bias, batch_first=layout == "batch_first", dtype=np.float64)
    if bias:  # PyTorch starts them at zero; make them count
        module.in_proj_bias.data[:] = RNG.standard_normal(3 * E)
        module.out_proj.bias.data[:] = RNG.standard_normal(E)
    twin = twin_of(torch, module)
    unbatched = layout == "unbatched"
    layouts = {"seq": lambda n: (n, N, E), "batch_first": lambda n: (N, n, E), "unbatched": lambda n: (n, E)}
    shape = layouts[layout]
    if attention == "self":
        arrays = [RNG.standard_normal(shape(L))]
    else:
        arrays = [RNG.standard_normal(shape(L)), RNG.standard_normal(shape(S)), RNG.standard_normal(shape(S))]
    attn_mask, pad = masks(mask_kind, unbatched, L if attention == "self" else S)
    ours_in = [Tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    qkv = (lambda t: (t[0], t[0], t[0]) if len(t) == 1 else tuple(t))  # noqa: E731
    to_torch = lambda m: None if m is None else torch.from_numpy(np.asarray(m))  # noqa: E731
    out, weights = module(*qkv(ours_in), key_padding_mask=pad, attn_mask=attn_mask, average_attn_weights=average)
    t_out, t_weights = twin(*qkv(theirs_in), key_padding_mask=to_torch(pad), attn_mask=to_torch(attn_mask),
                            average_attn_weights=average)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.data, t_weights.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_out, g_weights = RNG.standard_normal(out.shape), RNG.standard_normal(weights.shape)
    ((out * g_out).sum() + (weights * g_weights).sum()).backward()
    ((t_out * torch.from_numpy(g_out)).sum() + (t_weights * torch.from_numpy(g_weights)).sum()).backward()
    for a, b in zip(ours_in, theirs_in):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-11)
    t_params = dict(twin.named_parameters())
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad.data, t_params[name].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)


def test_is_causal_with_and_without_a_mask():
    torch = pytest.importorskip("torch")
    module = nn.MultiheadAttention(E, HEADS, batch_first=True, dtype=np.float64)
    twin = twin_of(torch, module)
    x = RNG.standard_normal((N, L, E))
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    want = twin(*(torch.from_numpy(x),) * 3, attn_mask=torch.from_numpy(causal), is_causal=True)[0].detach().numpy()
    for mask in (causal, None):
        out, _ = module(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)
        np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-12)
    assert module(x, x, x, need_weights=False)[1] is None


def test_gradcheck_and_second_order():
    module = nn.MultiheadAttention(4, 2, dtype=np.float64)
    module.in_proj_bias.data[:] = RNG.standard_normal(12)
    q, k = Tensor(RNG.standard_normal((3, 2, 4)), requires_grad=True), Tensor(RNG.standard_normal((2, 2, 4)),
                                                                              requires_grad=True)
    mask = np.array([[False, True], [False, False], [True, False]])

    def run(q, k):
        out, weights = module(q, k, k, attn_mask=mask)
        return (out * out).sum() + weights.sum()
    assert ag.gradcheck(run, [q, k])
    assert ag.gradgradcheck(run, [q, k])


def test_dropout_in_training_only():
    module = nn.MultiheadAttention(E, HEADS, dropout=0.5, rng=np.random.default_rng(0))
    x = RNG.standard_normal((L, N, E)).astype(np.float32)
    out, weights = module(x, x, x)
    assert out.dtype == np.float32 and weights.shape == (N, L, L)
    module.eval()
    a, wa = module(x, x, x)
    b, _ = module(x, x, x)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(wa.data.sum(axis=-1), 1.0, rtol=1e-6)
    assert not np.allclose(out.data, a.data)


def test_parameters_and_initialisation():
    module = nn.MultiheadAttention(16, 4)
    names = [name for name, _ in module.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    bound = np.sqrt(6.0 / (16 + 48))
    assert np.abs(module.in_proj_weight.data).max() <= bound
    assert not module.in_proj_bias.data.any() and not module.out_proj.bias.data.any()
    assert [n for n, _ in nn.MultiheadAttention(16, 4, bias=False).named_parameters()] == ["in_proj_weight",
                                                                                            "out_proj.weight"]


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    module = nn.MultiheadAttention(E, HEADS)
    x = np.zeros((L, N, E), dtype=np.float32)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3\) should be \(4, 4\) or \(6, 4, 4\)"):
        module(x, x, x, attn_mask=np.zeros((3, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(4, 3\) should be \(3, 4\)"):
        module(x, x, x, key_padding_mask=np.zeros((L, N), dtype=bool))
    with pytest.raises(ValueError, match=r"query \(4, 3, 7\)"):
        module(np.zeros((L, N, 7)), x, x)
    with pytest.raises(ValueError, match="same length and batch"):
        module(x, x, np.zeros((L + 1, N, E)))
