"""Layers: gradients through each (weights as gradcheck inputs), initialisation, modes, containers."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor

rng = np.random.default_rng(0)


def _owner(module, dotted):
    *path, leaf = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    return module, leaf


def gradcheck_module(module, *input_shape):
    """gradcheck of module(x) with x and every parameter as float64 inputs."""
    names = [name for name, _ in module.named_parameters()]
    originals = list(module.parameters())

    def run(x, *params):
        for name, p in zip(names, params):
            setattr(*_owner(module, name), p)
        return module(x)

    inputs = [Tensor(rng.standard_normal(input_shape), requires_grad=True)]
    inputs += [Tensor(p.data.astype(np.float64), requires_grad=True) for p in originals]
    try:
        return ag.gradcheck(run, inputs)
    finally:
        for name, p in zip(names, originals):
            setattr(*_owner(module, name), p)


LAYERS = [
    ("linear", lambda: nn.Linear(3, 2), (4, 3)),
    ("linear_no_bias", lambda: nn.Linear(3, 2, bias=False), (4, 3)),
    ("sigmoid", nn.Sigmoid, (4, 3)),
    ("tanh", nn.Tanh, (4, 3)),
    ("relu", nn.ReLU, (4, 3)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (4, 3)),
    ("softmax", lambda: nn.Softmax(axis=1), (4, 3)),
    ("dropout_eval", lambda: nn.Dropout(0.5).eval(), (4, 3)),
    ("batchnorm_train", lambda: nn.BatchNorm1d(3, dtype=np.float64), (5, 3)),
    ("batchnorm_eval", lambda: _trained_batchnorm().eval(), (5, 3)),
    ("mlp", lambda: nn.MLP([3, 4, 2], activation="tanh", output_activation="sigmoid"), (4, 3)),
    ("mlp_batchnorm", lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)), (6, 3)),
]


def _trained_batchnorm():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn(Tensor(rng.standard_normal((8, 3)) * 3 + 1))
    return bn


@pytest.mark.parametrize("make,shape", [layer[1:] for layer in LAYERS], ids=[layer[0] for layer in LAYERS])
def test_gradients_through_layer(make, shape):
    layer = make()
    for p in layer.parameters():   # move away from ReLU kinks and symmetric starts
        p.data[...] = rng.standard_normal(p.shape)
    assert gradcheck_module(layer, *shape)


def test_linear_default_init_is_pytorch_kaiming_uniform():
    layer = nn.Linear(400, 300, rng=np.random.default_rng(1))
    bound = 1 / np.sqrt(400)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert layer.weight.dtype == np.float32 == ag.get_default_dtype()
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert layer.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_linear_normal_init_dtype_and_callable_init():
    layer = nn.Linear(300, 200, init="normal", dtype=np.float64, rng=np.random.default_rng(1))
    assert layer.weight.dtype == np.float64
    assert layer.weight.data.std() == pytest.approx(0.1, rel=0.02) and not layer.bias.data.any()
    custom = nn.Linear(2, 2, init=lambda w, b, rng: (nn.init.ones_(w), nn.init.zeros_(b)))
    assert custom.weight.data.tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError, match="unknown init"):
        nn.Linear(2, 2, init="magic")


def test_linear_is_reproducible_with_rng_and_manual_seed():
    a, b = (nn.Linear(5, 3, rng=np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    nn.manual_seed(3)
    c = nn.Linear(5, 3)
    nn.manual_seed(3)
    np.testing.assert_array_equal(c.weight.data, nn.Linear(5, 3).weight.data)


def test_dropout_layer_switches_with_train_and_eval():
    layer = nn.Dropout(0.5)
    x = Tensor(np.ones((100, 10)))
    assert (layer(x).data == 0).any()
    layer.eval()
    assert layer(x) is x


def test_batchnorm_normalises_in_training_and_uses_running_stats_in_eval():
    bn = nn.BatchNorm1d(3, momentum=0.1)
    x = (rng.standard_normal((50, 3)) * [1, 2, 3] + [0, 5, -5]).astype(np.float32)
    out = bn(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1 and bn.gamma is bn.weight and bn.beta is bn.bias
    bn.eval()
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(bn(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 1
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(Tensor(np.ones((4, 2))))


def test_batchnorm_cumulative_average_without_momentum():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((4, 2)) + k for k in range(3)]
    for batch in batches:
        bn(Tensor(batch))
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0))


def test_sequential_indexing_iteration_and_names():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b, c)
    assert len(model) == 3 and model[0] is a and model[-1] is c and list(model) == [a, b, c]
    assert isinstance(model[1:], nn.Sequential) and list(model[1:]) == [b, c]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model.append(nn.Sigmoid())
    assert len(model) == 4 and model(Tensor(np.ones((5, 2)))).shape == (5, 1)


def test_mlp_is_the_sequential_it_describes():
    mlp = nn.MLP([784, 100, 10], activation="sigmoid")
    assert [type(m).__name__ for m in mlp] == ["Linear", "Sigmoid", "Linear"]
    assert [n for n, _ in mlp.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    deep = nn.MLP([4, 8, 8, 2], activation="relu", output_activation="softmax", dropout=0.2)
    assert [type(m).__name__ for m in deep] == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout",
                                                "Linear", "Softmax"]
    np.testing.assert_allclose(deep.eval()(Tensor(np.ones((3, 4)))).data.sum(axis=1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 2, 2], activation="swishy")
