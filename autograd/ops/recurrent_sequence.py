"""One direction of one recurrent layer over a whole sequence, as one node: GRU, RNN (and
what the LSTM's node, feature-major, in lstm_sequence.py, shares with them).

The per-step nodes (recurrent.py) cost little each, but a layer built from them slices the
input gates ``xg[t]`` once per step, and each slice's rule allocates a zero array the size
of all of ``xg``: a 2-layer LSTM's backward spent 72 ms on that against 0.8 ms for its
products. Here the layer computes ``xg = x @ W_ih.T + b_ih`` for all T steps in one
product outside, and one node runs the time loop in its forward and backpropagation through
time in its backward: the gradient of every step's input gates comes out as one (T, N, G*H)
array, and d/dW_hh is one large product of the stacked gate gradients with the stacked
previous states (not T small ones).

With ``reverse=True`` the loop runs from the last step to the first (the backward direction
of a bidirectional layer); outputs stay aligned with the input's time axis.

Under create_graph the rule runs the same loop on Tensors: each step's gates are recomputed
with engine ops from ``xg`` and the previous state, taken from this node's own output (so the
graph of the second derivative goes through this node again, as RNNCell's does).
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .elementwise import sigmoid_array
from .nn import recorded
from .recurrent import check_state


def _check(op: str, gates: int, xg, h0, w_hh, b_hh, feature_major: bool = False) -> tuple:
    """(T, N, H) from xg (T, N, gates*H), or (gates*H, T, N) if ``feature_major``, h0 (N, H),
    W_hh (gates*H, H), b_hh (gates*H,)."""
    n, hidden = check_state(op, gates, h0, w_hh, b_hh, "initial state")
    length = (xg.shape[1] if feature_major else xg.shape[0]) if xg.ndim == 3 else 0
    expected = (gates * hidden, length, n) if feature_major else (length, n, gates * hidden)
    if xg.ndim != 3 or xg.shape != expected or length == 0:
        layout = f"({gates * hidden}, T, {n})" if feature_major else f"(T, {n}, {gates * hidden})"
        raise ValueError(f"{op}: input gates of shape {xg.shape} do not fit initial state of shape {h0.shape} "
                         f"(expected {layout} with T >= 1)")
    return length, n, hidden


def _order(length: int, reverse: bool) -> range:
    """The steps in the order the forward runs them."""
    return range(length - 1, -1, -1) if reverse else range(length)


def _previous(hs, h0, t: int, length: int, reverse: bool):
    """The state before step t: h0 at the first step, else the neighbour step's output in ``hs``."""
    if t == (length - 1 if reverse else 0):
        return h0
    return hs[t + 1] if reverse else hs[t - 1]


def _recurrent_grads(d_hg, hs, h0, reverse: bool, needs: tuple) -> tuple:
    """d/dW_hh and d/db_hh of every step's h_prev @ W_hh.T + b_hh, given the stacked
    d/d(that) (T, N, G*H): one product over the T-1 inner steps plus the first step's."""
    length, gates = d_hg.shape[0], d_hg.shape[2]
    grad_w = grad_b = None
    if needs[0]:
        first = length - 1 if reverse else 0
        grad_w = d_hg[first].T @ h0
        if length > 1:
            inner = d_hg[:length - 1] if reverse else d_hg[1:]
            previous = hs[1:] if reverse else hs[:length - 1]
            grad_w = grad_w + inner.reshape(-1, gates).T @ previous.reshape(-1, h0.shape[1])
    if len(needs) > 1 and needs[1]:
        grad_b = d_hg.sum(axis=(0, 1))
    return grad_w, grad_b


def _gate_grad(out, gate, grad, other, sigmoid: bool) -> None:
    """out = grad * other * gate' in place, gate' = gate (1 - gate) for a sigmoid gate,
    1 - gate**2 for a tanh one (from the gate's output)."""
    if sigmoid:
        np.subtract(1.0, gate, out=out)
        out *= gate
    else:
        np.multiply(gate, gate, out=out)
        np.subtract(1.0, out, out=out)
    out *= other
    out *= grad


def _plus(a, b):
    return a if b is None else a + b


class _Sequence(Function):
    """What the three share: inputs (xg, W_hh, [b_hh], [h0, [c0]]), with the initial states
    left out for zeros (``initial=False``: no input whose shape follows the batch, for export),
    and the gradients given back in that order."""

    states = 1
    feature_major = False  # xg (T, N, G*H); True: (G*H, T, N) (the LSTM, lstm_sequence.py)

    def __init__(self, reverse: bool = False, bias: bool = True, initial: bool = True):
        self.reverse, self.bias, self.initial = reverse, bias, initial

    def _inputs(self, op: str, gates: int, arrays: tuple) -> tuple:
        """(xg, W_hh, b_hh or None, [the initial states]) with the shapes checked: (T, N, H)."""
        xg, w_hh, *rest = arrays
        b_hh = rest.pop(0) if self.bias else None
        if not self.initial:
            n = xg.shape[2 if self.feature_major else 1] if xg.ndim == 3 else 0
            rest = [np.zeros((n, w_hh.shape[-1]), dtype=np.result_type(xg, w_hh))] * self.states
        sizes = _check(op, gates, xg, rest[0], w_hh, b_hh, self.feature_major)
        if self.states == 2 and rest[1].shape != rest[0].shape:
            raise ValueError(f"{op}: initial cell state of shape {rest[1].shape} does not match the hidden "
                             f"state's {rest[0].shape}")
        return (xg, w_hh, b_hh, rest) + sizes

    # d/dW_hh and d/db_hh from the stacked gate gradients, in this node's layout
    recurrent_grads = staticmethod(_recurrent_grads)

    def _grads(self, d_xg, d_hg, hs, h0, state_grads: list) -> tuple:
        """The gradients in the inputs' order, from the stacked gate gradients."""
        needs = self.needs_input_grad
        grad_w, grad_b = self.recurrent_grads(d_hg, hs, h0, self.reverse, needs[1:3] if self.bias else needs[1:2])
        grads = (d_xg if needs[0] else None, grad_w) + ((grad_b,) if self.bias else ())
        return grads + (tuple(state_grads) if self.initial else ())


class GRUSequence(_Sequence):
    """h_t of a GRU for every step, (T, N, H) (the final state is the last step's, or the
    first's with ``reverse``).

    Step t, from the state h before it: hg = h W_hh^T + b_hh; r = sigmoid(xg_r + hg_r),
    z = sigmoid(xg_z + hg_z), n = tanh(xg_n + r hg_n); h_t = (1 - z) n + z h.
    Backward through time, with gh the gradient reaching h_t and dn = gh (1 - z) (1 - n**2):
    d/dxg[t] = [dn hg_n r (1 - r), gh (h - n) z (1 - z), dn], d/dhg the same with dn r last,
    passed to the step before as d/dh = gh z + d/dhg W_hh; d/dW_hh = sum_t d/dhg^T h_(t-1),
    d/db_hh = d/dhg summed over steps and batch.
    """

    def forward(self, *arrays):
        xg, w_hh, b_hh, (h0,), length, n, hidden = self._inputs("GRU", 3, arrays)
        dtype = np.result_type(xg, h0, w_hh)
        out = np.empty((length, n, hidden), dtype=dtype)
        hgs = np.empty((length, n, 3 * hidden), dtype=dtype)   # h W_hh^T + b_hh, kept for hg_n
        rzn = np.empty((length, n, 3 * hidden), dtype=dtype)   # r, z, n
        h, w_t, two = h0, w_hh.T, 2 * hidden
        for t in _order(length, self.reverse):
            hg, gates = hgs[t], rzn[t]
            np.matmul(h, w_t, out=hg)
            if b_hh is not None:
                hg += b_hh
            np.add(xg[t, :, :two], hg[:, :two], out=gates[:, :two])
            gates[:, :two] = sigmoid_array(gates[:, :two])
            r, z, cand = gates[:, :hidden], gates[:, hidden:two], gates[:, two:]
            np.multiply(r, hg[:, two:], out=cand)
            cand += xg[t, :, two:]
            np.tanh(cand, out=cand)
            new = out[t]
            np.subtract(h, cand, out=new)
            new *= z
            new += cand
            h = new
        self.save(xg, h0, w_hh, b_hh, hgs, rzn, out)
        return out

    def backward(self, grad):
        xg, h0, w_hh, b_hh, hgs, rzn, out = self.saved
        length, hidden = xg.shape[0], h0.shape[1]
        remake = recorded(grad)
        d_h = None
        d_xg, d_hg = [None] * length, [None] * length
        for t in reversed(_order(length, self.reverse)):
            h_prev = _previous(out, h0, t, length, self.reverse)
            if remake:  # the gates again, as nodes
                hg = h_prev @ w_hh.T
                hg = hg if b_hh is None else hg + b_hh
                r, z = ((xg[t, :, k * hidden:(k + 1) * hidden] + hg[:, k * hidden:(k + 1) * hidden]).sigmoid()
                        for k in (0, 1))
                hg_n = hg[:, 2 * hidden:]
                n = (xg[t, :, 2 * hidden:] + r * hg_n).tanh()
            else:
                r, z, n = (rzn[t, :, k * hidden:(k + 1) * hidden] for k in range(3))
                hg_n = hgs[t, :, 2 * hidden:]
            gh = _plus(grad[t], d_h)
            dn = gh * (1.0 - z) * (1.0 - n * n)
            d_r = dn * hg_n * r * (1.0 - r)
            d_z = gh * (h_prev - n) * z * (1.0 - z)
            d_xg[t] = np.concatenate([d_r, d_z, dn], axis=1)
            d_hg[t] = np.concatenate([d_r, d_z, dn * r], axis=1)
            d_h = gh * z + d_hg[t] @ w_hh
        d_xg = np.stack(d_xg) if self.needs_input_grad[0] else None
        return self._grads(d_xg, np.stack(d_hg), out, h0, [d_h])


class RNNSequence(_Sequence):
    """h_t = act(xg[t] + h_(t-1) W_hh^T + b_hh) for every step, (T, N, H), act tanh or relu.

    Backward through time, with gh the gradient reaching h_t: d/dxg[t] = gh (1 - h_t**2) for
    tanh, gh where h_t > 0 for relu (from the output), passed to the step before as
    d/dh = d/dxg[t] W_hh; d/dW_hh = sum_t d/dxg[t]^T h_(t-1), d/db_hh its sum.
    """

    def __init__(self, nonlinearity: str = "tanh", reverse: bool = False, bias: bool = True, initial: bool = True):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(reverse, bias, initial)
        self.nonlinearity = nonlinearity

    def forward(self, *arrays):
        xg, w_hh, b_hh, (h0,), length, n, hidden = self._inputs("RNN", 1, arrays)
        out = np.empty((length, n, hidden), dtype=np.result_type(xg, h0, w_hh))
        h, w_t = h0, w_hh.T
        for t in _order(length, self.reverse):
            new = out[t]
            np.matmul(h, w_t, out=new)
            new += xg[t]
            if b_hh is not None:
                new += b_hh
            if self.nonlinearity == "tanh":
                np.tanh(new, out=new)
            else:
                np.maximum(new, 0, out=new)
            h = new
        self.save(h0, w_hh, b_hh, out)
        return out

    def backward(self, grad):
        h0, w_hh, b_hh, out = self.saved  # out is this node's output (a Tensor under create_graph)
        length = out.shape[0]
        d_h = None
        d_pre = [None] * length
        for t in reversed(_order(length, self.reverse)):
            gh = _plus(grad[t], d_h)
            d_pre[t] = gh * (1.0 - out[t] * out[t]) if self.nonlinearity == "tanh" else gh * (out[t] > 0)
            d_h = d_pre[t] @ w_hh
        d_pre = np.stack(d_pre)
        return self._grads(d_pre, d_pre, out, h0, [d_h])


def _apply(cls, xg, w_hh, b_hh, states: list, **attributes):
    """The node on (xg, W_hh, [b_hh], [states]): states all None mean zeros (no inputs)."""
    initial = states[0] is not None
    inputs = [xg, w_hh] + ([] if b_hh is None else [b_hh]) + (states if initial else [])
    return cls.apply(*inputs, bias=b_hh is not None, initial=initial, **attributes)


def gru_sequence(xg, h0, w_hh, b_hh=None, reverse: bool = False) -> tuple:
    """A GRU direction over all steps from input gates ``xg`` (T, N, 3H) and h0 (N, H) (None
    for zeros): (output (T, N, H), h_n)."""
    out = _apply(GRUSequence, xg, w_hh, b_hh, [h0], reverse=reverse)
    return out, out[0 if reverse else -1]


def rnn_sequence(xg, h0, w_hh, b_hh=None, nonlinearity: str = "tanh", reverse: bool = False) -> tuple:
    """A plain RNN direction over all steps from input projections ``xg`` (T, N, H) and h0
    (None for zeros): (output, h_n)."""
    out = _apply(RNNSequence, xg, w_hh, b_hh, [h0], nonlinearity=nonlinearity, reverse=reverse)
    return out, out[0 if reverse else -1]
