"""examples/gpt.py: shapes, the tied head, PyTorch's state dict both ways, generate, gradcheck."""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.ops.causal_attention import CausalAttention
from nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def gpt():
    sys.path[:0] = [str(ROOT / "examples"), str(ROOT)]
    try:
        yield importlib.import_module("gpt")
    finally:
        sys.path.remove(str(ROOT / "examples"))
        sys.path.remove(str(ROOT))


def torch_gpt(config):
    """benchmarks/gpt_torch.py's PyTorch GPT of ``config``."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.gpt_torch import torch_gpt as build
    finally:
        sys.path.remove(str(ROOT))
    return build(config)


def tiny(gpt, seed=0, **options):
    nn.manual_seed(seed)
    return gpt.GPT(gpt.GPTConfig(**{**TINY, **options}))


def ids(shape, seed=1):
    return np.random.default_rng(seed).integers(0, TINY["vocab_size"], size=shape)


def test_logits_have_one_row_per_position_and_attention_is_one_causal_node(gpt):
    model = tiny(gpt)
    logits = model(ids((3, 8)))
    assert logits.shape == (3, 8, 11) and logits.dtype == np.float32
    assert model(ids((2, 5))).shape == (2, 5, 11)
    kinds = set()
    stack = [logits.op]
    while stack:
        node = stack.pop()
        kinds.add(type(node).__name__)
        stack += [t.op for t in node.inputs if t.op is not None]
    assert "CausalAttention" in kinds and "MaskedSoftmax" not in kinds
    with pytest.raises(ValueError, match="longer than block_size"):
        model(ids((1, 9)))
    with pytest.raises(ValueError, match="not divisible"):
        tiny(gpt, n_head=3)


def test_a_position_sees_only_the_past(gpt):
    model = tiny(gpt)
    x = ids((1, 8))
    y = x.copy()
    y[0, 5:] = (y[0, 5:] + 1) % 11
    a, b = model(x).data, model(y).data
    np.testing.assert_allclose(a[0, :5], b[0, :5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[0, 5:], b[0, 5:])


def test_the_head_is_the_token_embedding(gpt):
    model = tiny(gpt)
    names = [name for name, _ in model.named_parameters()]
    assert model.lm_head.weight is model.transformer["wte"].weight
    assert names.count("transformer.wte.weight") == 1 and "lm_head.weight" not in names
    loss = F.cross_entropy(model(ids((2, 8))).reshape(-1, 11), ids((16,), seed=2))
    loss.backward()
    # both uses add to one gradient: the head's rows are touched for every character, the
    # embedding's only for the ids that occur, so the sum differs from the head's alone
    head_only = tiny(gpt)
    head_only.transformer["wte"].weight = nn.Parameter(head_only.lm_head.weight.data.copy())
    F.cross_entropy(head_only(ids((2, 8))).reshape(-1, 11), ids((16,), seed=2)).backward()
    both = head_only.lm_head.weight.grad.data + head_only.transformer["wte"].weight.grad.data
    np.testing.assert_allclose(model.lm_head.weight.grad.data, both, rtol=1e-4, atol=1e-6)


def _use(model, name, tensor):
    owner = model
    *path, leaf = name.split(".")
    for part in path:
        owner = owner[part] if isinstance(owner, (nn.ModuleDict, nn.ModuleList)) and not part.isdigit() \
            else (owner[int(part)] if part.isdigit() else getattr(owner, part))
    setattr(owner, leaf, tensor)


def test_gradients_of_every_parameter_match_finite_differences_in_float64(gpt):
    ag.set_default_dtype(np.float64)
    try:
        model = tiny(gpt, n_embd=8, n_layer=1, block_size=4, vocab_size=5, bias=True)
    finally:
        ag.set_default_dtype(np.float32)
    for _, p in model.named_parameters():  # not just the initial zeros and ones
        p.data[...] = np.random.default_rng(p.size).standard_normal(p.shape) * 0.5
    names = [name for name, _ in model.named_parameters()]
    x, y = np.array([[1, 4, 0, 2], [3, 3, 1, 0]]), np.array([4, 0, 2, 1, 3, 1, 0, 2])

    def loss(*params):
        for name, p in zip(names, params):
            _use(model, name, p)
        model.lm_head.weight = model.transformer["wte"].weight
        return F.cross_entropy(model(x).reshape(-1, 5), y)

    assert ag.gradcheck(loss, [p for _, p in model.named_parameters()], atol=1e-6)


def test_causal_attention_node_second_derivatives():
    rng = np.random.default_rng(0)
    q, k, v = (ag.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    attend = lambda q, k, v: CausalAttention.apply(q, k, v, scale=0.5)  # noqa: E731
    assert ag.gradgradcheck(attend, [q, k, v])


def test_pytorch_state_dict_loads_and_gives_the_same_logits_and_back(gpt):
    torch = pytest.importorskip("torch")
    config = gpt.GPTConfig(**TINY, bias=True)
    torch.manual_seed(0)
    theirs = torch_gpt(config)
    with torch.no_grad():
        for p in theirs.parameters():  # biases and gains away from their initial 0 and 1
            p.add_(0.1 * torch.randn_like(p))
    ours = tiny(gpt, seed=5, bias=True)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert "lm_head.weight" in state and "transformer.wte.weight" in state
    ours.load_state_dict(state)
    x = ids((2, 8))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-4, atol=1e-5)
    back = torch_gpt(config)
    mine = ours.state_dict()
    assert mine.keys() == state.keys()  # the tied matrix under both of its names, as PyTorch's
    back.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in mine.items()})
    np.testing.assert_allclose(back(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_generate_extends_each_row_and_top_k_one_is_greedy(gpt):
    model = tiny(gpt)
    out = model.generate(ids((2, 3)), 12, temperature=0.8, rng=np.random.default_rng(0))
    assert out.shape == (2, 15) and out.min() >= 0 and out.max() < 11
    np.testing.assert_array_equal(out[:, :3], ids((2, 3)))
    again = model.generate(ids((2, 3)), 12, temperature=0.8, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    greedy = model.generate(ids((1, 2)), 10, top_k=1)  # past the context of 8: the window slides
    seq = ids((1, 2))
    for _ in range(10):
        with ag.no_grad():
            nxt = model(seq[:, -8:]).data[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(greedy, seq)
    assert model.training  # generate leaves the mode alone


def test_the_gpt_preset_of_charlm_trains_samples_and_draws_its_heads(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from dataclasses import replace
    sys.path[:0] = [str(ROOT / "examples"), str(ROOT)]
    try:
        charlm = importlib.import_module("charlm")
        from charlm_helpers import presets
    finally:
        sys.path.remove(str(ROOT / "examples"))
        sys.path.remove(str(ROOT))
    assert presets.DEFAULT_PRESET == "gpt"
    options = {k: v for k, v in TINY.items() if k != "vocab_size"} | {"block_size": 12}
    small = replace(presets.PRESETS["gpt"], model_options=options, block_size=12, batch_size=4, steps=4, warmup=1,
                    eval_interval=2, eval_windows=200, eval_batch=200)
    monkeypatch.setitem(presets.PRESETS, "gpt", small)
    text = tmp_path / "text.txt"
    text.write_text("To be, or not to be, that is the question:\n" * 20)
    assert charlm.main(["--text", str(text), "--sample", "20", "--top-k", "3", "--plots", str(tmp_path / "plots"),
                        "--save", str(tmp_path / "gpt.npz"), "--quiet"]) == 0
    assert (tmp_path / "plots" / "attention.png").stat().st_size > 0
    assert len(capsys.readouterr().out.strip().splitlines()[-1]) > 0
    assert charlm.main(["--text", str(text), "--load", str(tmp_path / "gpt.npz"), "--sample", "10", "--quiet"]) == 0
