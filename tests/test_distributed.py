"""nn.distributed: a world of one in this process (with and without mpi4py), and 2 ranks under
``mpiexec -n 2`` running the scripts in tests/distributed_scripts/ (skipped without mpi4py
or mpiexec). Each launch has a timeout, so a hang fails the test instead of the run."""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import engine
from autograd.function import Function
from nn import distributed as dist
from nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "distributed_scripts"
TIMEOUT = 60


# ---- a world of one ----
@pytest.fixture(params=["mpi4py absent", "mpi4py importable"])
def world_of_one(request, monkeypatch):
    """init() in this process, once with ``import mpi4py`` failing, once as installed (if it is)."""
    if request.param == "mpi4py absent":
        monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` raise ImportError
    elif importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed")
    else:  # as if a launcher had started this process alone: MPI starts, with a world of one
        monkeypatch.setattr(dist.world, "launched", lambda: True)
    hook = sys.excepthook
    dist.init()
    dist.init()  # again: nothing more happens
    yield
    assert sys.excepthook is hook, "init() installed the fault handler in a world of one"


def test_importing_nn_distributed_does_not_import_mpi4py():
    code = ("import nn, nn.distributed, sys\n"
            "print([name for name, m in sys.modules.items() if name.startswith('mpi4py') and m is not None])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(), timeout=TIMEOUT).stdout
    assert out.strip() == "[]"


def test_world_of_one(world_of_one):
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)


def test_collectives_in_a_world_of_one_return_copies(world_of_one):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    for op in ("sum", "mean", "max", "min"):
        got = dist.all_reduce(x, op)
        assert np.array_equal(got, x) and got is not x
    assert dist.all_reduce(np.array([1, 2]), "mean").dtype == np.float64
    assert np.array_equal(dist.all_reduce(ag.tensor([1.0, 2.0])), [1.0, 2.0])
    got = dist.broadcast(x)
    assert np.array_equal(got, x) and got is not x
    with pytest.raises(ValueError, match="prod"):
        dist.all_reduce(x, "prod")


def mlp():
    return nn.Sequential(nn.Linear(4, 6, dtype="float64"), nn.Tanh(), nn.Linear(6, 2, dtype="float64"))


def test_ddp_in_a_world_of_one_is_the_module(world_of_one):
    model = dist.DistributedDataParallel(mlp())
    plain = mlp()
    plain.load_state_dict(model.module.state_dict())
    assert [name for name, _ in model.named_parameters()] == ["module." + n for n, _ in plain.named_parameters()]
    assert list(model.state_dict()) == ["module." + key for key in plain.state_dict()]
    assert [p for _, p in model.named_parameters()] == list(model.module.parameters())
    x, y = ag.tensor(np.linspace(-1, 1, 12).reshape(3, 4)), np.array([0, 1, 1])
    out = model(x)
    assert type(out.op) is type(plain(x).op)  # nothing inserted
    F.cross_entropy(out, y).backward()
    F.cross_entropy(plain(x), y).backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        assert np.array_equal(p.grad.data, q.grad.data)


# ---- sharding ----
@pytest.mark.parametrize("total, world", [(8, 2), (7, 2), (10, 3), (2, 3), (1, 1)])
def test_shards_are_contiguous_and_weighted_to_the_global_mean(total, world):
    batch = np.arange(100, 100 + total)
    shards = [dist.shard(batch, rank, world) for rank in range(world)]
    assert np.array_equal(np.concatenate([s.indices for s in shards]), batch)
    sizes = [len(s.indices) for s in shards]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    values = np.random.default_rng(total).standard_normal(total)
    # DDP averages the ranks' gradients: the mean over ranks of weight * (mean over the share)
    # must be the mean over the global batch.
    averaged = sum(s.weight * values[s.indices - 100].mean() for s in shards if len(s.indices)) / world
    assert averaged == pytest.approx(values.mean(), abs=1e-12)
    assert all(s.weight == 0 for s in shards if not len(s.indices))


def test_shard_defaults_to_this_process_and_checks_the_rank():
    assert np.array_equal(dist.shard([3, 1, 2]).indices, [3, 1, 2]) and dist.shard([3, 1, 2]).weight == 1
    with pytest.raises(ValueError, match="rank 2"):
        dist.shard(np.arange(4), rank=2, world_size=2)


# ---- the engine's hook that DDP uses ----
class _Watch(Function):
    """The identity; its rule registers a watcher and a finisher on the running backward."""

    log = []

    def forward(self, x):
        return x.view()

    def backward(self, grad):
        leaves = engine.running_backward()
        leaves.watchers[self.leaf] = lambda leaf, total: self.log.append(("watch", total.copy()))
        leaves.finishers.append(lambda: self.log.append(("finish", self.leaf.grad)))
        return grad


def test_running_backward_lets_a_rule_watch_leaves_and_finish_before_delivery():
    assert engine.running_backward() is None
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    fn_out = _Watch.apply(w * 3.0 + w)
    fn_out.op.leaf = w
    _Watch.log.clear()
    fn_out.sum().backward()
    (kind1, first), (kind2, second), (kind3, grad_then) = _Watch.log
    assert (kind1, kind2, kind3) == ("watch", "watch", "finish")
    assert np.array_equal(second, [4.0, 4.0]) and grad_then is None  # summed, not yet delivered
    assert np.array_equal(w.grad.data, [4.0, 4.0]) and engine.running_backward() is None


# ---- two ranks under mpiexec ----
def _env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _need_mpi():
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install -e '.[mpi]')")
    if shutil.which("mpiexec") is None:
        pytest.skip("mpiexec is not on PATH")


def mpiexec(script, *args):
    """Run a script on 2 ranks; (exit status, output with stderr, seconds)."""
    _need_mpi()
    start = time.perf_counter()
    done = subprocess.run(["mpiexec", "-n", "2", sys.executable, str(SCRIPTS / script), *args],
                          capture_output=True, text=True, env=_env(), timeout=TIMEOUT)
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - start


def test_two_ranks_on_half_batches_train_as_one_process_with_sgd_and_adam():
    status, out, _ = mpiexec("same_as_one_process.py")
    assert status == 0 and "OK" in out, out


def test_all_reduce_and_broadcast_on_two_ranks():
    status, out, _ = mpiexec("collectives.py")
    assert status == 0 and "OK" in out, out


def test_ddp_buffers_unused_parameters_tuples_accumulation_and_small_buckets():
    status, out, _ = mpiexec("ddp_details.py")
    assert status == 0 and "OK" in out, out


@pytest.mark.parametrize("case, named", [("shape", "'2.weight' has shape (3, 8) on rank 0 and (4, 8) on rank 1"),
                                         ("count", "'4.weight' is only on rank 1")])
def test_models_that_differ_fail_when_wrapped_naming_the_parameter(case, named):
    status, out, _ = mpiexec("models_differ.py", case)
    assert status == 0, out
    for rank in (0, 1):
        assert f"rank {rank}: DistributedDataParallel: rank 1's model differs from rank 0's" in out, out
    assert out.count(named) == 2, out


def test_an_exception_on_rank_one_ends_the_job_promptly():
    status, out, seconds = mpiexec("rank_one_raises.py")
    assert status != 0
    assert "rank 1 of 2 raised an exception" in out and "RuntimeError: rank one broke on purpose" in out, out
    assert seconds < TIMEOUT / 3, f"took {seconds:.1f} s"


def interrupted(script, *args):
    """Run a script on 2 ranks, SIGINT to mpiexec once each rank printed 'ready';
    (exit status, output with stderr, seconds from the signal to the end)."""
    _need_mpi()
    job = subprocess.Popen(["mpiexec", "-n", "2", sys.executable, str(SCRIPTS / script), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           text=True, env=_env())
    try:
        seen = ""
        while seen.count("ready") < 2:
            line = job.stdout.readline()
            assert line, f"mpiexec ended early:\n{seen}"
            seen += line
        start = time.perf_counter()
        job.send_signal(signal.SIGINT)
        out, _ = job.communicate(timeout=TIMEOUT)
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    return job.returncode, seen + out, time.perf_counter() - start


def test_ctrl_c_stops_every_rank():
    status, out, seconds = interrupted("wait_forever.py")  # rank 0 sleeps, rank 1 waits inside MPI
    assert status != 0, out
    assert "interrupted, stopping every rank" in out, out
    assert seconds < TIMEOUT / 3
