"""The backward pass: reuse, accumulation, big graphs, freed memory, retain_graph,
no_grad, create_graph and ag.grad."""
import gc
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ---- reuse and accumulation ----

@pytest.mark.parametrize("build, gradient", [
    (lambda x: x * x, lambda x: 2 * x),
    (lambda x: x * x * x, lambda x: 3 * x ** 2),
    (lambda x: (x + x) * x, lambda x: 4 * x),
    (lambda x: x.exp() * x.tanh(), lambda x: np.exp(x) * (np.tanh(x) + 1 - np.tanh(x) ** 2)),
    (lambda x: (lambda h: h.exp() + h * h)(x * 3.0), lambda x: 3 * np.exp(3 * x) + 18 * x),  # a branch node
    (lambda x: (lambda h: (h + 1.0) * (h - 1.0))(x.sigmoid()),                               # a diamond
     lambda x: 2 * (1 / (1 + np.exp(-x))) ** 2 * (1 - 1 / (1 + np.exp(-x)))),
])
def test_reused_tensors_sum_their_gradients(build, gradient):
    x = leaf([0.5, -1.0, 2.0])
    build(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, gradient(x.data), rtol=1e-12)


@pytest.mark.parametrize("build, expected", [
    (lambda a: a * 2.0 + (a + a * 3.0), 6.0),
    (lambda a: (a + a * 3.0) + a * 2.0, 6.0),
    (lambda a: ag.concatenate([a, a * 5.0]).sum() + (a + a), 8.0),
    (lambda a: (a * 1.0 + a) + a * 1.0, 3.0),
])
def test_a_leaf_used_on_several_paths_gets_the_sum(build, expected):
    a = leaf([1.0])
    build(a).backward()
    np.testing.assert_allclose(a.grad.data, [expected])


def test_a_node_used_three_times_sums_into_one_array_without_touching_a_shared_gradient():
    # y's gradient comes from three uses; the first (through the Add) is also the leaf x's
    # gradient, so the engine must not add the later two into that array.
    x, w = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0])
    y = w * 2.0
    out = y.tanh() + y * y + (x + y) * 1.0  # the Add is the newest, so its gradient reaches y first
    weight = np.array([1.0, -2.0, 0.5])
    (out * weight).sum().backward()
    np.testing.assert_allclose(x.grad.data, weight)
    np.testing.assert_allclose(w.grad.data, 2.0 * weight * (2.0 - np.tanh(2.0 * w.data) ** 2 + 4.0 * w.data))


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    loss = (x ** 3).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 24.0])
    (x * 10.0).sum().backward()  # a second graph
    np.testing.assert_allclose(x.grad.data, [16.0, 34.0])
    x.zero_grad()
    assert x.grad is None
    (x * 10.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [10.0, 10.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_leaves_own_their_gradient_arrays(create_graph):
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=create_graph)
    assert a.grad is not b.grad
    a.grad.data *= 10  # e.g. gradient clipping in place
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    c = leaf([1.0, 1.0])
    (c + c * 1.0 + b).sum().backward(create_graph=create_graph)  # b.grad accumulates in place
    np.testing.assert_array_equal(a.grad.data, [10.0, 10.0])


def test_leaf_gradient_is_a_writable_tensor_without_graph():
    x = leaf([[1.0, 2.0, 3.0]])
    x.broadcast_to((4, 3)).sum().backward()
    assert isinstance(x.grad, Tensor) and x.grad.op is None and not x.grad.requires_grad
    x.grad.data[...] = 0.0  # must not raise (the rule returned a read-only broadcast view)
    np.testing.assert_array_equal(np.asarray(x.grad), [[0.0, 0.0, 0.0]])


# ---- big graphs ----

def test_chain_of_100000_ops_backprops_without_recursion():
    x = leaf([1.5])
    y = x
    for i in range(100_000):
        y = y * 2.0 if i % 2 else y * 0.5
    y.backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_wide_fan_out_of_10000_ops():
    x = leaf([1.0, -2.0])
    total = ag.stack([x * float(k) for k in range(10_000)]).sum()
    total.backward()
    np.testing.assert_allclose(x.grad.data, [49_995_000.0] * 2)
    y = leaf([3.0])
    chained = y * 0.0
    for k in range(10_000):
        chained = chained + y * float(k % 3)
    chained.backward()
    np.testing.assert_allclose(y.grad.data, [9_999.0])


# ---- freed memory ----

@pytest.fixture
def no_gc():
    """Reference counting alone must free graphs: no cycles for the collector to find."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("run_backward", [False, True])
def test_graph_is_freed_by_reference_counting(no_gc, run_backward):
    x = leaf(np.ones((20, 20)))
    hidden = (x * 2.0).tanh()
    loss = (hidden @ hidden).exp().mean()
    data, node, saved = weakref.ref(hidden.data), weakref.ref(hidden.op), weakref.ref(loss.op.inputs[0].op)
    if run_backward:
        loss.backward()
        assert x.grad is not None
    del hidden, loss
    assert data() is None and node() is None and saved() is None


def test_backward_frees_saved_arrays_but_keeps_the_structure(no_gc):
    x = leaf([1.0, 3.0, 3.0])
    y = x.max()
    share = weakref.ref(y.op.saved[0])  # saved by the node only
    z = (y * 2.0).exp()
    z.backward()
    assert share() is None
    assert z.op.inputs[0].op.inputs[0] is y and y.op.inputs == (x,)
    assert type(z.op).__name__ == "Exp"


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    assert loss.op.inputs[0].op.inputs[1] is x  # the graph stays readable


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * first)
    np.testing.assert_allclose(first, np.exp(x.data) * (x.data + 1))


# ---- no_grad ----

def test_no_grad_records_nothing_and_enable_grad_undoes_it():
    x = leaf([1.0, 2.0])
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = (x * 2.0).exp().sum()
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            z = x * 2.0
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert y.op is None and not y.requires_grad
    assert z.op is not None and z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_is_a_decorator_and_restores_after_an_error():
    @ag.no_grad()
    def double(t):
        assert not ag.is_grad_enabled()
        return t * 2.0

    x = leaf([1.0])
    assert double(x).op is None and double(x).requires_grad is False
    assert ag.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            1 / 0
    assert ag.is_grad_enabled()


# ---- create_graph and ag.grad ----

def test_second_derivative_by_backward_create_graph():
    x = leaf([1.0, -2.0, 3.0])
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.data, 3 * x.data ** 2)
    assert first.requires_grad
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_backward_create_graph_keeps_what_the_gradient_graph_needs():
    x = leaf([0.5, 1.0])
    x.exp().sum().backward(create_graph=True)
    first = x.grad
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))


def test_grad_create_graph_gives_second_and_third_derivatives():
    x = leaf([0.5, 1.0, 2.0])
    y = (x.exp() * x ** 3).sum()
    (first,) = ag.grad(y, [x], create_graph=True)
    (second,) = ag.grad(first.sum(), [x], create_graph=True)
    (third,) = ag.grad(second.sum(), [x])
    e, v = np.exp(x.data), x.data
    np.testing.assert_allclose(first.data, e * (v ** 3 + 3 * v ** 2))
    np.testing.assert_allclose(second.data, e * (v ** 3 + 6 * v ** 2 + 6 * v))
    np.testing.assert_allclose(third.data, e * (v ** 3 + 9 * v ** 2 + 18 * v + 6))
    assert x.grad is None


def test_create_graph_through_a_mixed_dtype_op():
    x = leaf([1.0, 2.0], dtype=np.float32)
    y = ((x * np.array([3.0, 4.0])) ** 2).sum()  # float32 * float64 constant
    (first,) = ag.grad(y, [x], create_graph=True)
    (second,) = ag.grad(first.sum(), [x])
    np.testing.assert_allclose(second.data, [18.0, 32.0])


def test_grad_returns_tensors_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    grads = ag.grad(y, [x, w])
    assert isinstance(grads, list) and all(isinstance(g, Tensor) for g in grads)
    np.testing.assert_allclose(grads[0].data, w.data)
    np.testing.assert_allclose(grads[1].data, x.data)
    assert x.grad is None and w.grad is None


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    y, z = x * 3.0, x ** 2
    (g,) = ag.grad([y, z], [x], grad_outputs=[np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    np.testing.assert_allclose(g.data, [3.0, 4.0])


def test_grad_unused_input_raises_unless_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.data, [2.0])
    assert gu is None


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    hidden = x * 3.0
    y = (hidden ** 2).sum()
    g_hidden, g_x = ag.grad(y, [hidden, x])
    np.testing.assert_allclose(g_hidden.data, 2 * hidden.data)
    np.testing.assert_allclose(g_x.data, 6 * hidden.data)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.grad(y, [x])  # retain_graph defaults to create_graph (False)


def test_grad_of_a_non_scalar_needs_grad_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        ag.grad(x * 2.0, [x])


# ---- errors ----

def test_backward_on_a_non_scalar_without_grad_names_the_shape():
    x = leaf(np.ones((2, 3)))
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\)"):
        y.backward()
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_allclose(x.grad.data, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0, 2.0]) * 2.0).sum().backward()


def test_leaf_without_requires_grad_gets_no_gradient():
    x, c = leaf([1.0, 2.0]), Tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.data, [5.0, 6.0])


def test_a_constant_sharing_memory_with_an_input_stays_a_constant_to_second_derivatives():
    x = leaf([3.0])
    for build in (lambda x: x.detach() * x, lambda x: x * x.detach(), lambda x: x.data * x):
        (first,) = ag.grad(build(x).sum(), [x], create_graph=True)
        np.testing.assert_allclose(first.data, [3.0])
        assert not first.requires_grad  # d/dx (c x) = c, which does not depend on x
    (first,) = ag.grad((x * x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(ag.grad(first.sum(), [x])[0].data, [2.0])


@pytest.mark.parametrize("build", [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(),
                                   lambda t: 1.0 / t, lambda t: t ** 3.0, lambda t: t.log()])
def test_second_derivatives_of_zero_dimensional_tensors(build):
    assert ag.gradgradcheck(build, [Tensor(0.7, requires_grad=True)])


def test_grad_outputs_that_are_tensors_stay_in_the_graph():
    x, v = leaf([1.0, 2.0]), leaf([1.0, 1.0])
    (first,) = ag.grad(x * x, [x], grad_outputs=v, create_graph=True)  # 2 x v
    (by_v,) = ag.grad(first.sum(), [v])
    np.testing.assert_allclose(by_v.data, 2 * x.data)


def test_zero_dimensional_leaf_gradients_are_arrays():
    x = Tensor(np.float32(2.0), requires_grad=True)
    (x * x + x).backward()
    assert type(x.grad.data) is np.ndarray and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, 5.0)


def test_grad_returns_arrays_of_their_own():
    a = leaf([1.0, 2.0])
    h = a + 1.0
    by_h, by_a = ag.grad((h * h).sum(), [h, a])
    assert not np.shares_memory(by_h.data, by_a.data)
    (w_grad,) = ag.grad(a.sum(), [a])  # the Sum rule hands back a read-only broadcast view
    w_grad.data *= 2.0
    np.testing.assert_allclose(w_grad.data, [2.0, 2.0])


class _ConstantAlongColumns(ag.Function):
    """A test op whose rule returns a gradient the input broadcasts up to."""

    def forward(self, a):
        return a.sum(axis=1, keepdims=True) * np.ones_like(a)

    def backward(self, grad):
        return grad.sum(axis=1, keepdims=True)  # (n, 1) for an (n, m) input


def test_a_gradient_smaller_than_its_input_is_broadcast_up():
    x = leaf(np.arange(6.0).reshape(2, 3))
    _ConstantAlongColumns.apply(x).sum().backward()
    assert x.grad.shape == (2, 3)
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 3.0))


def test_a_truthy_requires_grad_counts_as_true():
    x = leaf([1.0, 2.0])
    x.requires_grad = 2  # not a key of the shared patterns: the fallback path
    y = leaf([3.0, 4.0])
    y.requires_grad = np.True_
    (x * y + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0 + np.e, 4.0 + np.e ** 2])
    np.testing.assert_allclose(y.grad.data, [1.0, 2.0])
