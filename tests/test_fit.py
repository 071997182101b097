"""model.compile / fit / evaluate / predict (nn/training/compiling.py, nn/training/fit.py) on small synthetic data."""
import os
import signal
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import functional as F
from nn.training.compiling import LOSSES

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((120, 4))
Y3 = (X3[:, 0] > 0).astype(int) + (X3[:, 1] > 0.5)          # 3 classes
YB = (X3[:, 0] + X3[:, 2] > 0).astype(np.float64)             # binary, shape (N,)


def mlp(out=3, dropout=0.0, final=None):
    layers = [nn.Linear(4, 8, dtype="float64"), nn.Tanh()]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(8, out, dtype="float64")] + ([final] if final else [])
    return nn.Sequential(*layers)


def compiled(out=3, loss="cross_entropy", metrics=("accuracy",), optimizer="adam", **options):
    model = mlp(out, **options)
    model.compile(optimizer, loss, list(metrics), lr=0.01 if isinstance(optimizer, str) else None)
    return model


def weights(model):
    return [p.data.copy() for p in model.parameters()]


# ---- compile ----
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_name_trains_on_fitting_outputs(name):
    binary = "binary" in name or name in ("mse", "mean_squared_error")
    final = nn.Sigmoid() if name in ("binary_crossentropy", "binary_cross_entropy") else None
    model = nn.Sequential(*mlp(1 if binary else 3), *([final] if final else []))
    model.compile("sgd", name, ["accuracy"], lr=0.1)
    history = model.fit(X3, YB if binary else Y3, epochs=2, batch_size=40, verbose=0, seed=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("what, args, message", [
    ("loss", dict(loss="hinge"), "unknown loss 'hinge'; use one of ['binary_cross_entropy'"),
    ("loss", dict(loss=None), "give a loss"),
    ("optimizer", dict(optimizer="rmsprop", loss="mse"),
     "unknown optimizer 'rmsprop'; use one of ['adam', 'adamw', 'sgd']"),
    ("metric", dict(loss="mse", metrics=["f1"]), "unknown metric 'f1'; use 'accuracy'"),
    ("metric", dict(loss="mse", metrics=["accuracy", "acc", "accuracy"]), "must be unique"),
    ("lr", dict(loss="mse", optimizer={"name": "sgd", "lr": 0.1}, lr=0.2), "lr is given twice"),
])
def test_compile_names_the_problem_and_leaves_the_model_alone(what, args, message):
    model = mlp()
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        model.compile(**args)
    assert not hasattr(model, "compiled") and not hasattr(model, "optimizer")


def test_optimizer_as_instance_name_and_dict():
    model = mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
    model.compile(opt, F.cross_entropy)
    assert model.optimizer is opt
    with pytest.raises(ValueError, match="lr= goes with an optimizer name"):
        model.compile(opt, "mse", lr=0.1)
    model.compile({"name": "sgd", "lr": 0.2, "momentum": 0.9}, "mse")
    assert isinstance(model.optimizer, nn.optim.SGD) and (model.optimizer.lr, model.optimizer.momentum) == (0.2, 0.9)
    model.compile("adam", "mse")
    assert isinstance(model.optimizer, nn.optim.Adam) and model.optimizer.lr == 1e-3
    model.compile(loss="mse")   # Keras' one-argument compile: Adam by default
    assert isinstance(model.optimizer, nn.optim.Adam)


def test_a_loss_module_and_metric_callables_with_their_names():
    class MSE(nn.Module):
        def forward(self, outputs, target):
            return F.mse_loss(outputs, target)

    def max_error(outputs, y):
        return float(np.abs(outputs - y).max())

    model = mlp(1)
    model.compile("sgd", MSE(), {"worst": max_error, "mean_error": lambda o, y: float(np.abs(o - y).mean())}, lr=0.05)
    history = model.fit(X3, YB, epochs=1, batch_size=30, verbose=0)
    assert set(history.history) == {"loss", "worst", "mean_error"}
    assert "compiled" not in dict(model.named_modules()) and len(list(model.children())) == 3   # not a child


def test_a_logits_loss_after_a_softmax_or_sigmoid_layer_warns():
    with pytest.warns(UserWarning, match="takes logits, but the model ends with Softmax"):
        mlp(final=nn.Softmax()).compile("adam", "sparse_categorical_crossentropy")

    class BCEWithLogitsLoss(nn.Module):   # as another branch names its loss module
        def forward(self, outputs, target):
            return F.binary_cross_entropy_with_logits(outputs, target)

    with pytest.warns(UserWarning, match="ends with Sigmoid"):
        mlp(1, final=nn.Sigmoid()).compile("adam", BCEWithLogitsLoss())


def test_accuracy_follows_the_loss():
    model = mlp(1)
    model.compile("adam", "binary_cross_entropy_with_logits", ["accuracy"])   # logits: threshold 0
    accuracy = model.compiled.metrics[0][1]
    assert accuracy(np.array([[-0.1], [0.2], [0.3]]), np.array([[0.0], [1.0], [0.0]])) == pytest.approx(2 / 3)
    model.compile("adam", "binary_crossentropy", ["accuracy"])   # probabilities, elementwise over columns
    accuracy = model.compiled.metrics[0][1]
    assert accuracy(np.array([[0.4, 0.6], [0.7, 0.2]]), np.array([[0, 1], [1, 1]])) == 0.75
    model.compile("adam", "cross_entropy", ["accuracy"])   # argmax, labels or one-hot
    accuracy = model.compiled.metrics[0][1]
    outputs = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    assert accuracy(outputs, np.array([1, 1])) == 0.5 == accuracy(outputs, np.eye(3)[[1, 1]])


# ---- fit: what it returns and shows ----
def test_history_has_loss_metrics_and_val_forms_per_epoch():
    model = compiled()
    history = model.fit(X3, Y3, epochs=3, batch_size=16, validation_data=(X3[:20], Y3[:20]), verbose=0, seed=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 and all(isinstance(x, float) for x in v) for v in history.history.values())
    assert history.epoch == [0, 1, 2] and len(history.seconds) == 3 and not history.interrupted
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.history is history
    final = model.evaluate(X3[:20], Y3[:20])
    assert final["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-12)


def test_validation_split_takes_the_last_rows_before_shuffling():
    model = compiled()
    history = model.fit(X3, Y3, epochs=1, batch_size=16, validation_split=0.25, verbose=0, seed=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(X3[90:], Y3[90:])["loss"], rel=1e-12)


def test_verbose_one_line_per_epoch_and_zero_silent(capsys):
    compiled().fit(X3, Y3, epochs=2, batch_size=16, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("2/2 | loss: ") and "val_accuracy: " in out[1]
    assert out[1].endswith(" s")
    compiled().fit(X3, Y3, epochs=2, batch_size=16, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_the_bar_is_optional(monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError("no tqdm")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    compiled().fit(X3, Y3, epochs=1, batch_size=16, verbose=1)
    captured = capsys.readouterr()
    assert captured.out.startswith("1/1 | loss") and captured.err == ""


def test_y_of_shape_n_against_one_output_column_is_reshaped_without_a_warning():
    model = compiled(out=1, loss="binary_cross_entropy_with_logits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(X3, YB, epochs=3, batch_size=20, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.6


def test_the_modes_are_put_back():
    model = compiled(dropout=0.5)
    model.eval()
    model.fit(X3, Y3, epochs=1, batch_size=32, verbose=0)
    assert not any(m.training for m in model.modules())
    model.train()
    model[2].training = False   # a frozen layer stays frozen
    first = model.predict(X3)
    np.testing.assert_allclose(first, model.predict(X3, batch_size=7), rtol=1e-12)   # eval mode: no dropout
    assert [m.training for m in model.modules()] == [True, True, True, False, True]
    assert isinstance(first, np.ndarray) and first.shape == (120, 3)


def test_predict_records_no_graph_and_checks_its_batch_size():
    model = mlp()
    out = model.predict(Tensor(X3[:5]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, model(Tensor(X3[:5])).data)
    with pytest.raises(ValueError, match="predict: batch_size must be a whole number >= 1, got 0"):
        model.predict(X3, batch_size=0)
    model.compile("sgd", "cross_entropy")
    with pytest.raises(ValueError, match="evaluate: batch_size must be"):
        model.evaluate(X3, Y3, batch_size=-1)


# ---- schedule and seeds ----
def test_a_schedule_steps_once_per_batch():
    model = compiled()
    schedule = nn.optim.OneCycleLR(model.optimizer, max_lr=0.05, total_steps=3 * 8)
    model.fit(X3, Y3, epochs=3, batch_size=15, schedule=schedule, verbose=0)
    assert schedule.last_epoch == 24 and model.optimizer.lr == schedule.lr_at(24)


def test_the_same_seed_repeats_a_run_and_another_does_not():
    runs = []
    for seed in (3, 3, 4):
        nn.manual_seed(0)
        model = compiled(dropout=0.3)
        model.fit(X3, Y3, epochs=2, batch_size=16, verbose=0, seed=seed)
        runs.append(weights(model))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_a_generator_seed_takes_the_same_steps_as_the_hand_written_loop():
    """What examples/mnist.py needs: the DataLoader shares the caller's generator, nothing else draws."""
    nn.manual_seed(0)
    by_hand = mlp()
    nn.manual_seed(0)
    by_fit = mlp()
    by_fit.compile(nn.optim.SGD(by_fit.parameters(), lr=0.1, momentum=0.9), F.cross_entropy, ["accuracy"])
    opt = nn.optim.SGD(by_hand.parameters(), lr=0.1, momentum=0.9)
    batches = nn.data.DataLoader(X3, Y3, 32, seed=np.random.RandomState(5), drop_last=True)
    for _ in range(3):
        for xb, yb in batches:
            loss = F.cross_entropy(by_hand(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    by_fit.fit(X3, Y3, epochs=3, batch_size=32, seed=np.random.RandomState(5), drop_last=True, verbose=0)
    for a, b in zip(weights(by_hand), weights(by_fit)):
        np.testing.assert_array_equal(a, b)


# ---- bad input fails before any step ----
@pytest.mark.parametrize("change, message", [
    (dict(y=Y3[:-1]), "X has 120 rows but y has 119"),
    (dict(epochs=0), "epochs must be a whole number >= 1, got 0"),
    (dict(batch_size=0), "batch_size must be a whole number >= 1, got 0"),
    (dict(batch_size=2.5), "batch_size must be a whole number"),
    (dict(initial_epoch=2), "initial_epoch must be in"),
    (dict(y=np.where(Y3 == 2, 3, Y3)), r"labels must be class indices in \[0, 3\) for outputs of 3 columns, "
                                       r"got values from 0 to 3"),
    (dict(y=Y3 - 1), "got values from -1 to 1"),
    (dict(validation_data=(X3[:5], np.full(5, 7))), r"validation data\): labels must be class indices"),
    (dict(validation_data=(X3[:5], Y3[:4])), "X has 5 rows but y has 4"),
    (dict(validation_split=0.2, validation_data=(X3, Y3)), "not both"),
    (dict(validation_split=1.5), r"validation_split must be in \(0, 1\)"),
    (dict(X=X3[:, :3]), r"the model cannot take X of shape \(120, 3\)"),
    (dict(seed=-1), "seed must be None, an int >= 0"),
    (dict(verbose=3), "verbose must be 0, 1 or 2"),
    (dict(callbacks=[print]), "callbacks must be nn.callbacks.Callback instances"),
])
def test_bad_fit_arguments_fail_before_a_step(change, message):
    model = compiled()
    before = weights(model)
    arguments = dict(X=X3, y=Y3, epochs=2, batch_size=16, verbose=0) | change
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(arguments.pop("X"), arguments.pop("y"), **arguments)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(model)))


def test_fit_and_evaluate_before_compile_say_so():
    with pytest.raises(RuntimeError, match=r"fit: call model.compile\(optimizer, loss, metrics\) first"):
        mlp().fit(X3, Y3)
    with pytest.raises(RuntimeError, match="evaluate: call model.compile"):
        mlp().evaluate(X3, Y3)


def test_a_schedule_too_short_or_on_another_optimizer_fails_before_a_step():
    model = compiled()
    before = weights(model)
    with pytest.raises(ValueError, match="cannot take this fit's 16 steps"):
        model.fit(X3, Y3, epochs=2, batch_size=15, verbose=0,
                  schedule=nn.optim.OneCycleLR(model.optimizer, max_lr=0.1, total_steps=10))
    other = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="made on the compiled optimizer"):
        model.fit(X3, Y3, schedule=nn.optim.StepLR(other, 10), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(model)))


# ---- stopping ----
class StopAt(nn.callbacks.Callback):
    """Stops training (or raises KeyboardInterrupt, or sends SIGINT) at one batch; counts batches done."""

    def __init__(self, epoch, batch, how):
        self.at, self.how, self.done, self.epoch = (epoch, batch), how, [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at and self.how == "sigint":
            os.kill(os.getpid(), signal.SIGINT)   # a real Ctrl-C, arriving mid-batch

    def on_batch_end(self, batch, logs=None):
        self.done.append((self.epoch, batch, self.model.parameters().__next__().data.copy()))
        if (self.epoch, batch) == self.at and self.how == "raise":
            raise KeyboardInterrupt
        if (self.epoch, batch) == self.at and self.how == "stop":
            self.model.stop_training = True


@pytest.mark.parametrize("how", ["raise", "sigint"])
def test_ctrl_c_stops_after_the_current_batch_and_returns_the_history(how, capsys):
    model = compiled()
    stop = StopAt(1, 2, how)
    history = model.fit(X3, Y3, epochs=4, batch_size=16, validation_split=0.2, callbacks=[stop], verbose=0)
    assert history.interrupted and history.epoch == [0] and len(history.history["val_loss"]) == 1
    assert stop.done[-1][:2] == (1, 2)   # the interrupted batch finished, its step taken, then nothing
    np.testing.assert_array_equal(stop.done[-1][2], next(model.parameters()).data)
    assert "interrupted in epoch 2/4 after 3 of 6 batches" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_stop_training_in_a_batch_finishes_the_epoch():
    model = compiled()
    history = model.fit(X3, Y3, epochs=4, batch_size=16, validation_split=0.2, callbacks=[StopAt(1, 2, "stop")],
                        verbose=0)
    assert history.epoch == [0, 1] and not history.interrupted and len(history.history["val_loss"]) == 2


def test_evaluate_returns_the_loss_and_metrics():
    model = compiled()
    result = model.evaluate(X3, Y3, batch_size=50)
    assert set(result) == {"loss", "accuracy"}
    assert result["loss"] == pytest.approx(F.cross_entropy(model(Tensor(X3)), Y3).item(), rel=1e-12)
    assert result["accuracy"] == float((model.predict(X3).argmax(1) == Y3).mean())


# ---- one real MNIST run ----
MNIST_DIR = os.environ.get("MNIST_DIR")


@pytest.mark.skipif(not MNIST_DIR, reason="MNIST_DIR is not set")
def test_one_epoch_on_10000_mnist_images_learns_the_digits():
    from nn.datasets import load_mnist
    images, labels = load_mnist("train", root=MNIST_DIR, download=False, progress=False)
    X = images[:12000].astype(np.float32) / 255.0
    model = nn.MLP([784, 64, 10], activation="relu", dtype="float32")
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], lr=3e-3)
    history = model.fit(X[:10000], labels[:10000], epochs=1, batch_size=100,
                        validation_data=(X[10000:], labels[10000:12000]), verbose=0, seed=0)
    assert history.history["val_accuracy"][0] > 0.88
    final = model.evaluate(X[10000:], labels[10000:12000])
    assert final["accuracy"] == pytest.approx(history.history["val_accuracy"][0])


def test_without_a_seed_fit_repeats_after_manual_seed():
    """seed=None shuffles from the default generator: nn.manual_seed makes the run repeat, as in PyTorch."""
    def run():
        nn.manual_seed(3)
        model = nn.MLP([4, 8, 3])
        model.compile("sgd", F.cross_entropy, lr=0.1)
        X = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
        model.fit(X, (X[:, 0] > 0).astype(int), epochs=2, batch_size=8, verbose=0)
        return model.state_dict()
    first, second = run(), run()
    assert all(np.array_equal(first[key], second[key]) for key in first)
