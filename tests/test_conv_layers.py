"""Convolutional layers: shapes, initialisation, errors, BatchNorm2d's two modes, gradients,
drawings, and PyTorch (when installed) on the same state dicts, both ways."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F
from test_nn_layers import gradcheck_module
from test_viz import _cluster_bodies

rng = np.random.default_rng(0)


def images(*shape):
    return Tensor(rng.standard_normal(shape))


def small_cnn(lib, batch_norm=False, **dtype):
    """conv 1->4 5x5, [BN], ReLU, maxpool 2, conv 4->8 5x5, ReLU, maxpool 2, flatten, linear 128->10,
    built from ``lib`` (``nn`` or ``torch.nn``): the same layer names, so the same state dict keys."""
    norm = [lib.BatchNorm2d(4, **dtype)] if batch_norm else []
    return lib.Sequential(lib.Conv2d(1, 4, 5, **dtype), *norm, lib.ReLU(), lib.MaxPool2d(2),
                          lib.Conv2d(4, 8, 5, **dtype), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(),
                          lib.Linear(128, 10, **dtype))


# ---- shapes and the repr ----

@pytest.mark.parametrize("options,size,expected", [
    (dict(kernel_size=5), (28, 28), (24, 24)),
    (dict(kernel_size=3, padding=1), (7, 9), (7, 9)),
    (dict(kernel_size=3, stride=2), (7, 8), (3, 3)),
    (dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0)), (6, 5), (3, 5)),
    (dict(kernel_size=2, dilation=2), (5, 5), (3, 3)),
    (dict(kernel_size=4), (4, 4), (1, 1)),
])
def test_conv2d_output_shape(options, size, expected):
    layer = nn.Conv2d(3, 5, **options)
    out = layer(images(2, 3, *size).data.astype(np.float32))
    assert out.shape == (2, 5) + expected and out.dtype == np.float32


def test_pool_flatten_and_batchnorm_shapes():
    x = images(2, 3, 7, 6)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert nn.MaxPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 4, 3)
    assert nn.AvgPool2d((2, 3))(x).shape == (2, 3, 3, 2)
    assert nn.Flatten()(x).shape == (2, 126) and nn.Flatten(0, 1)(x).shape == (6, 7, 6)
    assert nn.Flatten(-2)(x).shape == (2, 3, 42)
    assert nn.BatchNorm2d(3, dtype=np.float64)(x).shape == x.shape


def test_the_small_cnn_runs_on_raw_pixels_and_reads_like_pytorch():
    model = small_cnn(nn)
    out = model(rng.integers(0, 256, (3, 1, 28, 28), dtype=np.uint8))   # raw pixels take the weights' dtype
    assert out.shape == (3, 10) and out.dtype == np.float32
    assert model(rng.standard_normal((2, 1, 28, 28))).dtype == np.float32   # so does a float64 batch
    text = repr(model)
    assert "(0): Conv2d(1, 4, kernel_size=(5, 5), stride=(1, 1))  # 104 parameters" in text
    assert "(2): MaxPool2d(kernel_size=2, stride=2, padding=0)" in text
    assert "(6): Flatten(start_dim=1, end_dim=-1)" in text
    assert repr(nn.Conv2d(2, 3, (3, 1), stride=2, padding=(1, 0), dilation=2, bias=False)) == (
        "Conv2d(2, 3, kernel_size=(3, 1), stride=(2, 2), padding=(1, 0), dilation=(2, 2), bias=False)"
        "  # 18 parameters")
    assert repr(nn.AvgPool2d((2, 1), stride=1)) == "AvgPool2d(kernel_size=(2, 1), stride=1, padding=0)"
    assert repr(nn.BatchNorm2d(4)) == "BatchNorm2d(4, eps=1e-05, momentum=0.1)  # 8 parameters"


def test_tensor_flatten():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.flatten(0, 1).shape == (6, 4)
    assert x.flatten(-1).shape == (2, 3, 4) and Tensor(np.array(5.0)).flatten().shape == (1,)
    assert isinstance(x.flatten(1).op, ag.Reshape)
    np.testing.assert_array_equal(x.flatten(1).data, x.data.reshape(2, 12))
    assert ag.gradcheck(lambda t: (t.flatten(1) ** 2).sum(), [x])
    for start, end in ((2, 1), (3, -1), (0, -4)):
        with pytest.raises(ValueError, match=r"flatten: .*shape \(2, 3, 4\)"):
            x.flatten(start, end)


# ---- initialisation ----

def test_conv2d_default_init_is_pytorch_uniform_in_one_over_sqrt_fan_in():
    layer = nn.Conv2d(16, 32, 5, rng=np.random.default_rng(1))
    bound = 1 / np.sqrt(16 * 5 * 5)
    assert layer.weight.shape == (32, 16, 5, 5) and layer.bias.shape == (32,)
    assert layer.weight.dtype == np.float32 == layer.bias.dtype
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert layer.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    assert np.abs(layer.bias.data).max() > bound / 2   # the bias is spread over the range too
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(nn.Conv2d(2, 3, (3, 2), bias=False).state_dict()) == ["weight"]


def test_conv2d_dtype_and_reproducible_draws():
    assert nn.Conv2d(1, 2, 3, dtype=np.float64).weight.dtype == np.float64
    a, b = (nn.Conv2d(3, 4, 3, rng=np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    nn.manual_seed(3)
    c = nn.Conv2d(3, 4, 3)
    nn.manual_seed(3)
    np.testing.assert_array_equal(c.weight.data, nn.Conv2d(3, 4, 3).weight.data)


# ---- errors name the layer and the shapes ----

@pytest.mark.parametrize("make,shape,message", [
    (lambda: nn.Conv2d(3, 4, 3), (3, 8, 8), r"Conv2d\(3, 4, .*\): expected input of shape \(N, 3, H, W\), "
                                            r"got \(3, 8, 8\)"),
    (lambda: nn.Conv2d(3, 4, 3), (2, 1, 8, 8), r"Conv2d\(3, 4.*\(N, 3, H, W\), got \(2, 1, 8, 8\)"),
    (lambda: nn.Conv2d(1, 4, 5), (2, 1, 3, 8), r"Conv2d.*kernel \(5, 5\).*larger"),
    (lambda: nn.MaxPool2d(2), (4, 8), r"MaxPool2d\(kernel_size=2.*\(N, C, H, W\), got \(4, 8\)"),
    (lambda: nn.AvgPool2d(3), (1, 1, 2, 2), r"AvgPool2d.*larger"),
    (lambda: nn.BatchNorm2d(3), (2, 4, 5, 5), r"BatchNorm2d: expected input of shape \(N, 3, H, W\), "
                                              r"got \(2, 4, 5, 5\)"),
    (lambda: nn.BatchNorm2d(3), (2, 3), r"BatchNorm2d: .*got \(2, 3\)"),
    (lambda: nn.BatchNorm2d(3), (1, 3, 1, 1), r"BatchNorm2d: training needs more than one value"),
])
def test_wrong_inputs_raise_value_errors(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(np.ones(shape, dtype=np.float32))


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(1, 2, 3, stride=0), r"Conv2d: stride must be positive"),
    (lambda: nn.Conv2d(1, 2, (3, 3, 3)), r"Conv2d: kernel_size must be an int or a pair"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), r"Conv2d: padding must be non-negative"),
    (lambda: nn.Conv2d(0, 2, 3), r"Conv2d: in_channels must be a positive int"),
    (lambda: nn.MaxPool2d(2, stride=(1, 0)), r"MaxPool2d: stride must be positive"),
])
def test_wrong_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---- BatchNorm2d ----

def test_batchnorm2d_training_and_eval_against_the_formula():
    bn = nn.BatchNorm2d(3, momentum=0.1, dtype=np.float64)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    x = rng.standard_normal((4, 3, 5, 6)) * np.array([1, 2, 3])[:, None, None] + np.array([0, 5, -5])[:, None, None]
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = ((x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * bn.weight.data[:, None, None]
                + bn.bias.data[:, None, None])
    np.testing.assert_allclose(bn(Tensor(x)).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    scale = bn.weight.data / np.sqrt(bn.running_var + 1e-5)
    expected = (x - bn.running_mean[:, None, None]) * scale[:, None, None] + bn.bias.data[:, None, None]
    np.testing.assert_allclose(bn(Tensor(x)).data, expected, rtol=1e-10, atol=1e-12)
    assert int(bn.num_batches_tracked) == 1
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_batchnorm2d_cumulative_average_without_momentum():
    bn = nn.BatchNorm2d(2, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((3, 2, 2, 2)) + k for k in range(3)]
    for batch in batches:
        bn(Tensor(batch))
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=(0, 2, 3)) for b in batches], axis=0))


# ---- gradients ----

def _trained_batchnorm2d():
    bn = nn.BatchNorm2d(2, dtype=np.float64)
    bn(Tensor(rng.standard_normal((3, 2, 4, 4)) * 3 + 1))
    return bn.eval()


LAYERS = [
    ("conv", lambda: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    ("conv_strided_padded", lambda: nn.Conv2d(2, 2, (3, 2), stride=(2, 1), padding=(1, 0)), (1, 2, 5, 4)),
    ("conv_dilated_no_bias", lambda: nn.Conv2d(1, 2, 2, dilation=2, bias=False), (2, 1, 5, 5)),
    ("maxpool", lambda: nn.MaxPool2d(2), (2, 2, 4, 5)),
    ("maxpool_overlapping_padded", lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
    ("avgpool", lambda: nn.AvgPool2d(2, stride=1), (2, 1, 3, 4)),
    ("flatten", nn.Flatten, (2, 3, 2, 2)),
    ("batchnorm2d_train", lambda: nn.BatchNorm2d(2, dtype=np.float64), (3, 2, 3, 3)),
    ("batchnorm2d_eval", _trained_batchnorm2d, (2, 2, 3, 3)),
    ("conv_block", lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3)), (2, 1, 4, 4)),
]


@pytest.mark.parametrize("make,shape", [layer[1:] for layer in LAYERS], ids=[layer[0] for layer in LAYERS])
def test_gradients_through_layer(make, shape):
    layer = make()
    for p in layer.parameters():   # away from ReLU kinks and symmetric starts
        p.data[...] = rng.standard_normal(p.shape)
    assert gradcheck_module(layer, *shape)


def test_a_cnn_learns_a_toy_task():
    """Bright top half against bright bottom half: a few Adam steps separate them."""
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32) * 0.1
    y = rng.integers(0, 2, 32)
    x[y == 0, :, :4] += 1.0
    x[y == 1, :, 4:] += 1.0
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=np.random.default_rng(0)), nn.BatchNorm2d(4),
                          nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(), nn.Linear(16, 2, rng=np.random.default_rng(1)))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(20):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert (model(x).data.argmax(axis=1) == y).mean() == 1.0


# ---- drawings ----

class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out):
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(F.relu(self.norm(self.conv(x))))


def test_a_conv_block_is_drawn_as_nested_clusters():
    pytest.importorskip("graphviz")
    model = nn.Sequential(ConvBlock(1, 2), nn.Flatten(), nn.Linear(8, 3))
    x = np.ones((2, 1, 4, 4), dtype=np.float32)
    source = model.graph(x).source
    assert source == nn.make_dot(model, x).source
    clusters = _cluster_bodies(source)
    assert {"Sequential", "0: ConvBlock", "0.conv: Conv2d", "0.norm: BatchNorm2d", "0.pool: MaxPool2d",
            "1: Flatten", "2: Linear"} <= set(clusters)
    assert "0.conv: Conv2d" in clusters["0: ConvBlock"] and "0.pool: MaxPool2d" in clusters["0: ConvBlock"]
    assert "<B>0.conv.weight</B>" in clusters["0.conv: Conv2d"] and "(2, 1, 3, 3) float32" in clusters["0.conv: Conv2d"]
    assert "<B>0.norm.bias</B>" in clusters["0.norm: BatchNorm2d"]
    assert 'label="Conv2d(3x3, padding=1)"' in clusters["0.conv: Conv2d"]   # the kernel, stride, padding
    assert 'label="MaxPool2d(2x2)"' in clusters["0.pool: MaxPool2d"]
    assert "label=\"Reshape" in clusters["1: Flatten"]
    assert "Conv2d" not in clusters["0.norm: BatchNorm2d"] and "<B>input</B>" not in clusters["Sequential"]


# ---- PyTorch on the same state dict ----

def _torch():
    return pytest.importorskip("torch")


def _to_torch(ours, theirs):
    torch = _torch()
    theirs.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in ours.state_dict().items()})
    return theirs


def _compare_step(ours, theirs, x, tol=1e-9):
    """Outputs, then the gradients of a cross-entropy for the input and every parameter."""
    torch = _torch()
    xo, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xo), theirs(xt)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    if out.ndim == 2:  # logits
        labels = rng.integers(0, out.shape[1], out.shape[0])
        F.cross_entropy(out, labels).backward()
        torch.nn.functional.cross_entropy(tout, torch.from_numpy(labels)).backward()
    else:
        weights = rng.standard_normal(out.shape)
        (out * weights).sum().backward()
        (tout * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=tol, atol=tol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("options", [
    dict(kernel_size=3), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=2, dilation=2, padding=2, bias=False), dict(kernel_size=1, stride=2),
])
def test_conv2d_matches_pytorch(options):
    torch = _torch()
    ours = nn.Conv2d(3, 4, dtype=np.float64, **options)
    theirs = _to_torch(ours, torch.nn.Conv2d(3, 4, dtype=torch.float64, **options))
    _compare_step(ours, theirs, rng.standard_normal((2, 3, 7, 6)))


def test_pytorch_conv2d_init_has_the_same_spread():
    torch = _torch()
    torch.manual_seed(0)  # both draws seeded (ours by conftest): 64 biases' maxima vary run to run
    ours, theirs = nn.Conv2d(16, 64, 5), torch.nn.Conv2d(16, 64, 5)
    for a, b in ((ours.weight.data, theirs.weight), (ours.bias.data, theirs.bias)):
        b = b.detach().numpy()
        assert np.abs(a).max() <= np.abs(b).max() * 1.01 and np.abs(a).max() >= np.abs(b).max() * 0.9
    assert ours.weight.data.std() == pytest.approx(theirs.weight.detach().numpy().std(), rel=0.03)


def test_batchnorm2d_matches_pytorch_in_training_and_eval():
    torch = _torch()
    ours = nn.BatchNorm2d(3, momentum=0.2, dtype=np.float64)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2, dtype=torch.float64)
    for _ in range(4):
        _compare_step(ours, theirs, rng.standard_normal((4, 3, 5, 4)) * 2 + 1)
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
    theirs_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs_state[key].numpy(), rtol=1e-12, atol=1e-12, err_msg=key)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4
    ours.eval()
    theirs.eval()
    _compare_step(ours, theirs, rng.standard_normal((2, 3, 3, 3)))


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
def test_a_small_cnn_trains_as_pytorch_from_the_same_state_dict(batch_norm):
    torch = _torch()
    ours = small_cnn(nn, batch_norm, dtype=np.float64)
    theirs = _to_torch(ours, small_cnn(torch.nn, batch_norm, dtype=torch.float64))
    opt = nn.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        _compare_step(ours, theirs, rng.standard_normal((3, 1, 28, 28)), tol=1e-8)
        opt.step()
        topt.step()
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs_state[key].numpy(), rtol=1e-8, atol=1e-10, err_msg=key)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 1, 28, 28))
    with ag.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-8, atol=1e-10)


def test_state_dicts_carry_over_from_pytorch():
    torch = _torch()
    theirs = small_cnn(torch.nn, batch_norm=True)
    theirs(torch.randn(4, 1, 28, 28))   # moves the running statistics away from their start
    ours = small_cnn(nn, batch_norm=True)
    ours.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    assert int(ours[1].num_batches_tracked) == 1
    np.testing.assert_array_equal(ours[1].running_var, theirs[1].running_var.numpy())
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-5)
