"""nn.save / nn.load with a .safetensors path: round trips here, with PyTorch, and bad files."""
import sys

import numpy as np
import pytest

import nn
from autograd import Tensor, no_grad

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def model_with_batchnorm():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
    model(Tensor(np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)))  # moves the statistics
    return model


def outputs(model, x):
    model.eval()
    with no_grad():
        return model(Tensor(x)).data


X = np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)


def test_dagrad_to_dagrad_round_trip_keeps_every_array_and_layout(tmp_path):
    model, other = model_with_batchnorm(), nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(),
                                                         nn.Linear(4, 3))
    path = tmp_path / "m.safetensors"
    nn.save(model, path)
    assert nn.load(other, path) is other
    for name, value in model.state_dict().items():
        loaded = other.state_dict()[name]
        assert loaded.dtype == value.dtype and loaded.shape == value.shape, name
        np.testing.assert_array_equal(loaded, value)
    assert other.state_dict()["1.num_batches_tracked"].dtype == np.int64
    assert other[0].weight.data.flags.f_contiguous  # loaded in place: the layer's layout stays
    np.testing.assert_array_equal(outputs(other, X), outputs(model, X))


def test_the_file_holds_pytorch_names_in_row_major_order(tmp_path):
    model = model_with_batchnorm()
    nn.save(model, tmp_path / "m.safetensors")
    stored = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    assert sorted(stored) == sorted(model.state_dict())
    np.testing.assert_array_equal(stored["0.weight"], model[0].weight.data)  # (out, in), as PyTorch's
    assert stored["1.num_batches_tracked"].shape == () and int(stored["1.num_batches_tracked"]) == 1


def test_a_model_and_its_optimizer_in_one_file(tmp_path):
    model = nn.MLP([3, 4, 2])
    optimizer = nn.optim.Adam(model.parameters(), lr=0.1)
    loss = (model(Tensor(np.ones((2, 3), np.float32))) ** 2).sum()
    loss.backward()
    optimizer.step()
    path = tmp_path / "both.safetensors"
    nn.save({"model": model, "optimizer": optimizer}, path)
    model2 = nn.MLP([3, 4, 2])
    optimizer2 = nn.optim.Adam(model2.parameters(), lr=0.1)
    nn.load({"model": model2, "optimizer": optimizer2}, path)
    np.testing.assert_array_equal(model2[0].weight.data, model[0].weight.data)
    assert optimizer2.state_dict()["type"] == "Adam"
    for key, value in optimizer.state_dict()["state"]["0"].items():
        np.testing.assert_array_equal(optimizer2.state_dict()["state"]["0"][key], value)


@pytest.mark.parametrize("problem", ["truncated", "garbage", "wrong shape", "missing key", "wrong dtype"])
def test_bad_files_raise_one_line_naming_the_file_and_change_nothing(tmp_path, problem):
    model = nn.MLP([3, 4, 2])
    before = model.state_dict()
    path = tmp_path / "bad.safetensors"
    state = (nn.MLP([3, 5, 2]) if problem == "wrong shape" else nn.MLP([3, 4, 2])).state_dict()
    if problem == "missing key":
        del state["2.bias"]
    if problem == "wrong dtype":
        state["0.weight"] = state["0.weight"].astype(np.int32)
    nn.save_state(state, path)
    if problem == "truncated":
        path.write_bytes(path.read_bytes()[:-7])
    if problem == "garbage":
        path.write_bytes(b"\x00\x01 not safetensors at all " * 4)
    with pytest.raises(nn.CheckpointError, match="bad.safetensors") as info:
        nn.load(model, path)
    message = str(info.value)
    assert "\n" not in message
    expected = {"truncated": "not a readable safetensors", "garbage": "not a readable safetensors",
                "wrong shape": "'0.weight': shape (5, 3)", "missing key": "missing key '2.bias'",
                "wrong dtype": "int32"}[problem]
    assert expected in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "m.safetensors"
    nn.save(nn.Linear(2, 2), path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="numeric arrays and single strings only"):
        nn.save_state({"names": np.array(["a", "b"])}, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_npz_stays_the_default(tmp_path):
    nn.save(nn.Linear(2, 2), tmp_path / "m.npz")
    assert np.load(tmp_path / "m.npz")["weight"].shape == (2, 2)


def torch_twin(torch):
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                               torch.nn.Linear(4, 3))


def test_dagrad_to_torch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = model_with_batchnorm()
    nn.save(model, tmp_path / "dagrad.safetensors")
    twin = torch_twin(torch)
    twin.load_state_dict(safetensors_torch.load_file(str(tmp_path / "dagrad.safetensors")))
    twin.eval()
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(X)).numpy(), outputs(model, X), rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # change it in PyTorch, then bring it back
        twin[3].weight.mul_(2.0)
        twin[1].num_batches_tracked += 4
    safetensors_torch.save_file(twin.state_dict(), str(tmp_path / "torch.safetensors"))
    back = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
    nn.load(back, tmp_path / "torch.safetensors")
    assert int(back[1].num_batches_tracked) == 5 and back[1].num_batches_tracked.dtype == np.int64
    with torch.no_grad():
        np.testing.assert_allclose(outputs(back, X), twin(torch.from_numpy(X)).numpy(), rtol=1e-5, atol=1e-6)


def test_without_safetensors_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install safetensors"):
        nn.save(nn.Linear(2, 2), tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


IMAGES = np.random.default_rng(2).standard_normal((4, 1, 8, 8)).astype(np.float32)


def cnn(library):
    """conv (no bias), batch norm, ReLU, max pool, conv, avg pool, flatten, linear: in dagrad's
    ``nn`` or in ``torch.nn``, the same architecture and state-dict names."""
    return library.Sequential(library.Conv2d(1, 3, 3, padding=1, bias=False), library.BatchNorm2d(3),
                              library.ReLU(), library.MaxPool2d(2), library.Conv2d(3, 4, (3, 2), stride=(1, 2)),
                              library.AvgPool2d(2, padding=1), library.Flatten(), library.Linear(4 * 2 * 2, 5))


def trained_cnn():
    nn.manual_seed(0)
    model = cnn(nn)
    for _ in range(3):  # moves the running statistics; num_batches_tracked becomes 3
        model(Tensor(np.random.default_rng(3).standard_normal((6, 1, 8, 8)).astype(np.float32)))
    return model


def test_a_cnn_with_batch_norm_round_trips_dagrad_to_dagrad(tmp_path):
    model, other = trained_cnn(), cnn(nn)
    nn.save(model, tmp_path / "cnn.safetensors")
    nn.load(other, tmp_path / "cnn.safetensors")
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], value)
    assert int(other[1].num_batches_tracked) == 3
    np.testing.assert_array_equal(outputs(other, IMAGES), outputs(model, IMAGES))


def test_a_cnn_with_batch_norm_goes_to_torch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = trained_cnn()
    nn.save(model, tmp_path / "dagrad.safetensors")
    twin = cnn(torch.nn)
    twin.load_state_dict(safetensors_torch.load_file(str(tmp_path / "dagrad.safetensors")))
    assert int(twin[1].num_batches_tracked) == 3
    twin.eval()
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(IMAGES)).numpy(), outputs(model, IMAGES),
                                   rtol=1e-5, atol=1e-6)
    safetensors_torch.save_file(twin.state_dict(), str(tmp_path / "unchanged.safetensors"))
    again = nn.load(cnn(nn), tmp_path / "unchanged.safetensors")  # dagrad -> PyTorch -> dagrad: nothing moved
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name], value)
    np.testing.assert_array_equal(outputs(again, IMAGES), outputs(model, IMAGES))
    twin.train()
    with torch.no_grad():  # a training step's statistics in PyTorch, and changed weights; then back
        twin(torch.from_numpy(IMAGES))
        twin[4].weight.mul_(-0.5)
    safetensors_torch.save_file(twin.state_dict(), str(tmp_path / "torch.safetensors"))
    back = cnn(nn)
    nn.load(back, tmp_path / "torch.safetensors")
    assert int(back[1].num_batches_tracked) == 4 and back[1].num_batches_tracked.dtype == np.int64
    for name, value in twin.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[name], value.numpy())
    twin.eval()
    with torch.no_grad():
        np.testing.assert_allclose(outputs(back, IMAGES), twin(torch.from_numpy(IMAGES)).numpy(),
                                   rtol=1e-5, atol=1e-6)
