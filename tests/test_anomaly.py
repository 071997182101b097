"""Anomaly mode names the first op that made NaN or Inf, its shapes and the user's line."""
import inspect

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def here() -> str:
    """'this_file:line' of the caller's next line."""
    frame = inspect.currentframe().f_back
    return f"{__file__}:{frame.f_lineno + 1}"


def test_forward_inf_names_the_op_the_shapes_and_the_line():
    x = Tensor(np.array([[1.0, 0.0, 2.0]]), requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(ag.AnomalyError) as info:
            line = here()
            (x * 2.0).log()
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert message.startswith("Log:") and "Inf" in message and "(1, 3)" in message
    assert line in message and "test_forward_inf_names_the_op_the_shapes_and_the_line" in message


def test_nan_only_in_backward_names_the_op_and_where_it_was_built():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        line = here()
        y = (x ** 0.5).sum()
        np.testing.assert_allclose(y.data, 2.0)  # the forward is fine
        with pytest.raises(ag.AnomalyError, match="Pow: backward") as info:
            y.backward()
    assert line in str(info.value) and "(2,)" in str(info.value)


def test_division_overflowing_only_in_backward():
    a, b = Tensor(np.array([1.0]), requires_grad=True), Tensor(np.array([1e-160]), requires_grad=True)
    with ag.detect_anomaly(), np.errstate(over="ignore"):
        y = (a / b).sum()
        assert np.isfinite(y.data).all()
        with pytest.raises(ag.AnomalyError, match="Div: backward produced Inf"):
            y.backward()


def test_graph_built_outside_anomaly_mode_still_names_the_op():
    x = Tensor([0.0], requires_grad=True)
    y = (x ** 0.5).sum()
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(ag.AnomalyError, match="Pow.*unknown line"):
            y.backward()


def test_only_the_first_culprit_is_named():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        bad = x.log()  # -inf, made outside anomaly mode
        with ag.detect_anomaly():
            out = (bad * 2.0 + 1.0).exp()  # non-finite inputs: not these ops' fault
    assert not np.isfinite((bad * 2.0).data).all() and out.data[0] == 0.0


def test_without_anomaly_mode_nothing_raises_and_the_mode_is_restored():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(ag.AnomalyError):
        with ag.detect_anomaly(), np.errstate(divide="ignore"):
            x.log()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = x.log().sum()
        y.backward()
    assert y.data == -np.inf and x.grad.data[0] == np.inf


def test_shapes_read_as_prose_without_doubled_parentheses():
    x = Tensor(np.array([[1.0, 0.0]]), requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(ag.AnomalyError) as one:
            x.log()
        with pytest.raises(ag.AnomalyError) as two:
            x / Tensor(np.zeros(2))
        y = (Tensor([0.0, 4.0], requires_grad=True) ** 0.5).sum()
        with pytest.raises(ag.AnomalyError) as backward:
            y.backward()
    assert "from a finite input of shape (1, 2);" in str(one.value)
    assert "from finite inputs of shapes (1, 2) and (2,);" in str(two.value)
    assert "for an input of shape (2,);" in str(backward.value)
    for info in (one, two, backward):
        assert "((" not in str(info.value)
