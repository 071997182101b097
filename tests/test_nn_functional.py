"""nn.functional: gradients of every activation and loss, fused ops against their compositions."""
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
import nn
from nn import functional as F

rng = np.random.default_rng(0)
LABELS = np.array([0, 2, 1, 2])
REDUCTIONS = ["mean", "sum", "none"]


def leaf(*shape, low=None, high=None):
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return Tensor(data, requires_grad=True)


def probabilities(n, classes):
    return Tensor(rng.dirichlet(np.ones(classes), n), requires_grad=True)


ACTIVATIONS = [
    ("sigmoid", F.sigmoid), ("relu", F.relu), ("tanh", F.tanh),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("leaky_relu_big_slope", lambda x: F.leaky_relu(x, 2.0)),
    ("softmax", F.softmax), ("softmax_axis0", lambda x: F.softmax(x, axis=0)),
    ("log_softmax", F.log_softmax), ("log_softmax_axis0", lambda x: F.log_softmax(x, axis=0)),
]


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradients(name, fn):
    x = leaf(3, 4)
    x.data[np.abs(x.data) < 0.05] += 0.1   # keep away from the kinks
    assert ag.gradcheck(fn, [x])


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax, lambda x: F.leaky_relu(x, 0.2)])
def test_second_derivatives_of_fused_activations(fn):
    x = leaf(3, 4)
    x.data[np.abs(x.data) < 0.05] += 0.1
    assert ag.gradgradcheck(fn, [x])


@pytest.mark.parametrize("x_shape,bias", [((4, 3), True), ((4, 3), False), ((2, 4, 3), True), ((3,), True)])
def test_linear_gradients(x_shape, bias):
    inputs = [leaf(*x_shape), leaf(2, 3)] + ([leaf(2)] if bias else [])
    assert ag.gradcheck(F.linear, inputs)
    assert ag.gradgradcheck(lambda *a: F.linear(*a).tanh(), inputs)


def test_linear_matches_its_composition_in_values_and_gradients():
    x, W, b = leaf(5, 3), leaf(2, 3), leaf(2)
    fused = F.linear(x, W, b)
    assert type(fused.op).__name__ == "Linear" and fused.op.inputs == (x, W, b)
    grads = ag.grad((fused * fused).sum(), [x, W, b])
    plain = x @ W.T + b
    expected = ag.grad((plain * plain).sum(), [x, W, b])
    np.testing.assert_allclose(fused.data, plain.data, rtol=1e-12)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-12)


def test_linear_computes_no_gradient_for_an_input_that_needs_none():
    x, W, b = Tensor(rng.standard_normal((5, 3))), leaf(2, 3), leaf(2)
    out = F.linear(x, W, b)
    grad_x, grad_w, grad_b = out.op.backward(np.ones(out.shape))
    assert grad_x is None and grad_w.shape == (2, 3) and grad_b.shape == (2,)


def test_linear_takes_raw_integer_inputs_and_keeps_float32():
    W = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = F.linear(np.arange(6, dtype=np.uint8).reshape(2, 3), W)
    assert out.dtype == np.float32 and out.data.tolist() == [[3, 3], [12, 12]]


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"Linear: input of shape \(4, 3\).*\(2, 5\)"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones((2, 5))))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("targets", ["labels", "probabilities"])
def test_cross_entropy_gradients(reduction, smoothing, targets):
    z = leaf(4, 3)
    inputs = [z] if targets == "labels" else [z, probabilities(4, 3)]
    fn = (lambda z: F.cross_entropy(z, LABELS, reduction, smoothing)) if targets == "labels" else (
        lambda z, q: F.cross_entropy(z, q, reduction, smoothing))
    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_matches_its_composition(reduction, smoothing):
    z = leaf(6, 4)
    labels = rng.integers(0, 4, 6)
    fused = F.cross_entropy(z, labels, reduction, smoothing)
    assert type(fused.op).__name__ == "CrossEntropy"
    target = (1 - smoothing) * np.eye(4)[labels] + smoothing / 4
    per_row = -(F.log_softmax(z) * target).sum(axis=1)
    plain = {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction]
    np.testing.assert_allclose(fused.data, plain.data, rtol=1e-10)
    (grad,) = ag.grad(fused.sum(), [z])
    (expected,) = ag.grad(plain.sum(), [z])
    np.testing.assert_allclose(grad.data, expected.data, rtol=1e-10, atol=1e-14)
    softmax = np.exp(z.data) / np.exp(z.data).sum(axis=1, keepdims=True)
    scale = 1 / 6 if reduction == "mean" else 1.0
    np.testing.assert_allclose(grad.data, (softmax - target) * scale, rtol=1e-10)


def test_cross_entropy_one_hot_targets_equal_labels():
    z = leaf(4, 3)
    a = F.cross_entropy(z, LABELS, label_smoothing=0.1)
    b = F.cross_entropy(z, np.eye(3)[LABELS], label_smoothing=0.1)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def test_cross_entropy_is_finite_for_huge_logits_and_keeps_float32():
    z = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(z, [2, 0])
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), (2e4 + 1e4 + np.log(2)) / 2, rtol=1e-6)
    np.testing.assert_allclose(z.grad.data, [[0.5, 0, -0.5], [-0.5, 0.25, 0.25]], atol=1e-6)


def test_cross_entropy_rejects_bad_labels():
    z = leaf(2, 3)
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        F.cross_entropy(z, [0, 3])
    with pytest.raises(ValueError, match="do not fit"):
        F.cross_entropy(z, [0, 1, 2])
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, [0, 1], reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_gradients(reduction):
    p, y = leaf(4, 2, low=0.1, high=0.9), leaf(4, 2, low=0.0, high=1.0)
    assert ag.gradcheck(lambda p, y: F.binary_cross_entropy(p, y, reduction), [p, y])
    assert ag.gradgradcheck(lambda p, y: F.binary_cross_entropy(p, y, reduction), [p, y])
    z = leaf(4, 2)
    assert ag.gradcheck(lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction), [z, y])
    assert ag.gradgradcheck(lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction), [z, y])
    assert ag.gradcheck(lambda a, b: F.mse_loss(a, b, reduction), [leaf(4, 2), leaf(4, 2)])


def test_bce_with_logits_matches_bce_of_sigmoid_and_is_stable():
    z, y = leaf(5, 3), rng.uniform(0, 1, (5, 3))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, y).data,
                               F.binary_cross_entropy(F.sigmoid(z), y).data, rtol=1e-10)
    big = Tensor(np.array([1e4, -1e4], dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(big, np.array([0.0, 1.0]), reduction="sum")
    loss.backward()
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(2e4)
    np.testing.assert_allclose(big.grad.data, [1.0, -1.0])


def test_bce_of_saturated_probabilities_is_finite():
    p = Tensor(np.array([0.0, 1.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]))
    loss.backward()
    assert loss.item() == pytest.approx(200 / 3)
    assert np.isfinite(p.grad.data).all()
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.array([1.0]))


def test_mse_loss_values():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0])
    assert F.mse_loss(Tensor(a), b).item() == pytest.approx(13 / 3)
    assert F.mse_loss(Tensor(a), b, reduction="sum").item() == pytest.approx(13)
    np.testing.assert_allclose(F.mse_loss(Tensor(a), b, reduction="none").data, [0, 4, 9])


BROADCAST_LOSSES = [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("loss", BROADCAST_LOSSES)
def test_column_against_vector_warns_at_each_calling_line(loss):
    """The warnings module's default filter: once per line of user code, pointing at it; not once per process."""
    column, vector = Tensor(np.full((4, 1), 0.5)), np.ones(4)
    with pytest.warns(UserWarning, match=r"\(4, 1\).*\(4,\).*\(4, 4\)") as caught:
        loss(column, vector)
    assert caught[0].filename == __file__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            loss(column, vector)   # one line, three calls: one warning
        loss(column, vector)       # a later mistake elsewhere is still reported
    assert len(caught) == 2 and all(w.filename == __file__ for w in caught)
    assert caught[0].lineno != caught[1].lineno
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(Tensor(np.full((4, 3), 0.5)), np.ones(3))   # a legitimate broadcast never warns


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_a_target_that_broadcasts_the_input_up_gets_a_gradient_of_its_own_shape(loss, reduction):
    """p (3, 1) against y (3, 4): the node's gradients have the broadcast shape (as PyTorch's), for both."""
    p, y = leaf(3, 1, low=0.1, high=0.9), leaf(3, 4, low=0.1, high=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = loss(p, y, reduction=reduction)
    grad_p, grad_y = out.op.backward(np.ones(out.shape))
    assert grad_p.shape == grad_y.shape == (3, 4)
    out.backward(np.ones(out.shape))
    assert p.grad.shape == (3, 1) and y.grad.shape == (3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ag.gradcheck(lambda a, b: loss(a, b, reduction=reduction), [p, y])
        assert ag.gradgradcheck(lambda a, b: loss(a, b, reduction=reduction), [p, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", [((), ()), ((), (3,)), ((3,), ())])
def test_binary_losses_of_0d_inputs(reduction, shapes):
    p, y = Tensor(np.full(shapes[0], 0.3), requires_grad=True), Tensor(np.full(shapes[1], 0.6), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bce = F.binary_cross_entropy(p, y, reduction="none")
    expected = -(0.6 * np.log(0.3) + 0.4 * np.log(0.7))
    np.testing.assert_allclose(bce.data, np.full(bce.shape, expected))
    assert bce.shape == np.broadcast_shapes(*shapes)
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        fn = lambda a, b: loss(a, b, reduction=reduction)  # noqa: E731
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # () against (3,) broadcasts the input up, on purpose here
            assert ag.gradcheck(fn, [p, y]) and ag.gradgradcheck(fn, [p, y])
    assert F.binary_cross_entropy(Tensor(0.3), 1.0).item() == pytest.approx(-np.log(0.3), rel=1e-6)
    assert F.binary_cross_entropy_with_logits(Tensor(0.3), 1.0).item() == pytest.approx(np.log1p(np.exp(-0.3)),
                                                                                        rel=1e-6)


def test_linear_runs_data_at_the_weight_dtype_and_keeps_differentiable_inputs_exact():
    model = nn.MLP([4, 3, 2])                                                   # float32
    batch = Tensor(np.random.default_rng(0).random((5, 4)))                     # float64 data, no grad
    assert model(batch).dtype == np.float32
    assert model(Tensor(np.arange(8, dtype=np.uint8).reshape(2, 4) / 255.0)).dtype == np.float32
    x = Tensor(batch.data, requires_grad=True)                                  # needs a gradient
    out = model(x)
    assert out.dtype == np.float64                                              # computed in the wider dtype
    out.sum().backward()
    assert x.grad.dtype == np.float64 and model[0].weight.grad.dtype == np.float32
    w = nn.Parameter(np.ones((2, 4)))                                           # float64
    assert F.linear(Tensor(np.ones((1, 4), np.float32)), w).dtype == np.float64


def test_linear_takes_numpy_weight_and_bias_as_constants():
    x = leaf(3, 4)
    w, b = rng.standard_normal((2, 4)), rng.standard_normal(2)
    out = F.linear(x, w, b)
    np.testing.assert_allclose(out.data, x.data @ w.T + b)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones((3, 2)) @ w)
    np.testing.assert_allclose(F.linear(x, w).data, x.data @ w.T)


@pytest.mark.parametrize("fn, op", [(F.softmax, "Softmax"), (F.log_softmax, "LogSoftmax")])
def test_softmax_axis_out_of_range_names_the_op_and_shape(fn, op):
    message = rf"^{op}: axis 5 is out of range for a tensor of shape \(2, 3\) \(2 dimensions\)$"
    with pytest.raises(ValueError, match=message):
        fn(Tensor(np.ones((2, 3))), axis=5)
    with pytest.raises(ValueError, match=rf"^{op}: axis -3 is out of range"):
        fn(Tensor(np.ones((2, 3))), axis=-3)


def test_dropout_scales_kept_elements_and_is_identity_when_not_training():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    out = F.dropout(x, 0.25, training=True, rng=np.random.default_rng(1))
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)
    assert F.dropout(x, 1.0).data.max() == 0
    assert F.dropout(Tensor(np.ones(3, dtype=np.float32)), 0.5).dtype == np.float32


@pytest.mark.parametrize("loss", [
    lambda z: F.cross_entropy(z, LABELS), lambda z: F.binary_cross_entropy_with_logits(z, np.ones((4, 3))),
    lambda z: F.binary_cross_entropy(F.sigmoid(z), np.ones((4, 3))), lambda z: F.log_softmax(z).sum()])
def test_a_numpy_scalar_upstream_gradient_takes_the_array_path(loss):
    z = leaf(4, 3)
    (loss(z) * 3.0).backward()   # the product of 0-d arrays hands the loss a np.float64 gradient
    assert type(z.grad.data) is np.ndarray and z.grad.op is None
