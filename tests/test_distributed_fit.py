"""model.fit under MPI: 2 ranks train as one process, evaluate reduces, rank 0 alone prints and
writes, resume works, and examples/mnist.py runs under ``mpiexec -n 2`` unchanged (on a tiny
random stand-in for MNIST). Each launch has a timeout (the helpers of test_distributed.py);
without mpi4py or mpiexec the launches are skipped."""
import json
import subprocess
import sys

from test_distributed import ROOT, TIMEOUT, _env, interrupted, mpiexec

import autograd as ag
import nn


def test_fit_on_two_ranks_is_one_process_evaluate_reduces_files_once_and_resume(tmp_path):
    status, out, _ = mpiexec("fit_same_as_one_process.py", str(tmp_path))
    assert status == 0 and "OK" in out, out
    for epoch in (1, 2, 3):  # fit(verbose=2) on both ranks: the epoch lines come from rank 0 only
        assert out.count(f"{epoch}/3 | loss:") == 1, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-3.npz", "log.csv"]


def test_mnist_example_under_mpiexec_prints_and_writes_once(tmp_path):
    status, out, _ = mpiexec("mnist_fake_data.py", "--epochs", "2", "--save", str(tmp_path / "w.npz"),
                             "--metrics-json", str(tmp_path / "m.json"))
    assert status == 0, out
    assert out.count("Test accuracy:") == 1 and out.count("2/2 | Cost:") == 1, out
    assert out.count("Weights saved to") == 1, out
    assert json.loads((tmp_path / "m.json").read_text())["epochs"] == 2
    nn.load(nn.MLP([784, 256, 10]), tmp_path / "w.npz")


def test_mnist_cnn_with_batch_norm_dropout_and_shifts_under_mpiexec(tmp_path):
    status, out, _ = mpiexec("mnist_fake_data.py", "--preset", "cnn-best", "--epochs", "1", "--quiet")
    assert status == 0, out
    assert out.strip().splitlines() == [next(line for line in out.splitlines() if line.startswith("Test accuracy"))]


def test_init_without_a_launcher_imports_no_mpi(tmp_path):
    """A plain ``python script.py`` pays nothing for MPI, even with mpi4py installed."""
    code = ("import sys, nn; nn.distributed.init(); "
            "print(nn.distributed.world_size(), [m for m, v in sys.modules.items() if m.startswith('mpi4py') and v])")
    env = {k: v for k, v in _env().items() if k not in nn.distributed.world.LAUNCHER_VARIABLES}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         timeout=TIMEOUT).stdout
    assert out.strip() == "1 []"



def test_docs_identity_the_mean_of_the_shares_gradients_is_the_batch_gradient(capsys):
    """docs/distributed.md's first code block: uneven shares, weighted, average to the whole batch's gradient."""
    text = (ROOT / "docs" / "distributed.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    dtype = ag.get_default_dtype()
    try:
        exec(compile(code, "docs/distributed.md", "exec"), {"__name__": "docs"})
    finally:
        ag.set_default_dtype(dtype)
    assert float(capsys.readouterr().out) < 1e-15


def test_ctrl_c_during_fit_stops_every_rank_and_the_checkpoint_stays_whole(tmp_path):
    status, out, seconds = interrupted("fit_forever.py", str(tmp_path))
    assert status != 0 and "interrupted, stopping every rank" in out, out
    assert seconds < TIMEOUT / 3
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    nn.load(model, tmp_path / "last.npz")  # whole: written atomically (an abort may leave a temporary beside it)


def test_mnist_seed_preset_on_two_ranks_prints_one_process_figures():
    """The textbook's preset: a summed loss, a shared RandomState for the shuffles, a callback
    that evaluates the whole training set: the same epoch lines as one process."""
    argv = ["--preset", "seed", "--epochs", "2"]
    status, out, _ = mpiexec("mnist_fake_data.py", *argv)
    assert status == 0, out
    alone = subprocess.run([sys.executable, str(ROOT / "tests" / "distributed_scripts" / "mnist_fake_data.py"),
                            *argv], capture_output=True, text=True, env=_env(), timeout=TIMEOUT)
    assert alone.returncode == 0, alone.stderr
    assert _figures(out) == _figures(alone.stdout) and len(_figures(out)) == 3, out


def _figures(out: str) -> list:
    """The epoch lines without their seconds, and the test accuracy line."""
    return [line.rsplit("|", 1)[0] if "Cost:" in line else line for line in out.splitlines()
            if "Cost:" in line or line.startswith("Test accuracy")]


def test_charlm_on_two_ranks_prints_one_process_losses_and_saves_once(tmp_path):
    """examples/charlm.py's own loop (not fit): each step's batch split over the ranks."""
    text = tmp_path / "text.txt"
    text.write_text("".join(f"{word} the {other}, {n}.\n" for n in range(60)
                            for word, other in [("To be", "question"), ("Now is", "winter")]))
    argv = ["--preset", "lstm", "--text", str(text), "--sample", "0"]
    status, out, _ = mpiexec("charlm_tiny.py", *argv, "--save", str(tmp_path / "m.npz"))
    assert status == 0, out
    alone = subprocess.run([sys.executable, str(ROOT / "tests" / "distributed_scripts" / "charlm_tiny.py"), *argv],
                           capture_output=True, text=True, env=_env(), timeout=TIMEOUT)
    assert alone.returncode == 0, alone.stderr
    losses = [line.rsplit("|", 1)[0] for line in out.splitlines() if line.startswith("step ")]
    assert losses == [line.rsplit("|", 1)[0] for line in alone.stdout.splitlines() if line.startswith("step ")]
    assert len(losses) == 2 and out.count("Model saved to") == 1 and (tmp_path / "m.npz").is_file(), out


def test_launched_reads_the_launchers_variables(monkeypatch):
    for name in nn.distributed.world.LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not nn.distributed.launched()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")  # Open MPI's mpirun
    assert nn.distributed.launched()
