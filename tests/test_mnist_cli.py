"""examples/mnist.py when the user slips: typos in paths, bad checkpoints, no network, Ctrl-C.

Nothing here needs MNIST or the network: the data is a tiny random stand-in, and path
problems are found before the data is even loaded.
"""
import json
import signal
import socket
import sys

import numpy as np
import pytest
from test_mnist_example import example  # noqa: F401 (the fixture that imports examples/mnist.py)

import nn
from nn.datasets import mnist as datasets

RNG = np.random.default_rng(0)
IMAGES = RNG.standard_normal((300, 784)).astype(np.float32)
LABELS = RNG.integers(0, 10, 300)
FAKE_DATA = ((IMAGES[:260], LABELS[:260]), (IMAGES[260:], LABELS[260:]), (IMAGES[260:], LABELS[260:]))


@pytest.fixture
def fake_data(example, monkeypatch):  # noqa: F811
    """Tiny random data instead of MNIST (two batches of the fast preset per epoch)."""
    monkeypatch.setattr(example, "load_data", lambda preset, data_dir: FAKE_DATA)


@pytest.fixture
def no_training(example, monkeypatch):  # noqa: F811
    """Fail the test if the run gets as far as loading data."""
    def load_data(preset, data_dir):
        raise AssertionError("the run started although a path on its command line is wrong")
    monkeypatch.setattr(example, "load_data", load_data)


def _usage_error(example, capsys, argv) -> str:  # noqa: F811
    """Run main(argv), expect exit status 2, return stderr."""
    with pytest.raises(SystemExit) as info:
        example.main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


# Before training: every path on the command line


@pytest.mark.parametrize("option, path, words", [
    ("--data", "no/such/dir", "no such directory"),
    ("--data", "file", "not a directory"),
    ("--load", "missing.npz", "no such file"),
    ("--load", "dir", "a directory, not a checkpoint file"),
    ("--save", "missing/model.npz", "the directory {tmp}/missing does not exist"),
    ("--save", "dir", "it is a directory"),
    ("--save", "file/model.npz", "{tmp}/file is not a directory"),
    ("--metrics-json", "missing/metrics.json", "the directory {tmp}/missing does not exist"),
    ("--plots", "file", "a file, not a directory"),
    ("--plots", "file/plots", "{tmp}/file is not a directory"),
])
def test_a_wrong_path_stops_before_training_in_one_line(example, no_training, capsys, tmp_path,  # noqa: F811
                                                        option, path, words):
    (tmp_path / "file").write_text("")
    (tmp_path / "dir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [option, str(tmp_path / path), "--quiet"] + (["--evaluate"] if option == "--load" else [])
    line = _one_line(_usage_error(example, capsys, argv))
    assert option in line and str(tmp_path / path) in line
    assert words.format(tmp=tmp_path) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created, no download started


def test_plots_without_matplotlib_stop_before_training(example, no_training, capsys, tmp_path,  # noqa: F811
                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    line = _one_line(_usage_error(example, capsys, ["--plots", str(tmp_path / "plots"), "--quiet"]))
    assert "--plots needs matplotlib" in line and "pip install" in line


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--epochs", "-1"], ["--epochs", "two"],
                                  ["--patience", "0"], ["--seed", "-1"]])
def test_impossible_numbers_are_usage_errors(example, no_training, capsys, argv):  # noqa: F811
    err = _usage_error(example, capsys, argv)
    assert err.startswith("usage:") and f"argument {argv[0]}:" in err and "Traceback" not in err


# Data that cannot be found, on a machine without the network


@pytest.fixture
def refused_mirror(monkeypatch):
    """The loader's only mirror: a port on 127.0.0.1 where nobody listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(datasets, "MIRRORS", [f"http://127.0.0.1:{port}/"])
    return f"http://127.0.0.1:{port}/"


def test_offline_first_run_prints_the_reason_and_how_to_supply_the_files(example, capsys, tmp_path,  # noqa: F811
                                                                          refused_mirror):
    assert example.main(["--data", str(tmp_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("mnist.py: cannot load MNIST: train-images-idx3-ubyte")
    assert lines[0].endswith("could not download train-images-idx3-ubyte.gz:")
    assert lines[1].startswith(f"  {refused_mirror}train-images-idx3-ubyte.gz: ") and "refused" in lines[1]
    assert lines[-1].startswith("To work offline, put the four MNIST files")
    for split in ("train", "test"):
        for name in datasets.FILES[split]:
            assert f"{name}.gz" in lines[-1]
    assert "--data DIR" in lines[-1] and "MNIST_DIR" in lines[-1]


# Checkpoints that are not checkpoints


@pytest.mark.parametrize("content, words", [
    (b"garbage\n", "is not a checkpoint"),
    (b"", "is empty"),
    (b"PK\x03\x04 cut short", "is truncated or corrupt"),
])
def test_loading_a_bad_checkpoint_is_one_line_without_pickle_advice(example, fake_data, capsys,  # noqa: F811
                                                                     tmp_path, content, words):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    assert example.main(["--load", str(path), "--evaluate", "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert str(path) in line and words in line and "pickle" not in line


# The end of a run: weights first, then metrics, then plots


def test_the_weights_are_written_first_and_survive_a_failing_plot(example, fake_data, capsys,  # noqa: F811
                                                                  tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from mnist_helpers import plots as mnist_plots
    from mnist_helpers import report as mnist_report
    order = []
    save, write_metrics = nn.save, mnist_report.Report.write_metrics

    def plots(*args):
        order.append("plots")
        raise RuntimeError("the plot failed")
    monkeypatch.setattr(nn, "save", lambda *args: (order.append("weights"), save(*args)))
    monkeypatch.setattr(mnist_report.Report, "write_metrics",
                        lambda *args: (order.append("metrics"), write_metrics(*args)))
    monkeypatch.setattr(mnist_plots, "write_plots", plots)
    weights, metrics = tmp_path / "model.npz", tmp_path / "metrics.json"
    with pytest.raises(RuntimeError, match="the plot failed"):
        example.main(["--epochs", "1", "--save", str(weights), "--metrics-json", str(metrics),
                      "--plots", str(tmp_path / "plots"), "--quiet"])
    assert order == ["weights", "metrics", "plots"]
    assert json.loads(metrics.read_text())["epochs"] == 1
    nn.load(example.build_model(example.preset_from(example.parse_args([])), None), weights)


def test_evaluating_writes_only_the_plots_that_have_data_and_says_where(example, fake_data, capsys,  # noqa: F811
                                                                        tmp_path):
    pytest.importorskip("matplotlib")
    weights, plots = tmp_path / "model.npz", tmp_path / "plots"
    assert example.main(["--epochs", "1", "--save", str(weights), "--quiet"]) == 0
    assert example.main(["--load", str(weights), "--evaluate", "--plots", str(plots)]) == 0
    assert sorted(p.name for p in plots.iterdir()) == ["confusion.png", "misclassified.png"]
    assert f"Plots written to {plots}: misclassified.png, confusion.png" in capsys.readouterr().out


def test_epoch_axes_have_whole_number_ticks(example):  # noqa: F811
    pytest.importorskip("matplotlib")
    from mnist_helpers import plots as mnist_plots
    plt = mnist_plots._pyplot()
    for epochs in ([1], [1, 2, 3], list(range(1, 16)), list(range(1, 201))):
        figure, axes = plt.subplots()
        axes.plot(epochs, epochs)
        mnist_plots.epoch_axis(axes, epochs)
        figure.canvas.draw()
        ticks = [t for t in axes.get_xticks() if epochs[0] - 0.5 <= t <= epochs[-1] + 0.5]
        plt.close(figure)
        assert ticks and all(float(t).is_integer() for t in ticks), (epochs, ticks)


# Ctrl-C


@pytest.mark.parametrize("ctrl_c", ["signal", "exception"])
def test_ctrl_c_during_training_stops_cleanly_says_so_and_still_saves(example, fake_data, capsys,  # noqa: F811
                                                                      tmp_path, monkeypatch, ctrl_c):
    # "signal": a real SIGINT, which fit's handler turns into a stop after the batch; "exception": the
    # KeyboardInterrupt itself (a second Ctrl-C, or SIGINT handled elsewhere), which fit catches.
    on_batch_end = example.Report.on_batch_end

    def ctrl_c_in_the_first_batch_of_epoch_2(self, batch, logs=None):
        if len(self.history) == 1 and batch == 0:
            if ctrl_c == "signal":
                signal.raise_signal(signal.SIGINT)
            else:
                raise KeyboardInterrupt
        on_batch_end(self, batch, logs)
    monkeypatch.setattr(example.Report, "on_batch_end", ctrl_c_in_the_first_batch_of_epoch_2)
    weights, metrics = tmp_path / "model.npz", tmp_path / "metrics.json"
    try:
        status = example.main(["--epochs", "3", "--save", str(weights), "--metrics-json", str(metrics)])
    except KeyboardInterrupt:  # left to propagate, it would stop the whole pytest session
        pytest.fail("Ctrl-C during training escaped main() as a traceback")
    assert status == 130
    out, err = capsys.readouterr()
    assert "fit: interrupted in epoch 2/3 after 1 of 2 batches" in err
    assert "Interrupted during epoch 2/3 (1 complete)" in err and f"saving them to {weights}" in err
    assert "Traceback" not in err and "Test accuracy" in out and f"Weights saved to {weights}" in out
    assert "2/3 |" not in out   # the interrupted epoch is not reported as finished
    assert json.loads(metrics.read_text())["epochs"] == 1
    model = example.build_model(example.preset_from(example.parse_args(["--epochs", "3"])), None)
    nn.load(model, weights)
