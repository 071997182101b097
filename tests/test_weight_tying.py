"""Weight tying: one Parameter in two modules (a GPT's token embedding and output head) is
listed once by parameters(), gets the sum of both uses' gradients, and stands under both
keys in the state dict, as PyTorch's, so a PyTorch state dict loads and gives the same
outputs; a state dict with only one of the two keys loads too."""
import numpy as np
import pytest

import nn
from autograd import Tensor

VOCAB, WIDTH = 11, 6


class Tied(nn.Module):
    def __init__(self):
        self.wte = nn.Embedding(VOCAB, WIDTH, dtype=np.float64)
        self.norm = nn.LayerNorm(WIDTH, dtype=np.float64)
        self.head = nn.Linear(WIDTH, VOCAB, bias=False, dtype=np.float64)
        self.head.weight = self.wte.weight

    def forward(self, ids):
        return self.head(self.norm(self.wte(ids)))


IDS = np.array([[1, 2, 3, 2], [0, 10, 5, 5]])


def test_listed_once_and_gradient_is_the_sum_of_both_uses():
    model = Tied()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["wte.weight", "norm.weight", "norm.bias"]
    weights = np.random.default_rng(0).standard_normal((2, 4, VOCAB))
    (model(IDS) * weights).sum().backward()
    tied = model.wte.weight.grad.data.copy()
    # the same two uses with two separate copies of the weight
    model.zero_grad()
    copy = nn.Parameter(model.wte.weight.data.copy())
    model.head.weight = copy
    (model(IDS) * weights).sum().backward()
    np.testing.assert_allclose(tied, model.wte.weight.grad.data + copy.grad.data, rtol=1e-12)
    assert np.abs(copy.grad.data).sum() > 0 and np.abs(model.wte.weight.grad.data).sum() > 0


def test_state_dict_has_both_keys_and_loads_either_way():
    model = Tied()
    state = model.state_dict()
    assert list(state) == ["wte.weight", "norm.weight", "norm.bias", "head.weight"]
    np.testing.assert_array_equal(state["wte.weight"], state["head.weight"])
    other = Tied()
    other.load_state_dict(state)
    assert other.head.weight is other.wte.weight
    np.testing.assert_array_equal(other.head.weight.data, model.wte.weight.data)
    fresh = Tied()
    del state["head.weight"]  # a state dict saved with one of the two names
    assert fresh.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(fresh.head.weight.data, model.wte.weight.data)


def test_a_pytorch_tied_model_loads_and_matches():
    torch = pytest.importorskip("torch")

    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = torch.nn.Embedding(VOCAB, WIDTH)
            self.norm = torch.nn.LayerNorm(WIDTH)
            self.head = torch.nn.Linear(WIDTH, VOCAB, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, ids):
            return self.head(self.norm(self.wte(ids)))

    torch.manual_seed(0)
    theirs = TorchTied().double()
    ours = Tied()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    out, t_out = ours(IDS), theirs(torch.from_numpy(IDS))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(ours.wte.weight.grad.data, theirs.wte.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    back = TorchTied().double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("name", ["tied.npz", "tied.safetensors"])
def test_save_and_load_a_tied_model(tmp_path, name):
    if name.endswith(".safetensors"):
        pytest.importorskip("safetensors")
    model = Tied()
    nn.save(model, str(tmp_path / name))
    loaded = nn.load(Tied(), str(tmp_path / name))
    assert loaded.head.weight is loaded.wte.weight
    np.testing.assert_array_equal(loaded(IDS).data, model(IDS).data)
    assert isinstance(loaded(IDS), Tensor)
