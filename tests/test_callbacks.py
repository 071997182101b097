"""nn.callbacks: the hooks, EarlyStopping, ModelCheckpoint (and resuming exactly), loggers, History.plot."""
import csv
import json

import numpy as np
import pytest

import nn
from nn.callbacks import Callback, CSVLogger, EarlyStopping, History, JSONLogger, ModelCheckpoint, resume

RNG = np.random.default_rng(1)
X = RNG.standard_normal((96, 4))
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)


def model_and_schedule(dropout=0.3, epochs=4, batch_size=16):
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8, dtype="float64"), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(8, 3, dtype="float64"))
    model.compile("adam", "cross_entropy", ["accuracy"])
    steps = -(-int(len(X) * 0.75) // batch_size)
    schedule = nn.optim.OneCycleLR(model.optimizer, max_lr=0.02, total_steps=epochs * steps)
    return model, schedule


def fit(model, schedule=None, callbacks=(), **options):
    arguments = dict(epochs=4, batch_size=16, validation_split=0.25, verbose=0, seed=7) | options
    return model.fit(X, Y, schedule=schedule, callbacks=list(callbacks), **arguments)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", self.params["epochs"], self.params["steps"], tuple(self.params["metrics"])))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, type(logs["loss"])))

    def on_epoch_end(self, epoch, logs=None):
        logs["extra"] = 2.0 * epoch   # a callback may add to the logs: the History records it
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", sorted(logs)))


def test_the_hooks_run_in_order_with_model_params_and_logs():
    model, schedule = model_and_schedule()
    recorder = Recorder()
    history = fit(model, None, [recorder], epochs=2)
    names = ("loss", "accuracy", "val_loss", "val_accuracy")
    logs = sorted(names + ("extra", "seconds"))
    assert recorder.calls == ([("train_begin", 2, 5, names), ("epoch_begin", 0)]
                              + [("batch_end", b, float) for b in range(5)] + [("epoch_end", 0, logs),
                                 ("epoch_begin", 1)]
                              + [("batch_end", b, float) for b in range(5)] + [("epoch_end", 1, logs),
                                 ("train_end", logs)])
    assert recorder.model is model and history.history["extra"] == [0.0, 2.0]


# ---- EarlyStopping, driven by hand ----
class Weights:
    """A stand-in model: its 'weights' are the epoch they were taken at."""

    def __init__(self):
        self.epoch, self.stop_training, self.loaded = 0, False, None

    def state_dict(self):
        return {"epoch": self.epoch}

    def load_state_dict(self, state):
        self.loaded = state["epoch"]


def drive(callback, values, monitor="val_loss"):
    """Feed one value per epoch; return the epoch at which training was told to stop (or None)."""
    model = Weights()
    callback.set_model(model)
    callback.set_params({"validation": True, "verbose": 0})
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        model.epoch = epoch
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    callback.on_train_end({})
    return (epoch if model.stop_training else None), model.loaded


@pytest.mark.parametrize("values, patience, min_delta, stopped", [
    ([3, 2, 2, 2], 0, 0.0, 2),          # a tie is no improvement
    ([3, 2, 2, 2], 1, 0.0, 2),          # patience 0 and 1 are the same, as in Keras
    ([3, 2, 2, 2, 2], 3, 0.0, 4),
    ([3, 2, 1, 0], 0, 0.0, None),
    ([3, 2.95, 2.9, 2.85], 2, 0.1, 2),   # smaller steps than min_delta do not count
    ([3, 2, 4, 1, 5, 6], 2, 0.0, 5),
])
def test_early_stopping_patience_ties_and_min_delta(values, patience, min_delta, stopped):
    assert drive(EarlyStopping("val_loss", patience, min_delta=min_delta), values)[0] == stopped


def test_early_stopping_mode_from_the_name_and_restoring_the_best_weights():
    assert EarlyStopping("val_accuracy").mode == "max" and EarlyStopping("acc").mode == "max"
    assert EarlyStopping("val_loss").mode == "min" and EarlyStopping("val_accuracy", mode="min").mode == "min"
    assert EarlyStopping("train_accuracy").mode == "max" and EarlyStopping("val_mse").mode == "min"
    assert drive(EarlyStopping("val_accuracy", 1, restore_best_weights=True), [0.5, 0.7, 0.6, 0.7],
                 "val_accuracy") == (2, 1)
    assert drive(EarlyStopping("val_accuracy", 1), [0.5, 0.7, 0.6, 0.7], "val_accuracy") == (2, None)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")


def test_early_stopping_in_fit_and_a_missing_monitor():
    model, _ = model_and_schedule(dropout=0.0)
    history = fit(model, None, [EarlyStopping("loss", patience=0, min_delta=10.0)], epochs=5)
    assert history.epoch == [0, 1]
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="monitors 'val_loss', but fit has no validation data"):
        fit(model, None, [EarlyStopping()], validation_split=0.0)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="no 'val_auc' in the epoch's logs"):
        fit(model, None, [EarlyStopping("val_auc")])


def test_restore_best_weights_in_fit_but_not_after_ctrl_c(capsys):
    class Keep(Callback):
        """Keeps the weights after each epoch; raises KeyboardInterrupt as epoch ``stop_at`` begins."""

        def __init__(self, stop_at=None):
            self.kept, self.stop_at = [], stop_at

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == self.stop_at:
                raise KeyboardInterrupt

        def on_epoch_end(self, epoch, logs=None):
            self.kept.append(self.model.state_dict())

    def same(a, b):
        return all(np.array_equal(a[k], b[k]) for k in a)

    for stop_at in (None, 3):
        model, _ = model_and_schedule(dropout=0.0)
        keep = Keep(stop_at)
        # The training loss falls, so with mode="max" the best epoch is the first one.
        fit(model, None, [EarlyStopping("loss", patience=10, mode="max", restore_best_weights=True), keep],
            epochs=5)
        assert same(model.state_dict(), keep.kept[0 if stop_at is None else -1])
        assert not same(keep.kept[0], keep.kept[-1])
    assert "interrupted in epoch 4/5 after 0 of 5 batches" in capsys.readouterr().err


# ---- ModelCheckpoint and resuming ----
def test_checkpoints_every_n_epochs_and_only_the_best(tmp_path):
    model, schedule = model_and_schedule()
    fit(model, schedule, [ModelCheckpoint(tmp_path / "every-{epoch}.npz", every=2),
                          ModelCheckpoint(tmp_path / "best.npz", monitor="val_accuracy", save_best_only=True)])
    assert sorted(p.name for p in tmp_path.glob("every-*")) == ["every-2.npz", "every-4.npz"]
    state = nn.load_state(tmp_path / "every-4.npz")
    assert set(state) == {"model", "optimizer", "schedule", "epoch"} and int(state["epoch"]) == 4
    assert state["optimizer"]["type"] == "Adam" and "exp_avg" in state["optimizer"]["state"]["0"]
    fresh, _ = model_and_schedule()
    nn.load(fresh, tmp_path / "every-4.npz")   # the model alone
    for a, b in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert not list(tmp_path.glob(".*part"))   # written atomically: no temporary left
    best = int(nn.load_state(tmp_path / "best.npz")["epoch"])
    assert 1 <= best <= 4


def test_a_resumed_run_takes_the_same_weights_as_the_uninterrupted_one(tmp_path):
    """Adam's moments, the one-cycle schedule, the shuffles and the dropout masks all continue exactly."""
    straight, schedule = model_and_schedule()
    history = fit(straight, schedule)

    first, schedule = model_and_schedule()
    fit(first, schedule, [ModelCheckpoint(tmp_path / "ckpt.npz")], epochs=2)
    first.fit(X[:10], Y[:10], epochs=1, verbose=0, seed=99)   # more training that the checkpoint must undo
    nn.manual_seed(12345)   # and another state of nn's default generator

    second, schedule = model_and_schedule()
    epoch = resume(second, tmp_path / "ckpt.npz", schedule)
    assert epoch == 2
    rest = fit(second, schedule, initial_epoch=epoch)
    assert rest.epoch == [2, 3]
    for a, b in zip(straight.parameters(), second.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-12)
    assert rest.history["val_loss"] == pytest.approx(history.history["val_loss"][2:], abs=1e-12)


def test_a_checkpoint_into_a_missing_folder_fails_before_training(tmp_path):
    model, _ = model_and_schedule()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(FileNotFoundError, match="ModelCheckpoint: no folder"):
        fit(model, None, [ModelCheckpoint(tmp_path / "nowhere" / "ckpt.npz")])
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))


def test_resume_needs_a_compiled_model_and_a_training_checkpoint(tmp_path):
    model, _ = model_and_schedule()
    nn.save(model, tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="not a ModelCheckpoint file"):
        resume(model, tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="compile the model first"):
        resume(nn.Linear(2, 2), tmp_path / "weights.npz")


# ---- loggers and the History's plot ----
def test_csv_and_json_loggers_write_one_row_per_epoch(tmp_path):
    model, schedule = model_and_schedule()
    fit(model, None, [CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.json")], epochs=2)
    with open(tmp_path / "log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    entries = json.loads((tmp_path / "log.json").read_text())
    assert [e["epoch"] for e in entries] == [0, 1] and float(rows[1]["loss"]) == pytest.approx(entries[1]["loss"])
    fit(model, None, [CSVLogger(tmp_path / "log.csv", append=True)], epochs=3, initial_epoch=2)
    with open(tmp_path / "log.csv", newline="") as file:
        assert [row["epoch"] for row in csv.DictReader(file)] == ["0", "1", "2"]


def test_history_plot_returns_a_figure_or_writes_a_file(tmp_path):
    pytest.importorskip("matplotlib")
    history = History()
    for epoch, (loss, val) in enumerate([(1.0, 1.2), (0.5, 0.8), (0.3, 0.7)]):
        history.on_epoch_end(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10, "seconds": 0.1})
    figure = history.plot()
    assert [a.get_title() for a in figure.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in figure.axes[0].lines] == ["training (running mean over the epoch)",
                                                                   "validation (end of epoch)"]
    ticks = figure.axes[0].xaxis.get_major_locator().tick_values(1, 3)
    assert all(float(t).is_integer() for t in ticks)
    assert history.plot(tmp_path / "curves.png") is None and (tmp_path / "curves.png").stat().st_size > 1000
    assert history.seconds == [0.1] * 3 and "seconds" not in history.history
