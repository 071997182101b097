"""The recurrent sequence nodes (LSTM, GRU, RNN over T steps) unrolled into ONNX operators.

Unrolled, not ONNX's own LSTM/GRU/RNN operators: the node's output holds every step's
state (the LSTM's every cell state too), which ONNX's LSTM does not give back (only the
last), and the unrolled steps are the node's equations as written, with PyTorch's gate
order kept (ONNX's LSTM wants (i, o, f, c)). The cost: the sequence length is the
example's, fixed in the file (the batch stays dynamic with ``batch_first=True``; with the
time axis first, export with ``dynamic_batch=False``); each step is a dozen operators.
"""
from __future__ import annotations

import numpy as np

from autograd.ops.lstm_sequence import LSTMSequence
from autograd.ops.recurrent_sequence import GRUSequence, RNNSequence


class _Step:
    """What every step of one node uses: the inputs' names, W_hh^T, and slicing helpers."""

    def __init__(self, graph, fn, names):
        time_axis = 1 if fn.feature_major else 0  # the LSTM's xg is (4H, T, N), the others' (T, N, G*H)
        if time_axis in graph.batch_axes(fn.inputs[0]):
            raise graph.unsupported(fn, "its time axis follows the input's first axis, which a dynamic batch "
                                        "makes variable, but the steps are unrolled over a fixed length; use "
                                        "batch_first=True or export with dynamic_batch=False")
        self.graph = graph
        self.xg, w_hh, *rest = names
        if fn.feature_major:
            self.xg = graph.add("Transpose", [self.xg], perm=[1, 2, 0])
        self.b_hh = rest.pop(0) if fn.bias else None
        self.hidden, self.dtype = fn.inputs[1].shape[1], fn.out.dtype
        self.w_t = graph.add("Transpose", [w_hh], perm=[1, 0])
        self.states = rest if fn.initial else [self.zeros()] * fn.states
        self.length = fn.inputs[0].shape[time_axis]
        self.order = range(self.length - 1, -1, -1) if fn.reverse else range(self.length)

    def zeros(self) -> str:
        """A (N, H) zero state, N read from xg's shape at run time."""
        graph = self.graph
        batch = graph.add("Gather", [graph.add("Shape", [self.xg]), graph.ints([1])], axis=0)
        shape = graph.add("Concat", [batch, graph.ints([self.hidden])], axis=0)
        value = graph.onnx.helper.make_tensor("value", graph.tensor_type(self.dtype), [1], [0])
        return graph.add("ConstantOfShape", [shape], value=value)

    def input_gates(self, t: int) -> str:
        return self.graph.add("Gather", [self.xg, self.graph.constant(np.asarray(t, dtype=np.int64))], axis=0)

    def recurrent(self, h: str) -> str:
        """h W_hh^T + b_hh."""
        out = self.graph.add("MatMul", [h, self.w_t])
        return out if self.b_hh is None else self.graph.add("Add", [out, self.b_hh])

    def gate(self, a: str, k: int) -> str:
        """Columns k*H to (k+1)*H of a."""
        g, hidden = self.graph, self.hidden
        return g.add("Slice", [a, g.ints([k * hidden]), g.ints([(k + 1) * hidden]), g.ints([1])])

    def stacked(self, per_step: dict) -> str:
        """The states of every step, in time order, as one (T, N, H) value."""
        g = self.graph
        return g.add("Concat", [g.add("Unsqueeze", [per_step[t], g.ints([0])]) for t in range(self.length)], axis=0)


def _lstm(graph, fn, names):
    step = _Step(graph, fn, names)
    add = graph.add
    (h, c), hs, cs = step.states, {}, {}
    for t in step.order:
        a = add("Add", [step.recurrent(h), step.input_gates(t)])
        i, f, o = (add("Sigmoid", [step.gate(a, k)]) for k in (0, 1, 3))
        g = add("Tanh", [step.gate(a, 2)])
        c = cs[t] = add("Add", [add("Mul", [f, c]), add("Mul", [i, g])])
        h = hs[t] = add("Mul", [o, add("Tanh", [c])])
    both = [add("Unsqueeze", [step.stacked(states), graph.ints([0])]) for states in (hs, cs)]
    return add("Transpose", [add("Concat", both, axis=0)], perm=[0, 1, 3, 2])  # (2, T, H, N), as the node's


def _gru(graph, fn, names):
    step = _Step(graph, fn, names)
    add = graph.add
    (h,), hs = step.states, {}
    for t in step.order:
        x, hg = step.input_gates(t), step.recurrent(h)
        r, z = (add("Sigmoid", [add("Add", [step.gate(x, k), step.gate(hg, k)])]) for k in (0, 1))
        n = add("Tanh", [add("Add", [step.gate(x, 2), add("Mul", [r, step.gate(hg, 2)])])])
        h = hs[t] = add("Add", [n, add("Mul", [z, add("Sub", [h, n])])])
    return step.stacked(hs)


def _rnn(graph, fn, names):
    step = _Step(graph, fn, names)
    (h,), hs = step.states, {}
    act = "Tanh" if fn.nonlinearity == "tanh" else "Relu"
    for t in step.order:
        h = hs[t] = graph.add(act, [graph.add("Add", [step.recurrent(h), step.input_gates(t)])])
    return step.stacked(hs)


RECURRENT_CONVERTERS = {LSTMSequence: _lstm, GRUSequence: _gru, RNNSequence: _rnn}
