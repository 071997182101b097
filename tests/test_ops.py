"""Every op, table-driven: forward values against NumPy, gradients and second derivatives
against finite differences, and dtypes kept (float32 in, float32 out and float32 gradients).

``CASES`` is also the table of tests/test_torch_reference.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.ops.nn import Linear


@dataclass(frozen=True)
class Case:
    """One op applied to inputs of given shapes.

    ``domain`` has one letter per input: ``r`` any real (default), ``p`` positive, ``n``
    away from zero (for divisors, and ReLU whose kink gradcheck cannot straddle).
    ``ref`` computes the same on float64 ndarrays (default: ``fn`` itself, for expressions
    that NumPy arrays understand too); ``torch`` does it on torch tensors, given the
    module first (default: ``fn``).
    """

    name: str
    fn: Callable
    shapes: tuple
    domain: str = ""
    ref: Callable | None = None
    torch: Callable | None = None

    def arrays(self, dtype=np.float64) -> list:
        rng = np.random.default_rng(0)
        arrays = []
        for shape, kind in zip(self.shapes, self.domain.ljust(len(self.shapes), "r")):
            if kind == "r":
                a = rng.standard_normal(shape)
            else:
                a = rng.uniform(0.5, 2.0, shape)
                if kind == "n":
                    a *= rng.choice([-1.0, 1.0], shape)
            arrays.append(np.asarray(a, dtype=dtype))
        return arrays

    def tensors(self, dtype=np.float64) -> list:
        return [Tensor(a, requires_grad=True) for a in self.arrays(dtype)]


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


BROADCAST_PAIRS = [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ()), ((2, 3, 1), (3, 4)),
                   ((3,), (4, 3))]
BINARY = [
    ("add", lambda a, b: a + b, ""),
    ("sub", lambda a, b: a - b, ""),
    ("mul", lambda a, b: a * b, ""),
    ("div", lambda a, b: a / b, "rn"),
    ("pow", lambda a, b: a ** b, "pr"),   # a tensor exponent needs positive bases
]
CASES = [Case(f"{name}{sa}{sb}", fn, (sa, sb), domain) for name, fn, domain in BINARY
         for sa, sb in BROADCAST_PAIRS]

# Python and NumPy scalars on either side take the tensor's dtype (they never promote float32).
CASES += [
    Case("scalar_add", lambda x: x + 1, ((2, 3),)),
    Case("scalar_radd", lambda x: 1 + x, ((2, 3),)),
    Case("scalar_rsub", lambda x: 1 - x, ((2, 3),)),
    Case("scalar_sub", lambda x: x - 2.5, ((2, 3),)),
    Case("scalar_mul", lambda x: x * 0.5, ((2, 3),)),
    Case("scalar_rmul", lambda x: 2 * x, ((2, 3),)),
    Case("numpy_scalar_rmul", lambda x: np.float64(2.0) * x, ((2, 3),),
         torch=lambda torch, x: 2.0 * x),
    Case("scalar_div", lambda x: x / 3, ((2, 3),)),
    Case("scalar_rdiv", lambda x: 3 / x, ((2, 3),), "n"),
    Case("neg", lambda x: -x, ((2, 3),)),
    Case("pow_2", lambda x: x ** 2, ((2, 3),)),
    Case("pow_3", lambda x: x ** 3, ((2, 3),)),
    Case("pow_half", lambda x: x ** 0.5, ((2, 3),), "p"),
    Case("pow_minus_1", lambda x: x ** -1, ((2, 3),), "n"),
    Case("rpow", lambda x: 2 ** x, ((2, 3),)),
    Case("int_array_add", lambda x: np.arange(3) + x, ((2, 3),),
         torch=lambda torch, x: torch.arange(3) + x),
]

CASES += [
    Case("exp", lambda x: x.exp(), ((2, 3),), ref=np.exp),
    Case("log", lambda x: x.log(), ((2, 3),), "p", ref=np.log),
    Case("sigmoid", lambda x: x.sigmoid(), ((2, 3),), ref=_sigmoid),
    Case("tanh", lambda x: x.tanh(), ((2, 3),), ref=np.tanh),
    Case("relu", lambda x: x.relu(), ((2, 3),), "n", ref=lambda a: np.maximum(a, 0)),
    Case("ag_functions", lambda x: ag.exp(x) + ag.log(x) + ag.sigmoid(x) + ag.tanh(x) + ag.relu(x), ((4,),),
         "p", ref=lambda a: np.exp(a) + np.log(a) + _sigmoid(a) + np.tanh(a) + a,
         torch=lambda torch, x: x.exp() + x.log() + x.sigmoid() + x.tanh() + x.relu()),
    Case("numpy_ufuncs", lambda x: np.exp(x) + np.log(x) * np.tanh(x), ((4,),), "p",
         torch=lambda torch, x: x.exp() + x.log() * x.tanh()),
    Case("where", lambda a, b: ag.where(np.array([[True, False, True]]), a, b), ((2, 3), (2, 3)),
         ref=lambda a, b: np.where([[True, False, True]], a, b),
         torch=lambda torch, a, b: torch.where(torch.tensor([[True, False, True]]), a, b)),
    Case("where_broadcast", lambda a, b: ag.where(np.array([[True], [False], [True]]), a, b), ((1, 4), ()),
         ref=lambda a, b: np.where([[True], [False], [True]], a, b),
         torch=lambda torch, a, b: torch.where(torch.tensor([[True], [False], [True]]), a, b)),
]

MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]
CASES += [Case(f"matmul{sa}{sb}", lambda a, b: a @ b, (sa, sb)) for sa, sb in MATMUL_SHAPES]
CASES += [Case("ag_matmul", lambda a, b: ag.matmul(a, b), ((2, 3), (3,)), ref=np.matmul,
               torch=lambda torch, a, b: a @ b)]

REDUCE_AXES = [None, 0, -1, (0, 2), (1,), (-1, 0)]


def _reduction(method, axis, keepdims):
    def torch_reduce(torch, x):
        dims = tuple(range(x.ndim)) if axis is None else axis
        return getattr(x, "amax" if method == "max" else method)(dim=dims, keepdim=keepdims)

    return Case(f"{method}_axis{axis}_keepdims{keepdims}",
                lambda x: getattr(x, method)(axis=axis, keepdims=keepdims), ((2, 3, 4),), torch=torch_reduce)


CASES += [_reduction(method, axis, keepdims) for method in ("sum", "mean", "max") for axis in REDUCE_AXES
          for keepdims in (False, True)]
CASES += [
    Case("ag_sum", lambda x: ag.sum(x, axis=1), ((2, 3),), ref=lambda a: a.sum(axis=1),
         torch=lambda torch, x: x.sum(axis=1)),
    Case("ag_mean", lambda x: ag.mean(x), ((2, 3),), ref=np.mean, torch=lambda torch, x: x.mean()),
    Case("ag_max", lambda x: ag.max(x, axis=0, keepdims=True), ((2, 3),), ref=lambda a: a.max(0, keepdims=True),
         torch=lambda torch, x: x.amax(0, keepdim=True)),
]

_ROWS = np.array([3, 0, 3, 3])             # repeated indices: their gradients must add up
_MASK = np.array([[True, False, True, False, True]] * 2 + [[False] * 5] + [[True] * 5])
INDICES = [
    ("int", 1), ("negative_int", -1), ("slice", slice(1, 3)),
    ("column", (slice(None), 1)), ("none", None), ("ellipsis", (Ellipsis, 2)),
    ("none_ellipsis_negative", (None, Ellipsis, -1)), ("int_pair", (2, -3)),
    ("repeated_rows", _ROWS), ("repeated_list", [0, 0, 2]), ("int_array_2d", np.array([[0, 1], [1, 1]])),
    ("pairs", ([0, 2, 0], [1, 1, 1])), ("negative_array", np.array([-1, -1])),
    ("mask", _MASK), ("row_mask", np.array([True, False, True, True])),
    ("column_mask", (slice(None), np.array([True, False, True, False, True]))),
    ("slice_and_repeats", (slice(1, None), [0, 0, 3])), ("none_array_slice", (None, [1, 1], slice(2, None))),
    ("mask_and_slice", (np.array([True, False, True, True]), slice(1, 3))),
    ("array_ellipsis", ([3, 3], Ellipsis)),
]
CASES += [Case(f"getitem_{name}", lambda x, i=index: x[i], ((4, 5),)) for name, index in INDICES]
CASES += [Case("getitem_chained", lambda x: x[1:][:, [0, 0]][None], ((4, 5),)),
          Case("getitem_reversed_step", lambda x: x[::-2], ((4, 5),), torch=lambda torch, x: x.flip(0)[::2])]

CASES += [
    Case("reshape", lambda x: x.reshape(3, 2), ((2, 3),)),
    Case("reshape_tuple", lambda x: x.reshape((6, 1)), ((2, 3),)),
    Case("reshape_minus_1", lambda x: x.reshape(-1), ((2, 3),)),
    Case("ag_reshape", lambda x: ag.reshape(x, (3, 2)), ((2, 3),), ref=lambda a: a.reshape(3, 2),
         torch=lambda torch, x: x.reshape(3, 2)),
    Case("transpose", lambda x: x.transpose(), ((2, 3, 4),), torch=lambda torch, x: x.permute(2, 1, 0)),
    Case("transpose_axes", lambda x: x.transpose(1, 0, 2), ((2, 3, 4),), torch=lambda torch, x: x.permute(1, 0, 2)),
    Case("transpose_tuple", lambda x: x.transpose((2, 0, 1)), ((2, 3, 4),),
         torch=lambda torch, x: x.permute(2, 0, 1)),
    Case("transpose_negative_axes", lambda x: x.transpose(-1, 0, 1), ((2, 3, 4),),
         torch=lambda torch, x: x.permute(-1, 0, 1)),
    Case("ag_transpose", lambda x: ag.transpose(x, (1, 0, 2)), ((2, 3, 4),),
         ref=lambda a: a.transpose(1, 0, 2), torch=lambda torch, x: x.permute(1, 0, 2)),
    Case("T", lambda x: x.T, ((2, 3),)),
    Case("T_3d", lambda x: x.T, ((2, 3, 4),), torch=lambda torch, x: x.permute(2, 1, 0)),
    Case("swapaxes", lambda x: x.swapaxes(0, -1), ((2, 3, 4),)),
    Case("broadcast_to", lambda x: x.broadcast_to((2, 3)), ((3,),), ref=lambda a: np.broadcast_to(a, (2, 3))),
    Case("broadcast_to_middle", lambda x: x.broadcast_to((2, 3, 4)), ((3, 1),),
         ref=lambda a: np.broadcast_to(a, (2, 3, 4))),
    Case("ag_broadcast_to", lambda x: ag.broadcast_to(x, (4, 2, 3)), ((2, 1),),
         ref=lambda a: np.broadcast_to(a, (4, 2, 3)), torch=lambda torch, x: x.broadcast_to((4, 2, 3))),
]

_REPEATS = [("int", 2, None), ("int_axis0", 2, 0), ("int_axis_last", 3, -1), ("array_axis_last", [1, 0, 2], -1),
            ("array_axis0", np.array([2, 1]), 0), ("array_flat", np.arange(6) % 3, None),
            ("one_element_list", [2], 0)]
CASES += [Case(f"repeat_{name}", lambda x, r=repeats, a=axis: x.repeat(r, axis=a), ((2, 3),),
               torch=lambda torch, x, r=repeats, a=axis: x.repeat_interleave(
                   r if np.ndim(r) == 0 else torch.tensor(np.asarray(r)), dim=a))
          for name, repeats, axis in _REPEATS]
CASES += [Case("ag_repeat", lambda x: ag.repeat(x, 2, axis=1), ((2, 3),), ref=lambda a: a.repeat(2, axis=1),
               torch=lambda torch, x: x.repeat_interleave(2, dim=1))]


def _joined(name, join, np_join, shapes, axis):
    return Case(f"{name}_axis{axis}", lambda *xs: join(xs, axis=axis), shapes,
                ref=lambda *arrays: np_join(arrays, axis=axis),
                torch=lambda torch, *xs: getattr(torch, "cat" if name == "concatenate" else name)(xs, axis))


CASES += [
    _joined("concatenate", ag.concatenate, np.concatenate, ((2, 3), (1, 3)), 0),
    _joined("concatenate", ag.concatenate, np.concatenate, ((2, 3), (2, 1), (2, 2)), -1),
    _joined("stack", ag.stack, np.stack, ((2, 3), (2, 3), (2, 3)), 0),
    _joined("stack", ag.stack, np.stack, ((2, 3), (2, 3), (2, 3)), -1),
    Case("numpy_concatenate", lambda a, b: np.concatenate([a, a * b], axis=1), ((2, 3), (2, 3)),
         torch=lambda torch, a, b: torch.cat([a, a * b], 1)),
]

# Composites: an input used twice, broadcasting inside a chain, a small network.
CASES += [
    Case("square_by_mul", lambda x: x * x, ((3,),)),
    Case("diamond", lambda x: (np.exp(x) + np.tanh(x)) * x, ((2, 3),),
         torch=lambda torch, x: (x.exp() + x.tanh()) * x),
    Case("mlp", lambda x, w, b: ((x @ w + b).sigmoid() ** 2).sum(), ((4, 3), (3, 2), (2,)),
         ref=lambda x, w, b: (_sigmoid(x @ w + b) ** 2).sum()),
    Case("softmax", lambda x: np.exp(x - x.max(axis=-1, keepdims=True))
         / np.exp(x - x.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True), ((2, 3),),
         torch=lambda torch, x: x.softmax(-1)),
]


def _reference(case):
    return case.ref or case.fn


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request) -> Case:
    return request.param


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


def test_forward_matches_numpy(case):
    out = case.fn(*case.tensors())
    assert isinstance(out, Tensor)
    expected = np.asarray(_reference(case)(*case.arrays()))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def test_gradcheck(case):
    assert ag.gradcheck(case.fn, case.tensors()) is True


def test_gradgradcheck(case):
    assert ag.gradgradcheck(case.fn, case.tensors()) is True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_by_values_rules_and_gradients(case, dtype):
    xs = case.tensors(dtype)
    out = case.fn(*xs)
    assert out.dtype == dtype
    rule = out.op.backward(np.ones(out.shape, dtype))  # the last op's own rule, before the engine casts
    for g in rule if isinstance(rule, tuple) else (rule,):
        assert g is None or g.dtype == dtype
    out.backward(np.ones(out.shape))
    for x in xs:
        assert x.grad.dtype == dtype and x.grad.shape == x.shape
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, _reference(case)(*case.arrays()), rtol=tolerance, atol=tolerance)


def test_create_graph_keeps_float32_and_the_graph(case):
    def first_gradients(dtype):
        xs = case.tensors(dtype)
        out = case.fn(*xs)
        return ag.grad(out, xs, grad_outputs=np.ones(out.shape), create_graph=True)

    for g32, g64 in zip(first_gradients(np.float32), first_gradients(np.float64)):
        assert g32.dtype == np.float32 and g64.dtype == np.float64
        assert g32.requires_grad == g64.requires_grad  # a cast on the way must not cut the graph


def test_ops_record_a_node_named_after_them():
    a, b = Case("", None, ((2, 3), (3, 4))).tensors()
    for expression, name in [(a + 1, "Add"), (a - 1, "Sub"), (-a, "Neg"), (a * 2, "Mul"), (a / 2, "Div"),
                             (a ** 2, "Pow"), (a @ b, "MatMul"), (a.exp(), "Exp"), (a.sigmoid(), "Sigmoid"),
                             (a.sum(), "Sum"), (a.mean(), "Mean"), (a.max(), "Max"), (a.relu(), "ReLU"),
                             (a.repeat(2), "Repeat"), (a.T, "Transpose"), (a[0], "GetItem"),
                             (a.reshape(6), "Reshape"), (a.broadcast_to((4, 2, 3)), "BroadcastTo"),
                             (ag.stack([a, a]), "Stack"), (ag.concatenate([a, a]), "Concatenate"),
                             (ag.where(a.data > 0, a, 0.0), "Where")]:
        assert type(expression.op).__name__ == name
        assert type(expression.op) is getattr(ag, name)
    assert (a @ b).op.inputs[0] is a and (a @ b).op.inputs[1] is b


@pytest.mark.parametrize("values, axis, expected", [
    ([1.0, 3.0, 3.0], None, [0.0, 0.5, 0.5]),
    ([2.0, 2.0, 2.0, 2.0], None, [0.25] * 4),
    ([[1.0, 5.0], [5.0, 5.0]], 0, [[0.0, 0.5], [1.0, 0.5]]),
    ([[1.0, 5.0], [5.0, 5.0]], 1, [[0.0, 1.0], [0.5, 0.5]]),
])
def test_max_ties_share_the_gradient_evenly(values, axis, expected):
    x = Tensor(values, requires_grad=True)
    x.max(axis=axis).sum().backward()
    np.testing.assert_allclose(x.grad.data, expected)
    assert x.grad.dtype == np.float32


def test_getitem_repeated_indices_accumulate():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[[0, 2, 2, 2, -1]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 3, 1])


def test_repeat_array_repeats_gradient_counts_the_copies():
    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.repeat([3, 0, 1], axis=-1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 0, 1]])


@pytest.mark.parametrize("copies", [1, 1000])  # small arrays are clipped, large ones overflow quietly
def test_sigmoid_is_finite_and_saturates_without_overflow(copies):
    for dtype in (np.float32, np.float64):
        x = Tensor(np.tile(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype), copies), requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = x.sigmoid()
            y.sum().backward()
        assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
        np.testing.assert_allclose(y.data[[0, 2, 4]], [0.0, 0.5, 1.0], atol=1e-6)


def test_relu_gradient_is_zero_at_and_below_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0, 1])


def test_pow_tensor_exponent_gradient_is_zero_for_nonpositive_base():
    base = Tensor([0.0, 2.0], requires_grad=True)
    exponent = Tensor([2.0, 3.0], requires_grad=True)
    (base ** exponent).sum().backward()
    np.testing.assert_allclose(exponent.grad.data, [0.0, 8 * np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(base.grad.data, [0.0, 12.0])


@pytest.mark.parametrize("make, error, words", [
    (lambda a, b: a @ b, ValueError, ["MatMul: shapes (4, 3) and (2, 5) do not align"]),
    (lambda a, b: a @ b.reshape(1, 2, 5).broadcast_to((3, 2, 5)).reshape(3, 5, 2), ValueError,
     ["MatMul", "(4, 3)", "(3, 5, 2)"]),
    (lambda a, b: a.reshape(5, 5), ValueError, ["Reshape", "(4, 3)", "(5, 5)"]),
    (lambda a, b: a.broadcast_to((4, 4)), ValueError, ["BroadcastTo", "(4, 3)", "(4, 4)"]),
    (lambda a, b: a.transpose(1, 0, 2), ValueError, ["Transpose", "(4, 3)"]),
    (lambda a, b: ag.concatenate([a, b]), ValueError, ["Concatenate", "(4, 3)", "(2, 5)"]),
    (lambda a, b: ag.stack([a, b]), ValueError, ["Stack", "(4, 3)", "(2, 5)"]),
    (lambda a, b: a.repeat([1, 2], axis=0), ValueError, ["Repeat", "(4, 3)"]),
    (lambda a, b: a[7], IndexError, ["GetItem", "(4, 3)"]),
    (lambda a, b: a[np.array([0.5])], TypeError, ["GetItem", "float"]),
    (lambda a, b: a[b], TypeError, ["GetItem", "Tensor"]),
    (lambda a, b: a.sum(axis=2), ValueError, ["axis 2", "2 dimensions"]),
    (lambda a, b: a + b, ValueError, ["(4, 3)", "(2, 5)"]),
])
def test_errors_name_the_op_and_the_shapes(make, error, words):
    a, b = Tensor(np.ones((4, 3)), requires_grad=True), Tensor(np.ones((2, 5)), requires_grad=True)
    with pytest.raises(error) as info:
        make(a, b)
    for word in words:
        assert word in str(info.value)


def test_pow_zero_exponent_has_zero_gradient_even_at_zero():
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_concatenate_refuses_axis_none_clearly():
    with pytest.raises(ValueError, match="Concatenate: axis=None"):
        ag.concatenate([Tensor([1.0]), Tensor([2.0])], axis=None)



@pytest.mark.parametrize("order", ["C", "F"])  # nn.Linear keeps its weight column-major
@pytest.mark.parametrize("x_shape, w_shape", [((1, 7), (5, 7)), ((6, 1), (4, 1)), ((1, 1), (3, 1))])
def test_linear_outer_products_take_the_right_gradients(x_shape, w_shape, order):
    # a batch of one, or one input feature: products whose shared axis has length 1 go to np.dot
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = Tensor(np.asarray(rng.standard_normal(w_shape), order=order), requires_grad=True)
    b = Tensor(rng.standard_normal(w_shape[:1]), requires_grad=True)
    assert ag.gradcheck(lambda *t: Linear.apply(*t), [x, w, b])


def test_matmul_outer_product_takes_the_right_gradients():
    rng = np.random.default_rng(0)
    a, b = (Tensor(rng.standard_normal(s), requires_grad=True) for s in ((5, 1), (1, 3)))
    assert ag.gradcheck(lambda p, q: p @ q, [a, b])
    assert ag.gradgradcheck(lambda p, q: p @ q, [a, b])
