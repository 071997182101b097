"""bench_lstm's contenders compute the same thing, and its pieces run (tiny sizes, no timing asserted)."""
import json

import numpy as np
import pytest

from autograd import Function
from autograd.ops.lstm_sequence import LSTMSequence
from benchmarks import bench_lstm, bench_mlp

SIZES = dict(vocab=11, embed=6, hidden=5, layers=2)


@pytest.fixture
def batches():
    ids = np.random.default_rng(0).integers(0, SIZES["vocab"], 500)
    return bench_lstm.make_batches(ids, 3, batch=4, window=7)


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch):
    monkeypatch.setattr(bench_lstm, "settle", lambda seconds=0.25: None)


def test_batches_are_windows_and_their_next_characters(batches):
    x, y = batches[0]
    assert x.shape == y.shape == (4, 7) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])


def test_dagrad_and_pytorch_take_the_same_steps_from_the_same_weights(batches):
    torch = pytest.importorskip("torch")
    ours, theirs = bench_lstm.models(torch, seed=3, **SIZES)
    runners = bench_lstm.runners(ours, theirs, torch, batches)
    losses = {name: [runner.epoch() for _ in batches] for name, runner in runners.items()}
    np.testing.assert_allclose(losses["dagrad"], losses["torch"], rtol=1e-5)
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs_state[key].numpy(), atol=2e-5, err_msg=key)


def test_the_pieces_run_without_pytorch(batches):
    ours, _ = bench_lstm.models(None, **SIZES)
    runner = bench_lstm.runners(ours, None, None, batches)["dagrad"]
    times = bench_lstm.race({"dagrad": runner}, 1)
    assert len(times["dagrad"]) == 1 and bench_lstm.paired_ratio(times) is None
    assert bench_mlp.peak_memory(runner) > 0
    apply, backward = Function.__dict__["apply"], LSTMSequence.backward
    found = bench_lstm.profile(runner, 2)
    assert Function.__dict__["apply"] is apply and LSTMSequence.backward is backward  # unwrapped
    parts = found["parts_ms"]
    assert {"LSTMSequence forward", "LSTMSequence backward", "Linear forward", "Adam step"} <= set(parts)
    assert found["calls_per_step"]["LSTMSequence forward"] == 2   # one node per layer
    assert sum(parts.values()) == pytest.approx(found["step_ms"])


def test_pytorch_memory_runs(batches):
    torch = pytest.importorskip("torch")
    runner = bench_lstm.runners(*bench_lstm.models(torch, **SIZES), torch, batches[:1])["torch"]
    assert bench_lstm.peak_mib_torch(torch, runner) > 0


def test_the_report_prints():
    pytest.importorskip("torch")
    results = bench_lstm.run(rounds=1, profile_steps=1, threads=1, batch=3, window=5, cpu_time=True, **SIZES)
    text = bench_lstm.report(results)
    assert results["ratio"] > 0 and "CPU time" in text
    assert "training step (ms)" in text and "LSTMSequence backward" in text
    assert json.loads(json.dumps(results))["peak_mib"]["torch"] > 0   # what --json prints
