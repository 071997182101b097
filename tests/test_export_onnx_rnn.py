"""nn.export_onnx of recurrent layers (unrolled over the example's length): onnxruntime gives
dagrad's outputs and final states at the example's batch size and at others, for LSTM, GRU
and both RNNs, stacked, bidirectional, batch first or not, with given initial states."""
import itertools

import numpy as np
import pytest

import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)
LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "tanh": nn.RNN, "relu": nn.RNN}


class Tagger(nn.Module):
    """A recurrent layer and a linear head; returns the head's output and the final states."""

    def __init__(self, mode, batch_first, bidirectional, bias):
        extra = {"nonlinearity": mode} if mode in ("tanh", "relu") else {}
        self.rnn = LAYERS[mode](4, 5, num_layers=2, batch_first=batch_first, bidirectional=bidirectional,
                                bias=bias, **extra)
        self.head = nn.Linear(10 if bidirectional else 5, 3)

    def forward(self, x):
        out, state = self.rnn(x)
        return (self.head(out),) + (state if isinstance(state, tuple) else (state,))


@pytest.mark.parametrize("mode, batch_first, bidirectional, bias",
                         list(itertools.product(LAYERS, [False, True], [False, True], [True, False])))
def test_onnxruntime_gives_the_same_outputs_and_states(mode, batch_first, bidirectional, bias, tmp_path):
    model = Tagger(mode, batch_first, bidirectional, bias)
    shape = lambda n: (n, 6, 4) if batch_first else (6, n, 4)  # noqa: E731
    path = tmp_path / "rnn.onnx"
    # time first: the input's first axis is the time, fixed by the unrolling
    nn.export_onnx(model, RNG.standard_normal(shape(3)).astype(np.float32), path, dynamic_batch=batch_first)
    session = ort.InferenceSession(str(path))
    for batch in (3, 1, 4) if batch_first else (3,):
        x = RNG.standard_normal(shape(batch)).astype(np.float32)
        for got, want in zip(session.run(None, {"input": x}), model(x)):
            np.testing.assert_allclose(got, want.data, rtol=1e-5, atol=1e-6)


def test_time_first_with_a_dynamic_batch_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"LSTMSequence in module 'rnn' \(LSTM\): its time axis follows"):
        nn.export_onnx(Tagger("lstm", False, False, True), np.zeros((6, 2, 4), np.float32), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_given_initial_states_export_as_constants(tmp_path):
    lstm = nn.LSTM(4, 5, batch_first=True)
    h0, c0 = (RNG.standard_normal((1, 2, 5)).astype(np.float32) for _ in range(2))

    class WithState(nn.Module):
        def __init__(self):
            self.lstm = lstm

        def forward(self, x):
            return self.lstm(x, (h0, c0))[0]
    model = WithState()
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    nn.export_onnx(model, x, tmp_path / "s.onnx", dynamic_batch=False)
    got = ort.InferenceSession(str(tmp_path / "s.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, model(x).data, rtol=1e-5, atol=1e-6)
