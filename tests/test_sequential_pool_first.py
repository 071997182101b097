"""A Sequential runs a ReLU that comes right before a max pool after it: the same values and
gradients as the order written, ties and all-zero windows included."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F

rng = np.random.default_rng(0)


def written_order(model, x):
    """The layers applied one after another, as written (no reordering)."""
    for layer in model:
        x = layer(x)
    return x


def values_and_gradients(run, model, data):
    x = Tensor(data, requires_grad=True)
    out = run(model, x)
    weights = Tensor(np.random.default_rng(1).standard_normal(out.shape))  # the same for both orders
    grads = ag.grad((out * weights).sum(), [x] + list(model.parameters()))
    return [out.data] + [g.data for g in grads]


def tied_images():
    """Windows of 2x2 that tie positive, tie at 0, mix 0 with negatives, and are all negative."""
    block = np.array([[3.0, 3.0, 0.0, 0.0, -1.0, 0.0, -2.0, -1.0],
                      [1.0, 3.0, 0.0, 0.0, 0.0, -3.0, -4.0, -2.0]])
    return np.stack([np.tile(block, (2, 1))] * 2).reshape(2, 1, 4, 8)


@pytest.mark.parametrize("pool", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(2, 3), stride=1)])
@pytest.mark.parametrize("data", ["random", "ties"])
def test_relu_then_max_pool_equals_the_written_order(pool, data):
    images = tied_images() if data == "ties" else rng.standard_normal((2, 1, 6, 8))
    model = nn.Sequential(nn.Conv2d(1, 3, 1), nn.ReLU(), nn.MaxPool2d(**pool), nn.ReLU(), nn.Flatten())
    model[0].weight.data[...] = np.abs(model[0].weight.data) + 0.5   # keeps the ties of the input
    model[0].bias.data[...] = 0.0
    for got, expected in zip(values_and_gradients(nn.Sequential.forward, model, images),
                             values_and_gradients(written_order, model, images)):
        np.testing.assert_array_equal(got, expected)


def test_the_pool_runs_first_and_the_drawing_shows_it():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    out = model(Tensor(rng.standard_normal((1, 1, 6, 6)), requires_grad=True))
    assert type(out.op).__name__ == "ReLU"
    assert type(out.op.inputs[0].op).__name__ == "MaxPool2d"


def test_other_orders_and_subclasses_run_as_written():
    class ShiftedReLU(nn.ReLU):
        def forward(self, x):
            return F.relu(x - 1.0)
    for layers, last in [((nn.MaxPool2d(2), nn.ReLU()), "ReLU"), ((nn.ReLU(), nn.AvgPool2d(2)), "AvgPool2d"),
                         ((ShiftedReLU(), nn.MaxPool2d(2)), "MaxPool2d"), ((nn.ReLU(),), "ReLU")]:
        out = nn.Sequential(*layers)(Tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True))
        assert type(out.op).__name__ == last
