"""Recurrent layers: the sequence nodes (finite differences to second order, the per-step
cells composed), nn.RNN / LSTM / GRU and their cells against PyTorch over a grid of options
(values and gradients of input, states and every parameter, state dicts both ways),
dropout between layers, truncated backpropagation through time, and clear shape errors."""
import itertools

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F
from autograd import Tensor
from autograd.ops.recurrent import gru_step, lstm_step, rnn_step
from autograd.ops.lstm_sequence import lstm_sequence
from autograd.ops.recurrent_sequence import gru_sequence, rnn_sequence

RNG = np.random.default_rng(0)
GATES = {"lstm": 4, "gru": 3, "tanh": 1, "relu": 1}


def leaf(*shape, scale=1.0):
    return Tensor(RNG.standard_normal(shape) * scale, requires_grad=True)


def sequence_inputs(kind, length, batch, hidden, bias=True):
    gates = GATES[kind]
    inputs = [leaf(length, batch, gates * hidden), leaf(batch, hidden)]
    if kind == "lstm":
        inputs.append(leaf(batch, hidden))
    inputs.append(leaf(gates * hidden, hidden, scale=0.7))
    if bias:
        inputs.append(leaf(gates * hidden))
    if kind == "relu":  # keep pre-activations away from the kink, where differences mislead
        inputs[0] = Tensor(inputs[0].data + np.sign(inputs[0].data) * 3.0, requires_grad=True)
    return inputs


def run_sequence(kind, reverse):
    """The node as a function returning one Tensor mixing the output and the final states."""
    def run(xg, h0, *rest):
        if kind == "lstm":  # the LSTM's node is feature-major: xg (4H, T, N), out (T, H, N)
            out, h, c = lstm_sequence(xg.transpose(2, 0, 1), h0, *rest, reverse=reverse)
            return out.transpose(0, 2, 1) * 1.3 + (h * 0.7 + c).reshape(1, *h.shape)
        if kind == "gru":
            out, h = gru_sequence(xg, h0, *rest, reverse=reverse)
        else:
            out, h = rnn_sequence(xg, h0, *rest[:2], nonlinearity=kind, reverse=reverse) if len(rest) == 2 else \
                rnn_sequence(xg, h0, rest[0], nonlinearity=kind, reverse=reverse)
        return out * 1.3 + h.reshape(1, *h.shape) * 0.7
    return run


def run_steps(kind, reverse):
    """The same from the per-step cells, one slice of xg per step."""
    def run(xg, h0, *rest):
        c = rest[0] if kind == "lstm" else None
        params = rest[1:] if kind == "lstm" else rest
        h, outs = h0, [None] * xg.shape[0]
        for t in (range(xg.shape[0] - 1, -1, -1) if reverse else range(xg.shape[0])):
            if kind == "lstm":
                h, c = lstm_step(xg[t], h, c, *params)
            elif kind == "gru":
                h = gru_step(xg[t], h, *params)
            else:
                h = rnn_step(xg[t], h, *params, nonlinearity=kind)
            outs[t] = h
        last = h * 0.7 + (c if kind == "lstm" else 0.0)
        return ag.stack(outs) * 1.3 + last.reshape(1, *h.shape)
    return run


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length, batch, hidden, bias", [(1, 2, 2, True), (3, 2, 2, False), (4, 1, 3, True)])
def test_sequence_node_to_second_order(kind, reverse, length, batch, hidden, bias):
    inputs = sequence_inputs(kind, length, batch, hidden, bias)
    assert ag.gradcheck(run_sequence(kind, reverse), inputs)
    assert ag.gradgradcheck(run_sequence(kind, reverse), inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_node_matches_the_steps(kind, reverse):
    inputs = sequence_inputs(kind, 5, 3, 4)
    fused, steps = run_sequence(kind, reverse)(*inputs), run_steps(kind, reverse)(*inputs)
    np.testing.assert_allclose(fused.data, steps.data, rtol=1e-12, atol=1e-12)
    weight = RNG.standard_normal(fused.shape)
    expected = ag.grad((steps * weight).sum(), inputs)
    for got, want in zip(ag.grad((fused * weight).sum(), inputs), expected):
        np.testing.assert_allclose(got.data, want.data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh"])
def test_sequence_node_without_states_starts_from_zeros(kind):
    inputs = sequence_inputs(kind, 3, 2, 2)
    states = 2 if kind == "lstm" else 1
    xg, rest = inputs[0], inputs[1 + states:]
    zeros = [Tensor(np.zeros((2, 2))) for _ in range(states)]
    run = run_sequence(kind, False)
    np.testing.assert_array_equal(run(xg, *([None] * states), *rest).data, run(xg, *zeros, *rest).data)
    assert ag.gradcheck(lambda *t: run(t[0], *([None] * states), *t[1:]), [xg, *rest])
    assert ag.gradgradcheck(lambda *t: run(t[0], *([None] * states), *t[1:]), [xg, *rest])


def test_lstm_sequence_needs_both_states_or_neither():
    xg, h0, w = Tensor(np.zeros((8, 3, 2))), Tensor(np.zeros((2, 2))), Tensor(np.zeros((8, 2)))
    with pytest.raises(ValueError, match="give both initial states h0 and c0, or neither"):
        lstm_sequence(xg, h0, None, w)
    with pytest.raises(ValueError, match=r"LSTM: initial cell state of shape \(2, 3\) does not match"):
        lstm_sequence(xg, h0, Tensor(np.zeros((2, 3))), w)


def test_sequence_node_float32_stays_float32():
    xg, h0, c0 = (Tensor(RNG.standard_normal(s).astype(np.float32), requires_grad=True)
                  for s in [(8, 3, 2), (2, 2), (2, 2)])
    w = Tensor(RNG.standard_normal((8, 2)).astype(np.float32), requires_grad=True)
    out, h, c = lstm_sequence(xg, h0, c0, w)
    (out.sum() + c.sum()).backward()
    assert out.dtype == np.float32 and xg.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_sequence_node_errors_name_the_op():
    xg, h0, w = Tensor(np.zeros((3, 2, 6))), Tensor(np.zeros((2, 2))), Tensor(np.zeros((6, 2)))
    with pytest.raises(ValueError, match=r"GRU: initial state of shape \(2, 2\) needs weight_hh"):
        gru_sequence(xg, h0, Tensor(np.zeros((6, 3))))
    with pytest.raises(ValueError, match=r"GRU: input gates of shape \(3, 2, 5\)"):
        gru_sequence(Tensor(np.zeros((3, 2, 5))), h0, w)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_sequence(xg[:, :, :2], h0, w[:2], nonlinearity="sigmoid")


# ---- the layers ----

MODES = ["tanh", "relu", "lstm", "gru"]


def make(mode, *args, **kwargs):
    if mode in ("tanh", "relu"):
        return nn.RNN(*args, nonlinearity=mode, **kwargs)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[mode](*args, **kwargs)


def torch_twin(torch, mode, module, cell=False):
    """The PyTorch module of the same options with our weights (float64)."""
    kwargs = dict(bias=module.bias)
    if mode in ("tanh", "relu"):
        kwargs["nonlinearity"] = mode
    if cell:
        name = {"tanh": "RNNCell", "relu": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}[mode]
    else:
        name = {"tanh": "RNN", "relu": "RNN", "lstm": "LSTM", "gru": "GRU"}[mode]
        kwargs.update(num_layers=module.num_layers, batch_first=module.batch_first, dropout=module.dropout,
                      bidirectional=module.bidirectional)
    twin = getattr(torch.nn, name)(module.input_size, module.hidden_size, **kwargs).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in module.state_dict().items()})
    return twin


def states_of(mode, count, hidden, batch):
    """Random initial states: a tensor, or a pair for the LSTM; shape without batch when None."""
    shape = (count, hidden) if batch is None else (count, batch, hidden)
    make_state = lambda: RNG.standard_normal(shape)  # noqa: E731
    return (make_state(), make_state()) if mode == "lstm" else make_state()


def flat(value):
    return list(value) if isinstance(value, tuple) else [value]


def assert_same(results, t_results, ours_in, theirs_in, module, twin):
    """Our outputs, input gradients and parameter gradients equal PyTorch's."""
    for ours, theirs in zip(results, t_results):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(ours_in, theirs_in):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    t_params = dict(twin.named_parameters())
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad.data, t_params[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


GRID = list(itertools.product(MODES, [1, 2], [False, True], ["seq", "batch_first", "unbatched"], [True, False],
                              [False, True]))


@pytest.mark.parametrize("mode, layers, bidirectional, layout, bias, with_hx", GRID)
def test_layers_match_pytorch(mode, layers, bidirectional, layout, bias, with_hx):
    torch = pytest.importorskip("torch")
    length, batch, width, hidden = 4, 3, 5, 3
    module = make(mode, width, hidden, num_layers=layers, bias=bias, batch_first=layout == "batch_first",
                  bidirectional=bidirectional, dtype=np.float64)
    twin = torch_twin(torch, mode, module)
    shape = {"seq": (length, batch, width), "batch_first": (batch, length, width), "unbatched": (length, width)}
    x = RNG.standard_normal(shape[layout])
    count = layers * (2 if bidirectional else 1)
    hx = states_of(mode, count, hidden, None if layout == "unbatched" else batch) if with_hx else None

    ours_in = [Tensor(x, requires_grad=True)] + ([Tensor(s, requires_grad=True) for s in flat(hx)] if with_hx else [])
    theirs_in = [torch.tensor(a.data, requires_grad=True) for a in ours_in]
    pack = (lambda s: tuple(s) if mode == "lstm" else s[0])
    out, state = module(ours_in[0], pack(ours_in[1:]) if with_hx else None)
    t_out, t_state = twin(theirs_in[0], pack(theirs_in[1:]) if with_hx else None)
    results, t_results = [out] + flat(state), [t_out] + flat(t_state)
    weights = [RNG.standard_normal(r.shape) for r in results]
    sum(((r * w).sum() for r, w in zip(results, weights)), Tensor(0.0)).backward()
    sum((r * torch.from_numpy(w)).sum() for r, w in zip(t_results, weights)).backward()
    assert_same(results, t_results, ours_in, theirs_in, module, twin)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(mode, bias, batched):
    torch = pytest.importorskip("torch")
    cell = {"tanh": nn.RNNCell, "relu": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[mode]
    module = cell(4, 3, bias=bias, dtype=np.float64, **({"nonlinearity": mode} if mode in ("tanh", "relu") else {}))
    twin = torch_twin(torch, mode, module, cell=True)
    x = RNG.standard_normal((2, 4) if batched else (4,))
    hx = [RNG.standard_normal((2, 3) if batched else (3,)) for _ in range(2 if mode == "lstm" else 1)]
    ours_in = [Tensor(a, requires_grad=True) for a in [x] + hx]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in [x] + hx]
    pack = (lambda s: tuple(s) if mode == "lstm" else s[0])
    ours, theirs = flat(module(ours_in[0], pack(ours_in[1:]))), flat(twin(theirs_in[0], pack(theirs_in[1:])))
    sum(((o * (k + 1.0)).sum() for k, o in enumerate(ours)), Tensor(0.0)).backward()
    sum((o * (k + 1.0)).sum() for k, o in enumerate(theirs)).backward()
    assert_same(ours, theirs, ours_in, theirs_in, module, twin)
    assert module(ours_in[0]) is not None  # zero states when hx is None


@pytest.mark.parametrize("mode", ["tanh", "lstm", "gru"])
def test_pytorch_state_dict_loads_with_its_names(mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    name = {"tanh": "RNN", "lstm": "LSTM", "gru": "GRU"}[mode]
    theirs = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True)
    ours = make(mode, 3, 4, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(x)[0].data, theirs(torch.from_numpy(x))[0].detach().numpy(), atol=1e-5)
    # and back: ours into a fresh PyTorch module
    fresh = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("mode", MODES)
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(mode):
    module = make(mode, 7, 16, num_layers=2, bidirectional=True)
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24
    assert abs(values.mean()) < 0.01 and module.weight_ih_l1_reverse.shape == (GATES[mode] * 16, 32)


def test_gradcheck_through_a_layer_with_every_option():
    module = nn.LSTM(3, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    x, h0, c0 = leaf(2, 3, 3), leaf(4, 2, 2), leaf(4, 2, 2)

    def run(x, h0, c0):
        out, (h, c) = module(x, (h0, c0))
        return out.sum() + (h * c).sum()
    assert ag.gradcheck(run, [x, h0, c0])


def test_dropout_between_layers_in_training_only():
    nn.manual_seed(0)
    module = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = RNG.standard_normal((5, 2, 3)).astype(np.float32)
    module.eval()
    plain = module(x)[0].data
    np.testing.assert_array_equal(module(x)[0].data, plain)
    module.train()
    nn.manual_seed(1)
    first = module(x)[0].data
    nn.manual_seed(1)
    np.testing.assert_array_equal(module(x)[0].data, first)
    assert not np.allclose(first, plain)
    single = nn.GRU(3, 4, dropout=0.5)  # one layer: nothing between layers, no dropout
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


def test_truncated_backprop_through_time():
    """Chunks joined by detached states: the state carries over (the outputs are the whole
    sequence's), and a chunk's backward stops at the cut: nothing reaches the earlier chunk's
    input, and the parameters' gradients are those of the chunk run from a constant state."""
    nn.manual_seed(0)
    module = nn.LSTM(3, 4, batch_first=True, dtype=np.float64)
    x = RNG.standard_normal((2, 6, 3))
    full, _ = module(x)
    chunks = [Tensor(x[:, :3], requires_grad=True), Tensor(x[:, 3:], requires_grad=True)]
    state, outputs = None, []
    for chunk in chunks:
        module.zero_grad()
        out, (h, c) = module(chunk, state)
        out.sum().backward()
        outputs.append(out.data)
        state = (h.detach(), c.detach())
        assert h.requires_grad and not state[0].requires_grad
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full.data, rtol=1e-12)
    assert chunks[0].grad is not None  # from its own chunk's backward only
    first_grad = chunks[0].grad.data.copy()
    last = {n: p.grad.data.copy() for n, p in module.named_parameters()}
    module.zero_grad()
    _, (h, c) = module(x[:, :3])
    module(x[:, 3:], (Tensor(h.data), Tensor(c.data)))[0].sum().backward()
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad.data, last[name], rtol=1e-12)
    np.testing.assert_array_equal(chunks[0].grad.data, first_grad)


@pytest.mark.parametrize("mode", MODES)
def test_bad_inputs_raise_naming_the_layer_and_shapes(mode):
    module = make(mode, 3, 4, num_layers=2)
    name = type(module).__name__
    with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(T, N, 3\).*got \(5, 2, 7\)"):
        module(np.zeros((5, 2, 7)))
    with pytest.raises(ValueError, match=rf"{name}: expected input.*got \(1, 5, 2, 3\)"):
        module(np.zeros((1, 5, 2, 3)))
    bad = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=rf"{name}: (hx|h_0) of shape \(2, 3, 4\) does not fit input of shape "
                                         rf"\(5, 2, 3\) \(expected \(2, 2, 4\)\)"):
        module(np.zeros((5, 2, 3)), (bad, bad) if mode == "lstm" else bad)
    cell = {"tanh": nn.RNNCell, "relu": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[mode](3, 4)
    with pytest.raises(ValueError, match=rf"{type(cell).__name__}: expected input of shape \(N, 3\) or \(3,\), "
                                         rf"got \(2, 5\)"):
        cell(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"does not fit input of shape \(2, 3\) \(expected \(2, 4\)\)"):
        cell(np.zeros((2, 3)), (np.zeros((3, 4)),) * 2 if mode == "lstm" else np.zeros((3, 4)))


def test_lstm_needs_a_pair_of_states():
    with pytest.raises(ValueError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))


def test_api_example_shapes():
    emb = nn.Embedding(65, 128)
    x = emb(np.array([[1, 2, 3]]))
    lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
    out, (h, c) = lstm(x)
    assert out.shape == (1, 3, 256) and h.shape == c.shape == (2, 1, 256)
    out, (h, c) = lstm(x, (h.detach(), c.detach()))
    assert out.shape == (1, 3, 256) and out.dtype == np.float32
    assert "num_layers=2" in repr(lstm) and "batch_first=True" in repr(lstm)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_safetensors_file_loads_into_pytorch_and_back(mode, tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ours = make(mode, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    nn.save(ours, str(tmp_path / "ours.safetensors"))
    name = {"lstm": "LSTM", "gru": "GRU"}[mode]
    theirs = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    x = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    out, state = ours(x)
    t_out, t_state = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), atol=1e-5)
    for a, b in zip(flat(state), flat(t_state)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=1e-5)
    # and back: PyTorch's file (its own weights) into a fresh dagrad layer
    fresh = getattr(torch.nn, name)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    safetensors_torch.save_file(fresh.state_dict(), str(tmp_path / "theirs.safetensors"))
    back = nn.load(make(mode, 3, 4, num_layers=2, bidirectional=True, batch_first=True),
                   str(tmp_path / "theirs.safetensors"))
    np.testing.assert_allclose(back(x)[0].data, fresh(torch.from_numpy(x))[0].detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("mode", ["lstm", "gru", "tanh"])
def test_second_derivatives_through_a_bidirectional_layer(mode):
    module = make(mode, 2, 2, bidirectional=True, dtype=np.float64)
    x = leaf(3, 2, 2)

    def run(x):
        out, _ = module(x)
        return (out * out).sum()
    assert ag.gradgradcheck(run, [x])


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_a_tiny_char_model_learns_a_pattern(layer):
    """Embedding, a recurrent layer, a linear head, cross-entropy and Adam, in float32: the
    next symbol of a repeating pattern is learned in a few dozen steps."""
    nn.manual_seed(0)
    pattern = np.array([0, 1, 2, 3, 2, 1] * 4)
    ids = np.stack([np.roll(pattern, -k) for k in range(4)])          # (4, 24)
    inputs, targets = ids[:, :-1], ids[:, 1:]

    class CharModel(nn.Module):
        def __init__(self):
            self.emb, self.rnn, self.head = nn.Embedding(4, 8), layer(8, 16, batch_first=True), nn.Linear(16, 4)

        def forward(self, x):
            return self.head(self.rnn(self.emb(x))[0])
    model = CharModel()
    optimizer = nn.optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(inputs).reshape(-1, 4), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
