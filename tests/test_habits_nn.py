"""PyTorch's spellings in nn: Module.to/float/double/requires_grad_/apply/children, buffers,
ModuleList and ModuleDict, loss modules, nn.utils, param_groups, TensorDataset and DataLoader."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn import functional as F

rng = np.random.default_rng(0)


class Net(nn.Module):
    def __init__(self):
        self.stem = nn.Linear(4, 3)
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(3, 3), nn.ReLU()) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.BatchNorm1d(3)})

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](self.heads["b"](x))


# ---- Module ----
def test_children_are_modules_and_named_children_are_pairs():
    net = Net()
    assert list(net.children()) == [net.stem, net.blocks, net.heads]
    assert [name for name, _ in net.named_children()] == ["stem", "blocks", "heads"]
    assert [name for name, _ in net.named_modules()] == [
        "", "stem", "blocks", "blocks.0", "blocks.0.0", "blocks.0.1", "blocks.1", "blocks.1.0", "blocks.1.1",
        "heads", "heads.a", "heads.b"]
    assert "(blocks): ModuleList" in repr(net) and "(a): Linear" in repr(net)


def test_containers_name_parameters_as_pytorch_and_train():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names[:4] == ["stem.weight", "stem.bias", "blocks.0.0.weight", "blocks.0.0.bias"]
    assert names[-4:] == ["heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    assert "heads.b.running_mean" in net.state_dict()
    out = net(Tensor(rng.standard_normal((5, 4))))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_module_list_and_dict_behave_as_a_list_and_a_dict():
    layers = nn.ModuleList([nn.ReLU()])
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    layers.insert(0, nn.Linear(2, 2))
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Tanh", "Sigmoid"] and len(layers) == 4
    assert isinstance(layers[1:], nn.ModuleList) and layers[-1] is layers[3]
    del layers[0]
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2"] and layers.num_parameters() == 0
    heads = nn.ModuleDict([("x", nn.Linear(2, 1))])
    heads["y"] = nn.ReLU()
    assert list(heads) == ["x", "y"] and "x" in heads and list(heads.keys()) == ["x", "y"] and len(heads) == 2
    assert [k for k, _ in heads.items()] == ["x", "y"] and heads.pop("y") is not None and len(heads) == 1
    with pytest.raises(TypeError, match="Modules"):
        layers.append(3)
    with pytest.raises(KeyError):
        heads["a.b"] = nn.ReLU()


def test_to_double_and_float_cast_in_place_and_keep_the_layout():
    net = Net()
    weight = net.stem.weight
    net.stem.weight.grad = Tensor(np.ones((3, 4), np.float32))
    assert net.double() is net and net.stem.weight is weight
    assert all(p.dtype == np.float64 for p in net.parameters()) and weight.grad.dtype == np.float64
    assert weight.data.flags.f_contiguous and not weight.data.flags.c_contiguous   # Linear's column-major weight
    bn = net.heads["b"]
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    assert net.float() is net and all(p.dtype == np.float32 for p in net.parameters())
    assert net.to(np.float64) is net and net.stem.bias.dtype == np.float64
    assert net.to("cpu", "float32") is net and net.stem.bias.dtype == np.float32
    assert net.to(dtype="float64", device="cpu").stem.bias.dtype == np.float64
    net(Tensor(rng.standard_normal((2, 4)))).sum().backward()
    assert net.stem.weight.grad.dtype == np.float64


def test_to_another_device_or_a_non_floating_dtype_is_a_clear_error():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="CPU"):
        net.to("cuda")
    with pytest.raises(ValueError, match="cuda:1"):
        net.to("cuda:1")
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)
    with pytest.raises(TypeError, match="dtype or a device"):
        net.to("gpu")


def test_requires_grad_freezes_and_apply_visits_children_first():
    net = Net()
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    net.heads.requires_grad_()
    assert [p.requires_grad for p in net.heads.parameters()] == [True] * 4 and not net.stem.weight.requires_grad
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[:4] == ["Linear", "Linear", "ReLU", "Sequential"] and seen[-1] == "Net"
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert all(not m.weight.data.any() for m in net.modules() if isinstance(m, nn.Linear))


def test_register_buffer_as_pytorch():
    module = nn.Module()
    module.register_buffer("steps", Tensor(np.zeros(2)))
    module.register_buffer("scratch", np.ones(3), persistent=False)
    assert isinstance(module.steps, np.ndarray) and [n for n, _ in module.named_buffers()] == ["steps", "scratch"]
    assert list(module.state_dict()) == ["steps"]
    module.load_state_dict({"steps": np.array([1.0, 2.0])})
    assert module.steps.tolist() == [1, 2]
    with pytest.raises(KeyError, match="'.'"):
        module.register_buffer("a.b", np.zeros(1))


def test_softmax_layer_takes_dim():
    x = Tensor(rng.standard_normal((2, 3)))
    np.testing.assert_array_equal(nn.Softmax(dim=0)(x).data, F.softmax(x, 0).data)
    assert nn.Softmax(dim=0).axis == 0 and nn.Softmax().axis == -1 and nn.Softmax(1).axis == 1
    with pytest.raises(TypeError, match="not both"):
        nn.Softmax(0, dim=0)


def test_module_zero_grad_to_zeros():
    net = nn.Linear(2, 1)
    net(Tensor(np.ones((1, 2)))).sum().backward()
    net.zero_grad(set_to_none=False)
    assert net.weight.grad.data.tolist() == [[0, 0]]
    net.zero_grad()
    assert net.weight.grad is None


# ---- losses and utils ----
def test_loss_modules_are_the_functional_losses():
    logits, labels = Tensor(rng.standard_normal((5, 3))), rng.integers(0, 3, 5)
    probs, targets = Tensor(rng.uniform(0.1, 0.9, (5, 3))), rng.uniform(0, 1, (5, 3))
    pairs = [
        (nn.CrossEntropyLoss()(logits, labels), F.cross_entropy(logits, labels)),
        (nn.CrossEntropyLoss("sum", label_smoothing=0.1)(logits, labels),
         F.cross_entropy(logits, labels, "sum", 0.1)),
        (nn.MSELoss(reduction="none")(probs, targets), F.mse_loss(probs, targets, "none")),
        (nn.BCELoss()(probs, targets), F.binary_cross_entropy(probs, targets)),
        (nn.BCEWithLogitsLoss("sum")(logits, targets), F.binary_cross_entropy_with_logits(logits, targets, "sum")),
    ]
    for ours, functional in pairs:
        np.testing.assert_array_equal(ours.data, functional.data)
    assert "label_smoothing=0.1" in repr(nn.CrossEntropyLoss(label_smoothing=0.1))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss("average")


def test_nn_utils_clip_grad_norm_is_the_optimizers():
    assert nn.utils.clip_grad_norm_ is nn.optim.clip_grad_norm_


# ---- optimizers ----
def _sgd_setup(lr=0.1):
    w, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = nn.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01, "momentum": 0.5}], lr=lr, momentum=0.9)
    return w, b, opt


def test_param_groups_hold_every_hyperparameter_and_steps_read_them():
    w, b, opt = _sgd_setup()
    assert [g["params"] for g in opt.param_groups] == [[w], [b]]
    assert opt.param_groups[0] == {"params": [w], "lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0}
    assert (opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]) == (0.01, 0.5)
    w.grad, b.grad = Tensor(np.ones(3)), Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(w.data, 0.9)
    np.testing.assert_allclose(b.data, 0.99)
    opt.param_groups[0]["lr"] = 1.0       # PyTorch's habit: edit the group between steps
    opt.step()
    np.testing.assert_allclose(w.data, 0.9 - 1.0 * (0.9 * 1 + 1))
    np.testing.assert_allclose(b.data, 0.99 - 0.01 * (0.5 * 1 + 1))
    opt.lr = 0.2                          # the attribute sets every group, as opt.lr did
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2] and opt.lr == 0.2 and opt.momentum == 0.9


def test_schedules_set_each_groups_lr_from_its_own_start():
    _, _, opt = _sgd_setup()
    schedule = nn.optim.StepLR(opt, step_size=1, gamma=0.5)
    schedule.step()
    assert schedule.get_last_lr() == pytest.approx([0.05, 0.005])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.005])
    cycle = nn.optim.OneCycleLR(_sgd_setup()[2], max_lr=1.0, total_steps=10)
    assert cycle.get_last_lr() == pytest.approx([0.04, 0.04])


def test_optimizer_state_keeps_the_groups(tmp_path):
    w, b, opt = _sgd_setup()
    opt.param_groups[1]["lr"] = 0.3
    nn.save(opt, tmp_path / "opt.npz")
    fresh = _sgd_setup()[2]
    nn.load(fresh, tmp_path / "opt.npz")
    assert [g["lr"] for g in fresh.param_groups] == [0.1, 0.3] and fresh.param_groups[1]["momentum"] == 0.5
    old_style = {k: v for k, v in opt.state_dict().items() if k != "param_groups"}   # saved before groups
    fresh.load_state_dict(old_style)
    assert [g["lr"] for g in fresh.param_groups] == [0.1, 0.1]
    with pytest.raises(ValueError, match="parameter groups"):
        nn.optim.SGD([w, b], lr=0.1).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="may set"):
        nn.optim.Adam([{"params": [w], "momentum": 0.9}])


def test_add_param_group_trains_the_new_parameters_with_their_own_rate():
    w, b, opt = _sgd_setup()
    head = nn.Parameter(np.ones(2))
    opt.add_param_group({"params": [head], "lr": 0.5})
    assert opt.param_groups[2]["lr"] == 0.5 and opt.param_groups[2]["momentum"] == 0.9
    head.grad = Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(head.data, 0.5)
    assert nn.optim.StepLR(opt, 1).get_last_lr() == [0.1, 0.01, 0.5]
    with pytest.raises(ValueError, match="another group"):
        opt.add_param_group({"params": [w]})


def test_optimizer_zero_grad_set_to_none():
    w, b, opt = _sgd_setup()
    w.grad = Tensor(np.ones(3))
    opt.zero_grad(set_to_none=False)
    assert w.grad.data.tolist() == [0, 0, 0] and b.grad is None
    opt.zero_grad()
    assert w.grad is None


# ---- data ----
class Pairs:
    """A dataset as PyTorch users write one: __len__ and __getitem__ returning (x, y)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return Tensor(self.X[i]), int(self.y[i])


def test_data_loader_over_a_dataset_gives_the_same_batches_as_over_arrays():
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 5, 10)
    for shuffle, drop_last in ((True, False), (False, True)):
        loaders = [nn.data.DataLoader(X, y, 4, shuffle=shuffle, seed=1, drop_last=drop_last),
                   nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=4, shuffle=shuffle, seed=1,
                                      drop_last=drop_last),
                   nn.data.DataLoader(Pairs(X, y), 4, shuffle=shuffle, seed=1, drop_last=drop_last)]
        epochs = [list(loader) for loader in loaders]
        assert len({len(loader) for loader in loaders}) == 1 and len(epochs[0]) == len(loaders[0])
        for batches in zip(*epochs):
            for (xa, ya), (xb, yb) in zip(batches, batches[1:]):
                assert type(xb) is np.ndarray and type(yb) is np.ndarray
                np.testing.assert_array_equal(xa, xb)
                np.testing.assert_array_equal(ya, yb)


def test_tensor_dataset_indexes_and_takes_the_fast_path():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = nn.data.TensorDataset(Tensor(X), y)
    assert len(ds) == 6 and ds[2][0].tolist() == [4, 5] and ds[2][1] == 2
    first = next(iter(nn.data.DataLoader(ds, batch_size=4, shuffle=False)))
    assert np.shares_memory(first[0], X)   # a view: sliced like arrays, not stacked item by item
    triple = nn.data.TensorDataset(X, y, y * 2)
    assert [len(b) for b in nn.data.DataLoader(triple, batch_size=4)] == [3, 3]
    with pytest.raises(ValueError, match="lengths"):
        nn.data.TensorDataset(X, y[:3])


def test_data_loader_errors():
    with pytest.raises(TypeError, match="dataset"):
        nn.data.DataLoader(np.ones((3, 2)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        nn.data.DataLoader(Pairs(np.ones((3, 2)), np.ones(3)))
    with pytest.raises(ValueError, match="rows"):
        nn.data.DataLoader(np.ones((3, 2)), np.ones(2), 2)
    with pytest.raises(TypeError, match="tuples"):
        next(iter(nn.data.DataLoader([1.0, 2.0, 3.0], batch_size=2)))   # items that are not pairs


def test_the_pytorch_pages_names_exist():
    """docs/pytorch.md: every ``ag.``/``nn.`` name it shows as working (all but the absent ones) is real."""
    import re
    from pathlib import Path

    import autograd as ag
    page = (Path(__file__).resolve().parent.parent / "docs" / "pytorch.md").read_text()
    listed = page[:page.index("## What is absent")] + page[page.index("## Moving weights"):]
    names = set(re.findall(r"`((?:ag|nn)(?:\.\w+)+)", listed))
    assert len(names) >= 10
    for name in sorted(names):
        value = {"ag": ag, "nn": nn}[name.split(".")[0]]
        for part in name.split(".")[1:]:
            value = getattr(value, part)