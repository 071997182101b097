"""nn.callbacks.BlasThreads: the BLAS thread count chosen by timing batches, as fit does by default."""
import numpy as np
import pytest

import nn
from nn.callbacks import threads


class FakeBlas:
    """A BLAS whose batches take ``cost[threads]`` seconds on a clock the test reads."""

    def __init__(self, cost, threads=2):
        self.cost, self.threads, self.now, self.history = dict(cost), threads, 0.0, []

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.threads = n
        self.history.append(n)

    def clock(self):
        return self.now


def train(chooser, blas, batches, cost_at=None):
    chooser.on_train_begin({})
    for batch in range(batches):
        if cost_at:
            blas.cost = cost_at(batch)
        chooser.on_batch_begin(batch)
        blas.now += blas.cost[blas.threads]
        chooser.on_batch_end(batch)
    chooser.on_train_end({})


@pytest.mark.parametrize("cost, best", [({2: 1.0, 1: 1.3}, 2), ({2: 10.0, 1: 1.5}, 1),
                                        ({2: 1.0, 1: 0.95}, 2)])   # one thread must win by the margin
def test_it_trains_with_the_faster_count(cost, best):
    blas = FakeBlas(cost)
    chooser = threads.BlasThreads(warmup=2, probe=3, every=1e9, controller=blas, clock=blas.clock, load=lambda: 2.0)
    train(chooser, blas, 40)
    assert chooser.choices == [(2 + 12, best)]
    assert blas.history[-2] == best and blas.threads == 2   # kept for the rest, then set back


def test_a_load_that_comes_later_is_followed():
    blas = FakeBlas({2: 1.0, 1: 1.3})
    busy_from = 30
    chooser = threads.BlasThreads(warmup=2, probe=3, every=5.0, controller=blas, clock=blas.clock, load=lambda: 2.0)
    train(chooser, blas, 60, lambda b: {2: 1.0, 1: 1.3} if b < busy_from else {2: 10.0, 1: 1.5})
    assert chooser.choices[0][1] == 2 and chooser.choices[-1][1] == 1


def test_nothing_happens_with_one_core_or_no_controller(monkeypatch):
    blas = FakeBlas({1: 1.0}, threads=1)
    chooser = threads.BlasThreads(controller=blas, clock=blas.clock, load=lambda: 2.0)
    train(chooser, blas, 20)
    assert blas.history == [] and chooser.choices == []
    monkeypatch.setattr(threads, "_blas_controller", lambda: None)
    chooser = threads.BlasThreads()
    train(chooser, blas, 20)
    assert chooser.choices == []


def _fit(**options):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 5)).astype(np.float32), rng.integers(0, 2, 64)
    model = nn.MLP([5, 8, 2])
    model.compile("sgd", "cross_entropy", lr=0.1)
    return model.fit(X, y, epochs=2, batch_size=4, verbose=0, seed=0, **options)


def test_fit_chooses_by_default_and_leaves_the_threads_alone_with_none(monkeypatch):
    made = []

    def controller():
        made.append(FakeBlas({2: 1.0, 1: 1.0}))
        return made[-1]
    monkeypatch.setattr(threads, "_blas_controller", controller)
    _fit()
    assert len(made) == 1 and made[0].history and made[0].threads == 2
    _fit(blas_threads=None)
    assert len(made) == 1
    with pytest.raises(ValueError, match="blas_threads"):
        _fit(blas_threads=3)


def test_the_real_controller_sets_numpys_blas():
    controller = threads._blas_controller()
    if controller is None:
        pytest.skip("threadpoolctl finds no BLAS here")
    before = controller.get_num_threads()
    controller.set_num_threads(1)
    try:
        assert controller.get_num_threads() == 1
    finally:
        controller.set_num_threads(before)


def test_evaluate_and_predict_run_with_the_last_choice(monkeypatch):
    blas = FakeBlas({2: 1.0, 1: 1.0})
    monkeypatch.setattr(threads, "_blas_controller", lambda: blas)
    monkeypatch.setattr(threads.BlasThreads, "last_choice", 1)
    seen = []
    model = nn.MLP([5, 8, 2])
    model.compile("sgd", "cross_entropy", lr=0.1)
    original = model.forward
    model.forward = lambda x: (seen.append(blas.threads), original(x))[1]
    model.evaluate(np.zeros((4, 5), np.float32), np.zeros(4, int))
    assert seen[-1] == 1    # the batches (a first row checks the shapes before, outside)
    seen.clear()
    model.predict(np.zeros((4, 5), np.float32))
    assert seen == [1] and blas.threads == 2   # set back afterwards
    monkeypatch.setattr(threads.BlasThreads, "last_choice", None)
    seen.clear()
    model.predict(np.zeros((4, 5), np.float32))
    assert seen == [2]


def test_an_idle_machine_keeps_the_librarys_count_until_every_seconds_have_passed():
    blas = FakeBlas({2: 10.0, 1: 1.0})
    chooser = threads.BlasThreads(warmup=2, probe=3, every=20.0, controller=blas, clock=blas.clock, load=lambda: 0.0)
    train(chooser, blas, 40)
    # 2 batches of 10 s pass unmeasured; then, 20 s in, one round: 3 batches each way
    assert chooser.choices[0] == (2 + 1 + 6, 1) and blas.history[0] == 2
