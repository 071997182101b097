"""Optimizers against their formulas written out plainly; in-place updates; clipping; schedules."""
import math
import tracemalloc

import numpy as np
import pytest

import nn
from autograd import Tensor

rng = np.random.default_rng(0)


def params_with_grads(shapes=((3, 4), (4,)), dtype=np.float64):
    params = [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
    for p in params:
        p.grad = Tensor(rng.standard_normal(p.shape).astype(dtype))
    return params


def reference_sgd(w, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    buf = None
    for g in grads:
        d = g + weight_decay * w
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + d
            d = d + momentum * buf if nesterov else buf
        w = w - lr * d
    return w


def reference_adam(w, grads, lr, betas, eps, weight_decay, decoupled):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def run_steps(opt, p, grads):
    for g in grads:
        p.grad = Tensor(g)
        opt.step()


SGD_CASES = [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=0.1),
             dict(momentum=0.5, nesterov=True, weight_decay=0.01)]


@pytest.mark.parametrize("options", SGD_CASES, ids=[str(c) for c in SGD_CASES])
def test_sgd_matches_the_formula(options):
    w0, grads = rng.standard_normal((3, 2)), [rng.standard_normal((3, 2)) for _ in range(4)]
    p = nn.Parameter(w0.copy())
    run_steps(nn.optim.SGD([p], lr=0.1, **options), p, grads)
    np.testing.assert_allclose(p.data, reference_sgd(w0, grads, 0.1, **options), rtol=1e-12)


@pytest.mark.parametrize("cls,weight_decay", [(nn.optim.Adam, 0.0), (nn.optim.Adam, 0.1), (nn.optim.AdamW, 0.1)])
def test_adam_and_adamw_match_the_formula(cls, weight_decay):
    w0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(4)]
    p = nn.Parameter(w0.copy())
    run_steps(cls([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=weight_decay), p, grads)
    expected = reference_adam(w0, grads, 0.01, (0.8, 0.9), 1e-6, weight_decay, cls is nn.optim.AdamW)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)
    assert nn.optim.AdamW([p]).weight_decay == 0.01


@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: nn.optim.Adam(ps, weight_decay=0.1), lambda ps: nn.optim.AdamW(ps)])
def test_steps_are_in_place_leave_grads_alone_skip_missing_grads_and_allocate_nothing(make):
    params = params_with_grads(((200, 100), (100,)), dtype=np.float32)
    frozen = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = make(params + [frozen])
    arrays, grads = [p.data for p in params], [p.grad.data.copy() for p in params]
    opt.step()
    tracemalloc.start()
    opt.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < params[0].data.nbytes / 10
    assert all(p.data is a and p.dtype == np.float32 for p, a in zip(params, arrays))
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.data, g)
    assert (frozen.data == 1).all()


def test_zero_grad_and_parameters_given_twice():
    p = params_with_grads(((2,),))[0]
    opt = nn.optim.SGD([p, p], lr=1.0)
    assert len(opt.params) == 1
    opt.zero_grad()
    assert p.grad is None
    with pytest.raises(ValueError, match="empty"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        nn.optim.SGD([p], lr=0.1, nesterov=True)


def test_clip_grad_norm_scales_in_place_and_returns_the_norm():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = Tensor(np.array([3.0, 0.0])), Tensor(np.array([4.0]))
    assert nn.optim.clip_grad_norm_([a, b], max_norm=1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([a.grad.data, b.grad.data]), [0.6, 0, 0.8], rtol=1e-6)
    assert nn.optim.clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(a.grad.data, [0.6, 0], rtol=1e-6)


def lrs(make, steps, lr=0.1):
    opt = nn.optim.SGD([nn.Parameter(np.zeros(1))], lr=lr)
    schedule = make(opt)
    values = [opt.lr]
    for _ in range(steps):
        schedule.step()
        assert [opt.lr] == schedule.get_last_lr()
        values.append(opt.lr)
    return values


def test_schedules_follow_their_formulas():
    assert lrs(lambda o: nn.optim.StepLR(o, step_size=2, gamma=0.5), 5) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    cosine = lrs(lambda o: nn.optim.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 4)
    assert cosine == pytest.approx([0.01 + 0.09 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)])
    cycle = lrs(lambda o: nn.optim.OneCycleLR(o, max_lr=1.0, total_steps=100), 99)
    assert cycle[0] == pytest.approx(1 / 25) and max(cycle) == pytest.approx(1.0)
    assert cycle[24] == pytest.approx(1.0) and cycle[-1] == pytest.approx(1 / 25 / 1e4)
    assert np.all(np.diff(cycle[:25]) > 0) and np.all(np.diff(cycle[24:]) < 0)


def test_optimizer_and_schedule_state_round_trip(tmp_path):
    params = params_with_grads()
    opt = nn.optim.Adam(params, lr=0.1)
    schedule = nn.optim.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    schedule.step()
    nn.save({"opt": opt, "schedule": schedule}, tmp_path / "opt.npz")
    fresh = nn.optim.Adam(params, lr=0.3, betas=(0.5, 0.5))
    fresh_schedule = nn.optim.StepLR(fresh, step_size=1, gamma=0.5)
    nn.load({"opt": fresh, "schedule": fresh_schedule}, tmp_path / "opt.npz")
    assert fresh.lr == 0.05 and fresh.betas == (0.9, 0.999) and fresh_schedule.last_epoch == 1
    assert fresh.state[0]["step"] == 1
    np.testing.assert_array_equal(fresh.state[1]["exp_avg"], opt.state[1]["exp_avg"])
    with pytest.raises(ValueError, match="shape"):
        nn.optim.Adam(params_with_grads(((2, 2), (4,)))).load_state_dict(opt.state_dict())


def test_parameter_groups_override_hyperparameters():
    w0, b0, grads = rng.standard_normal((3, 2)), rng.standard_normal(2), [rng.standard_normal((3, 2)) for _ in range(3)]
    w, b = nn.Parameter(w0.copy()), nn.Parameter(b0.copy())
    opt = nn.optim.SGD([{"params": [w], "weight_decay": 0.1}, {"params": b}], lr=0.1, momentum=0.9)
    for g in grads:
        w.grad, b.grad = Tensor(g), Tensor(g[0])
        opt.step()
    np.testing.assert_allclose(w.data, reference_sgd(w0, grads, 0.1, momentum=0.9, weight_decay=0.1), rtol=1e-12)
    np.testing.assert_allclose(b.data, reference_sgd(b0, [g[0] for g in grads], 0.1, momentum=0.9), rtol=1e-12)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.Adam([{"params": [w], "momentum": 0.9}])


def test_zero_dimensional_parameters_step_and_clip():
    p = nn.Parameter(np.array(2.0))
    (p * 3.0).backward()
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    assert p.data.shape == () and float(p.data) == pytest.approx(1.7)
    assert nn.optim.clip_grad_norm_([p], 1.0) == pytest.approx(3.0)
    assert float(p.grad.data) == pytest.approx(1.0, rel=1e-5)


def test_sgd_positional_arguments_follow_the_api_order():
    """The fixed signature SGD(params, lr, momentum=0, weight_decay=0); nesterov is keyword-only and a bool."""
    p = nn.Parameter(np.ones(2))
    opt = nn.optim.SGD([p], 0.1, 0.9, 0.01)
    assert (opt.lr, opt.momentum, opt.weight_decay, opt.nesterov) == (0.1, 0.9, 0.01, False)
    with pytest.raises(TypeError):
        nn.optim.SGD([p], 0.1, 0.9, 0.01, True)
    with pytest.raises(TypeError, match="nesterov"):
        nn.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=0.01)
    assert nn.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=np.bool_(True)).nesterov is True
