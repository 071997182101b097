"""bench_cnn's contenders compute the same thing, and its pieces run (tiny sizes, no timing asserted)."""
import numpy as np
import pytest

from benchmarks import bench_cnn, bench_mlp


@pytest.fixture
def batches():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    return [(x[:4], y[:4]), (x[4:], y[4:])]


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch):
    monkeypatch.setattr(bench_cnn, "settle", lambda seconds=0.25: None)
    monkeypatch.setattr(bench_mlp, "settle", lambda seconds=0.25: None)


def test_dagrad_and_pytorch_take_the_same_steps_from_the_same_weights(batches):
    torch = pytest.importorskip("torch")
    ours, theirs = bench_cnn.models(torch, seed=3)
    runners = bench_cnn.runners(ours, theirs, torch, batches)
    for runner in runners.values():
        runner.epoch()
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs_state[key].numpy(), atol=2e-5, err_msg=key)
    x = np.concatenate([xb for xb, _ in batches])
    np.testing.assert_array_equal(runners["dagrad"].predict(x), runners["torch"].predict(x))


def test_the_pieces_run_without_pytorch(batches):
    ours, _ = bench_cnn.models(None)
    runner = bench_cnn.runners(ours, None, None, batches)["dagrad"]
    times = bench_cnn.race({"dagrad": runner}, 1)
    assert len(times["dagrad"]) == 1 and bench_cnn.summary(times, 2)["ratio"] is None
    assert runner.predict(batches[0][0]).shape == (4,)
    assert bench_cnn.peak_memory(runner) > 0
    inputs = bench_cnn.layer_inputs(ours, batches[0][0])
    assert {k: v.shape for k, v in inputs.items()} == {"conv1": (4, 1, 28, 28), "pool1": (4, 16, 24, 24),
                                                        "conv2": (4, 16, 12, 12), "pool2": (4, 32, 8, 8)}
    layers = bench_cnn.per_layer(bench_cnn.layer_timers(ours, None, None, inputs, repeats=1), rounds=1)
    assert all(layers[name][d]["seconds"]["dagrad"] > 0 for name in inputs for d in ("forward", "backward"))


def test_pytorch_memory_and_layer_timers_run(batches):
    torch = pytest.importorskip("torch")
    ours, theirs = bench_cnn.models(torch)
    runner = bench_cnn.runners(ours, theirs, torch, batches[:1])["torch"]
    assert bench_cnn.peak_mib_torch(torch, runner) > 0
    inputs = bench_cnn.layer_inputs(ours, batches[0][0])
    layers = bench_cnn.per_layer(bench_cnn.layer_timers(ours, theirs, torch, inputs, repeats=1), rounds=1)
    assert layers["conv2"]["backward"]["ratio"] > 0
