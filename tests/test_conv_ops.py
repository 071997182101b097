"""Conv2d, Unfold, Fold, MaxPool2d, AvgPool2d: finite differences over a table of cases."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

RNG = np.random.default_rng(0)


def leaf(*shape):
    return Tensor(RNG.standard_normal(shape), requires_grad=True)


# (batch, channels, H, W, out channels, kernel, stride, padding, dilation, bias): a sample
# of the grid (kernel 1, 2, 3, 5 and non-square; stride 1, 2, (2, 1); padding 0, 1, 2,
# (1, 0); dilation 1, 2; windows that do not tile the input; 1x1 outputs).
CONV_CASES = [
    (1, 1, 4, 4, 1, 1, 1, 0, 1, False),
    (2, 3, 5, 5, 2, 2, 1, 0, 1, True),
    (2, 2, 6, 5, 3, 3, 2, 1, 1, True),
    (1, 2, 5, 5, 2, 5, 1, 0, 1, True),         # 1x1 output
    (3, 1, 7, 6, 2, (2, 3), (2, 1), (1, 0), 1, False),
    (1, 3, 7, 7, 2, 3, 1, 2, 2, True),
    (2, 2, 6, 7, 1, (3, 1), 2, 0, (2, 1), True),  # windows do not tile the input
    (1, 1, 3, 3, 2, 5, 1, 1, 1, True),         # kernel larger than the input, fits with padding
    (2, 2, 5, 4, 2, 2, (1, 2), 1, 2, False),
]


@pytest.mark.parametrize("n, c, h, w, o, kernel, stride, padding, dilation, bias", CONV_CASES)
def test_conv2d_gradcheck(n, c, h, w, o, kernel, stride, padding, dilation, bias):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    inputs = [leaf(n, c, h, w), leaf(o, c, kh, kw)] + ([leaf(o)] if bias else [])
    assert ag.gradcheck(lambda *t: ag.Conv2d.apply(*t, stride=stride, padding=padding, dilation=dilation),
                        inputs)


# (shape, kernel, stride, padding, dilation)
WINDOW_CASES = [
    ((1, 1, 4, 4), 2, 1, 0, 1),
    ((2, 3, 5, 6), (2, 3), (2, 1), (1, 0), 1),
    ((1, 2, 7, 7), 3, 2, 2, 2),
    ((2, 1, 5, 5), 5, 1, 0, 1),
]


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", WINDOW_CASES)
def test_unfold_fold_gradcheck_and_adjoint(shape, kernel, stride, padding, dilation):
    attrs = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)
    x = leaf(*shape)
    assert ag.gradcheck(lambda t: ag.Unfold.apply(t, **attrs), [x])
    cols = ag.Unfold.apply(x, **attrs)
    y = leaf(*cols.shape)
    assert ag.gradcheck(lambda t: ag.Fold.apply(t, output_size=shape[2:], **attrs), [y])
    folded = ag.Fold.apply(y, output_size=shape[2:], **attrs)
    # <fold(y), x> == <y, unfold(x)>
    assert np.isclose(np.sum(folded.data * x.data), np.sum(y.data * cols.data), rtol=1e-12)


# (shape, kernel, stride, padding)
POOL_CASES = [
    ((2, 3, 4, 4), 2, None, 0),
    ((1, 2, 5, 5), 3, 2, 1),
    ((2, 1, 7, 6), (3, 2), (2, 1), (1, 0)),
    ((1, 1, 5, 5), 2, 1, 1),
    ((1, 2, 3, 3), 3, 1, 0),   # 1x1 output
]


@pytest.mark.parametrize("op", [ag.MaxPool2d, ag.AvgPool2d])
@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_pool_gradcheck(op, shape, kernel, stride, padding):
    assert ag.gradcheck(lambda t: op.apply(t, kernel_size=kernel, stride=stride, padding=padding), [leaf(*shape)])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = Tensor(np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [0.0, 2.0, 2.0]]]]), requires_grad=True)
    out = ag.MaxPool2d.apply(x, kernel_size=2, stride=1)
    np.testing.assert_array_equal(out.data, [[[[1.0, 2.0], [2.0, 2.0]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 1.0, 0.0]]]])


def test_max_pool_ties_go_to_the_first_maximum_in_a_recorded_rule_too():
    x = Tensor(np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [0.0, 2.0, 2.0]]]]), requires_grad=True)
    (gx,) = ag.grad(ag.MaxPool2d.apply(x, kernel_size=2, stride=1).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(gx.data, [[[[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 1.0, 0.0]]]])


def test_max_pool_after_relu_sends_each_all_zero_window_one_gradient():
    # ReLU's zeros tie in whole windows; in the batch-last layout a conv gives, as in a network
    conv = ag.Conv2d.apply(leaf(4, 1, 6, 6), Tensor(np.ones((3, 1, 1, 1))))
    x = Tensor(np.maximum(conv.data, 0) * (RNG.random(conv.shape) < 0.5), requires_grad=True)
    out = ag.MaxPool2d.apply(x, kernel_size=2)
    out.sum().backward()
    def by_window(a):  # (N, C, OH, OW, 4), each window's elements in row-major order
        return a.reshape(4, 3, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(4, 3, 3, 3, 4)
    first = np.eye(4)[by_window(x.data).argmax(axis=-1)]  # argmax: the first maximum
    assert (by_window(x.data) == 0).all(axis=-1).any()      # some windows are all zeros
    np.testing.assert_array_equal(by_window(x.grad.data), first)


def test_max_pool_padding_never_wins():
    x = Tensor(-np.ones((1, 1, 2, 2)) - np.arange(4).reshape(1, 1, 2, 2), requires_grad=True)
    out = ag.MaxPool2d.apply(x, kernel_size=2, stride=1, padding=1)
    assert out.shape == (1, 1, 3, 3) and np.all(out.data < 0)
    out.sum().backward()
    assert x.grad.data.sum() == 9


@pytest.mark.parametrize("fn, shapes", [
    (lambda x, w, b: ag.Conv2d.apply(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2)),
     [(1, 2, 5, 4), (2, 2, 3, 2), (2,)]),
    (lambda x, w: ag.Conv2d.apply(x, w, padding=(0, 1)), [(2, 1, 4, 3), (1, 1, 2, 2)]),
    (lambda x: ag.Unfold.apply(x, kernel_size=2, padding=1, stride=2) ** 2, [(1, 2, 4, 3)]),
    (lambda x: ag.Fold.apply(x, output_size=(3, 4), kernel_size=2) ** 2, [(1, 8, 6)]),
    (lambda x: ag.MaxPool2d.apply(x, kernel_size=3, stride=2, padding=1) ** 2, [(1, 2, 5, 5)]),
    (lambda x: ag.AvgPool2d.apply(x, kernel_size=(2, 3), stride=1, padding=(1, 0)) ** 2, [(1, 2, 4, 4)]),
])
def test_gradgradcheck(fn, shapes):
    assert ag.gradgradcheck(fn, [leaf(*shape) for shape in shapes])


def test_a_node_used_twice_accumulates():
    x, w = leaf(1, 2, 4, 4), leaf(3, 2, 2, 2)
    ag.Conv2d.apply(x, w).sum().backward()
    once = x.grad.data.copy(), w.grad.data.copy()
    x.grad = w.grad = None
    y = ag.Conv2d.apply(x, w)
    (y + y).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * once[0])
    np.testing.assert_allclose(w.grad.data, 2 * once[1])
    x.grad = None
    pooled = ag.MaxPool2d.apply(x, kernel_size=2)
    (pooled * 3 + pooled).sum().backward()
    assert x.grad.data.sum() == pytest.approx(4 * 2 * 4)


def test_float32_stays_float32():
    x = Tensor(RNG.standard_normal((2, 1, 5, 5)).astype(np.float32), requires_grad=True)
    w = Tensor(RNG.standard_normal((2, 1, 3, 3)).astype(np.float32), requires_grad=True)
    out = ag.MaxPool2d.apply(ag.Conv2d.apply(x, w, padding=1), kernel_size=2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32


# ---- nn.functional and its errors ----

def test_functional_wrappers_take_ints_pairs_and_arrays():
    from nn import functional as F
    x = RNG.standard_normal((2, 1, 6, 6)).astype(np.float32)
    w = Tensor(RNG.standard_normal((3, 1, 3, 3)).astype(np.float32), requires_grad=True)
    out = F.conv2d((x * 255).astype(np.uint8), w, np.zeros(3, np.float32), stride=(2, 1), padding=1)
    assert out.shape == (2, 3, 3, 6) and out.dtype == np.float32
    assert F.max_pool2d(out, 2, padding=(1, 0)).shape == (2, 3, 2, 3)
    assert F.avg_pool2d(out, (3, 2), stride=1).shape == (2, 3, 1, 5)
    cols = F.unfold(x, 3, padding=1)
    assert cols.shape == (2, 9, 36)
    assert F.fold(cols, (6, 6), 3, padding=1).shape == x.shape


@pytest.mark.parametrize("call, words", [
    (lambda F: F.conv2d(np.ones((1, 5, 5)), np.ones((2, 1, 3, 3))), ["Conv2d", "4-D", "(1, 5, 5)"]),
    (lambda F: F.conv2d(np.ones((1, 2, 5, 5)), np.ones((2, 3, 3, 3))), ["Conv2d", "(1, 2, 5, 5)", "(2, 3, 3, 3)"]),
    (lambda F: F.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))), ["Conv2d", "kernel (3, 3)", "(2, 2)"]),
    (lambda F: F.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), dilation=2), ["Conv2d", "dilation"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=0), ["Conv2d", "stride", "positive"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=(1, -1)), ["Conv2d", "stride"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), dilation=0), ["Conv2d", "dilation"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=-1), ["Conv2d", "padding"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)), ["Conv2d", "bias", "(3,)"]),
    (lambda F: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 3, 3))), ["Conv2d", "weight", "(2, 3, 3)"]),
    (lambda F: F.max_pool2d(np.ones((1, 5, 5)), 2), ["MaxPool2d", "(1, 5, 5)"]),
    (lambda F: F.max_pool2d(np.ones((1, 1, 1, 5)), 2), ["MaxPool2d", "kernel (2, 2)"]),
    (lambda F: F.max_pool2d(np.ones((1, 1, 5, 5)), 2, padding=2), ["MaxPool2d", "half"]),
    (lambda F: F.avg_pool2d(np.ones((1, 1, 5, 5)), 2, stride=0), ["AvgPool2d", "stride"]),
    (lambda F: F.avg_pool2d(np.ones((1, 1, 5, 5)), (2, 2, 2)), ["AvgPool2d", "kernel_size"]),
    (lambda F: F.unfold(np.ones((3, 5, 5)), 2), ["Unfold", "(3, 5, 5)"]),
    (lambda F: F.fold(np.ones((1, 4, 5)), (3, 3), 2), ["Fold", "(1, 4, 5)", "(N, C*4, 4)"]),
])
def test_errors_name_the_op_and_the_shapes(call, words):
    from nn import functional as F
    with pytest.raises(ValueError) as error:
        call(F)
    for word in words:
        assert word in str(error.value)


def test_drawings_label_conv_and_pool_nodes_with_kernel_stride_padding():
    pytest.importorskip("graphviz")
    from nn import functional as F
    x = Tensor(np.ones((1, 1, 8, 8)), requires_grad=True)
    w = Tensor(np.ones((2, 1, 5, 3)), requires_grad=True)
    y = F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, stride=(2, 1), padding=1), 2), 2, stride=1, padding=1)
    source = ag.make_dot(y.sum()).source
    assert 'label="Conv2d(5x3, stride=(2, 1), padding=1)"' in source
    assert 'label="MaxPool2d(2x2)"' in source
    assert 'label="AvgPool2d(2x2, stride=1, padding=1)"' in source
    plain = ag.make_dot(F.conv2d(x, w).sum()).source
    assert 'label="Conv2d(5x3)"' in plain


# 40: one kernel row of one channel per block; 500: two kernel rows of all channels
@pytest.mark.parametrize("block", [40, 500])
def test_conv2d_backward_in_blocks_of_columns(monkeypatch, block):
    from autograd.ops import conv_arrays
    x, w, b = leaf(2, 3, 6, 5), leaf(2, 3, 3, 2), leaf(2)
    whole = [g.data for g in ag.grad(ag.Conv2d.apply(x, w, b, padding=1, stride=(1, 2)).sum(), [x, w, b])]
    monkeypatch.setattr(conv_arrays, "BLOCK", block)
    monkeypatch.setattr(conv_arrays, "MIN_ROWS", 1)
    assert len(list(conv_arrays.blocks(3, (3, 2), 2 * 6 * 3))) > 1
    parts = [g.data for g in ag.grad(ag.Conv2d.apply(x, w, b, padding=1, stride=(1, 2)).sum(), [x, w, b])]
    for g, h in zip(whole, parts):
        np.testing.assert_allclose(g, h, rtol=1e-12)
    assert ag.gradcheck(lambda *t: ag.Conv2d.apply(*t, padding=1, stride=(1, 2), dilation=(2, 1)), [x, w, b])


def test_blocks_take_whole_kernel_rows_of_all_channels_before_splitting_channels(monkeypatch):
    from autograd.ops import conv_arrays
    monkeypatch.setattr(conv_arrays, "BLOCK", 256 * 8192)  # 256 rows of the small CNN's conv2 columns
    assert list(conv_arrays.blocks(16, (5, 5), 8192)) == [(0, 16, 0, 3), (0, 16, 3, 5)]
    monkeypatch.setattr(conv_arrays, "BLOCK", 10 * 8192)   # not one kernel row of all channels
    monkeypatch.setattr(conv_arrays, "MIN_ROWS", 1)
    assert list(conv_arrays.blocks(16, (5, 5), 8192))[:4] == [(0, 1, 0, 2), (0, 1, 2, 4), (0, 1, 4, 5), (1, 2, 0, 2)]


@pytest.mark.parametrize("k", [3 * 1024, 3 * 1024 + 77])  # whole chunks, and a remainder
def test_long_products_in_chunks_equal_the_plain_product(monkeypatch, k):
    from autograd.ops import conv_arrays
    monkeypatch.setattr(conv_arrays, "LONG_K", 2048)
    a, b = RNG.standard_normal((5, k)), RNG.standard_normal((3, k))
    np.testing.assert_allclose(conv_arrays.long_product(a, b), a @ b.T, rtol=1e-12)
    np.testing.assert_allclose(conv_arrays.long_product(a[:, 1:], b[:, 1:]), a[:, 1:] @ b[:, 1:].T, rtol=1e-12)


@pytest.mark.parametrize("dilation", [1, (2, 1)])  # by rows (pieces of 7 * 3 columns); whole columns
def test_conv2d_weight_gradient_through_chunked_products(monkeypatch, dilation):
    from autograd.ops import conv_arrays
    x, w, b = leaf(3, 2, 7, 6), leaf(4, 2, 3, 2), leaf(4)
    whole = [g.data for g in ag.grad(ag.Conv2d.apply(x, w, b, padding=1, dilation=dilation).sum(), [x, w, b])]
    monkeypatch.setattr(conv_arrays, "LONG_K", 16)
    monkeypatch.setattr(conv_arrays, "CHUNK", 8)   # 3 * 7 * 7 = 147 columns: 18 chunks and a rest of 3
    parts = [g.data for g in ag.grad(ag.Conv2d.apply(x, w, b, padding=1, dilation=dilation).sum(), [x, w, b])]
    for g, h in zip(whole, parts):
        np.testing.assert_allclose(g, h, rtol=1e-12)


def test_which_convs_go_by_rows():
    from autograd.ops import conv_arrays
    assert conv_arrays.goes_by_rows((1, 1)) and conv_arrays.goes_by_rows((1, 2))
    assert not conv_arrays.goes_by_rows((2, 1))  # a kernel row's columns are no longer one block


def test_unfolded_rows_hold_each_output_rows_columns_as_one_block():
    from autograd.ops import conv_arrays
    from autograd.ops.windows import im2col
    x = RNG.standard_normal((2, 3, 7, 6))
    kernel, stride, dilation, out_size = (3, 2), (2, 1), (1, 2), (3, 4)
    image = conv_arrays.batch_last(x)
    unfolded = conv_arrays.unfolded_rows(image, 0, 7, kernel, stride, dilation, out_size[1], ones=True)
    cols = im2col(x, kernel, stride, (0, 0), dilation, out_size).reshape(2, 3, 3, 2, 3, 4)  # (N, C, i, j, y, x)
    for y in range(out_size[0]):
        block = conv_arrays._row_columns(unfolded, out_size[0], kernel[0], stride[0])[y].reshape(3, 3 * 2 + 1, 4, 2)
        np.testing.assert_array_equal(block[:, :6].reshape(3, 3, 2, 4, 2), cols[:, :, :, :, y].transpose(2, 1, 3, 4, 0))
        np.testing.assert_array_equal(block[:, 6], 1)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), ((2, 1), (1, 2), (1, 2)), (1, 1, (1, 2))])
@pytest.mark.parametrize("bias", [True, False])
# one block of rows; or one row a block, and the small products in pieces
@pytest.mark.parametrize("limits", ["whole", "split"])
def test_conv2d_by_rows_equals_whole_columns(monkeypatch, stride, padding, dilation, bias, limits):
    from autograd.ops import conv_arrays
    x, w, b = leaf(2, 3, 7, 6), leaf(4, 3, 3, 2), leaf(4) if bias else None
    inputs = [x, w] + ([b] if bias else [])

    def run():
        out = ag.Conv2d.apply(*inputs, stride=stride, padding=padding, dilation=dilation)
        return [out.data] + [g.data for g in ag.grad((out * out).sum(), inputs)]
    if limits == "split":
        for name in ("FORWARD_BLOCK", "BLOCK"):
            monkeypatch.setattr(conv_arrays, name, 1)
        monkeypatch.setattr(conv_arrays, "CHUNK", 5)  # 2 images x 6 or 9 columns: pieces and a rest
    assert conv_arrays.goes_by_rows(ag.Conv2d(dilation=dilation).dilation)
    by_rows = run()
    monkeypatch.setattr(conv_arrays, "SMALL_RESULT", 0)  # every product row by row
    for got, expected in zip(run(), by_rows):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(conv_arrays, "goes_by_rows", lambda dilation: False)
    for got, expected in zip(run(), by_rows):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dilation", [1, (2, 1)])  # by rows; whole columns
def test_bias_gradient_with_and_without_the_weight_gradient(dilation):
    x, b = leaf(2, 2, 6, 5), leaf(3)
    w = Tensor(RNG.standard_normal((3, 2, 3, 4)))
    frozen = ag.grad((ag.Conv2d.apply(x, w, b, padding=1, dilation=dilation) ** 2).sum(), [x, b])
    w.requires_grad = True
    both = ag.grad((ag.Conv2d.apply(x, w, b, padding=1, dilation=dilation) ** 2).sum(), [x, b])
    for g, h in zip(frozen, both):
        np.testing.assert_allclose(g.data, h.data, rtol=1e-12)
    out = ag.Conv2d.apply(Tensor(x.data), Tensor(w.data), Tensor(b.data), padding=1, dilation=dilation).data
    np.testing.assert_allclose(both[1].data, (2 * out).sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("dilation", [(1, 2), (2, 1)])  # by rows; whole columns
def test_conv2d_forward_in_blocks_of_output_rows(monkeypatch, dilation):
    from autograd.ops import conv_arrays
    x, w, b = leaf(3, 2, 9, 7), leaf(4, 2, 3, 2), leaf(4)
    whole = ag.Conv2d.apply(x, w, b, stride=(2, 1), padding=1, dilation=dilation).data
    monkeypatch.setattr(conv_arrays, "FORWARD_BLOCK", 2 * (2 * 3 * 2 * 7 * 3))  # two output rows of 7 per block
    np.testing.assert_allclose(ag.Conv2d.apply(x, w, b, stride=(2, 1), padding=1, dilation=dilation).data, whole,
                               rtol=1e-12)


@pytest.mark.parametrize("op, kwargs", [(ag.MaxPool2d, dict(kernel_size=2)),
                                        (ag.MaxPool2d, dict(kernel_size=3, stride=2, padding=1)),
                                        (ag.AvgPool2d, dict(kernel_size=(2, 3), stride=1, padding=1))])
def test_pools_work_through_channels_in_blocks(monkeypatch, op, kwargs):
    from autograd.ops import windows
    conv = ag.Conv2d.apply(leaf(3, 2, 7, 6), leaf(3, 2, 1, 1))  # batch-last, as in a network
    results = []
    for limit in (None, 1):  # everything at once; one channel at a time
        if limit:
            monkeypatch.setattr(windows, "CACHE_BLOCK", limit)
        x = Tensor(conv.data, requires_grad=True)
        out = op.apply(x, **kwargs)
        (out * out).sum().backward()
        results.append((out.data, x.grad.data))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_drawings_label_unfold_and_fold():
    pytest.importorskip("graphviz")
    from nn import functional as F
    x = Tensor(np.ones((1, 2, 6, 6)), requires_grad=True)
    source = ag.make_dot(F.fold(F.unfold(x, 3, padding=1, stride=2), (6, 6), 3, padding=1, stride=2).sum()).source
    assert 'label="Unfold(3x3, stride=2, padding=1)"' in source
    assert 'label="Fold(3x3, stride=2, padding=1, output_size=6)"' in source


def test_scratch_buffers_are_reused_and_never_shared_between_roles():
    from autograd.ops import conv_arrays
    a = conv_arrays.scratch("columns", (3, 4), np.float32)
    assert conv_arrays.scratch("columns", (2, 5), np.float32).base is a.base      # the same memory again
    assert not np.shares_memory(conv_arrays.scratch("other", (3, 4), np.float32), a)
    assert conv_arrays.scratch("columns", (3, 4), np.float64).dtype == np.float64
    big = conv_arrays.SCRATCH_LIMIT + 1
    assert conv_arrays.scratch("columns", (big,), np.float32).base is not a.base  # too large to keep


def test_convolutions_of_other_shapes_in_between_change_nothing():
    """The scratch columns of one call are the next call's: results never depend on the order."""
    x1, w1, x2, w2 = leaf(2, 1, 9, 9), leaf(3, 1, 5, 5), leaf(3, 2, 6, 6), leaf(2, 2, 3, 3)
    first = [g.data for g in ag.grad(ag.Conv2d.apply(x1, w1).sum(), [x1, w1])]
    ag.grad((ag.Conv2d.apply(x2, w2, padding=1) ** 2).sum(), [x2, w2])
    again = [g.data for g in ag.grad(ag.Conv2d.apply(x1, w1).sum(), [x1, w1])]
    for g, h in zip(first, again):
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("layout", ["batch_last", "c_order", "matrix"])
def test_relu_backward_in_slices_on_large_arrays(layout):
    """Past _PIECE elements ReLU's rule works slice by slice; the gradient is the same."""
    from autograd.ops import elementwise
    shape = {"matrix": (300, 500)}.get(layout, (6, 5, 60, 50))
    data = RNG.standard_normal(shape)
    if layout == "batch_last":
        data = np.ascontiguousarray(data.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    assert data.size > elementwise._PIECE
    x = Tensor(data, requires_grad=True)
    weights = RNG.standard_normal(shape)
    (ag.ReLU.apply(x) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad.data, weights * (data > 0))


def test_convolutions_in_two_threads_keep_their_scratch_apart():
    """The scratch buffers are per thread: the array-level conv of two threads side by side
    do not mix (the engine's grad mode is global, so this calls conv_arrays directly)."""
    from concurrent.futures import ThreadPoolExecutor
    from autograd.ops import conv_arrays
    cases = [(RNG.standard_normal((8, 4, 20, 20)), RNG.standard_normal((6, 4, 5, 5))),
             (RNG.standard_normal((8, 3, 22, 21)), RNG.standard_normal((5, 3, 3, 3)))]

    def once(case):
        x, w = case
        out_size = (x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1)
        out, unfolding = conv_arrays.conv2d(x, w, None, (1, 1), (0, 0), (1, 1), out_size)
        return [out] + list(conv_arrays.conv2d_backward(out, x, w, (True, True, False), (1, 1), (0, 0), (1, 1),
                                                        unfolding)[:2])
    expected = [once(case) for case in cases]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda case: [once(case) for _ in range(20)], cases))
    for runs, want in zip(results, expected):
        for got in runs:
            for g, h in zip(got, want):
                np.testing.assert_array_equal(g, h)


def test_the_backward_reuses_the_forwards_unfolding_only_while_the_scratch_holds_it(monkeypatch):
    from autograd.ops import conv_arrays
    built = []
    unfold = conv_arrays.unfolded_rows
    monkeypatch.setattr(conv_arrays, "unfolded_rows", lambda *args, **kw: built.append(1) or unfold(*args, **kw))
    x1, x2, w, b = leaf(2, 3, 7, 6), leaf(2, 3, 7, 6), leaf(4, 3, 3, 2), leaf(4)

    def gradients(x, bias=b):
        inputs = [x, w] + ([bias] if bias.requires_grad else [])
        return [g.data for g in ag.grad((ag.Conv2d.apply(x, w, bias, padding=1) ** 2).sum(), inputs)]
    expected = gradients(x1)
    assert len(built) == 1                      # the forward's unfolding, reused by d/dW
    first = (ag.Conv2d.apply(x1, w, b, padding=1) ** 2).sum()
    second = (ag.Conv2d.apply(x2, w, b, padding=1) ** 2).sum()  # takes the scratch buffer again
    built.clear()
    for g, h in zip(ag.grad(first, [x1, w, b]), expected):
        np.testing.assert_allclose(g.data, h, rtol=1e-12)
    assert len(built) == 1                      # x1's unfolding built again
    ag.grad(second, [x2, w, b])
    frozen = Tensor(b.data)                     # a bias without a gradient: no row of ones in d/dW
    built.clear()
    plain = gradients(x1, frozen)
    assert len(built) == 2
    for g, h in zip(plain, expected):
        np.testing.assert_allclose(g, h, rtol=1e-12)


@pytest.mark.parametrize("kwargs, size", [(dict(kernel_size=2), (6, 8)), (dict(kernel_size=2, padding=1), (6, 6)),
                                          (dict(kernel_size=(2, 3), stride=(2, 3)), (4, 6))])
@pytest.mark.parametrize("cache_block", [None, 1])  # all channels at once; one at a time
def test_tiled_max_pool_backward_equals_the_general_rule(monkeypatch, kwargs, size, cache_block):
    from autograd.ops import pool, windows
    if cache_block:
        monkeypatch.setattr(windows, "CACHE_BLOCK", cache_block)
    conv = ag.Conv2d.apply(Tensor(np.round(RNG.standard_normal((3, 2) + size), 0)), Tensor(np.ones((3, 2, 1, 1))))
    assert windows.batch_last_layout(conv.data)  # as in a network; rounded: windows that tie
    results, weights = [], None
    for tiled in (True, False):
        if not tiled:
            monkeypatch.setattr(pool, "_tiles", lambda *args: False)
        x = Tensor(conv.data, requires_grad=True)
        out = ag.MaxPool2d.apply(x, **kwargs)
        weights = Tensor(RNG.uniform(1, 2, out.shape)) if weights is None else weights
        (out * weights).sum().backward()
        results.append(x.grad.data)
    np.testing.assert_array_equal(*results)
    assert (results[0] != 0).sum() == out.size  # one maximum per window
