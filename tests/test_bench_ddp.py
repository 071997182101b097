"""benchmarks/bench_ddp.py runs (a smoke run: one block of two steps; no timing asserted)."""
import json
import subprocess
import sys

import pytest
from test_distributed import ROOT, TIMEOUT, _env, _need_mpi

from benchmarks import bench_ddp


def test_smoke_run_on_one_and_two_processes_reports_steps_waits_and_bytes():
    _need_mpi()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_ddp.py"), "--smoke", "--no-torch",
                           "--json", "--timeout", str(TIMEOUT)], capture_output=True, text=True, env=_env(),
                          timeout=3 * TIMEOUT)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    alone, ddp = results["dagrad 1 process"], results["dagrad DDP"]
    assert (alone["images_per_process"], ddp["images_per_process"]) == (128, 64)
    small_cnn_parameters = 16 * 25 + 16 + 32 * 16 * 25 + 32 + 512 * 10 + 10
    assert ddp["bytes_per_step"] == 4 * (small_cnn_parameters + 6)  # float32 gradients, a used-flag per parameter
    assert ddp["step"] > 0 and ddp["wait"] > 0
    assert "dagrad DDP" in bench_ddp.report(results)


def test_the_pytorch_worker_runs_in_one_process(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    result = bench_ddp.torch_worker(rounds=1, steps=1)
    assert result["images_per_process"] == 128 and result["step"] > 0
