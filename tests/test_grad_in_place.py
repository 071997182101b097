"""Rules that overwrite their incoming gradient (``backward_in_place``): the engine lets them
only when nothing else can see that array, and the gradients stay right when it cannot."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.elementwise import ReLU


@pytest.fixture
def in_place_calls(monkeypatch):
    """Counts the ReLU rules the engine ran in place."""
    calls = []
    original = ReLU.backward_in_place

    def spy(self, grad):
        calls.append(grad)
        return original(self, grad)
    monkeypatch.setattr(ReLU, "backward_in_place", spy)
    return calls


def signed(shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_a_fresh_gradient_is_reused_and_the_result_is_right(in_place_calls):
    x, w = signed((3, 4)), np.random.default_rng(1).standard_normal((3, 4))
    (x.relu() * w).sum().backward()
    assert len(in_place_calls) == 1
    np.testing.assert_array_equal(x.grad.data, w * (x.data > 0))


def test_a_gradient_shared_by_two_consumers_is_not_overwritten(in_place_calls):
    # Add hands the same array to both ReLUs: the first to run must leave it for the
    # second, which is then its only holder and may reuse it.
    a, b = signed((5, 6), 0), signed((5, 6), 1)
    weights = np.random.default_rng(2).standard_normal((5, 6))
    ((a.relu() + b.relu()) * weights).sum().backward()
    assert len(in_place_calls) == 1
    np.testing.assert_array_equal(a.grad.data, weights * (a.data > 0))
    np.testing.assert_array_equal(b.grad.data, weights * (b.data > 0))


def test_a_gradient_the_caller_passed_is_left_alone(in_place_calls):
    x = signed((4, 4))
    seed = np.random.default_rng(3).standard_normal((4, 4))
    kept = seed.copy()
    x.relu().backward(seed)
    np.testing.assert_array_equal(seed, kept)
    np.testing.assert_array_equal(x.grad.data, kept * (x.data > 0))


def test_a_gradient_also_given_to_a_leaf_is_not_overwritten(in_place_calls):
    # h + x sends one array to the leaf x and to the ReLU behind h.
    x = signed((3, 3))
    weights = np.random.default_rng(4).standard_normal((3, 3))
    ((x.relu() + x) * weights).sum().backward()
    assert not in_place_calls
    np.testing.assert_array_equal(x.grad.data, weights * (x.data > 0) + weights)


def test_gradients_collected_per_node_are_not_overwritten():
    x = signed((3, 5))
    h = x * 2.0
    y = h.relu()
    loss = (y * 3.0).sum()
    dh, dy = ag.grad(loss, [h, y])
    np.testing.assert_array_equal(dy.data, np.full((3, 5), 3.0))
    np.testing.assert_array_equal(dh.data, 3.0 * (h.data > 0))


def test_a_view_of_a_shared_base_is_not_overwritten(in_place_calls):
    # Reshape's rule hands back a view of its incoming gradient; the base is also the other input's.
    x = signed((2, 6))
    h = x.relu().reshape(3, 4)
    weights = np.random.default_rng(5).standard_normal((3, 4))
    ((h + h.relu()) * weights).sum().backward()
    expected = weights.reshape(2, 6) * (x.data > 0) + (weights * (h.data > 0)).reshape(2, 6) * (x.data > 0)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_create_graph_never_runs_in_place(in_place_calls):
    x = signed((4,))
    (gx,) = ag.grad((x.relu() * x).sum(), [x], create_graph=True)
    assert not in_place_calls
    np.testing.assert_allclose(gx.data, 2 * x.data * (x.data > 0))


def test_anomaly_mode_sees_the_gradient_it_checks(in_place_calls):
    x = signed((3, 3))
    with ag.detect_anomaly():
        (x.relu() * 2.0).sum().backward()
    assert not in_place_calls
    np.testing.assert_array_equal(x.grad.data, 2.0 * (x.data > 0))


def test_a_gradient_over_foreign_memory_is_left_alone():
    # A view whose base is not an ndarray (a bytearray here) is never taken for owned.
    from autograd.engine import _owned
    assert not _owned(np.frombuffer(bytearray(np.arange(6.0).tobytes()), dtype=np.float64))
    held = np.ones(6)
    assert not _owned(held.reshape(2, 3))  # a view of a base this test still holds
