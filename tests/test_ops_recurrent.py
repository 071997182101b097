"""The fused LSTM, GRU and RNN step nodes: finite differences to first and second order
over batch, width and bias, the composed equations, unbatched input and zero states,
shape errors, and PyTorch's cells with the same weights (values and every gradient)."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.recurrent import (GRUCell, LSTMCell, RNNCell, gru_cell, gru_step, lstm_cell, lstm_step,
                                    rnn_cell, rnn_step)

RNG = np.random.default_rng(0)
GATES = {"lstm": 4, "gru": 3, "tanh": 1, "relu": 1}
GRID = [(1, 1), (3, 2), (2, 5)]  # (batch, hidden)


def leaf(*shape, scale=1.0):
    return Tensor(RNG.standard_normal(shape) * scale, requires_grad=True)


def step_inputs(kind, batch, hidden, bias=True):
    gates = GATES[kind]
    inputs = [leaf(batch, gates * hidden), leaf(batch, hidden)]
    if kind == "lstm":
        inputs.append(leaf(batch, hidden))
    inputs.append(leaf(gates * hidden, hidden, scale=0.7))
    if bias:
        inputs.append(leaf(gates * hidden))
    return inputs


def step(kind, fused=True):
    """The step as a function of its inputs returning one Tensor (for the LSTM, 1.5 h' + c'),
    fused or composed from single ops."""
    if kind == "lstm":
        def lstm(*t):
            h, c = lstm_step(*t) if fused else composed(kind, *t)
            return h * 1.5 + c
        return lstm
    if not fused:
        return lambda *t: composed(kind, *t)
    if kind == "gru":
        return gru_step
    return lambda *t: rnn_step(*t, nonlinearity=kind)


def composed(kind, xg, h, *rest):
    """The step from single ops (PyTorch's equations); the LSTM's returns (h', c')."""
    if kind == "lstm":
        c, w_hh, *b = rest
    else:
        w_hh, *b = rest
    hidden = h.shape[1]
    hg = h @ w_hh.T + (b[0] if b else 0.0)
    if kind in ("tanh", "relu"):
        pre = xg + hg
        return pre.tanh() if kind == "tanh" else pre.relu()
    part = lambda a, k: a[:, k * hidden:(k + 1) * hidden]  # noqa: E731
    if kind == "gru":
        r, z = ((part(xg, k) + part(hg, k)).sigmoid() for k in (0, 1))
        n = (part(xg, 2) + r * part(hg, 2)).tanh()
        return (1.0 - z) * n + z * h
    gates = xg + hg
    i, f, o = (part(gates, k).sigmoid() for k in (0, 1, 3))
    c_new = f * c + i * part(gates, 2).tanh()
    return o * c_new.tanh(), c_new


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("batch, hidden", GRID)
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_to_first_and_second_order(kind, batch, hidden, bias):
    inputs = step_inputs(kind, batch, hidden, bias)
    if kind == "relu":  # keep pre-activations away from the kink, where differences mislead
        inputs[0] = Tensor(inputs[0].data + np.sign(inputs[0].data) * 3.0, requires_grad=True)
    assert ag.gradcheck(step(kind), inputs)
    assert ag.gradgradcheck(step(kind), inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_values_and_gradients_match_the_composed_step(kind, bias):
    inputs = step_inputs(kind, 4, 3, bias)
    out, ref = step(kind)(*inputs), step(kind, fused=False)(*inputs)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12, atol=1e-12)
    upstream = RNG.standard_normal(out.shape)
    for g, e in zip(ag.grad((out * upstream).sum(), inputs), ag.grad((ref * upstream).sum(), inputs)):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-10, atol=1e-12)


def test_lstm_gradient_of_only_some_inputs_and_of_one_output():
    xg, h, c, w, b = step_inputs("lstm", 2, 3)
    h.requires_grad = c.requires_grad = False
    h_new, _ = lstm_step(xg, h, c, w, b)
    got = ag.grad(h_new.sum(), [xg, w, b])
    expected = ag.grad(composed("lstm", xg, h, c, w, b)[0].sum(), [xg, w, b])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    inputs = [Tensor(t.data.astype(dtype), requires_grad=True) for t in step_inputs("lstm", 2, 3)]
    h, c = lstm_step(*inputs)
    (h.sum() + c.sum()).backward()
    assert h.dtype == c.dtype == dtype and all(t.grad.dtype == dtype for t in inputs)


def test_unbatched_input_and_zero_states():
    x, w_ih, w_hh, b_ih, b_hh = leaf(4), leaf(8, 4), leaf(8, 2), leaf(8), leaf(8)
    h, c = lstm_cell(x, None, None, w_ih, w_hh, b_ih, b_hh)
    h2, c2 = lstm_cell(x.reshape(1, 4), Tensor(np.zeros((1, 2))), Tensor(np.zeros((1, 2))), w_ih, w_hh, b_ih, b_hh)
    assert h.shape == c.shape == (2,)
    np.testing.assert_allclose(h.data, h2.data[0])
    np.testing.assert_allclose(c.data, c2.data[0])
    assert gru_cell(x, None, leaf(6, 4), leaf(6, 2)).shape == (2,)
    assert rnn_cell(x, Tensor(np.zeros(2)), leaf(2, 4), leaf(2, 2), nonlinearity="relu").shape == (2,)


def test_shape_errors_name_the_op_and_shapes():
    x, w_ih, w_hh = Tensor(np.zeros((3, 4))), Tensor(np.zeros((8, 4))), Tensor(np.zeros((8, 2)))
    with pytest.raises(ValueError, match=r"lstm_cell: input of shape \(3, 5\) does not fit weight_ih of shape \(8, 4\)"):
        lstm_cell(Tensor(np.zeros((3, 5))), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lstm_cell: input of shape \(2, 3, 4\)"):
        lstm_cell(Tensor(np.zeros((2, 3, 4))), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lstm_cell: state of shape \(2, 2\) does not fit input of shape \(3, 4\)"):
        lstm_cell(x, Tensor(np.zeros((2, 2))), None, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"LSTMCell: hidden state of shape \(3, 2\) needs weight_hh of shape "
                                         r"\(8, 2\), got \(8, 3\)"):
        lstm_step(Tensor(np.zeros((3, 8))), Tensor(np.zeros((3, 2))), Tensor(np.zeros((3, 2))),
                  Tensor(np.zeros((8, 3))))
    with pytest.raises(ValueError, match=r"GRUCell: input gates of shape \(3, 8\) do not fit"):
        gru_step(Tensor(np.zeros((3, 8))), Tensor(np.zeros((3, 2))), Tensor(np.zeros((6, 2))))
    with pytest.raises(ValueError, match=r"RNNCell: bias_hh of shape \(3,\)"):
        rnn_step(Tensor(np.zeros((3, 2))), Tensor(np.zeros((3, 2))), Tensor(np.zeros((2, 2))),
                 Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be 'tanh' or 'relu'"):
        RNNCell(nonlinearity="sigmoid")


@pytest.mark.parametrize("kind", ["lstm", "gru", "tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("unbatched", [False, True])
def test_against_pytorch_cells(kind, bias, unbatched):
    torch = pytest.importorskip("torch")
    n, d_in, hidden = 3, 4, 5
    gates = GATES[kind]
    x_shape, h_shape = ((d_in,), (hidden,)) if unbatched else ((n, d_in), (n, hidden))
    arrays = {"x": RNG.standard_normal(x_shape), "h": RNG.standard_normal(h_shape),
              "c": RNG.standard_normal(h_shape),
              "w_ih": RNG.standard_normal((gates * hidden, d_in)) * 0.5,
              "w_hh": RNG.standard_normal((gates * hidden, hidden)) * 0.5,
              "b_ih": RNG.standard_normal(gates * hidden), "b_hh": RNG.standard_normal(gates * hidden)}
    ours = {k: Tensor(v.copy(), requires_grad=True) for k, v in arrays.items()}
    b_ih, b_hh = (ours["b_ih"], ours["b_hh"]) if bias else (None, None)
    if kind == "lstm":
        module = torch.nn.LSTMCell(d_in, hidden, bias=bias, dtype=torch.float64)
    elif kind == "gru":
        module = torch.nn.GRUCell(d_in, hidden, bias=bias, dtype=torch.float64)
    else:
        module = torch.nn.RNNCell(d_in, hidden, bias=bias, nonlinearity=kind, dtype=torch.float64)
    with torch.no_grad():
        for name in ("w_ih", "w_hh") + (("b_ih", "b_hh") if bias else ()):
            getattr(module, name.replace("w_", "weight_").replace("b_", "bias_")).copy_(torch.tensor(arrays[name]))
    tx, th, tc = (torch.tensor(arrays[k], requires_grad=True) for k in ("x", "h", "c"))
    up_h, up_c = RNG.standard_normal(h_shape), RNG.standard_normal(h_shape)
    if kind == "lstm":
        h, c = lstm_cell(ours["x"], ours["h"], ours["c"], ours["w_ih"], ours["w_hh"], b_ih, b_hh)
        loss = (h * up_h).sum() + (c * up_c).sum()
        t_h, t_c = module(tx, (th, tc))
        t_loss = (t_h * torch.tensor(up_h)).sum() + (t_c * torch.tensor(up_c)).sum()
        np.testing.assert_allclose(c.data, t_c.detach().numpy(), rtol=1e-12, atol=1e-12)
    else:
        cell = gru_cell if kind == "gru" else lambda *a: rnn_cell(*a, nonlinearity=kind)
        h = cell(ours["x"], ours["h"], ours["w_ih"], ours["w_hh"], b_ih, b_hh)
        loss = (h * up_h).sum()
        t_h = module(tx, th)
        t_loss = (t_h * torch.tensor(up_h)).sum()
    np.testing.assert_allclose(h.data, t_h.detach().numpy(), rtol=1e-12, atol=1e-12)
    loss.backward()
    t_loss.backward()
    pairs = [("x", tx), ("h", th)] + ([("c", tc)] if kind == "lstm" else [])
    pairs += [("w_ih", module.weight_ih), ("w_hh", module.weight_hh)]
    pairs += [("b_ih", module.bias_ih), ("b_hh", module.bias_hh)] if bias else []
    for name, t in pairs:
        np.testing.assert_allclose(ours[name].grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_second_derivatives_against_pytorch(kind):
    torch = pytest.importorskip("torch")
    inputs = step_inputs(kind, 2, 3)
    theirs = [torch.tensor(t.data, requires_grad=True) for t in inputs]
    weights = [RNG.standard_normal(t.shape) for t in inputs]

    def torch_step(xg, h, *rest):  # PyTorch's equations on its own tensors
        if kind == "lstm":
            c, w, b = rest
            i, f, g, o = (xg + h @ w.T + b).chunk(4, dim=1)
            c_new = i.sigmoid() * g.tanh() + f.sigmoid() * c
            return o.sigmoid() * c_new.tanh() * 1.5 + c_new
        w, b = rest
        x_r, x_z, x_n = xg.chunk(3, dim=1)
        h_r, h_z, h_n = (h @ w.T + b).chunk(3, dim=1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return (1 - z) * n + z * h
    out = step(kind)(*inputs)
    upstream = RNG.standard_normal(out.shape)
    firsts = ag.grad((out * upstream).sum(), inputs, create_graph=True)
    seconds = ag.grad(sum((g * w).sum() for g, w in zip(firsts, weights)), inputs)
    t_firsts = torch.autograd.grad((torch_step(*theirs) * torch.tensor(upstream)).sum(), theirs, create_graph=True)
    t_seconds = torch.autograd.grad(sum((g * torch.tensor(w)).sum() for g, w in zip(t_firsts, weights)), theirs)
    for mine, t in zip(seconds, t_seconds):
        np.testing.assert_allclose(mine.data, t.numpy(), rtol=1e-9, atol=1e-11)
