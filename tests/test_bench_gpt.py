"""benchmarks/bench_gpt.py runs (one short round) and leaves every node class as it found it."""
from pathlib import Path

import pytest

from autograd.ops.causal_attention import CausalAttention
from autograd.ops.nn import Linear

ROOT = Path(__file__).resolve().parent.parent


def test_one_round_with_the_profile_and_the_nodes_unwrapped_after(monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import bench_gpt
    monkeypatch.setattr(bench_gpt, "settle", lambda: None)
    forward, backward = Linear.forward, CausalAttention.backward
    result = bench_gpt.run(rounds=1, steps=1, with_profile=True, threads=1)
    assert Linear.forward is forward and CausalAttention.backward is backward
    names = {row[0] for row in result["profile"]}
    assert {"Linear forward", "Linear backward", "CausalAttention forward", "AdamW step"} <= names
    assert result["step_ms"]["dagrad"] > 0 and result["peak_mib"]["dagrad"] > 0
    report = bench_gpt.report(result)
    assert "training step (ms)" in report and "Where dagrad's step goes" in report
