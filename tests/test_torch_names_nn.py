"""The nn names a PyTorch user reaches for (issue 24): each against PyTorch when it is
installed (the tests taking the ``torch`` fixture), and each gradient by ag.gradcheck."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn import functional as F

RNG = np.random.default_rng(24)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def close(ours, theirs, tol=1e-10):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, Tensor) else ours), theirs,
                               rtol=tol, atol=tol)


def both(torch, fn, torch_fn, arrays, *args, **kwargs):
    """fn and torch_fn on the same float64 arrays: the values, then the gradients of a random weighting."""
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours, *args, **kwargs), torch_fn(*theirs, *args, **kwargs)
    close(out, expected)
    weights = RNG.standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for t, u in zip(ours, theirs):
        close(t.grad, u.grad)
    return out


# ---- F.pad ----
PADS = [
    ((2, 3, 5), (1, 2)),
    ((2, 3, 5), (0, 3, 2, 1)),
    ((2, 3, 4, 5), (1, 1, 2, 0)),
    ((2, 3, 4, 5), (2, 1, 0, 1, 1, 0)),
]


@pytest.mark.parametrize("shape, pad", PADS + [((2, 3, 5), (-1, 2)), ((3, 4, 5), (1, -2, -1, 1))])
@pytest.mark.parametrize("value", [None, 1.5])
def test_pad_constant_is_pytorchs_last_axis_first(torch, shape, pad, value):
    kwargs = {} if value is None else dict(value=value)
    both(torch, F.pad, torch.nn.functional.pad, [RNG.standard_normal(shape)], pad, **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [((2, 3, 5), (1, 2)), ((2, 3, 5), (3, 0)), ((2, 3, 4, 5), (1, 2, 2, 1))])
def test_pad_reflect_replicate_circular_as_pytorch(torch, mode, shape, pad):
    both(torch, F.pad, torch.nn.functional.pad, [RNG.standard_normal(shape)], pad, mode=mode)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradients_twice(mode):
    x = Tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    assert ag.gradcheck(lambda t: F.pad(t, (2, 1, 1, 2), mode=mode) ** 2, [x])
    assert ag.gradgradcheck(lambda t: F.pad(t, (2, 1, 1, 2), mode=mode) ** 3, [x])


def test_pad_errors_name_the_problem():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="reflect padding of 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    assert F.pad(x, (0, 0)) is x


# ---- F.one_hot ----
@pytest.mark.parametrize("labels, classes", [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), (np.array(4), 6)])
def test_one_hot_is_pytorchs(torch, labels, classes):
    out = F.one_hot(labels, classes)
    expected = torch.nn.functional.one_hot(torch.tensor(labels), classes)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64   # an integer array, as argmax's
    np.testing.assert_array_equal(out, expected.numpy())


def test_one_hot_is_a_cross_entropy_target_and_never_truncates_arithmetic():
    logits, labels = Tensor(RNG.standard_normal((4, 3))), np.array([0, 2, 1, 2])
    targets = F.one_hot(labels, 3)
    close(F.cross_entropy(logits, targets), F.cross_entropy(logits, labels).data, 1e-6)
    assert (targets * 0.5).max() == 0.5 and Tensor(targets).dtype == np.float32


def test_one_hot_checks_its_labels():
    np.testing.assert_array_equal(F.one_hot(Tensor._result(np.array([1, 0]), None), 3), [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        F.one_hot([0, 3], num_classes=3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(np.array([0.5]))


# ---- nll_loss, NLLLoss, LogSoftmax ----
def _labels(n, classes, ignored=0, ignore_index=-100):
    labels = RNG.integers(0, classes, n)
    labels[:ignored] = ignore_index
    return labels


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted, ignored, ignore_index", [(False, 0, -100), (True, 0, -100), (False, 2, -100),
                                                             (True, 2, -100), (True, 2, 1)])
def test_nll_loss_is_pytorchs(torch, reduction, weighted, ignored, ignore_index):
    log_probs = RNG.standard_normal((6, 4))
    labels = _labels(6, 4, ignored, ignore_index)
    weight = RNG.uniform(0.5, 2.0, 4) if weighted else None
    both(torch, lambda x: F.nll_loss(x, labels, None if weight is None else weight, ignore_index=ignore_index,
                                     reduction=reduction),
         lambda x: torch.nn.functional.nll_loss(x, torch.tensor(labels), None if weight is None
                                                else torch.tensor(weight), ignore_index=ignore_index,
                                                reduction=reduction),
         [log_probs])


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_nll_loss_on_more_axes_and_unbatched(torch, reduction):
    x, labels = RNG.standard_normal((2, 4, 3, 2)), RNG.integers(0, 4, (2, 3, 2))
    both(torch, lambda t: F.nll_loss(t, labels, reduction=reduction),
         lambda t: torch.nn.functional.nll_loss(t, torch.tensor(labels), reduction=reduction), [x])
    both(torch, lambda t: F.nll_loss(t, np.array(2), reduction=reduction),
         lambda t: torch.nn.functional.nll_loss(t, torch.tensor(2), reduction=reduction), [RNG.standard_normal(4)])


def test_nll_loss_gradients_twice():
    x = Tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    labels, weight = np.array([0, 2, -100, 1, 2]), np.array([1.0, 0.5, 2.0])
    assert ag.gradcheck(lambda t: F.nll_loss(F.log_softmax(t, dim=1), labels, weight), [x])
    assert ag.gradgradcheck(lambda t: F.nll_loss(F.log_softmax(t, dim=1), labels, weight), [x])


def test_log_softmax_then_nll_loss_is_the_cross_entropy(torch):
    logits, labels = RNG.standard_normal((8, 5)), RNG.integers(0, 5, 8)
    model = nn.Sequential(nn.Identity(), nn.LogSoftmax(dim=1))
    ours = nn.NLLLoss()(model(Tensor(logits)), labels)
    close(ours, F.cross_entropy(Tensor(logits), labels), 1e-12)
    expected = torch.nn.NLLLoss()(torch.nn.LogSoftmax(dim=1)(torch.tensor(logits)), torch.tensor(labels))
    close(ours, expected)
    assert nn.LogSoftmax(1).axis == 1 and nn.LogSoftmax().axis == -1


def test_nll_loss_module_keeps_its_weight_as_a_buffer(torch):
    weight = np.array([1.0, 2.0, 0.5])
    ours, theirs = nn.NLLLoss(weight, ignore_index=1), torch.nn.NLLLoss(torch.tensor(weight), ignore_index=1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    x, labels = RNG.standard_normal((4, 3)), np.array([0, 1, 2, 2])
    close(ours(Tensor(x), labels), theirs(torch.tensor(x), torch.tensor(labels)))


# ---- cross_entropy with weight and ignore_index ----
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted, ignored", [(True, 0), (False, 3), (True, 3)])
def test_cross_entropy_weight_and_ignore_index_are_pytorchs(torch, reduction, smoothing, weighted, ignored):
    logits, labels = RNG.standard_normal((7, 4)), _labels(7, 4, ignored)
    weight = RNG.uniform(0.2, 3.0, 4) if weighted else None
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    both(torch, lambda x: F.cross_entropy(x, labels, weight=weight, **kwargs),
         lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(labels), weight=None if weight is None
                                                     else torch.tensor(weight), **kwargs), [logits])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_weight_with_probability_targets(torch, reduction, smoothing):
    logits, weight = RNG.standard_normal((5, 3)), RNG.uniform(0.2, 3.0, 3)
    targets = RNG.dirichlet(np.ones(3), 5)
    kwargs = dict(reduction=reduction, label_smoothing=smoothing)
    both(torch, lambda x: F.cross_entropy(x, targets, weight=weight, **kwargs),
         lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(targets), weight=torch.tensor(weight),
                                                     **kwargs), [logits])


def test_cross_entropy_ignore_index_as_a_gpt_uses_it(torch):
    logits, labels = RNG.standard_normal((6, 5)), np.array([1, -1, 4, -1, 0, 2])
    both(torch, lambda x: F.cross_entropy(x, labels, ignore_index=-1),
         lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(labels), ignore_index=-1), [logits])
    every = np.full(6, -100)
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(Tensor(logits), every).item())
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(every)).item())


def test_cross_entropy_weighted_gradients_twice():
    x = Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    labels, weight = np.array([0, 2, -100, 1]), np.array([1.0, 0.5, 2.0])
    fn = lambda t: F.cross_entropy(t, labels, weight=weight, label_smoothing=0.1)  # noqa: E731
    assert ag.gradcheck(fn, [x]) and ag.gradgradcheck(fn, [x])


def test_unweighted_cross_entropy_stays_one_fused_node():
    from nn.functional.loss_ops import CrossEntropy
    logits = Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert type(F.cross_entropy(logits, [0, 1, 2, 0]).op) is CrossEntropy
    assert type(F.cross_entropy(logits, [0, 1, 2, 0], label_smoothing=0.1, ignore_index=5).op) is CrossEntropy
    assert type(F.cross_entropy(logits, [0, 1, -100, 0]).op) is not CrossEntropy


def test_cross_entropy_takes_pytorchs_positional_weight(torch):
    logits, labels, weight = RNG.standard_normal((5, 3)), RNG.integers(0, 3, 5), np.array([1.0, 3.0, 0.5])
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), torch.tensor(weight))
    close(F.cross_entropy(Tensor(logits), labels, weight), expected)
    close(nn.CrossEntropyLoss(weight)(Tensor(logits), labels), expected)
    close(nn.CrossEntropyLoss(weight=Tensor(weight))(Tensor(logits), labels), expected)
    assert nn.CrossEntropyLoss("sum").reduction == "sum"   # this library's positional order still works
    assert list(nn.CrossEntropyLoss(weight).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        F.cross_entropy(Tensor(logits), labels, weight=np.ones(4))
    with pytest.raises(TypeError, match="keyword"):
        nn.CrossEntropyLoss(None, 0.1)


# ---- SiLU, L1Loss, Identity ----
def test_silu_is_pytorchs(torch):
    x = RNG.standard_normal((3, 4)) * 4
    both(torch, F.silu, torch.nn.functional.silu, [x])
    close(nn.SiLU()(Tensor(x)), torch.nn.SiLU()(torch.tensor(x)))
    assert isinstance(nn.MLP([2, 3, 1], activation="silu")[1], nn.SiLU)


def test_silu_gradients_twice():
    x = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert ag.gradcheck(F.silu, [x]) and ag.gradgradcheck(F.silu, [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_loss_is_pytorchs(torch, reduction):
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    both(torch, F.l1_loss, torch.nn.functional.l1_loss, [a, b], reduction=reduction)
    close(nn.L1Loss(reduction)(Tensor(a), b), torch.nn.L1Loss(reduction=reduction)(torch.tensor(a), torch.tensor(b)))


def test_l1_loss_gradients():
    a, b = (Tensor(RNG.standard_normal((4, 3)), requires_grad=True) for _ in range(2))
    assert ag.gradcheck(F.l1_loss, [a, b])


def test_identity_passes_its_input_through_and_ignores_arguments():
    x = Tensor(np.ones(3), requires_grad=True)
    layer = nn.Identity(54, unused_argument=0.1)
    assert layer(x) is x and list(layer.parameters()) == [] and repr(layer) == "Identity()"


# ---- Conv1d ----
def test_conv1d_layer_loads_pytorchs_state_dict_and_matches_it(torch):
    theirs = torch.nn.Conv1d(3, 4, 5, stride=2, padding=1, dilation=2).double()
    ours = nn.Conv1d(3, 4, 5, stride=2, padding=1, dilation=2, dtype=np.float64)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                  theirs.state_dict().items()}
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((2, 3, 17))
    ours_x, their_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(ours_x), theirs(their_x)
    close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    close(ours_x.grad, their_x.grad)
    close(ours.weight.grad, theirs.weight.grad)
    close(ours.bias.grad, theirs.bias.grad)
    assert (ours.kernel_size, ours.stride, ours.padding, ours.dilation) == (theirs.kernel_size, theirs.stride,
                                                                            theirs.padding, theirs.dilation)


def test_conv1d_function_is_pytorchs(torch):
    arrays = [RNG.standard_normal((2, 3, 9)), RNG.standard_normal((4, 3, 3)), RNG.standard_normal(4)]
    both(torch, F.conv1d, torch.nn.functional.conv1d, arrays, stride=2, padding=1)


def test_conv1d_initialisation_and_checks():
    layer = nn.Conv1d(4, 8, 3, bias=False)
    bound = 1 / np.sqrt(4 * 3)
    assert layer.weight.shape == (8, 4, 3) and layer.bias is None and np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > bound / 2   # U(-bound, bound), not a narrower draw
    assert layer(Tensor(np.ones((2, 4, 10)))).shape == (2, 8, 8)
    with pytest.raises(ValueError, match=r"\(N, 4, L\)"):
        layer(Tensor(np.ones((2, 3, 10))))
    with pytest.raises(ValueError, match="1-tuple"):
        nn.Conv1d(4, 8, (3, 3))


def test_conv1d_gradients():
    x = Tensor(RNG.standard_normal((2, 2, 7)), requires_grad=True)
    w = Tensor(RNG.standard_normal((3, 2, 3)), requires_grad=True)
    b = Tensor(RNG.standard_normal(3), requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), [x, w, b])


# ---- clip_grad_value_ ----
def test_clip_grad_value_is_pytorchs(torch):
    grads = [RNG.standard_normal((3, 4)) * 3, RNG.standard_normal(5), np.array(2.5)]
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = Tensor(g), torch.tensor(g)
    assert nn.utils.clip_grad_value_(ours, 1.0) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.0)
    for p, q in zip(ours, theirs):
        close(p.grad, q.grad)
    assert nn.optim.clip_grad_value_ is nn.utils.clip_grad_value_


def test_clip_grad_value_skips_parameters_without_gradients_and_takes_one_tensor():
    p, q = Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    p.grad = Tensor(np.array([-3.0, 0.5]))
    nn.utils.clip_grad_value_([p, q], 0.25)
    nn.utils.clip_grad_value_(p, 0.2)
    np.testing.assert_array_equal(p.grad.data, [-0.2, 0.2])
    assert q.grad is None


def test_the_new_names_are_exported_where_pytorch_has_them():
    for name in ["Identity", "SiLU", "LogSoftmax", "Conv1d", "NLLLoss", "L1Loss"]:
        assert getattr(nn, name) is getattr(nn.modules, name) and name in nn.__all__ and name in nn.modules.__all__
    for name in ["pad", "one_hot", "nll_loss", "silu", "l1_loss", "conv1d"]:
        assert name in F.__all__ and callable(getattr(F, name))


def test_the_new_layers_export_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.SiLU(), nn.Flatten(), nn.Identity(), nn.Linear(32, 5),
                          nn.LogSoftmax(dim=1))
    x = RNG.standard_normal((3, 2, 8)).astype(np.float32)
    nn.export_onnx(model, x, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(out, model(x).numpy(), atol=1e-5)
