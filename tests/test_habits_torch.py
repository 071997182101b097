"""PyTorch's spellings against PyTorch itself (when installed): the HABITS table's values,
gradients and Hessian-vector products, the kinks, max/min with dim, param_groups, loss
modules, clip_grad_norm_, and the order of children and named_modules."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from test_habits import HABITS
from test_torch_reference import (test_hessian_vector_products_match_torch,  # noqa: F401 (collected here too)
                                  test_values_and_gradients_match_torch)

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


@pytest.fixture(params=HABITS, ids=[c.name for c in HABITS])
def case(request):
    return request.param


KINKS = [
    ("abs", lambda x: x.abs(), [-1.0, 0.0, 0.0, 2.0]),
    ("clamp", lambda x: x.clamp(0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0]),
    ("clamp_min", lambda x: x.clamp(min=1.0), [0.0, 1.0, 2.0]),
    ("clip_max", lambda x: x.clip(max=0.0), [-1.0, 0.0, 1.0]),
    ("clamp_crossed", lambda x: x.clamp(1.0, 0.0), [-1.0, 0.5, 2.0]),
    ("sqrt", lambda x: x.sqrt(), [0.0, 0.25, 4.0]),
    ("min_ties", lambda x: x.min(), [1.0, 1.0, 2.0]),
    ("max_ties", lambda x: x.max(), [[3.0, 1.0], [3.0, 3.0]]),
    ("max_dim_ties", lambda x: x.max(dim=1).values, [[3.0, 3.0, 1.0], [0.0, 2.0, 2.0]]),
    ("min_dim_ties", lambda x: x.min(dim=0, keepdim=True)[0], [[1.0, 2.0], [1.0, 0.0]]),
    ("relu_of_clamp", lambda x: x.clamp(-1.0, 1.0).relu(), [-1.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("fn, values", [k[1:] for k in KINKS], ids=[k[0] for k in KINKS])
def test_values_and_subgradients_at_kinks_match_torch(fn, values):
    ours = Tensor(np.array(values), requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        out = fn(ours)
        out.sum().backward()
    expected = fn(theirs)
    expected.sum().backward()
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_max_min_argmax_with_dim_match_torch():
    x = rng.integers(0, 3, (4, 5)).astype(np.float64)   # plenty of ties
    ours, theirs = Tensor(x), torch.tensor(x)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            for name in ("max", "min"):
                a, b = getattr(ours, name)(dim=dim, keepdim=keepdim), getattr(theirs, name)(dim=dim, keepdim=keepdim)
                np.testing.assert_array_equal(a.values.data, b.values.numpy())
                np.testing.assert_array_equal(a.indices, b.indices.numpy())
            for name in ("argmax", "argmin"):
                np.testing.assert_array_equal(getattr(ours, name)(dim=dim, keepdim=keepdim),
                                              getattr(theirs, name)(dim=dim, keepdim=keepdim).numpy())
    assert int(ours.argmax()) == int(theirs.argmax())


def test_param_groups_and_an_edited_lr_step_as_torch():
    w0, b0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    grads = [(rng.standard_normal((3, 2)), rng.standard_normal(2)) for _ in range(4)]
    w, b = nn.Parameter(w0.copy()), nn.Parameter(b0.copy())
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    for make, tmake in ((lambda groups: nn.optim.SGD(groups, lr=0.1, momentum=0.9),
                         lambda groups: torch.optim.SGD(groups, lr=0.1, momentum=0.9)),
                        (lambda groups: nn.optim.Adam(groups, lr=0.01),
                         lambda groups: torch.optim.Adam(groups, lr=0.01))):
        opt = make([{"params": [w], "weight_decay": 0.1}, {"params": [b], "lr": 0.05}])
        topt = tmake([{"params": [tw], "weight_decay": 0.1}, {"params": [tb], "lr": 0.05}])
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        for step, (gw, gb) in enumerate(grads):
            if step == 2:
                for group in (*opt.param_groups, *topt.param_groups):
                    group["lr"] *= 3.0
            w.grad, b.grad = Tensor(gw), Tensor(gb)
            tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
            opt.step()
            topt.step()
            np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-12, atol=1e-14)
        opt.zero_grad(set_to_none=False)
        topt.zero_grad(set_to_none=False)
        np.testing.assert_array_equal(w.grad.data, tw.grad.numpy())


def test_schedules_over_groups_match_torch():
    for make, tmake in ((lambda o: nn.optim.StepLR(o, 2, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)),
                        (lambda o: nn.optim.CosineAnnealingLR(o, T_max=5),
                         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5))):
        opt = nn.optim.SGD([{"params": [nn.Parameter(np.ones(1))]}, {"params": [nn.Parameter(np.ones(1))],
                                                                       "lr": 0.01}], lr=0.1)
        topt = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)]},
                                {"params": [torch.ones(1, requires_grad=True)], "lr": 0.01}], lr=0.1)
        schedule, tschedule = make(opt), tmake(topt)
        for _ in range(5):
            topt.step()
            schedule.step()
            tschedule.step()
            assert schedule.get_last_lr() == pytest.approx(tschedule.get_last_lr(), rel=1e-12)
            assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_torch(reduction):
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    probs, targets = rng.uniform(0.05, 0.95, (6, 4)), rng.uniform(0, 1, (6, 4))
    T = torch.nn
    pairs = [
        (nn.CrossEntropyLoss(reduction, label_smoothing=0.1)(Tensor(logits), labels),
         T.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(torch.tensor(logits), torch.tensor(labels))),
        (nn.MSELoss(reduction)(Tensor(probs), targets),
         T.MSELoss(reduction=reduction)(torch.tensor(probs), torch.tensor(targets))),
        (nn.BCELoss(reduction)(Tensor(probs), targets),
         T.BCELoss(reduction=reduction)(torch.tensor(probs), torch.tensor(targets))),
        (nn.BCEWithLogitsLoss(reduction)(Tensor(logits), targets),
         T.BCEWithLogitsLoss(reduction=reduction)(torch.tensor(logits), torch.tensor(targets))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad, t.grad = Tensor(g.copy()), torch.tensor(g)
    norm = nn.utils.clip_grad_norm_(ours, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert norm == pytest.approx(float(tnorm), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12)


def _architecture(lib):
    """The same tree in both libraries: a Linear, a ModuleList of Sequentials, a ModuleDict."""
    class Net(lib.Module):
        def __init__(self):
            super().__init__() if lib is torch.nn else None
            self.stem = lib.Linear(4, 3)
            self.blocks = lib.ModuleList([lib.Sequential(lib.Linear(3, 3), lib.ReLU()) for _ in range(2)])
            self.heads = lib.ModuleDict({"a": lib.Linear(3, 2), "b": lib.BatchNorm1d(3)})
    return Net()


def test_children_named_modules_and_state_dict_keys_match_torch():
    ours, theirs = _architecture(nn), _architecture(torch.nn)
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    visited, tvisited = [], []
    ours.apply(lambda m: visited.append(type(m).__name__))
    theirs.apply(lambda m: tvisited.append(type(m).__name__))
    assert visited == tvisited
    ours.load_state_dict({k: v.numpy() for k, v in theirs.double().state_dict().items()})
    assert ours.stem.weight.dtype == np.float32 and ours.double().stem.weight.dtype == np.float64
