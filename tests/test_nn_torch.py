"""nn against PyTorch (when installed): losses and their gradients, optimizer steps, schedules, BatchNorm."""
import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = np.random.default_rng(0)
TOL = dict(rtol=1e-6, atol=1e-9)


def both(array):
    """The same float64 data as a dagrad leaf and a torch leaf."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def compare(ours, theirs, leaves):
    """Values, then the gradients of a random weighting of the outputs, for each (ours, torch) leaf pair."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)
    weights = rng.standard_normal(ours.shape)
    (ours * weights).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for a, b in leaves:
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("targets", ["labels", "probabilities"])
def test_cross_entropy(reduction, smoothing, targets):
    (z, tz), (q, tq) = both(rng.standard_normal((6, 4)) * 3), both(rng.dirichlet(np.ones(4), 6))
    if targets == "labels":
        labels = rng.integers(0, 4, 6)
        ours = F.cross_entropy(z, labels, reduction, smoothing)
        theirs = TF.cross_entropy(tz, torch.tensor(labels), reduction=reduction, label_smoothing=smoothing)
        compare(ours, theirs, [(z, tz)])
    else:
        ours = F.cross_entropy(z, q, reduction, smoothing)
        theirs = TF.cross_entropy(tz, tq, reduction=reduction, label_smoothing=smoothing)
        compare(ours, theirs, [(z, tz), (q, tq)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses_and_mse(reduction):
    (p, tp), (y, ty) = both(rng.uniform(0.05, 0.95, (5, 3))), both(rng.uniform(0, 1, (5, 3)))
    compare(F.binary_cross_entropy(p, y, reduction), TF.binary_cross_entropy(tp, ty, reduction=reduction),
            [(p, tp), (y, ty)])
    (z, tz), (y, ty) = both(rng.standard_normal((5, 3)) * 4), both(rng.uniform(0, 1, (5, 3)))
    compare(F.binary_cross_entropy_with_logits(z, y, reduction),
            TF.binary_cross_entropy_with_logits(tz, ty, reduction=reduction), [(z, tz), (y, ty)])
    (a, ta), (b, tb) = both(rng.standard_normal((5, 3))), both(rng.standard_normal((5, 3)))
    compare(F.mse_loss(a, b, reduction), TF.mse_loss(ta, tb, reduction=reduction), [(a, ta), (b, tb)])


def test_saturated_binary_cross_entropy_matches_the_clamped_logs():
    (p, tp), (y, ty) = both(np.array([0.0, 1.0, 1.0, 1e-30])), both(np.array([1.0, 0.0, 1.0, 0.5]))
    ours, theirs = F.binary_cross_entropy(p, y, "none"), TF.binary_cross_entropy(tp, ty, reduction="none")
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-6)


def test_fused_activations_and_linear():
    (x, tx), (w, tw), (b, tb) = both(rng.standard_normal((4, 3))), both(rng.standard_normal((2, 3))), both(
        rng.standard_normal(2))
    compare(F.linear(x, w, b), TF.linear(tx, tw, tb), [(x, tx), (w, tw), (b, tb)])
    for ours, theirs in [(lambda t: F.softmax(t, 0), lambda t: TF.softmax(t, 0)),
                         (F.log_softmax, lambda t: TF.log_softmax(t, -1)),
                         (lambda t: F.leaky_relu(t, 0.2), lambda t: TF.leaky_relu(t, 0.2))]:
        (x, tx) = both(rng.standard_normal((4, 3)))
        compare(ours(x), theirs(tx), [(x, tx)])


def twin_models():
    """Our 4-8-3 tanh MLP in float64 and PyTorch's with the same weights (state dicts carry over)."""
    ours = nn.MLP([4, 8, 3], activation="tanh", dtype=np.float64)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, weight_decay=0.05)), ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)), ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, eps=1e-6)),
]


@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=[f"{n}-{o}" for n, o in OPTIMIZERS])
def test_five_optimizer_steps_match(name, options):
    ours, theirs = twin_models()
    opt = getattr(nn.optim, name)(ours.parameters(), **options)
    topt = getattr(torch.optim, name)(theirs.parameters(), **options)
    for _ in range(5):
        x, labels = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
        opt.zero_grad()
        F.cross_entropy(ours(Tensor(x)), labels).backward()
        opt.step()
        topt.zero_grad()
        TF.cross_entropy(theirs(torch.tensor(x)), torch.tensor(labels)).backward()
        topt.step()
    for (key, value), tvalue in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(value, tvalue.numpy(), **TOL, err_msg=key)


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5), {}),
    ("CosineAnnealingLR", dict(T_max=10), {}),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01), {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40), dict(pct_start=0.25, cycle_momentum=False)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30, pct_start=0.4, div_factor=10.0, final_div_factor=100.0),
     dict(cycle_momentum=False)),
]


@pytest.mark.parametrize("name,options,torch_only", SCHEDULES, ids=[f"{s[0]}-{s[1]}" for s in SCHEDULES])
def test_learning_rates_of_a_run_match(name, options, torch_only):
    opt = nn.optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    schedule = getattr(nn.optim, name)(opt, **options)
    tschedule = getattr(torch.optim.lr_scheduler, name)(topt, **options, **torch_only)
    ours, theirs = [opt.lr], [topt.param_groups[0]["lr"]]
    for _ in range(options.get("total_steps", 25) - 1):
        topt.step()
        schedule.step()
        tschedule.step()
        ours.append(schedule.get_last_lr()[0])
        theirs.append(tschedule.get_last_lr()[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


def test_batchnorm_matches_in_training_and_eval():
    ours, theirs = nn.BatchNorm1d(3, momentum=0.2, dtype=np.float64), torch.nn.BatchNorm1d(3, momentum=0.2).double()
    for _ in range(4):
        (x, tx) = both(rng.standard_normal((7, 3)) * 2 + 1)
        compare(ours(x), theirs(tx), [(x, tx)])
    for key, value in ours.state_dict().items():
        if key in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(value, theirs.state_dict()[key].numpy(), **TOL, err_msg=key)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), **TOL)
    ours.eval()
    theirs.eval()
    (x, tx) = both(rng.standard_normal((5, 3)))
    compare(ours(x), theirs(tx), [(x, tx)])


def test_pytorch_default_linear_init_has_the_same_spread():
    ours = nn.Linear(500, 400).weight.data
    theirs = torch.nn.Linear(500, 400).weight.detach().numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert np.abs(ours).max() <= np.abs(theirs).max() * 1.001
