"""The contenders the MLP benchmarks race: dagrad, hand-written NumPy, PyTorch; same weights, same order.

Each runner has ``epoch()`` (one pass of minibatch training) and ``predict(X)``.
"""
from __future__ import annotations

import numpy as np

import nn
from autograd import Tensor, no_grad
from benchmarks.engine_by_hand import EngineByHandMLP
from benchmarks.handwritten_fast import HandwrittenReluMLP
from benchmarks.textbook_numpy import StrictMLP, TextbookMLP, one_hot
from nn import functional as F

SEED_LR, SEED_L2, SEED_BATCH = 0.0005, 0.01, 100
FAST_LR, FAST_BATCH, FAST_SMOOTHING, FAST_EPOCHS = 5e-3, 128, 0.1, 3


def _step(loss, optimizer, schedule) -> None:
    """One update, the same calls in dagrad and PyTorch."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if schedule is not None:
        schedule.step()


class DagradRunner:
    """dagrad as a user writes it: nn.Sequential, a loss from nn.functional, an nn.optim optimizer."""

    def __init__(self, model, loss, optimizer, loader, schedule=None):
        self.model, self.loss, self.optimizer, self.loader, self.schedule = model, loss, optimizer, loader, schedule

    def epoch(self):
        for _ in self.steps():
            pass

    def steps(self):
        """The epoch as a generator that pauses after each step (for benchmarks' ``in_blocks``)."""
        self.model.train()
        for xb, yb in self.loader:
            _step(self.loss(self.model(Tensor(xb)), yb), self.optimizer, self.schedule)
            yield

    def predict(self, X):
        self.model.eval()
        with no_grad():
            return self.model(Tensor(X)).data.argmax(axis=1)


class NumpyRunner:
    """Wraps a hand-written network: ``epoch`` calls its own loop (``steps``, if given, the same
    loop pausing after each step)."""

    def __init__(self, network, epoch, steps=None):
        self.network, self._epoch, self._steps = network, epoch, steps

    def epoch(self):
        self._epoch()

    def steps(self):
        return self._steps()

    def predict(self, X):
        return self.network.predict(X) if hasattr(self.network, "predict") else self.network.logits(X).argmax(1)


class TorchRunner:
    def __init__(self, torch, model, loss, optimizer, X, y, batch, rng, schedule=None):
        self.torch, self.model, self.loss, self.optimizer = torch, model, loss, optimizer
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        self.batch, self.rng, self.schedule = batch, rng, schedule

    def epoch(self):
        order = self.rng.permutation(len(self.X))
        for start in range(0, len(order) - self.batch + 1, self.batch):
            index = self.torch.from_numpy(order[start:start + self.batch])
            _step(self.loss(self.model(self.X[index]), self.y[index]), self.optimizer, self.schedule)

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).argmax(1).numpy()


def _torch_mlp(torch, weights, activation, dtype):
    sizes = [w.shape for w in weights[::2]]
    layers = [torch.nn.Linear(sizes[0][1], sizes[0][0]), activation(), torch.nn.Linear(sizes[1][1], sizes[1][0])]
    model = torch.nn.Sequential(*layers).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(np.array(w, copy=True)))
    return model


def _textbook_shuffler(seed: int = 1):
    """The textbook's generator after it drew the weights: what shuffles its batches."""
    generator = np.random.RandomState(seed)
    generator.normal(size=784 * 100 + 100 * 10)
    return generator


def seed_runners(X, y, dtype, torch, epochs=None) -> dict:
    """The textbook network: the NumPy original draws the weights; dagrad and PyTorch copy them.

    ``epochs`` is unused (plain SGD has no schedule to size); it keeps one signature for both.
    """
    textbook = TextbookMLP(l2=SEED_L2, eta=SEED_LR, minibatch_size=SEED_BATCH, seed=1, dtype=dtype)
    weights = [textbook.w_h.T, textbook.b_h, textbook.w_out.T, textbook.b_out]
    model = nn.Sequential(nn.Linear(784, 100, dtype=dtype), nn.Sigmoid(), nn.Linear(100, 10, dtype=dtype))
    for p, w in zip(model.parameters(), weights):
        p.data[...] = w
    shuffle = _textbook_shuffler()
    decayed = [model[0].weight, model[2].weight]
    optimizer = nn.optim.SGD([{"params": decayed, "weight_decay": SEED_L2},
                              {"params": [model[0].bias, model[2].bias]}], lr=SEED_LR)
    eye = np.eye(10, dtype=dtype)
    loss = lambda logits, labels: F.binary_cross_entropy_with_logits(logits, eye[labels], reduction="sum")  # noqa
    loader = nn.data.DataLoader(X, y, SEED_BATCH, seed=shuffle, drop_last=True)
    targets = one_hot(y, dtype=dtype)
    strict = StrictMLP(l2=SEED_L2, eta=SEED_LR, minibatch_size=SEED_BATCH, seed=1, dtype=dtype)
    by_hand = EngineByHandMLP(model, SEED_LR, SEED_L2, SEED_BATCH, _textbook_shuffler())
    runners = {"dagrad": DagradRunner(model, loss, optimizer, loader),
               "numpy": NumpyRunner(textbook, lambda: textbook.epoch(X, targets)),
               "strict": NumpyRunner(strict, lambda: strict.epoch(X, targets),
                                     lambda: strict.steps(X, targets)),
               "by_hand": NumpyRunner(by_hand, lambda: by_hand.epoch(X, y), lambda: by_hand.steps(X, y))}
    if torch is not None:
        net = _torch_mlp(torch, weights, torch.nn.Sigmoid, dtype)
        params = list(net.parameters())
        opt = torch.optim.SGD([{"params": params[0::2], "weight_decay": SEED_L2}, {"params": params[1::2]}],
                              lr=SEED_LR)
        eye_t = torch.from_numpy(eye)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        runners["torch"] = TorchRunner(torch, net, lambda z, t: bce(z, eye_t[t], reduction="sum"), opt, X, y,
                                       SEED_BATCH, _textbook_shuffler())
    return runners


def fast_runners(X, y, dtype, torch, epochs=FAST_EPOCHS) -> dict:
    """The 'fast' preset's network; dagrad draws the weights (Kaiming uniform), the others copy them."""
    nn.manual_seed(0)
    model = nn.MLP([784, 256, 10], activation="relu", dtype=dtype)
    weights = [p.data.copy() for p in model.parameters()]
    steps = (len(X) // FAST_BATCH) * epochs  # the one-cycle schedule spans every epoch the caller runs
    optimizer = nn.optim.Adam(model.parameters(), lr=FAST_LR)
    schedule = nn.optim.OneCycleLR(optimizer, max_lr=FAST_LR, total_steps=steps)
    loss = lambda logits, labels: F.cross_entropy(logits, labels, label_smoothing=FAST_SMOOTHING)  # noqa
    loader = nn.data.DataLoader(X, y, FAST_BATCH, seed=np.random.RandomState(2), drop_last=True)
    handwritten = HandwrittenReluMLP(weights, schedule.lr_at, FAST_SMOOTHING)
    order = np.random.RandomState(2)

    def handwritten_epoch():
        perm = order.permutation(len(X))
        for start in range(0, len(perm) - FAST_BATCH + 1, FAST_BATCH):
            batch = perm[start:start + FAST_BATCH]
            handwritten.step(X[batch], y[batch])
    runners = {"dagrad": DagradRunner(model, loss, optimizer, loader, schedule),
               "numpy": NumpyRunner(handwritten, handwritten_epoch)}
    if torch is not None:
        net = _torch_mlp(torch, weights, torch.nn.ReLU, dtype)
        opt = torch.optim.Adam(net.parameters(), lr=FAST_LR)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=FAST_LR, total_steps=steps, pct_start=0.25,
                                                    cycle_momentum=False)
        ce = torch.nn.functional.cross_entropy
        runners["torch"] = TorchRunner(torch, net, lambda z, t: ce(z, t, label_smoothing=FAST_SMOOTHING), opt, X,
                                       y, FAST_BATCH, np.random.RandomState(2), sched)
    return runners
