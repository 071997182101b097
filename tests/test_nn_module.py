"""Module: parameters found by walking attributes, modes, state dicts, checkpoints and resuming."""
import os

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F


class Block(nn.Module):
    def __init__(self, shared=None):
        self.scale = nn.Parameter(np.ones(2))
        self.fc = nn.Linear(2, 2)
        self.shared = shared if shared is not None else nn.Parameter(np.zeros(2))

    def forward(self, x):
        return self.fc(x) * self.scale + self.shared


class Net(nn.Module):
    def __init__(self):
        self.encoder = Block()
        self.blocks = [Block(self.encoder.shared), Block()]
        self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)}
        self.norm = nn.BatchNorm1d(2)
        self.alias = self.encoder   # a second path to the same module
        self.sizes = [2, 2]          # plain data is ignored

    def forward(self, x):
        for block in [self.encoder] + self.blocks:
            x = block(x)
        x = self.norm(x)
        return self.heads["a"](x) + self.heads["b"](x)


def test_named_parameters_order_names_and_sharing():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "encoder.scale", "encoder.shared", "encoder.fc.weight", "encoder.fc.bias",
        "blocks.0.scale", "blocks.0.fc.weight", "blocks.0.fc.bias",
        "blocks.1.scale", "blocks.1.shared", "blocks.1.fc.weight", "blocks.1.fc.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "norm.weight", "norm.bias"]
    assert len({id(p) for p in net.parameters()}) == len(names)
    assert [n for n, _ in net.named_modules()][:4] == ["", "encoder", "encoder.fc", "blocks.0"]
    assert "alias" not in [n for n, _ in net.named_modules()]
    assert net.num_parameters() == sum(p.size for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == ["norm.running_mean", "norm.running_var",
                                                    "norm.num_batches_tracked"]


def test_parameter_is_a_cheap_tensor_that_requires_grad():
    p = nn.Parameter([1, 2])
    assert isinstance(p, Tensor) and p.requires_grad and p.dtype == np.float32
    assert not hasattr(p, "__dict__") and repr(p).startswith("Parameter(")


def test_train_and_eval_reach_every_module_and_switch_dropout_and_batchnorm():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    x = Tensor(np.random.default_rng(0).standard_normal((8, 4)))
    model.eval()
    assert not any(m.training for m in model.modules())
    np.testing.assert_array_equal(model(x).data, model(x).data)
    assert int(model[1].num_batches_tracked) == 0
    model.train()
    assert all(m.training for m in model.modules())
    model(x)
    assert int(model[1].num_batches_tracked) == 1


def test_zero_grad_and_module_scope_tagging():
    model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    out = model(Tensor(np.ones((1, 3))))
    assert out.op.scope == (model, model[1])
    assert out.op.inputs[0].op.scope == (model, model[0])
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    with ag.no_grad():
        assert model(Tensor(np.ones((1, 3)))).op is None


def test_repr_shows_the_tree_and_parameter_counts():
    text = repr(nn.MLP([3, 4, 2]))
    assert text.splitlines() == [
        "MLP(  # 26 parameters",
        "  (0): Linear(in_features=3, out_features=4, bias=True)  # 16 parameters",
        "  (1): ReLU()",
        "  (2): Linear(in_features=4, out_features=2, bias=True)  # 10 parameters",
        ")"]


def test_state_dict_copies_and_round_trips_through_save_and_load(tmp_path):
    net, other = Net(), Net()
    net(Tensor(np.random.default_rng(0).standard_normal((4, 2))))   # moves the running stats
    state = net.state_dict()
    assert list(state)[-3:] == ["norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    state["encoder.scale"][0] = 99.0
    assert net.encoder.scale.data[0] == 1.0   # a copy
    path = tmp_path / "net.npz"
    nn.save(net, path)
    weight = other.encoder.fc.weight
    nn.load(other, path)
    assert other.encoder.fc.weight is weight   # loaded in place
    for (name, a), b in zip(net.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert sorted(np.load(path).files) == sorted(net.state_dict())
    assert [f for f in os.listdir(tmp_path)] == ["net.npz"]   # no temporary left behind


def _corrupt(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("problem", ["wrong shape", "missing key", "wrong dtype", "corrupt file", "missing file",
                                     "not npz"])
def test_failed_loads_change_nothing_and_name_the_file(tmp_path, problem):
    model = nn.MLP([3, 4, 2])
    before = model.state_dict()
    path = tmp_path / "ckpt.npz"
    source = {"wrong shape": nn.MLP([3, 5, 2]), "missing key": nn.MLP([3, 4, 2])}.get(problem, nn.MLP([3, 4, 2]))
    state = source.state_dict()
    if problem == "missing key":
        del state["2.bias"]
    if problem == "wrong dtype":   # another kind: floats cast on load, ints into floats do not
        state["0.weight"] = state["0.weight"].astype(np.int64)
    nn.save_state(state, path)
    if problem == "corrupt file":
        _corrupt(path)
    if problem == "missing file":
        path = tmp_path / "nowhere.npz"
    if problem == "not npz":
        path.write_text("hello")
    error = FileNotFoundError if problem == "missing file" else nn.CheckpointError
    with pytest.raises(error, match=path.name) as info:
        nn.load(model, path)
    if problem in ("wrong shape", "missing key", "wrong dtype"):
        assert {"wrong shape": "'0.weight': shape (5, 3)", "missing key": "missing key '2.bias'",
                "wrong dtype": "dtype int64 in the state cannot be cast to float32"}[problem] in str(info.value)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_lists_every_problem_and_allows_non_strict():
    model = nn.MLP([3, 4, 2])
    state = model.state_dict()
    state["0.weight"] = np.zeros((1, 1), np.float32)
    state["extra"] = np.zeros(1)
    del state["2.bias"]
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing key '2.bias'" in message and "unexpected key 'extra'" in message and "'0.weight'" in message
    state["0.weight"] = np.full((4, 3), 2.0, np.float32)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    assert (model[0].weight.data == 2).all()


def _train(model, opt, schedule, steps, rng):
    for _ in range(steps):
        x = Tensor(rng.standard_normal((8, 3)))
        loss = F.cross_entropy(model(x), rng.integers(0, 2, 8))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_resuming_from_a_checkpoint_gives_the_same_next_steps(tmp_path, optimizer):
    def make():
        model = nn.Sequential(nn.Linear(3, 5, rng=np.random.default_rng(0)), nn.BatchNorm1d(5), nn.Tanh(),
                              nn.Linear(5, 2, rng=np.random.default_rng(1)))
        opt = (nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
               if optimizer == "sgd" else nn.optim.AdamW(model.parameters(), lr=0.01))
        return model, opt, nn.optim.OneCycleLR(opt, max_lr=0.1, total_steps=10)

    model, opt, schedule = make()
    _train(model, opt, schedule, 3, np.random.default_rng(5))
    path = tmp_path / "resume.npz"
    nn.save({"model": model, "optimizer": opt, "schedule": schedule}, path)
    _train(model, opt, schedule, 3, np.random.default_rng(6))

    model2, opt2, schedule2 = make()
    nn.load({"model": model2, "optimizer": opt2, "schedule": schedule2}, path)
    assert [opt2.lr] == pytest.approx(schedule2.get_last_lr())
    _train(model2, opt2, schedule2, 3, np.random.default_rng(6))
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert opt2.lr == opt.lr


def test_loading_a_dict_of_objects_is_all_or_nothing(tmp_path):
    model = nn.MLP([2, 3, 1])
    opt = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    path = tmp_path / "both.npz"
    nn.save({"model": model, "optimizer": opt}, path)
    other = nn.MLP([2, 3, 1])
    wrong_opt = nn.optim.Adam(other.parameters())
    before = other.state_dict()
    with pytest.raises(nn.CheckpointError, match="both.npz"):
        nn.load({"model": other, "optimizer": wrong_opt}, path)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_crash_while_saving_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    model = nn.MLP([2, 3, 1])
    path = tmp_path / "model.npz"
    nn.save(model, path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        nn.save(nn.MLP([2, 3, 1]), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.parametrize("model_dtype, state_dtype", [(np.float64, np.float32), (np.float32, np.float64)])
def test_load_state_dict_casts_floats_and_keeps_the_module_dtype(model_dtype, state_dtype):
    """As PyTorch: a float32 state dict (e.g. from torch) loads into a float64 model, and back."""
    source, model = nn.MLP([3, 4, 2], dtype=state_dtype), nn.MLP([3, 4, 2], dtype=model_dtype)
    weight = model[0].weight.data
    model.load_state_dict(source.state_dict())
    assert model[0].weight.data is weight and weight.dtype == model_dtype   # in place, dtype kept
    for name, value in model.state_dict().items():
        assert value.dtype == model_dtype
        np.testing.assert_allclose(value, source.state_dict()[name], rtol=1e-6)


@pytest.mark.parametrize("bad", [np.array([["a"] * 3] * 4), np.zeros((4, 3), dtype=object), np.ones((4, 3), int)])
def test_load_state_dict_rejects_other_kinds_into_floats_and_changes_nothing(bad):
    model = nn.MLP([3, 4, 2])
    before, state = model.state_dict(), model.state_dict()
    state["0.weight"], state["2.bias"] = bad, np.zeros(2, np.float64)
    with pytest.raises(nn.StateDictError, match=rf"'0.weight': dtype {bad.dtype} in the state cannot be cast"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def _public_objects(module):
    """(qualified name, object) for the public classes and functions defined in ``module``, and their methods."""
    import inspect
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                dunder = attr.startswith("__") and attr.endswith("__")
                if (attr.startswith("_") and not dunder) or attr in ("__init__", "__hash__"):
                    continue
                if (callable(value) or isinstance(value, property)) and not (
                        issubclass(obj, ag.Function) and attr in ("forward", "backward")):
                    yield f"{name}.{attr}", getattr(obj, attr)


def test_every_public_name_in_nn_has_a_docstring():
    """STYLE.md: a one-line summary on every public name (an op's forward/backward: the class's formula)."""
    import importlib
    import inspect
    import pkgutil
    names = ["nn"] + [f"nn.{m.name}" for m in pkgutil.iter_modules(nn.__path__)]
    missing = [f"{name}.{qualified}" for name in names
               for qualified, obj in _public_objects(importlib.import_module(name)) if not inspect.getdoc(obj)]
    assert missing == []
