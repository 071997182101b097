"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and RNNCell, LSTMCell and GRUCell
for one step, with PyTorch's arguments, parameter names, gate orders and initialisation, so a
PyTorch state dict loads and gives the same outputs.

Per layer and direction, the input gates of all T steps are one product
``x @ W_ih.T + b_ih`` (T, N, G*H), and one node runs the time loop over them
(``autograd/ops/recurrent_sequence.py``). The LSTM's layers run feature-major,
``W_ih @ x`` for x (I, T*N) and states (T, H, N), which its node's products want
(``autograd/ops/lstm_sequence.py``); the input and output keep PyTorch's layouts.
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops import recurrent as step
from autograd.ops.lstm_sequence import lstm_sequence
from autograd.ops.recurrent_sequence import gru_sequence, rnn_sequence

from .. import functional as F
from .. import init as initializers
from .module import Module, Parameter

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _mode(name: str, nonlinearity: str) -> str:
    if name != "RNN":
        return name
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "RNN_" + nonlinearity.upper()


def _add_parameters(module: Module, shapes: list, hidden_size: int, dtype, rng) -> None:
    """Set each (name, shape) as a Parameter drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's."""
    bound = 1.0 / math.sqrt(hidden_size)
    for name, shape in shapes:
        param = Parameter(np.empty(shape, dtype=dtype))
        initializers.uniform_(param, -bound, bound, rng=rng)
        setattr(module, name, param)


def _parameter_shapes(suffix: str, gates: int, input_size: int, hidden_size: int, bias: bool) -> list:
    shapes = [(f"weight_ih{suffix}", (gates * hidden_size, input_size)),
              (f"weight_hh{suffix}", (gates * hidden_size, hidden_size))]
    if bias:
        shapes += [(f"bias_ih{suffix}", (gates * hidden_size,)), (f"bias_hh{suffix}", (gates * hidden_size,))]
    return shapes


def _checked_state(layer: str, what: str, state, expected: tuple, input_shape: tuple, like: Tensor) -> Tensor:
    """``state`` as a Tensor of shape ``expected``; a ValueError naming the layer otherwise."""
    state = state if isinstance(state, Tensor) else like._operand(state)
    if tuple(state.shape) != expected:
        raise ValueError(f"{layer}: {what} of shape {tuple(state.shape)} does not fit input of shape "
                         f"{input_shape} (expected {expected})")
    return state


def _input_gates(x, w_ih, b_ih):
    """x @ W_ih.T + b_ih for every step at once, (T, N, G*H), as one 2-D product (NumPy runs a
    3-D @ as one product per step: 45 against 29 ms for a (64, 32, 256) input and 1024 gates)."""
    length, batch, width = x.shape
    return F.linear(x.reshape(length * batch, width), w_ih, b_ih).reshape(length, batch, -1)


def _keep(result: tuple, outputs: list, finals: list) -> None:
    """Append a direction's (output, final states...) to the layer's outputs and the finals."""
    out, *last = result
    outputs.append(out)
    for final, state in zip(finals, last):
        final.append(state)


def _dtype(dtype) -> np.dtype:
    return np.dtype(ag.get_default_dtype() if dtype is None else dtype)


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: the stack of layers and directions, the input's layouts,
    the initial and final states. Subclasses set ``mode``."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 rng: np.random.Generator | None = None):
        name = type(self).__name__
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, got "
                             f"{input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        directions = 2 if bidirectional else 1
        shapes = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes += _parameter_shapes(f"_l{layer}{suffix}", _GATES[self.mode], layer_input, hidden_size, bias)
        _add_parameters(self, shapes, hidden_size, _dtype(dtype), rng)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def flatten_parameters(self) -> None:
        """Nothing to do (PyTorch packs cuDNN's weights here); kept so PyTorch code runs."""

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return tuple(getattr(self, f"{kind}{suffix}", None) for kind in kinds)

    def _initial_states(self, hx, batch: int, unbatched: bool, input_shape: tuple) -> list:
        """The initial states as (D * num_layers, N, H) Tensors (one, or h and c for the LSTM);
        None for zeros (made inside the recurrent node, so nothing follows the batch outside it)."""
        name, like = type(self).__name__, self.weight_hh_l0
        if hx is None:
            return [None] * (2 if self.mode == "LSTM" else 1)
        count = self.num_directions * self.num_layers
        expected = (count, self.hidden_size) if unbatched else (count, batch, self.hidden_size)
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise ValueError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            pairs = zip(("h_0", "c_0"), hx)
        else:
            pairs = [("hx", hx)]
        states = [_checked_state(name, what, state, expected, input_shape, like) for what, state in pairs]
        return [s.reshape(count, 1, self.hidden_size) if unbatched else s for s in states]

    def _direction(self, xg, states: list, w_hh, b_hh, reverse: bool) -> tuple:
        """(output, final states...) of one direction of one layer from its input gates."""
        if self.mode == "GRU":
            return gru_sequence(xg, states[0], w_hh, b_hh, reverse)
        return rnn_sequence(xg, states[0], w_hh, b_hh, self.mode[4:].lower(), reverse)

    def _layers(self, x, states: list, finals: list) -> Tensor:
        """The output (T, N, D * H) of the stack for x (T, N, H_in); each layer's final states
        appended to ``finals``."""
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True)
            outputs = []
            for direction in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                initial = self._initial(states, layer, direction)
                _keep(self._direction(_input_gates(x, w_ih, b_ih), initial, w_hh, b_hh, bool(direction)),
                      outputs, finals)
            x = outputs[0] if len(outputs) == 1 else ag.concatenate(outputs, axis=2)
        return x

    def _lstm_layers(self, x, states: list, finals: list) -> Tensor:
        """As ``_layers``, feature-major between the layers (see the module's docstring): x
        (T, N, H_in) enters as one (H_in, T*N) operand, each layer's output (T, D * H, N)
        is copied to the next one's (D * H, T*N), and the last is returned as (T, N, D * H)."""
        length, batch = x.shape[0], x.shape[1]
        flat = x.reshape(length * batch, -1).T
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                flat = F.dropout(flat, self.dropout, True)
            outputs = []
            for direction in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                xg = (w_ih @ flat).reshape(-1, length, batch)
                bias = b_hh if b_ih is None else b_ih + b_hh
                _keep(lstm_sequence(xg, *self._initial(states, layer, direction), w_hh, bias, bool(direction)),
                      outputs, finals)
            sequence = outputs[0] if len(outputs) == 1 else ag.concatenate(outputs, axis=1)
            flat = sequence.transpose(1, 0, 2).reshape(sequence.shape[1], length * batch)
        return sequence.transpose(0, 2, 1)

    def _initial(self, states: list, layer: int, direction: int) -> list:
        """The initial states of one layer and direction (None for zeros)."""
        index = layer * self.num_directions + direction
        return [None if s is None else s[index] for s in states]

    def forward(self, input, hx=None) -> tuple:
        """``(output, h_n)`` (``(output, (h_n, c_n))`` for the LSTM) for input (T, N, H_in),
        (N, T, H_in) with ``batch_first``, or unbatched (T, H_in)."""
        name, like = type(self).__name__, self.weight_ih_l0
        x = input if isinstance(input, Tensor) else like._operand(input)
        input_shape = tuple(x.shape)
        if x.ndim not in (2, 3) or input_shape[-1] != self.input_size or 0 in input_shape:
            layout = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ValueError(f"{name}: expected input of shape {layout.format(self.input_size)} or unbatched "
                             f"(T, {self.input_size}), got {input_shape}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(input_shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        states = self._initial_states(hx, x.shape[1], unbatched, input_shape)
        finals = [[] for _ in states]
        stack = self._lstm_layers if self.mode == "LSTM" else self._layers
        x = stack(x, states, finals)
        finals = [ag.stack(final, axis=0) for final in finals]
        if unbatched:
            x = x.reshape(x.shape[0], -1)
            finals = [f.reshape(f.shape[0], -1) for f in finals]
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        return x, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            options.append(f"num_layers={self.num_layers}")
        if self.mode == "RNN_RELU":
            options.append("nonlinearity='relu'")
        options += [f"{key}={value!r}" for key, value, default in
                    (("bias", self.bias, True), ("batch_first", self.batch_first, False),
                     ("dropout", self.dropout, 0.0), ("bidirectional", self.bidirectional, False))
                    if value != default]
        return ", ".join(options)


class RNN(_RNNBase):
    """h_t = act(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh), act tanh or relu, over a sequence.

    ``forward(input, hx=None)`` returns ``(output, h_n)``: output (T, N, D * H) (or batch
    first), h_n (D * num_layers, N, H), D = 2 when bidirectional. Parameters
    ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and
    ``..._reverse``), drawn from U(-1/sqrt(H), 1/sqrt(H)); ``dropout`` between layers
    in training only.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, rng: np.random.Generator | None = None):
        self.mode = _mode("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng)


class LSTM(_RNNBase):
    """Long short-term memory over a sequence, gates in PyTorch's order (i, f, g, o):
    c_t = f c_(t-1) + i g, h_t = o tanh(c_t).

    ``forward(input, hx=None)``, hx a tuple (h_0, c_0), returns ``(output, (h_n, c_n))``;
    shapes, parameter names, initialisation and dropout as ``nn.RNN`` (gates stacked, 4H rows).
    """

    mode = "LSTM"


class GRU(_RNNBase):
    """Gated recurrent unit over a sequence, gates in PyTorch's order (r, z, n):
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h_t = (1 - z) n + z h_(t-1).

    ``forward(input, hx=None)`` returns ``(output, h_n)``; shapes, parameter names,
    initialisation and dropout as ``nn.RNN`` (gates stacked, 3H rows).
    """

    mode = "GRU"


class _CellBase(Module):
    """What the one-step cells share: parameters weight_ih (G*H, in), weight_hh (G*H, H),
    bias_ih, bias_hh from U(-1/sqrt(H), 1/sqrt(H)), and the checks of input and states."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None,
                 rng: np.random.Generator | None = None):
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be positive, got "
                             f"{input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        _add_parameters(self, _parameter_shapes("", _GATES[self.mode], input_size, hidden_size, bias), hidden_size,
                        _dtype(dtype), rng)

    def _checked(self, input, states: list) -> tuple:
        """(input, states) as Tensors with shapes checked; None states stay None (zeros)."""
        name, like = type(self).__name__, self.weight_ih
        x = input if isinstance(input, Tensor) else like._operand(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(x.shape)}")
        expected = (self.hidden_size,) if x.ndim == 1 else (x.shape[0], self.hidden_size)
        states = [None if s is None else _checked_state(name, what, s, expected, tuple(x.shape), like)
                  for what, s in states]
        return x, states

    def _params(self) -> tuple:
        return self.weight_ih, self.weight_hh, getattr(self, "bias_ih", None), getattr(self, "bias_hh", None)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu;
    ``forward(input, hx=None)`` with input (N, H_in) or (H_in,), hx (N, H) or (H,) (None: zeros)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, rng: np.random.Generator | None = None):
        self.mode = _mode("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, input, hx=None) -> Tensor:
        x, (h,) = self._checked(input, [("hx", hx)])
        return step.rnn_cell(x, h, *self._params(), nonlinearity=self.nonlinearity)


class LSTMCell(_CellBase):
    """One LSTM step, gates (i, f, g, o): ``forward(input, hx=None)`` with hx a tuple (h, c)
    (None: zeros) returns (h', c')."""

    mode = "LSTM"

    def forward(self, input, hx=None) -> tuple:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        x, (h, c) = self._checked(input, list(zip(("h", "c"), hx if hx is not None else (None, None))))
        return step.lstm_cell(x, h, c, *self._params())


class GRUCell(_CellBase):
    """One GRU step, gates (r, z, n): ``forward(input, hx=None)`` returns h'."""

    mode = "GRU"

    def forward(self, input, hx=None) -> Tensor:
        x, (h,) = self._checked(input, [("hx", hx)])
        return step.gru_cell(x, h, *self._params())
