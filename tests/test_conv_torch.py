"""Convolution functions against PyTorch (skipped without it): values and gradients, float64."""
import numpy as np
import pytest

from autograd import Tensor
from nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(1)


def compare(ours, theirs, arrays, **kwargs):
    """Run both on the same float64 arrays; values and the gradient of a weighted sum must agree."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    torch_tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*tensors, **kwargs)
    expected = theirs(*torch_tensors, **kwargs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = RNG.standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for t, u in zip(tensors, torch_tensors):
        np.testing.assert_allclose(t.grad.data, u.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shapes, kwargs", [
    (((2, 3, 8, 7), (4, 3, 3, 3), (4,)), {}),
    (((1, 2, 9, 8), (3, 2, 5, 2), None), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    (((3, 1, 6, 6), (2, 1, 2, 2), (2,)), dict(stride=2, padding=2, dilation=2)),
    (((2, 4, 5, 5), (1, 4, 1, 1), None), dict(stride=3)),
])
def test_conv2d(shapes, kwargs):
    arrays = [RNG.standard_normal(s) for s in shapes if s is not None]
    compare(F.conv2d, TF.conv2d, arrays, **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=2, stride=1, padding=1),
])
def test_max_pool2d_with_ties_and_padding(kwargs):
    ties = RNG.integers(-2, 2, size=(2, 3, 7, 6)).astype(np.float64)  # many equal maxima per window
    compare(F.max_pool2d, TF.max_pool2d, [ties], **kwargs)
    compare(F.max_pool2d, TF.max_pool2d, [RNG.standard_normal((1, 2, 6, 7))], **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1, padding=(1, 1)),
])
def test_avg_pool2d(kwargs):
    compare(F.avg_pool2d, TF.avg_pool2d, [RNG.standard_normal((2, 2, 7, 6))], **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1)),
])
def test_unfold_and_fold(kwargs):
    x = RNG.standard_normal((2, 3, 7, 6))
    compare(F.unfold, TF.unfold, [x], **kwargs)
    cols = TF.unfold(torch.tensor(x), **kwargs).numpy()
    compare(F.fold, TF.fold, [RNG.standard_normal(cols.shape)], output_size=(7, 6), **kwargs)


def test_a_small_cnn_end_to_end():
    """Conv2d's batch-last outputs through ReLU, both pools and a second conv, as one graph."""
    def net(x, w1, b1, w2, F):
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.avg_pool2d(F.conv2d(h, w2, stride=(2, 1)), (2, 1), padding=(1, 0))
        return F.max_pool2d(h, 2, stride=1, padding=1)

    from nn import functional as ours
    compare(lambda *t: net(*t, ours), lambda *t: net(*t, TF),
            [RNG.standard_normal(s) for s in [(3, 2, 9, 8), (4, 2, 3, 3), (4,), (3, 4, 2, 2)]])
