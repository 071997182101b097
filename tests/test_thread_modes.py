"""no_grad, enable_grad, anomaly mode and the module scope are per thread (issue 24), with real threads."""
import threading

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor


def _run_threads(*targets):
    """Run each target in its own thread; re-raise the first error any of them hit."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 (handed to the main thread)
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _model(seed):
    nn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    model.compile(optimizer="sgd", loss="cross_entropy", lr=0.05)
    return model


def _data(seed, n=96):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)).astype(np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("repeat", range(3))
def test_fit_in_two_threads_at_once(repeat):
    histories = {}

    def train(seed):
        def run():
            X, y = _data(seed)
            histories[seed] = _model(seed).fit(X, y, epochs=3, batch_size=8, verbose=0)
        return run

    _run_threads(train(repeat), train(repeat + 10))
    assert set(histories) == {repeat, repeat + 10}


@pytest.mark.parametrize("repeat", range(3))
def test_prediction_under_no_grad_beside_training(repeat):
    trained, predicted = [], []
    stop = threading.Event()

    def train():
        X, y = _data(repeat)
        try:
            trained.append(_model(repeat).fit(X, y, epochs=4, batch_size=8, verbose=0))
        finally:
            stop.set()

    def predict():
        model = _model(repeat + 1)
        X, _ = _data(repeat + 1, n=16)
        while not stop.is_set() or not predicted:
            with ag.no_grad():
                out = model(Tensor(X))
                assert not ag.is_grad_enabled() and not out.requires_grad
            predicted.append(model.predict(X))

    _run_threads(train, predict)
    assert trained and predicted


def test_no_grad_in_one_thread_leaves_another_recording():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def quiet():
        with ag.no_grad():
            inside.set()
            release.wait(10)
            seen["quiet"] = ag.is_grad_enabled()

    def recording():
        inside.wait(10)
        x = Tensor(np.ones(3), requires_grad=True)
        y = (x * 2).sum()
        seen["recording"] = ag.is_grad_enabled()
        y.backward()
        seen["grad"] = x.grad.numpy().tolist()
        release.set()

    _run_threads(quiet, recording)
    assert seen == {"quiet": False, "recording": True, "grad": [2.0, 2.0, 2.0]}
    assert ag.is_grad_enabled()


def test_a_new_thread_starts_recording_even_inside_no_grad():
    seen = []
    with ag.no_grad():
        _run_threads(lambda: seen.append(ag.is_grad_enabled()))
        assert not ag.is_grad_enabled()
    assert seen == [True]


def test_anomaly_mode_in_one_thread_does_not_reach_another():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def checking():
        with ag.detect_anomaly():
            inside.set()
            release.wait(10)
            with pytest.raises(ag.AnomalyError), np.errstate(invalid="ignore"):
                ag.log(Tensor(np.array([-1.0]), requires_grad=True))

    def plain():
        inside.wait(10)
        try:
            with np.errstate(invalid="ignore"):
                out = ag.log(Tensor(np.array([-1.0]), requires_grad=True))
            seen["nan"] = bool(np.isnan(out.numpy()).all())
            seen["created_at"] = getattr(out.op, "created_at", None)
        finally:
            release.set()

    _run_threads(checking, plain)
    assert seen == {"nan": True, "created_at": None}


def test_module_scope_is_per_thread():
    inside, release = threading.Event(), threading.Event()
    scopes = {}

    class Waits(nn.Module):
        def forward(self, x):
            inside.set()
            release.wait(10)
            return x * 2

    model = Waits()

    def in_module():
        scopes["module"] = model(Tensor(np.ones(2), requires_grad=True)).op.scope

    def outside():
        inside.wait(10)
        try:
            scopes["outside"] = (Tensor(np.ones(2), requires_grad=True) * 3).op.scope
        finally:
            release.set()

    _run_threads(in_module, outside)
    assert scopes == {"module": (model,), "outside": None}


def test_old_state_spelling_reads_and_sets_this_thread():
    from autograd.grad_mode import STATE
    assert STATE.enabled and not STATE.anomaly and STATE.scope is None
    STATE.enabled = False
    try:
        assert not ag.is_grad_enabled()
        seen = []
        _run_threads(lambda: seen.append(STATE.enabled))
        assert seen == [True]
    finally:
        STATE.enabled = True
    assert ag.is_grad_enabled()
