"""The benchmarks' contenders compute the same thing, and the scripts' pieces run (no timing asserted)."""
import numpy as np
import pytest

from benchmarks import bench_checkpoint, bench_overhead, contenders
from benchmarks.common import in_blocks


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (600, 784)), rng.integers(0, 10, 600)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seed_contenders_take_the_same_steps_from_the_same_weights(data, dtype):
    X, y = data[0].astype(dtype), data[1]
    runners = contenders.seed_runners(X, y, dtype, torch=None)
    runners["dagrad"].epoch()
    runners["numpy"].epoch()
    model, textbook = runners["dagrad"].model, runners["numpy"].network
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(model[0].weight.data.T, textbook.w_h, atol=tolerance)
    np.testing.assert_allclose(model[2].weight.data.T, textbook.w_out, atol=tolerance)
    np.testing.assert_allclose(model[2].bias.data, textbook.b_out, atol=tolerance)


def test_fast_contenders_take_the_same_steps_from_the_same_weights(data):
    X, y = data[0].astype(np.float32), data[1]
    runners = contenders.fast_runners(X, y, np.float32, torch=None, epochs=1)
    runners["dagrad"].epoch()
    runners["numpy"].epoch()
    predictions = [runners[name].predict(X) for name in ("dagrad", "numpy")]
    assert (predictions[0] == predictions[1]).mean() > 0.99


def test_overhead_pieces_run():
    per = bench_overhead.per_node({"dagrad": lambda n: bench_overhead.chain_dagrad(n)[1]}, repeats=1)
    assert all(t > 0 for t in per["dagrad"])
    forward, backward = bench_overhead.mlp_step_dagrad(10)()
    assert forward > 0 and backward > 0


def test_checkpoint_benchmark_runs_and_checkpointing_lowers_the_peak():
    result = bench_checkpoint.measure(blocks=8, layers=2, width=64, batch=256, repeats=1, pause=lambda: None)
    peak = result["peak_mib"]
    assert peak["checkpointed"] < 2 / 3 * peak["plain"]  # 4 activations per block kept against 1
    assert all(result["seconds"][name]["step"] > 0 for name in ("plain", "checkpointed"))
    assert "of plain" in bench_checkpoint.report(result)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strict_loop_in_blocks_takes_the_steps_of_its_whole_epoch(data, dtype):
    X, y = data[0].astype(dtype), data[1]
    whole, blocks = (contenders.seed_runners(X, y, dtype, torch=None)["strict"] for _ in range(2))
    whole.epoch()
    assert list(in_blocks(blocks.steps(), 4)) == [4, 2]  # 600 rows: 6 steps of 100
    np.testing.assert_array_equal(whole.network.w_h, blocks.network.w_h)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dagrads_calls_by_hand_take_dagrads_steps(data, dtype):
    X, y = data[0].astype(dtype), data[1]
    runners = contenders.seed_runners(X, y, dtype, torch=None)
    runners["dagrad"].epoch()
    assert list(in_blocks(runners["by_hand"].steps(), 4)) == [4, 2]  # 600 rows: 6 steps of 100
    model, by_hand = runners["dagrad"].model, runners["by_hand"].network
    tolerance = 1e-12 if dtype == np.float64 else 1e-6
    for engine_weight, hand_weight in zip([model[0].weight, model[2].weight], by_hand.weights):
        np.testing.assert_allclose(engine_weight.data, hand_weight, atol=tolerance)
        assert engine_weight.data.flags.f_contiguous == hand_weight.flags.f_contiguous  # the same layout
    np.testing.assert_allclose(model[2].bias.data, by_hand.biases[1], atol=tolerance)
    assert (runners["by_hand"].predict(X) == runners["dagrad"].predict(X)).mean() > 0.99


def test_dagrad_and_the_strict_loop_race_in_paired_blocks(data):
    from benchmarks import bench_mlp
    X, y = data[0].astype(np.float32), data[1]
    result = bench_mlp.against_strict(np.float32, (X, y), (X, y), epochs=1)
    assert result["blocks"] == 1 and result["dagrad_over"] > 0  # 6 steps, blocks of 25: one block an epoch
    assert result["test_accuracy"]["dagrad"] == pytest.approx(result["test_accuracy"]["strict"], abs=0.002)
    assert result["by_hand_over"] > 0 and result["dagrad_over_by_hand"] > 0
    assert "The engine's own cost (seed32)" in bench_mlp.report(
        {"machine": "test", "configurations": {"seed32": _configuration_result(result)}})


def _configuration_result(strict: dict) -> dict:
    """A seed configuration's result around ``against_strict``'s, as ``report`` reads it."""
    seconds = {"numpy": 1.0, "dagrad": 1.0, "strict": strict["seconds_per_epoch"]}
    return {"seconds_per_epoch": seconds, "dagrad_over": {"numpy": 1.0, "strict": strict["dagrad_over"]},
            "peak_mib": {"dagrad": 1.0, "numpy": 1.0}, "strict": strict}
