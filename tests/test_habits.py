"""PyTorch's spellings (API.md "PyTorch habits"): each name works, gradients are right, and
the choices at kinks and where NumPy and PyTorch disagree are the documented ones.

``HABITS`` runs through test_ops.py's table tests (values against NumPy, gradcheck,
gradgradcheck, dtypes kept); tests/test_habits_torch.py runs it against PyTorch.
"""
from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.torch_methods import TorchMethods, ValuesIndices
from nn import functional as F
from test_ops import (Case, test_create_graph_keeps_float32_and_the_graph,  # noqa: F401 (collected here too)
                      test_dtype_is_kept_by_values_rules_and_gradients, test_forward_matches_numpy, test_gradcheck,
                      test_gradgradcheck)

rng = np.random.default_rng(0)


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


HABITS = [
    Case("abs", lambda x: x.abs(), ((2, 3),), "n", ref=np.abs),
    Case("abs_builtin", lambda x: abs(x), ((2, 3),), "n", ref=np.abs),
    Case("sqrt", lambda x: x.sqrt(), ((2, 3),), "p", ref=np.sqrt),
    Case("pow_method", lambda x: x.pow(3), ((2, 3),), ref=lambda a: a ** 3),
    Case("pow_method_tensor", lambda x, p: x.pow(p), ((2, 3), (3,)), "pr", ref=lambda a, p: a ** p),
    Case("clamp", lambda x: x.clamp(-0.3, 0.5), ((3, 4),), ref=lambda a: np.clip(a, -0.3, 0.5)),
    Case("clamp_min", lambda x: x.clamp(min=0.2), ((3, 4),), ref=lambda a: np.maximum(a, 0.2)),
    Case("clamp_max", lambda x: x.clamp(max=0.2), ((3, 4),), ref=lambda a: np.minimum(a, 0.2)),
    Case("clip", lambda x: x.clip(-0.5, 0.5), ((3, 4),), ref=lambda a: np.clip(a, -0.5, 0.5)),
    Case("min_all", lambda x: x.min(), ((3, 4),), ref=np.min),
    Case("min_axis", lambda x: x.min(1), ((3, 4),), ref=lambda a: a.min(1),
         torch=lambda torch, x: x.amin(1)),
    Case("min_dim", lambda x: x.min(dim=0).values, ((3, 4),), ref=lambda a: a.min(0)),
    Case("max_dim_keepdim", lambda x: x.max(dim=1, keepdim=True).values, ((3, 4),),
         ref=lambda a: a.max(1, keepdims=True)),
    Case("max_dim_negative", lambda x: x.max(dim=-1)[0], ((2, 3, 4),), ref=lambda a: a.max(-1)),
    Case("sum_dim_tuple", lambda x: x.sum(dim=(0, 2), keepdim=True), ((2, 3, 4),),
         ref=lambda a: a.sum((0, 2), keepdims=True)),
    Case("mean_dim", lambda x: x.mean(dim=-1), ((2, 3, 4),), ref=lambda a: a.mean(-1)),
    Case("max_all", lambda x: x.max(), ((3, 4),), ref=np.max),
    Case("softmax_dim", lambda x: x.softmax(dim=0), ((3, 4),), ref=lambda a: _softmax(a, 0)),
    Case("log_softmax_dim", lambda x: x.log_softmax(dim=1), ((3, 4),), ref=lambda a: np.log(_softmax(a, 1))),
    Case("F_softmax_dim", lambda x: F.softmax(x, dim=1), ((3, 4),), ref=lambda a: _softmax(a, 1),
         torch=lambda torch, x: torch.nn.functional.softmax(x, dim=1)),
    Case("F_log_softmax_dim", lambda x: F.log_softmax(x, dim=0), ((3, 4),), ref=lambda a: np.log(_softmax(a, 0)),
         torch=lambda torch, x: torch.nn.functional.log_softmax(x, dim=0)),
    Case("view", lambda x: x.view(3, 2), ((2, 3),), ref=lambda a: a.reshape(3, 2)),
    Case("view_flat", lambda x: x.view(-1), ((2, 3),), ref=lambda a: a.reshape(-1)),
    Case("unsqueeze", lambda x: x.unsqueeze(1), ((2, 3),), ref=lambda a: np.expand_dims(a, 1)),
    Case("unsqueeze_last", lambda x: x.unsqueeze(-1), ((2, 3),), ref=lambda a: np.expand_dims(a, -1)),
    Case("squeeze_all", lambda x: x.squeeze(), ((2, 1, 3, 1),), ref=np.squeeze),
    Case("squeeze_dim", lambda x: x.squeeze(1), ((2, 1, 3, 1),), ref=lambda a: a.squeeze(1)),
    Case("squeeze_dims", lambda x: x.squeeze((1, -1)), ((2, 1, 3, 1),), ref=lambda a: a.squeeze((1, 3))),
    Case("squeeze_not_one", lambda x: x.squeeze(0), ((2, 1, 3),), ref=lambda a: a),
    Case("t", lambda x: x.t(), ((2, 3),), ref=lambda a: a.T),
    Case("t_vector", lambda x: x.t(), ((3,),), ref=lambda a: a),
    Case("clone", lambda x: x.clone() * x, ((2, 3),), ref=lambda a: a * a),
    Case("numpy_calls", lambda x: np.abs(x) * np.sqrt(x) + np.min(x) + np.clip(x, 0.7, 1.5), ((2, 3),), "p",
         torch=lambda torch, x: x.abs() * x.sqrt() + x.min() + x.clip(0.7, 1.5)),
]


@pytest.fixture(params=HABITS, ids=[c.name for c in HABITS])
def case(request) -> Case:
    return request.param


def test_habit_names_are_unique():
    assert len({c.name for c in HABITS}) == len(HABITS)


# ---- dim / keepdim ----
def test_dim_and_keepdim_equal_axis_and_keepdims():
    x = Tensor(rng.standard_normal((2, 3, 4)))
    for method in ("sum", "mean", "max", "min"):
        numpy_form = getattr(x, method)(axis=1, keepdims=True)
        torch_form = getattr(x, method)(dim=1, keepdim=True)
        torch_values = torch_form.values if isinstance(torch_form, ValuesIndices) else torch_form
        np.testing.assert_array_equal(numpy_form.data, torch_values.data)
    np.testing.assert_array_equal(x.sum(dim=(0, 2)).data, x.sum(axis=(0, 2)).data)
    np.testing.assert_array_equal(x.mean(keepdim=True).data, x.mean(keepdims=True).data)
    np.testing.assert_array_equal(x.softmax(dim=1).data, x.softmax(1).data)
    np.testing.assert_array_equal(F.log_softmax(x, dim=0).data, F.log_softmax(x, 0).data)
    np.testing.assert_array_equal(x.argmax(dim=2, keepdim=True), x.argmax(axis=2, keepdims=True))
    np.testing.assert_array_equal(ag.sum(x, dim=1).data, x.sum(1).data)
    np.testing.assert_array_equal(ag.mean(x, dim=1, keepdim=True).data, x.mean(1, keepdims=True).data)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=0, dim=0), lambda x: x.mean(keepdims=True, keepdim=True), lambda x: x.max(1, dim=1),
    lambda x: x.min(axis=0, dim=1), lambda x: x.argmax(axis=0, dim=0), lambda x: x.argmin(0, dim=0),
    lambda x: x.softmax(0, dim=0), lambda x: F.log_softmax(x, 1, dim=1), lambda x: ag.cat([x, x], 0, axis=0),
])
def test_both_spellings_at_once_is_a_type_error(call):
    with pytest.raises(TypeError, match="not both"):
        call(Tensor(np.ones((2, 3))))


def test_max_and_min_with_dim_give_pytorchs_values_and_indices():
    """Positional and axis= keep NumPy's meaning (the values); dim= gives PyTorch's pair."""
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = x.max(dim=1)
    assert isinstance(x.max(1), Tensor) and isinstance(x.max(axis=1), Tensor)
    np.testing.assert_array_equal(values.data, [3.0, 2.0])
    np.testing.assert_array_equal(indices, [1, 0])   # the first of tied maxima, as NumPy and PyTorch
    assert indices.dtype.kind == "i" and x.max(dim=1).values is not None
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])   # the indexed element only
    x.grad = None
    x.max(1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0.5], [0.5, 0.5, 0]])   # ties share (NumPy form)
    kept = x.min(dim=0, keepdim=True)
    assert kept.values.shape == (1, 3) and kept.indices.shape == (1, 3)
    np.testing.assert_array_equal(kept.indices, [[0, 1, 1]])
    assert ag.max(x, dim=0).indices.tolist() == [1, 0, 0] and ag.min(x, dim=1).indices.tolist() == [0, 2]
    with pytest.raises(TypeError, match="one axis"):
        x.max(dim=(0, 1))


def test_argmax_and_argmin_are_integer_arrays_without_gradient():
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for ours, numpy in ((x.argmax(1), x.data.argmax(1)), (x.argmin(), x.data.argmin()),
                        (x.argmax(dim=0), x.data.argmax(0)), (x.argmin(-1, keepdims=True), x.data.argmin(-1)[:, None])):
        assert type(ours) is np.ndarray and ours.dtype.kind == "i"
        np.testing.assert_array_equal(ours, numpy)
    with pytest.raises(ValueError, match="out of range"):
        x.argmax(2)
    with pytest.raises(TypeError, match="one axis"):
        x.argmax(dim=(0, 1))


# ---- kinks: PyTorch's subgradients ----
def gradient(fn, values):
    x = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


def test_subgradients_at_the_kinks_are_pytorchs():
    assert gradient(lambda x: x.abs(), [-1.0, 0.0, 2.0]).tolist() == [-1.0, 0.0, 1.0]
    assert gradient(lambda x: x.clamp(0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0]).tolist() == [0, 1, 1, 1, 0]
    assert gradient(lambda x: x.clamp(min=1.0), [0.0, 1.0, 2.0]).tolist() == [0, 1, 1]
    assert gradient(lambda x: x.clamp(max=1.0), [0.0, 1.0, 2.0]).tolist() == [1, 1, 0]
    with np.errstate(divide="ignore"):
        assert gradient(lambda x: x.sqrt(), [0.0, 4.0]).tolist() == [np.inf, 0.25]
    assert gradient(lambda x: x.min(), [1.0, 1.0, 2.0]).tolist() == [0.5, 0.5, 0.0]


def test_clamp_needs_a_bound_and_keeps_the_dtype():
    x = Tensor(np.array([-2.0, 0.5, 3.0], dtype=np.float32))
    assert x.clamp(0, 1).dtype == np.float32 and x.clip(0, 1).dtype == np.float32
    np.testing.assert_array_equal(x.clamp(0, 1).data, np.array([0, 0.5, 1], np.float32))
    with pytest.raises(ValueError, match="at least one"):
        x.clamp()


# ---- shape methods ----
def test_shape_methods_check_their_arguments():
    x = Tensor(np.zeros((2, 3)))
    assert x.view((3, 2)).shape == (3, 2) and x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-3).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="unsqueeze: dim 3"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match="squeeze: dim 2"):
        x.squeeze(2)
    with pytest.raises(ValueError, match="at most 2"):
        Tensor(np.zeros((2, 3, 4))).t()
    assert Tensor(np.zeros(())).squeeze().shape == () and Tensor(np.zeros((1, 1))).squeeze(0).shape == (1,)


def test_clone_copies_and_stays_in_the_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and y.op is not None
    y.data[0] = 5.0
    assert x.data[0] == 1.0
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 2, 2])


# ---- flags and in-place ----
def test_requires_grad_returns_the_tensor_and_only_leaves_turn_it_off():
    x = Tensor(np.ones(2))
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    y = x.requires_grad_() * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y


def test_zero_clears_a_gradient_in_place():
    x = Tensor(np.ones(3), requires_grad=True)
    (x * 3).sum().backward()
    grad = x.grad
    assert grad.zero_() is grad and x.grad is grad
    np.testing.assert_array_equal(x.grad.data, [0, 0, 0])
    (x * 3).sum().backward()   # accumulates onto the zeros
    np.testing.assert_array_equal(x.grad.data, [3, 3, 3])
    scalar = nn.Parameter(np.array(2.0))
    (scalar * 3.0).backward()
    assert float(scalar.grad.zero_().data) == 0.0   # also when the engine left a NumPy scalar


def test_zero_refuses_tensors_that_require_grad_outside_no_grad():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.zero_()
    with ag.no_grad():
        assert w.zero_().data.tolist() == [0, 0]
    with pytest.raises(RuntimeError):
        (w * 2).zero_()


def test_every_pytorch_method_has_a_short_docstring():
    for name, value in vars(TorchMethods).items():
        if callable(value) and not name.startswith("_"):
            assert value.__doc__ and len(value.__doc__.strip().splitlines()[0]) <= 100, name


# ---- creation ----
def test_creation_functions_shapes_dtypes_and_flags():
    for make in (ag.zeros, ag.ones, ag.randn, ag.rand):
        a, b = make(2, 3), make((2, 3), dtype=np.float64, requires_grad=True)
        assert a.shape == b.shape == (2, 3) and a.dtype == np.float32 and b.dtype == np.float64
        assert not a.requires_grad and b.requires_grad and a.op is None
    assert ag.zeros(2, 3).data.sum() == 0 and ag.ones([4]).data.sum() == 4
    np.testing.assert_array_equal(ag.full((2, 2), 7.0).data, np.full((2, 2), 7.0, np.float32))
    assert ag.full(3, 1.5).shape == (3,)
    np.testing.assert_array_equal(ag.arange(4).data, [0, 1, 2, 3])
    assert ag.arange(4).dtype == np.float32
    assert ag.arange(1, 2, 0.25, dtype=np.float64).data.tolist() == [1, 1.25, 1.5, 1.75]
    u = ag.rand(1000, dtype=np.float64).data
    assert 0 <= u.min() and u.max() < 1
    ag.set_default_dtype(np.float64)
    assert ag.zeros(1).dtype == np.float64 and ag.tensor([1, 2]).dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        ag.zeros(2, dtype=np.int64)


def test_tensor_copies_and_like_functions_follow_their_argument():
    data = np.arange(3.0)
    t = ag.tensor(data, requires_grad=True)
    data[0] = 9.0
    assert t.data[0] == 0.0 and t.requires_grad and t.dtype == np.float64
    assert ag.tensor([1, 2]).dtype == np.float32 and ag.tensor(data, dtype=np.float32).dtype == np.float32
    assert ag.tensor(t).data is not t.data and ag.tensor(3.0).shape == ()
    like = ag.zeros_like(t)
    assert like.shape == (3,) and like.dtype == np.float64 and not like.requires_grad
    assert ag.ones_like(np.zeros((2, 2), np.int64)).dtype == np.float32
    assert ag.ones_like(t, dtype=np.float32, requires_grad=True).requires_grad


def test_cat_is_concatenate_with_dim():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.zeros((1, 3)))
    out = ag.cat([a, b])
    assert out.shape == (3, 3) and type(out.op).__name__ == "Concatenate"
    assert ag.cat([a, a], dim=1).shape == (2, 6) and ag.cat([a, a], axis=-1).shape == (2, 6)
    ag.cat([a, b], 0).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 3)))


def test_manual_seed_is_one_generator_for_the_engine_and_nn():
    ag.manual_seed(3)
    first = ag.randn(4).data
    nn.manual_seed(3)
    assert np.array_equal(ag.randn(4).data, first)
    ag.manual_seed(5)
    w = nn.init.normal_(np.empty(3))
    nn.manual_seed(5)
    assert np.array_equal(nn.init.normal_(np.empty(3)), w)
    assert nn.manual_seed is ag.manual_seed and nn.init.default_rng() is ag.random.default_rng()
    assert np.array_equal(ag.randn(2, rng=np.random.default_rng(1)).data,
                          np.random.default_rng(1).standard_normal(2, dtype=np.float32))
