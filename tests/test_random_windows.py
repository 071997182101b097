"""Random arguments for the window ops: conv2d, max and average pooling, unfold and fold, and
batch norm, over kernel, stride, padding, dilation, batches of 0 and 1, and memory layouts
(batch-last, the layout conv2d returns, among them). Values and gradients against finite
differences and PyTorch (see program_checks.py); the budget is conftest.py's profile."""
from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import autograd as ag  # noqa: E402
from autograd.ops.batchnorm import BatchNormTrain  # noqa: E402
from nn import functional as F  # noqa: E402
from program_checks import check_program, small_blocks, torch  # noqa: E402


def _batch_last(a):
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def _reversed_rows(a):
    return a[:, :, ::-1].copy()[:, :, ::-1]


def _strided(a):
    wide = np.zeros(a.shape[:3] + (2 * a.shape[3],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


LAYOUTS = {"C": None, "F": np.asfortranarray, "batch_last": _batch_last, "reversed": _reversed_rows,
           "strided": _strided}


def _values(data, shape):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    return rng.uniform(-2.0, 2.0, shape)


def _window(data, size: int, dilated: bool = True, pooled: bool = False) -> tuple:
    """(kernel, stride, padding, dilation) along one axis of ``size`` pixels, the kernel fitting."""
    kernel = data.draw(st.integers(1, 3), label="kernel")
    dilation = data.draw(st.integers(1, 2), label="dilation") if dilated else 1
    padding = data.draw(st.integers(0, kernel // 2 if pooled else 2), label="padding")
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        padding = (span - size + 1) // 2
        if pooled and 2 * padding > kernel:
            kernel = 1
            padding = 0
    return kernel, data.draw(st.integers(1, 3), label="stride"), padding, dilation


def _image(data, channels=None):
    n = data.draw(st.sampled_from([0, 1, 2]), label="batch")
    c = channels or data.draw(st.integers(1, 2), label="channels")
    return (n, c, data.draw(st.integers(1, 5), label="height"), data.draw(st.integers(1, 5), label="width"))


def _layout(data):
    return LAYOUTS[data.draw(st.sampled_from(sorted(LAYOUTS)), label="layout")]


def _pair(data, shape, **kwargs):
    """(kernel, stride, padding, dilation), each an (h, w) pair, for an image of ``shape``."""
    rows, columns = _window(data, shape[2], **kwargs), _window(data, shape[3], **kwargs)
    return tuple(zip(rows, columns))


def _conv_program(data):
    """(run, arrays, views): conv2d with drawn arguments, then maybe a relu and a pool."""
    shape = _image(data)
    kernel, stride, padding, dilation = _pair(data, shape)
    out_channels = data.draw(st.integers(1, 3), label="out channels")
    arrays = [_values(data, shape), _values(data, (out_channels, shape[1]) + kernel)]
    with_bias = data.draw(st.booleans(), label="bias")
    if with_bias:
        arrays.append(_values(data, (out_channels,)))
    then = data.draw(st.sampled_from(["nothing", "relu", "max_pool", "avg_pool"]), label="then")

    def run(lib, leaves):
        conv = F.conv2d if lib is ag else torch.nn.functional.conv2d
        out = conv(*leaves, stride=stride, padding=padding, dilation=dilation)
        if then == "nothing":
            return out
        out = out.relu()  # its output, like conv2d's, is batch-last: the pools' fast path
        if then == "max_pool":
            return (F.max_pool2d if lib is ag else torch.nn.functional.max_pool2d)(out, 1 if min(out.shape[2:]) < 2 else 2)
        if then == "avg_pool":
            return (F.avg_pool2d if lib is ag else torch.nn.functional.avg_pool2d)(out, 1 if min(out.shape[2:]) < 2 else 2)
        return out
    return run, arrays, [_layout(data), None, None]


@given(st.data())
def test_conv2d(data):
    check_program(*_conv_program(data))


@given(st.data())
def test_conv2d_and_pools_in_many_blocks(data):
    """The loops over blocks of rows, columns, channels and chunks, which only large inputs take."""
    run, arrays, views = _conv_program(data)
    with small_blocks():
        check_program(run, arrays, views)


@given(st.data(), st.sampled_from(["max", "avg"]))
def test_pooling(data, kind):
    shape = _image(data)
    kernel, stride, padding, _ = _pair(data, shape, dilated=False, pooled=True)
    if data.draw(st.booleans(), label="default stride"):
        stride = None

    def run(lib, leaves):
        if lib is ag:
            pool = F.max_pool2d if kind == "max" else F.avg_pool2d
        else:
            pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
        return pool(leaves[0], kernel, stride=stride, padding=padding)
    check_program(run, [_values(data, shape)], [_layout(data)])


@given(st.data())
def test_unfold_then_fold(data):
    shape = _image(data)
    kernel, stride, padding, dilation = _pair(data, shape)
    fold_back = data.draw(st.booleans(), label="fold back")
    settings = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)

    def run(lib, leaves):
        functional = F if lib is ag else torch.nn.functional
        cols = functional.unfold(leaves[0], **settings)
        return functional.fold(cols * cols, shape[2:], **settings) if fold_back else cols
    check_program(run, [_values(data, shape)], [_layout(data)])


@given(st.data())
def test_batch_norm(data):
    shape = _image(data, channels=data.draw(st.integers(1, 3), label="channels"))
    if data.draw(st.booleans(), label="flat"):
        shape = shape[:2]
    if shape[0] * int(np.prod(shape[2:])) == 1:
        shape = (2,) + shape[1:]   # one value per channel: PyTorch's F.batch_norm refuses it in training
    c = shape[1]
    arrays = [_values(data, shape), _values(data, (c,)), _values(data, (c,))]

    def run(lib, leaves):
        if lib is ag:
            return BatchNormTrain.apply(*leaves, eps=1e-5)
        return torch.nn.functional.batch_norm(leaves[0], None, None, leaves[1], leaves[2], training=True)
    check_program(run, arrays, [_layout(data) if len(shape) == 4 else None, None, None])


@pytest.mark.parametrize("op, call", [
    ("Conv2d", lambda x: F.conv2d(x, ag.Tensor(np.zeros((2, 1, 0, 3))))),
    ("Conv2d", lambda x: F.conv2d(x, ag.Tensor(np.zeros((2, 1, 9, 1))))),
    ("MaxPool2d", lambda x: F.max_pool2d(x, (9, 1))),
    ("Unfold", lambda x: F.unfold(x, 2, dilation=7)),
])
def test_windows_that_do_not_fit_raise_naming_the_op(op, call):
    with pytest.raises(ValueError, match=op):
        call(ag.Tensor(np.zeros((2, 1, 4, 4))))
