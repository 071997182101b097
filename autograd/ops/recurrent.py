"""One time step of an LSTM, a GRU or a plain RNN as one node each.

A step of a small recurrent layer is a few small matrix products and a dozen elementwise
ops, so the Python cost of each node decides its speed: composed from single ops an LSTM
step is about 20 nodes forward and as many rules backward; fused it is one. The input
projection ``x @ W_ih.T + b_ih`` does not depend on the state, so the layer does it for
every time step at once (one large product) and each step node takes those input gates
``xg`` with the state and the recurrent weights. Gate orders are PyTorch's: LSTM
(i, f, g, o), GRU (r, z, n) with n = tanh(x_n + r * (W_hn h + b_hn)).

Each rule runs on arrays with what the forward saved; under create_graph the gate
activations are recomputed from the inputs with engine ops and the same formulas run on
Tensors, so second derivatives are recorded.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .. import tensor  # the module: this file is imported while tensor.py is still loading
from .elementwise import sigmoid_array
from .nn import Linear, recorded


def check_state(op: str, gates: int, h, w_hh, b_hh, state: str = "hidden state") -> tuple:
    """(N, H) from a state h (N, H) that fits W_hh (gates*H, H) and b_hh (gates*H,); ``state``
    names h in the errors (a step's "hidden state", a sequence's "initial state")."""
    if h.ndim != 2:
        raise ValueError(f"{op}: {state} must be 2-D (batch, hidden_size), got shape {h.shape}")
    n, hidden = h.shape
    if w_hh.shape != (gates * hidden, hidden):
        raise ValueError(f"{op}: {state} of shape {h.shape} needs weight_hh of shape "
                         f"{(gates * hidden, hidden)}, got {w_hh.shape}")
    if b_hh is not None and b_hh.shape != (gates * hidden,):
        raise ValueError(f"{op}: bias_hh of shape {b_hh.shape} does not fit weight_hh of shape {w_hh.shape}")
    return n, hidden


def _check(op: str, gates: int, xg, h, w_hh, b_hh) -> None:
    """Shapes (N, gates*H) for xg, (N, H) for h, (gates*H, H) for W_hh, (gates*H,) for b_hh."""
    n, hidden = check_state(op, gates, h, w_hh, b_hh)
    if xg.shape != (n, gates * hidden):
        raise ValueError(f"{op}: input gates of shape {xg.shape} do not fit hidden state of shape {h.shape} "
                         f"(expected {(n, gates * hidden)})")


def _recurrent(h, w_hh, b_hh):
    """h @ W_hh.T (+ b_hh), on arrays or Tensors."""
    out = h @ w_hh.T
    return out if b_hh is None else out + b_hh


def _weight_grads(d_gates, h, w_hh, needs: tuple) -> tuple:
    """d/dh, d/dW_hh and d/db_hh of h @ W_hh.T + b_hh, given d/d(that) (None where not needed)."""
    return ((d_gates @ w_hh if needs[0] else None), (d_gates.T @ h if needs[1] else None),
            (d_gates.sum(axis=0) if len(needs) > 2 and needs[2] else None))


class LSTMCell(Function):
    """h', c' of one LSTM step, stacked as one (2, N, H) output (``out[0]`` is h', ``out[1]`` c').

    gates = xg + h W_hh^T + b_hh, split into i, f, g, o; i, f, o = sigmoid, g = tanh;
    c' = f c + i g;  h' = o tanh(c').
    Backward, with dc = grad_c' + grad_h' o (1 - tanh(c')**2):
    d/d(gates) = [dc g i (1 - i), dc c f (1 - f), dc i (1 - g**2), grad_h' tanh(c') o (1 - o)],
    d/dxg = d/d(gates), d/dh = d/d(gates) W_hh, d/dc = dc f, d/dW_hh = d/d(gates)^T h,
    d/db_hh = d/d(gates) summed over the batch.
    """

    def forward(self, xg, h, c, w_hh, b_hh=None):
        _check("LSTMCell", 4, xg, h, w_hh, b_hh)
        if c.shape != h.shape:
            raise ValueError(f"LSTMCell: cell state of shape {c.shape} does not match hidden state of shape "
                             f"{h.shape}")
        hidden = h.shape[1]
        acts = _recurrent(h, w_hh, b_hh)
        acts += xg
        acts[:, :2 * hidden] = sigmoid_array(acts[:, :2 * hidden])
        np.tanh(acts[:, 2 * hidden:3 * hidden], out=acts[:, 2 * hidden:3 * hidden])
        acts[:, 3 * hidden:] = sigmoid_array(acts[:, 3 * hidden:])
        i, f, g, o = (acts[:, k * hidden:(k + 1) * hidden] for k in range(4))
        out = np.empty((2,) + h.shape, dtype=acts.dtype)
        np.multiply(f, c, out=out[1])
        out[1] += i * g
        tanh_c = np.tanh(out[1])
        np.multiply(o, tanh_c, out=out[0])
        self.save(h, c, w_hh, b_hh, xg, acts, tanh_c)
        return out

    def backward(self, grad):
        h, c, w_hh, b_hh, xg, acts, tanh_c = self.saved
        hidden = h.shape[1]
        if recorded(grad):  # the gates again, as nodes
            pre = _recurrent(h, w_hh, b_hh) + xg
            i, f, o = (pre[:, k * hidden:(k + 1) * hidden].sigmoid() for k in (0, 1, 3))
            g = pre[:, 2 * hidden:3 * hidden].tanh()
            tanh_c = (f * c + i * g).tanh()
        else:
            i, f, g, o = (acts[:, k * hidden:(k + 1) * hidden] for k in range(4))
        grad_h, grad_c = grad[0], grad[1]
        dc = grad_c + grad_h * o * (1.0 - tanh_c * tanh_c)
        d_gates = np.concatenate([dc * g * i * (1.0 - i), dc * c * f * (1.0 - f), dc * i * (1.0 - g * g),
                                  grad_h * tanh_c * o * (1.0 - o)], axis=1)
        need_x, need_h, need_c = self.needs_input_grad[:3]
        grad_h_prev, grad_w, grad_b = _weight_grads(d_gates, h, w_hh, self.needs_input_grad[1:2] +
                                                    self.needs_input_grad[3:])
        grads = (d_gates if need_x else None, grad_h_prev, dc * f if need_c else None, grad_w)
        return grads if b_hh is None else grads + (grad_b,)


class GRUCell(Function):
    """h' of one GRU step.

    hg = h W_hh^T + b_hh; r = sigmoid(xg_r + hg_r), z = sigmoid(xg_z + hg_z),
    n = tanh(xg_n + r hg_n);  h' = (1 - z) n + z h.
    Backward, with dn = grad (1 - z) (1 - n**2):
    d/dxg = [dn hg_n r (1 - r), grad (h - n) z (1 - z), dn], d/dhg = the same with dn r last,
    d/dh = grad z + d/dhg W_hh, d/dW_hh = d/dhg^T h, d/db_hh = d/dhg summed over the batch.
    """

    def forward(self, xg, h, w_hh, b_hh=None):
        _check("GRUCell", 3, xg, h, w_hh, b_hh)
        hidden = h.shape[1]
        hg = _recurrent(h, w_hh, b_hh)
        rz = sigmoid_array(xg[:, :2 * hidden] + hg[:, :2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        hg_n = hg[:, 2 * hidden:]
        n = r * hg_n
        n += xg[:, 2 * hidden:]
        np.tanh(n, out=n)
        out = h - n
        out *= z
        out += n
        self.save(h, w_hh, b_hh, xg, r, z, n, hg_n)
        return out

    def backward(self, grad):
        h, w_hh, b_hh, xg, r, z, n, hg_n = self.saved
        hidden = h.shape[1]
        if recorded(grad):  # the gates again, as nodes
            hg = _recurrent(h, w_hh, b_hh)
            r, z = ((xg[:, k * hidden:(k + 1) * hidden] + hg[:, k * hidden:(k + 1) * hidden]).sigmoid()
                    for k in (0, 1))
            hg_n = hg[:, 2 * hidden:]
            n = (xg[:, 2 * hidden:] + r * hg_n).tanh()
        dn = grad * (1.0 - z) * (1.0 - n * n)
        d_r = dn * hg_n * r * (1.0 - r)
        d_z = grad * (h - n) * z * (1.0 - z)
        d_hg = np.concatenate([d_r, d_z, dn * r], axis=1)
        need_x, need_h = self.needs_input_grad[:2]
        grad_h, grad_w, grad_b = _weight_grads(d_hg, h, w_hh, self.needs_input_grad[1:])
        if need_h:
            grad_h = grad_h + grad * z
        grads = (np.concatenate([d_r, d_z, dn], axis=1) if need_x else None, grad_h, grad_w)
        return grads if b_hh is None else grads + (grad_b,)


class RNNCell(Function):
    """h' = act(xg + h W_hh^T + b_hh), act tanh or relu.

    d/d(pre) = grad (1 - h'**2) for tanh, grad where h' > 0 for relu (from the output h');
    d/dxg = d/d(pre), d/dh = d/d(pre) W_hh, d/dW_hh = d/d(pre)^T h, d/db_hh = its batch sum.
    """

    def __init__(self, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, xg, h, w_hh, b_hh=None):
        _check("RNNCell", 1, xg, h, w_hh, b_hh)
        out = _recurrent(h, w_hh, b_hh)
        out += xg
        if self.nonlinearity == "tanh":
            np.tanh(out, out=out)
        else:
            np.maximum(out, 0, out=out)
        self.save(h, w_hh, b_hh, out)
        return out

    def backward(self, grad):
        h, w_hh, b_hh, out = self.saved  # out is this node's output (a Tensor under create_graph)
        d_pre = grad * (1.0 - out * out) if self.nonlinearity == "tanh" else grad * (out > 0)
        grad_h, grad_w, grad_b = _weight_grads(d_pre, h, w_hh, self.needs_input_grad[1:])
        grads = (d_pre if self.needs_input_grad[0] else None, grad_h, grad_w)
        return grads if b_hh is None else grads + (grad_b,)


def lstm_step(xg, h, c, w_hh, b_hh=None) -> tuple:
    """One LSTM step from precomputed input gates ``xg = x @ W_ih.T + b_ih``: (h', c')."""
    out = LSTMCell.apply(xg, h, c, w_hh, *([] if b_hh is None else [b_hh]))
    return out[0], out[1]


def gru_step(xg, h, w_hh, b_hh=None):
    """One GRU step from precomputed input gates ``xg = x @ W_ih.T + b_ih``: h'."""
    return GRUCell.apply(xg, h, w_hh, *([] if b_hh is None else [b_hh]))


def rnn_step(xg, h, w_hh, b_hh=None, nonlinearity: str = "tanh"):
    """One RNN step from precomputed input projections ``xg = x @ W_ih.T + b_ih``: h'."""
    return RNNCell.apply(xg, h, w_hh, *([] if b_hh is None else [b_hh]), nonlinearity=nonlinearity)


def _batched(op: str, x, states: list, w_ih, gates: int):
    """(x, states, unbatched) with 1-D input and states made rows of one, zeros for None states;
    the input's feature size and the states' shapes are checked against the weights."""
    hidden = w_ih.shape[0] // gates if w_ih.ndim == 2 else None
    if x.ndim not in (1, 2) or w_ih.ndim != 2 or x.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{op}: input of shape {x.shape} does not fit weight_ih of shape {w_ih.shape} "
                         f"(expected (batch, {w_ih.shape[-1]}) or ({w_ih.shape[-1]},))")
    unbatched = x.ndim == 1
    expected = (hidden,) if unbatched else (x.shape[0], hidden)
    fixed = []
    for state in states:
        if state is None:
            state = tensor.Tensor(np.zeros(expected, dtype=x.dtype))
        elif tuple(state.shape) != expected:
            raise ValueError(f"{op}: state of shape {state.shape} does not fit input of shape {x.shape} "
                             f"(expected {expected})")
        fixed.append(state.reshape(1, hidden) if unbatched else state)
    return (x.reshape(1, -1) if unbatched else x), fixed, unbatched


def _input_gates(x, w_ih, b_ih):
    return Linear.apply(x, w_ih, *([] if b_ih is None else [b_ih]))


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple:
    """PyTorch's LSTMCell step: (h', c') from input x (N, H_in) or (H_in,), states (N, H) or
    (H,) (None for zeros), weights (4H, H_in), (4H, H), biases (4H,) or None."""
    x, (h, c), unbatched = _batched("lstm_cell", x, [h, c], w_ih, 4)
    h, c = lstm_step(_input_gates(x, w_ih, b_ih), h, c, w_hh, b_hh)
    return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """PyTorch's GRUCell step: h' from input x (N, H_in) or (H_in,), state (N, H) or (H,)
    (None for zeros), weights (3H, H_in), (3H, H), biases (3H,) or None."""
    x, (h,), unbatched = _batched("gru_cell", x, [h], w_ih, 3)
    h = gru_step(_input_gates(x, w_ih, b_ih), h, w_hh, b_hh)
    return h.reshape(-1) if unbatched else h


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh"):
    """PyTorch's RNNCell step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""
    x, (h,), unbatched = _batched("rnn_cell", x, [h], w_ih, 1)
    h = rnn_step(_input_gates(x, w_ih, b_ih), h, w_hh, b_hh, nonlinearity)
    return h.reshape(-1) if unbatched else h
