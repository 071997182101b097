"""gradcheck and gradgradcheck catch wrong rules and say where."""
import re

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


class WrongDouble(ag.Function):
    """2a, with the wrong gradient 3."""

    def forward(self, a):
        return a * 2

    def backward(self, grad):
        return grad * 3


class DetachedSquare(ag.Function):
    """a**2 whose first derivative is right but computed on plain arrays, so not differentiable."""

    def forward(self, a):
        self.save(a)
        return a * a

    def backward(self, grad):
        (a,) = self.saved
        return grad * (2 * np.asarray(a))


def tensors(*shapes, requires_grad=True):
    rng = np.random.default_rng(0)
    return [Tensor(rng.standard_normal(shape), requires_grad=requires_grad) for shape in shapes]


def test_gradcheck_passes_a_right_rule_and_returns_true():
    assert ag.gradcheck(lambda a, b: (a @ b).tanh(), tensors((2, 3), (3, 2))) is True


def test_gradcheck_names_input_index_and_both_values():
    a, b = tensors((2, 2), (2, 3))
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda a, b: a.sum() * b + WrongDouble.apply(b), [a, b])
    message = str(info.value)
    assert "input 1" in message and "(2, 3)" in message
    assert "at (0, 0)" in message
    analytic, numerical = map(float, re.search(r"analytic (\S+) vs numerical (\S+)", message).groups())
    assert analytic != pytest.approx(numerical)
    assert isinstance(info.value, AssertionError)


def test_gradcheck_of_a_scalar_output_compares_exact_values():
    (x,) = tensors((2,))
    with pytest.raises(ag.GradcheckError, match=r"analytic 3 vs numerical 2"):
        ag.gradcheck(lambda x: WrongDouble.apply(x).sum(), [x])


def test_gradcheck_of_a_large_input_uses_random_directions():
    (x,) = tensors((30, 30))
    assert ag.gradcheck(lambda x: x.sigmoid(), [x])
    with pytest.raises(ag.GradcheckError, match="direction 0"):
        ag.gradcheck(lambda x: WrongDouble.apply(x), [x])


def test_gradcheck_checks_only_the_marked_inputs():
    (a,) = tensors((2,))
    (b,) = tensors((2,), requires_grad=False)
    assert ag.gradcheck(lambda a, b: a * WrongDouble.apply(b), [a, b])
    with pytest.raises(ag.GradcheckError, match="input 1"):
        ag.gradcheck(lambda a, b: a * WrongDouble.apply(b), [Tensor(a.data), Tensor(b.data)])  # none marked: all


def test_gradcheck_works_in_float64_and_leaves_the_inputs_alone():
    x = Tensor(np.array([0.5, 1.5, -2.0], dtype=np.float32), requires_grad=True)
    before = x.data.copy()
    assert ag.gradcheck(lambda x: (x * 3.0).exp(), [x], atol=1e-7, rtol=1e-6)
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, before)


def test_gradcheck_accepts_non_contiguous_inputs_and_constants():
    x = Tensor(np.asfortranarray(np.random.default_rng(1).standard_normal((3, 4))), requires_grad=True)
    weights = np.arange(12.0).reshape(3, 4)
    assert ag.gradcheck(lambda x, w: x * x * w, [x, weights])
    assert ag.gradcheck(lambda x: x.T @ x, [Tensor(x.data.T, requires_grad=True)])


def test_gradcheck_needs_a_tensor_result():
    with pytest.raises(TypeError, match="must return a Tensor"):
        ag.gradcheck(lambda x: 1.0, tensors((2,)))


def test_gradgradcheck_catches_a_rule_that_is_not_differentiable():
    (x,) = tensors((3,))
    assert ag.gradcheck(lambda x: DetachedSquare.apply(x), [x])  # first derivatives are right
    with pytest.raises(ag.GradcheckError):
        ag.gradgradcheck(lambda x: DetachedSquare.apply(x), [x])
    assert ag.gradgradcheck(lambda x: x * x, [x]) is True


def test_gradgradcheck_of_a_linear_function_passes():
    a, b = tensors((2, 3), (3,))
    assert ag.gradgradcheck(lambda a, b: a + b * 2.0, [a, b])
