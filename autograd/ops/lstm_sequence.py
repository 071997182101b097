"""One direction of one LSTM layer over a whole sequence, as one node, feature-major.

The input gates are laid out feature-major, ``xg = W_ih @ x + b`` (4H, T, N) for an input
x (I, T*N), and so is every step's state: the hidden and cell states come out as (T, H, N). The reason is the step's recurrent product. OpenBLAS packs one operand of every
product into its own layout first; as ``h (N, H) @ W_hh.T`` that is the 1 MiB weight, each
step, and as ``W_hh (4H, H) @ h.T (H, N)`` it is the small state: at N = 32, H = 256 the
second ran in 61 against 86 us a step forward and 64 against 90-129 backward (two threads).
Between layers the states are copied to (H, T*N) in runs of N numbers (cheap, unlike NumPy's
full transposes: 4 ms for 8 MB), the next layer's input product is one large GEMM, and the
layers' own (T, N, H) view of a state is one small transpose per step.

Inside, each step's gates are kept gate by gate, (T, 4, H, N), and its states are (H, N)
blocks of the output: every one contiguous, as the elementwise steps want (a strided block
costs them about 2x).
"""
from __future__ import annotations

import numpy as np

from .nn import recorded
from .recurrent_sequence import _Sequence, _apply, _gate_grad, _order, _plus, _previous

# (gates in the act order, the same in PyTorch's order, scale): i, f, then o, halved; g as it is.
_ACT_ORDER = ((slice(0, 2), slice(0, 2), 0.5), (slice(2, 3), slice(3, 4), 0.5), (slice(3, 4), slice(2, 3), 1.0))


def _acts_in_order(xg, bias, acts) -> None:
    """Write xg (4H, T, N) in PyTorch's gate order (i, f, g, o), plus ``bias`` (4H,), into
    ``acts`` (T, 4, H, N) in the order (i, f, o, g), the three sigmoid gates halved (see
    LSTMSequence.forward). Runs of N numbers are contiguous on both sides."""
    hidden = acts.shape[2]
    source = xg.reshape(4, hidden, *xg.shape[1:])
    bias = None if bias is None else bias.reshape(4, hidden, 1, 1)
    target = acts.transpose(1, 2, 0, 3)
    for to, frm, scale in _ACT_ORDER:
        if bias is None:
            np.multiply(source[frm], scale, out=target[to])
        else:
            np.add(source[frm], bias[frm], out=target[to])
            if scale != 1.0:
                target[to] *= scale


def _rows_in_act_order(w_hh, dtype) -> np.ndarray:
    """W_hh (4H, H) with its blocks of rows in the act order (i, f, o, g), the sigmoid ones
    halved: ``w @ h`` (h feature-major) gives a step's recurrent pre-activations as forward wants."""
    hidden = w_hh.shape[1]
    blocks, out = w_hh.reshape(4, hidden, hidden), np.empty((4, hidden, hidden), dtype=dtype)
    for to, frm, scale in _ACT_ORDER:
        np.multiply(blocks[frm], scale, out=out[to])
    return out.reshape(4 * hidden, hidden)


def _recurrent_grads(d_xg, hs, h0, reverse: bool, needs: tuple) -> tuple:
    """d/dW_hh and d/db_hh of every step's W_hh h_prev + b_hh, given the gates' gradients
    d_xg (4H, T, N) and the hidden states hs (T, H, N): one product over the T-1 inner steps
    (the gradients a strided (4H, (T-1) N) view, the states copied to (H, (T-1) N)) plus the
    first step's."""
    gates, length, _ = d_xg.shape
    hs = hs.transpose(1, 0, 2)
    grad_w = grad_b = None
    if needs[0]:
        first = length - 1 if reverse else 0
        grad_w = d_xg[:, first, :] @ h0
        if length > 1:
            inner = d_xg[:, :length - 1] if reverse else d_xg[:, 1:]
            previous = hs[:, 1:] if reverse else hs[:, :length - 1]
            grad_w = grad_w + inner.reshape(gates, -1) @ previous.reshape(hs.shape[0], -1).T
    if len(needs) > 1 and needs[1]:
        grad_b = d_xg.sum(axis=(1, 2))
    return grad_w, grad_b


class LSTMSequence(_Sequence):
    """h_t and c_t of an LSTM for every step from the input gates xg (4H, T, N), stacked
    as one (2, T, H, N) output (``out[0]`` the hidden states, ``out[1]`` the cell states; the final ones are the last step's, or the first's with ``reverse``).
    Initial states h0, c0 and their gradients are (N, H), as the layers give them.

    Step t, from the state (h, c) before it: gates = xg[:, t] + W_hh h + b_hh split into i,
    f, g, o (sigmoid, sigmoid, tanh, sigmoid); c_t = f c + i g; h_t = o tanh(c_t).
    Backward through time, with gh, gc the gradients reaching h_t, c_t (from the output and
    from step t+1), dc = gc + gh o (1 - tanh(c_t)**2):
    d/dxg[:, t] = [dc g i (1 - i), dc c f (1 - f), dc i (1 - g**2), gh tanh(c_t) o (1 - o)],
    passed to the step before as d/dh = W_hh^T d/dxg[:, t] and d/dc = dc f;
    d/dW_hh = sum_t d/dxg[:, t] h_(t-1)^T, d/db_hh = d/dxg summed over steps and batch.
    """

    states = 2
    feature_major = True
    recurrent_grads = staticmethod(_recurrent_grads)

    def forward(self, *arrays):
        xg, w_hh, b_hh, (h0, c0), length, n, hidden = self._inputs("LSTM", 4, arrays)
        dtype = np.result_type(xg, h0, c0, w_hh)
        # The gates in the order (i, f, o, g), their pre-activations of the three sigmoid ones
        # halved: sigmoid(a) = (1 + tanh(a / 2)) / 2, so one tanh call over all four gates of
        # a step, then a halving and a half added to the first three (exact up to the rounding
        # of numbers near 1: an absolute error of 6e-8 in float32).
        acts = np.empty((length, 4, hidden, n), dtype=dtype)
        _acts_in_order(xg, b_hh, acts)
        w_rows = _rows_in_act_order(w_hh, dtype)
        product = np.empty((4, hidden, n), dtype=dtype)
        flat_product = product.reshape(4 * hidden, n)
        out = np.empty((2, length, hidden, n), dtype=dtype)
        tanh_c = np.empty((length, hidden, n), dtype=dtype)
        ig = np.empty((hidden, n), dtype=dtype)
        h, c0_t = h0.T, np.ascontiguousarray(c0.T, dtype=dtype)
        for t in _order(length, self.reverse):
            a = acts[t]
            np.matmul(w_rows, h, out=flat_product)
            a += product
            np.tanh(a, out=a)
            sig = a[:3]
            sig *= 0.5
            sig += 0.5
            i, f, o, g = a
            h, c = out[0, t], out[1, t]
            np.multiply(f, _previous(out[1], c0_t, t, length, self.reverse), out=c)
            np.multiply(i, g, out=ig)
            c += ig
            np.tanh(c, out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=h)
        self.save(xg, h0, c0, w_hh, b_hh, acts, tanh_c, c0_t, out)
        return out

    def backward(self, grad):
        if recorded(grad):
            return self._recorded_backward(grad)
        xg, h0, c0, w_hh, b_hh, acts, tanh_c, c0_t, out = self.saved
        length, (n, hidden) = xg.shape[1], h0.shape
        dtype = acts.dtype
        # Each step's gate gradients are made gate by gate in a contiguous scratch array (in
        # PyTorch's order i, f, g, o), which the product with W_hh.T reads, and copied into
        # d/dxg (4H, T, N); the states' gradients live in scratch arrays reused step to step.
        d_xg = np.empty((4 * hidden, length, n), dtype=dtype)
        d_gates = np.empty((4, hidden, n), dtype=dtype)
        flat_d_gates = d_gates.reshape(4 * hidden, n)
        d_i, d_f, d_g, d_o = d_gates
        w_cols = np.ascontiguousarray(w_hh.T, dtype=dtype)
        gh, dc, scratch, d_h, d_c = (np.empty((hidden, n), dtype=dtype) for _ in range(5))
        grad_h, grad_c = grad[0], grad[1]
        first = True
        for t in reversed(_order(length, self.reverse)):
            i, f, o, g = acts[t]
            tc, c_prev = tanh_c[t], _previous(out[1], c0_t, t, length, self.reverse)
            if first:
                np.copyto(gh, grad_h[t])
            else:
                np.add(grad_h[t], d_h, out=gh)
            np.multiply(tc, tc, out=scratch)            # dc = gh o (1 - tanh(c)**2) + grad_c + d_c
            np.subtract(1.0, scratch, out=scratch)
            scratch *= o
            np.multiply(gh, scratch, out=dc)
            dc += grad_c[t]
            if not first:
                dc += d_c
            input_forget = d_gates[:2]                  # [dc g i (1 - i), dc c_prev f (1 - f)]
            np.subtract(1.0, acts[t, :2], out=input_forget)
            input_forget *= acts[t, :2]
            input_forget *= dc
            d_i *= g
            d_f *= c_prev
            _gate_grad(d_g, g, dc, i, sigmoid=False)    # dc i (1 - g**2)
            _gate_grad(d_o, o, gh, tc, sigmoid=True)    # gh tanh(c) o (1 - o)
            np.copyto(d_xg[:, t], flat_d_gates)
            np.matmul(w_cols, flat_d_gates, out=d_h)
            np.multiply(dc, f, out=d_c)
            first = False
        return self._grads(d_xg, d_xg, out[0], h0, [d_h.T, d_c.T])

    def _recorded_backward(self, grad):
        """The rule on Tensors (create_graph): each step's gates recomputed with engine ops
        from xg and the states before the step, taken from this node's own output."""
        xg, h0, c0, w_hh, b_hh, *_, out = self.saved
        length, hidden = xg.shape[1], h0.shape[1]
        h0_t, c0_t = h0.T, c0.T
        d_h = d_c = None
        d_xg = [None] * length
        for t in reversed(_order(length, self.reverse)):
            h_prev = _previous(out[0], h0_t, t, length, self.reverse)
            c_prev = _previous(out[1], c0_t, t, length, self.reverse)
            pre = xg[:, t] + w_hh @ h_prev
            pre = pre if b_hh is None else pre + b_hh.reshape(-1, 1)
            i, f, o = (pre[k * hidden:(k + 1) * hidden].sigmoid() for k in (0, 1, 3))
            g = pre[2 * hidden:3 * hidden].tanh()
            tc = out[1, t].tanh()
            gh = _plus(grad[0, t], d_h)
            dc = _plus(grad[1, t], d_c) + gh * o * (1.0 - tc * tc)
            d_gates = np.concatenate([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g),
                                      gh * tc * o * (1.0 - o)], axis=0)
            d_xg[t] = d_gates
            d_h, d_c = w_hh.T @ d_gates, dc * f
        d_xg = np.stack(d_xg, axis=1)
        return self._grads(d_xg, d_xg, out[0], h0, [d_h.T, d_c.T])


def lstm_sequence(xg, h0, c0, w_hh, b_hh=None, reverse: bool = False) -> tuple:
    """An LSTM direction over all steps from input gates ``xg = W_ih @ x + b_ih`` (4H, T, N)
    and states (N, H) (both None for zeros): (output (T, H, N), h_n (N, H), c_n (N, H))."""
    if (h0 is None) != (c0 is None):
        raise ValueError("LSTM: give both initial states h0 and c0, or neither (zeros)")
    out = _apply(LSTMSequence, xg, w_hh, b_hh, [h0, c0], reverse=reverse)
    last = 0 if reverse else -1
    return out[0], out[0, last].T, out[1, last].T
