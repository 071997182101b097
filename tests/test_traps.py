"""The traps a newcomer fell into in the first hour (issue 24), each one closed."""
import numpy as np
import pytest
from test_mnist_cli import fake_data  # noqa: F401 (the fixture: tiny random data instead of MNIST)
from test_mnist_example import PNG_SIGNATURE, example  # noqa: F401 (the fixture that imports examples/mnist.py)

import nn
from autograd import Tensor
from nn.callbacks import History

RNG = np.random.default_rng(7)


# ---- nn.Sequential given a list ----
@pytest.mark.parametrize("layers", [[nn.Linear(2, 3), nn.ReLU()], (nn.Linear(2, 3),)])
def test_sequential_of_a_list_raises_and_says_to_unpack_it(layers):
    with pytest.raises(TypeError, match=r"unpack it: nn\.Sequential\(\*layers\)"):
        nn.Sequential(layers)
    with pytest.raises(TypeError, match="unpack"):
        nn.Sequential(nn.Tanh()).append(layers)
    assert [name for name, _ in nn.Sequential(*layers).named_parameters()][:1] == ["0.weight"]


def test_sequential_of_something_that_is_not_a_module_raises():
    with pytest.raises(TypeError, match="Sequential: holds Modules, got function"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


# ---- History.plot and pyplot ----
def _history() -> History:
    history = History()
    for epoch in range(3):
        history.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.8 + epoch / 20,
                                     "val_loss": 1.1 / (epoch + 1), "val_accuracy": 0.85 + epoch / 20})
    return history


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.close("all")
    yield plt
    plt.close("all")


def test_history_plot_then_savefig_writes_the_plot(plt, tmp_path):
    figure = _history().plot()
    assert plt.gcf() is figure and len(figure.axes) == 2
    plt.savefig(tmp_path / "curves.png")
    blank = plt.figure(figsize=figure.get_size_inches())
    plt.savefig(tmp_path / "blank.png")
    plt.close(blank)
    assert (tmp_path / "curves.png").stat().st_size > 2 * (tmp_path / "blank.png").stat().st_size


def test_history_plot_draws_on_an_empty_current_figure_and_never_over_a_plot(plt):
    mine = plt.figure(figsize=(9, 2))
    assert _history().plot() is mine and tuple(mine.get_size_inches()) == (9, 2)
    assert _history().plot() is not mine   # mine has a plot now: a new figure, not drawn over it
    assert len(mine.axes) == 2


def test_history_plot_to_a_path_leaves_pyplot_alone(plt, tmp_path):
    assert _history().plot(tmp_path / "curves.png") is None
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_SIGNATURE and plt.get_fignums() == []


def test_history_plot_says_the_training_curve_is_the_running_mean(plt):
    accuracy = _history().plot().axes[1]
    assert [line.get_label() for line in accuracy.lines] == ["training (running mean over the epoch)",
                                                            "validation (end of epoch)"]


# ---- evaluate and fit give plain floats ----
def test_evaluate_and_the_history_hold_python_floats():
    X, y = RNG.standard_normal((40, 3)).astype(np.float32), RNG.integers(0, 2, 40)
    model = nn.MLP([3, 4, 2])
    model.compile("adam", loss="cross_entropy", metrics=["accuracy", lambda out, labels: np.float64(0.5)])
    history = model.fit(X, y, epochs=2, batch_size=16, verbose=0, validation_data=(X, y))
    results = model.evaluate(X, y)
    assert len(results) == 3 and all(type(value) is float for value in results.values()), results
    assert all(type(v) is float for values in history.history.values() for v in values)


# ---- fit(seed=...) and the initial weights ----
def test_fit_seed_repeats_the_run_only_with_manual_seed_before_the_model_is_built():
    X, y = RNG.standard_normal((32, 3)).astype(np.float32), RNG.integers(0, 2, 32)

    def run(weights_seed):
        nn.manual_seed(weights_seed)
        model = nn.MLP([3, 4, 2])
        model.compile("sgd", loss="cross_entropy", lr=0.1)
        return model.fit(X, y, epochs=2, batch_size=8, verbose=0, seed=0).history["loss"]

    assert run(1) == run(1) and run(1) != run(2)
    assert "nn.manual_seed" in nn.Module.fit.__doc__ and "nn.manual_seed" in nn.training.fit.__doc__


# ---- examples/mnist.py ----
def test_mnist_help_describes_mlps_and_cnns_and_lists_every_preset(example, capsys):  # noqa: F811
    with pytest.raises(SystemExit):
        example.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "MLP or a CNN" in text and "Train an MLP on" not in text
    for preset in ["seed", "fast", "best", "cnn", "cnn-best"]:
        assert preset in text.split("--preset")[1]
    assert "{seed,fast,best,cnn,cnn-best}" in text


def test_mnist_evaluate_names_the_checkpoint_and_says_nothing_was_trained(example, fake_data, capsys,  # noqa: F811
                                                                         tmp_path):
    weights = tmp_path / "model.npz"
    assert example.main(["--epochs", "1", "--save", str(weights), "--quiet"]) == 0
    assert "(fast preset, 1 epoch)" in capsys.readouterr().out
    assert example.main(["--load", str(weights), "--evaluate", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "0 epochs" not in out and f"weights loaded from {weights}" in out and "not trained" in out
    assert example.main(["--load", str(weights), "--epochs", "1", "--quiet"]) == 0
    assert f"(fast preset, 1 epoch, starting from {weights})" in capsys.readouterr().out


@pytest.mark.parametrize("full_pass, label", [(False, "train (running mean over the epoch)"),
                                              (True, "train (whole set, after the epoch)")])
def test_mnist_accuracy_plot_says_what_the_training_accuracy_is(example, plt, monkeypatch, tmp_path,  # noqa: F811
                                                                full_pass, label):
    from mnist_helpers import plots
    from mnist_helpers.presets import PRESETS, parse_args
    from mnist_helpers.report import Report
    report = Report(PRESETS["seed" if full_pass else "fast"], parse_args(["--plots", str(tmp_path), "--quiet"]))
    report.epoch(1, 1, 0.5, 0.9, 0.95, 1.0)
    legends = {}

    def keep_legend(figure, directory, name):
        legends[name] = [t.get_text() for t in figure.axes[0].get_legend().get_texts()] \
            if figure.axes[0].get_legend() else None
        plt.close(figure)
        return name
    monkeypatch.setattr(plots, "_save", keep_legend)
    labels = np.arange(10)
    report.finish(nn.Linear(784, 10), np.eye(10)[::-1], np.zeros((10, 784)), labels)
    assert legends["accuracy.png"] == [label, "validation (after the epoch)"]
