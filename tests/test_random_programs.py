"""Random programs: chains of 2 to 6 ops from a table of every op, on random shapes (0-d,
empty and size-1 axes, broadcasting partners) and memory layouts (transposed, reversed,
strided, Fortran order), their values and gradients checked against finite differences and
PyTorch (see program_checks.py). Hypothesis shrinks a failure to its smallest program.
The budget is the hypothesis profile of conftest.py."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import autograd as ag  # noqa: E402
from nn import functional as F  # noqa: E402
from program_checks import check_program, small_blocks, torch  # noqa: E402

# ---- shapes, values and layouts ----

shapes = st.lists(st.sampled_from([0, 1, 1, 2, 3, 4]), min_size=0, max_size=3).map(tuple)


def values(data, shape, away_from_zero=False) -> np.ndarray:
    """Distinct-ish values in [-2, 2] (in [0.5, 2] in size with ``away_from_zero``) from a drawn seed."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    if away_from_zero:
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(-2.0, 2.0, shape)


def _fortran(a):
    return np.asfortranarray(a)


def _transposed(a):
    return np.ascontiguousarray(a.T).T


def _reversed(a):
    return a[::-1].copy()[::-1]


def _strided(a):
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


LAYOUTS = {"C": None, "F": _fortran, "transposed": _transposed, "reversed": _reversed, "strided": _strided}


def broadcast_partner(data, shape: tuple) -> tuple:
    """A shape that broadcasts with ``shape``: a suffix of it, some axes made 1, maybe one more axis."""
    keep = data.draw(st.integers(0, len(shape)), label="partner axes")
    partner = [n if data.draw(st.booleans()) else 1 for n in shape[len(shape) - keep:]]
    if keep == len(shape) and data.draw(st.booleans(), label="partner has an extra leading axis"):
        partner = [data.draw(st.sampled_from([1, 2]))] + partner
    return tuple(partner)


# ---- the op table: name -> (applies(h), draw(data, h, arrays) -> params, run(lib, h, leaves, params)) ----

def _always(h):
    return True


def _no_params(data, h, arrays):
    return None


def _positive(h):
    return h.size == 0 or h.min() > 0.1


def _moderate(h):
    return h.size == 0 or np.abs(h).max() < 6


def _has_axes(h):
    return h.ndim > 0


def _partner(data, h, arrays, away_from_zero=False):
    shape = broadcast_partner(data, h.shape)
    arrays.append(values(data, shape, away_from_zero))
    return len(arrays) - 1


def _axis(data, h, label="axis"):
    """An axis of h (negative or not); for 0-d, 0 or -1, which PyTorch accepts."""
    n = max(h.ndim, 1)
    return data.draw(st.integers(-n, n - 1), label=label)


def _reduce_params(data, h, arrays, nonempty=False):
    choice = data.draw(st.sampled_from(["all", "one", "several"]), label="axes")
    axis = None
    if choice == "one" or (choice == "several" and h.ndim < 2):
        axis = _axis(data, h)
    elif choice == "several":
        axis = tuple(sorted(data.draw(st.sets(st.integers(0, h.ndim - 1), min_size=1), label="axes")))
    return axis, data.draw(st.booleans(), label="keepdims")


def _torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _reduction(name):
    def run(lib, h, leaves, params):
        axis, keepdims = params
        if lib is ag:
            return getattr(h, name)(axis=axis, keepdims=keepdims)
        if name in ("max", "min"):
            fn = torch.amax if name == "max" else torch.amin
            return fn(h, dim=_torch_dims(axis, h.ndim), keepdim=keepdims)
        if axis is None:
            out = getattr(h, name)()
            return out.reshape((1,) * h.ndim) if keepdims else out
        return getattr(h, name)(dim=axis, keepdim=keepdims)
    return run


def _max_params(data, h, arrays):
    axis, keepdims = _reduce_params(data, h, arrays)
    shape = h.shape or (1,)
    axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    if any(shape[a] == 0 for a in axes):   # PyTorch raises too: test_empty_extremum_raises
        axis = tuple(i for i in range(h.ndim) if h.shape[i] != 0)  # _maxable: there is one
    return axis, keepdims


def _maxable(h):
    return h.size > 0 or any(n > 0 for n in h.shape)


def _reshape_params(data, h, arrays):
    kind = data.draw(st.sampled_from(["flat", "reversed", "unit", "-1"]), label="reshape")
    if kind == "flat":
        return (h.size,)
    if kind == "reversed":
        return h.shape[::-1]
    if kind == "unit":
        at = data.draw(st.integers(0, h.ndim), label="at")
        return h.shape[:at] + (1,) + h.shape[at:]
    return (-1,) + h.shape[1:] if h.ndim and np.prod(h.shape[1:]) else (h.size,)  # else -1 is ambiguous


def _permutation(data, h, arrays):
    return tuple(data.draw(st.permutations(range(h.ndim)), label="axes"))


def _index_params(data, h, arrays):
    axis = data.draw(st.integers(0, h.ndim - 1), label="axis")
    n = h.shape[axis]
    kind = data.draw(st.sampled_from(["int", "slice", "reverse", "array"] if n else ["slice", "reverse", "array"]),
                     label="index")
    if kind == "int":
        return axis, kind, data.draw(st.integers(-n, n - 1))
    if kind == "slice":
        start = data.draw(st.integers(0, n))
        return axis, kind, (start, data.draw(st.integers(start, n)), data.draw(st.integers(1, 2)))
    if kind == "reverse":
        return axis, kind, None
    return axis, kind, data.draw(st.lists(st.integers(0, n - 1), max_size=4) if n else st.just([]))


def _index(lib, h, leaves, params):
    axis, kind, arg = params
    before = (slice(None),) * axis
    if kind == "int":
        return h[before + (arg,)]
    if kind == "slice":
        return h[before + (slice(*arg),)]
    if kind == "reverse":
        return h[before + (slice(None, None, -1),)] if lib is ag else h.flip(axis)
    index = np.array(arg, dtype=np.int64)
    return h[before + ((index,) if lib is ag else (torch.from_numpy(index),))]


def _join_params(data, h, arrays):
    axis = data.draw(st.integers(-h.ndim - 1, h.ndim), label="axis")
    return axis, data.draw(st.booleans(), label="with a new leaf")


def _concatenate_params(data, h, arrays):
    axis = data.draw(st.integers(0, h.ndim - 1), label="axis")
    shape = list(h.shape)
    shape[axis] = data.draw(st.integers(0, 2), label="partner length")
    arrays.append(values(data, tuple(shape)))
    return axis, len(arrays) - 1


def _concatenate(lib, h, leaves, params):
    axis, i = params
    join = ag.concatenate if lib is ag else torch.cat
    return join([h, leaves[i], h], axis)


def _stack(lib, h, leaves, params):
    axis, fresh = params
    if h.ndim == 0 or not fresh:
        other = h * 2.0
    else:
        other = h.exp() if lib is ag else h.exp()
    return (ag.stack if lib is ag else torch.stack)([h, other], axis)


def _softmax(name):
    def run(lib, h, leaves, axis):
        return getattr(h, name)(dim=axis)
    return run


def _where_params(data, h, arrays):
    i = _partner(data, h, arrays)
    shape = np.broadcast_shapes(h.shape, arrays[i].shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="mask seed"))
    return i, np.asarray(rng.random(shape) < 0.5)


def _where(lib, h, leaves, params):
    i, mask = params
    return ag.where(mask, h, leaves[i]) if lib is ag else torch.where(torch.from_numpy(mask), h, leaves[i])


def _clamp_params(data, h, arrays):
    low = data.draw(st.one_of(st.none(), st.sampled_from([-1.0, -0.5, 0.25])), label="min")
    high = data.draw(st.one_of(st.none(), st.sampled_from([0.5, 1.0, 1.5])), label="max")
    return (low, 1.0) if low is None and high is None else (low, high)


def _matmul_params(data, h, arrays):
    shape = (h.shape[-1], data.draw(st.integers(0, 3), label="columns"))
    if data.draw(st.booleans(), label="vector"):
        shape = shape[:1]
    arrays.append(values(data, shape))
    return len(arrays) - 1


def _repeat_params(data, h, arrays):
    return data.draw(st.integers(0, 2), label="repeats"), data.draw(st.integers(0, h.ndim - 1), label="axis")


def _repeat(lib, h, leaves, params):
    repeats, axis = params
    return h.repeat(repeats, axis=axis) if lib is ag else h.repeat_interleave(repeats, dim=axis)


def _broadcast_params(data, h, arrays):
    shape = tuple(data.draw(st.sampled_from([n, 2]), label="size") if n == 1 else n for n in h.shape)
    return (data.draw(st.sampled_from([1, 2, 0]), label="leading"),) + shape


def _broadcast(lib, h, leaves, shape):
    return h.broadcast_to(shape) if lib is ag else h.expand(shape)


def _leaky_relu(lib, h, leaves, params):
    if lib is ag:
        return F.leaky_relu(h, 0.1)
    return torch.nn.functional.leaky_relu(h, 0.1)


def _binary(fn, away_from_zero=False):
    def draw(data, h, arrays):
        itself = not away_from_zero or h.size == 0 or np.abs(h).min() > 0.1
        if itself and data.draw(st.booleans(), label="with itself"):
            return None
        return _partner(data, h, arrays, away_from_zero)

    def run(lib, h, leaves, i):
        return fn(h, h if i is None else leaves[i])
    return draw, run


_DIV = _binary(lambda a, b: a / b, away_from_zero=True)

OPS = {
    "neg": (_always, _no_params, lambda lib, h, leaves, p: -h),
    "exp": (_moderate, _no_params, lambda lib, h, leaves, p: h.exp()),
    "log": (_positive, _no_params, lambda lib, h, leaves, p: h.log()),
    "sqrt": (_positive, _no_params, lambda lib, h, leaves, p: h.sqrt()),
    "tanh": (_always, _no_params, lambda lib, h, leaves, p: h.tanh()),
    "sigmoid": (_always, _no_params, lambda lib, h, leaves, p: h.sigmoid()),
    "relu": (_always, _no_params, lambda lib, h, leaves, p: h.relu()),
    "leaky_relu": (_always, _no_params, _leaky_relu),
    "abs": (_always, _no_params, lambda lib, h, leaves, p: h.abs()),
    "clamp": (_always, _clamp_params, lambda lib, h, leaves, p: h.clamp(min=p[0], max=p[1])),
    "square": (_always, _no_params, lambda lib, h, leaves, p: h ** 2),
    "cube": (_moderate, _no_params, lambda lib, h, leaves, p: h ** 3),
    "pow_half": (_positive, _no_params, lambda lib, h, leaves, p: h ** 0.5),
    "pow_zero": (_always, _no_params, lambda lib, h, leaves, p: h ** 0),
    "reciprocal": (_positive, _no_params, lambda lib, h, leaves, p: 1.0 / h),
    "rsub": (_always, _no_params, lambda lib, h, leaves, p: 2.0 - h),
    "add": (_always, *_binary(lambda a, b: a + b)),
    "sub": (_always, *_binary(lambda a, b: a - b)),
    "mul": (_always, *_binary(lambda a, b: a * b)),
    "div": (_always, _DIV[0], _DIV[1]),
    "pow": (_positive, lambda data, h, arrays: _partner(data, h, arrays),
            lambda lib, h, leaves, i: h ** leaves[i]),
    "sum": (_always, _reduce_params, _reduction("sum")),
    "mean": (_always, _reduce_params, _reduction("mean")),
    "max": (_maxable, _max_params, _reduction("max")),
    "min": (_maxable, _max_params, _reduction("min")),
    "reshape": (_always, _reshape_params, lambda lib, h, leaves, shape: h.reshape(shape)),
    "transpose": (_always, _permutation,
                  lambda lib, h, leaves, axes: h.transpose(axes) if lib is ag else h.permute(axes)),
    "index": (_has_axes, _index_params, _index),
    "concatenate": (_has_axes, _concatenate_params, _concatenate),
    "stack": (_moderate, _join_params, _stack),
    "softmax": (_always, lambda data, h, arrays: _axis(data, h), _softmax("softmax")),
    "log_softmax": (_always, lambda data, h, arrays: _axis(data, h), _softmax("log_softmax")),
    "where": (_always, _where_params, _where),
    "matmul": (_has_axes, _matmul_params, lambda lib, h, leaves, i: h @ leaves[i]),
    "repeat": (_has_axes, _repeat_params, _repeat),
    "broadcast_to": (_always, _broadcast_params, _broadcast),
}


def _program(steps):
    def run(lib, leaves):
        h = leaves[0]
        for name, params in steps:
            h = OPS[name][2](lib, h, leaves, params)
        return h
    return run


def _value(run, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return run(ag, [ag.Tensor(a) for a in arrays]).numpy()


def draw_program(data, names=tuple(OPS)):
    """(run, arrays, views): a chain of 2 to 6 ops from ``names`` on a drawn input and its partners."""
    shape = data.draw(shapes, label="input shape")
    arrays = [values(data, shape)]
    steps = []
    for _ in range(data.draw(st.integers(2, 6), label="length")):
        h = _value(_program(steps), arrays)
        if h.size > 64:
            break
        name = data.draw(st.sampled_from([n for n in names if OPS[n][0](h)]), label="op")
        steps.append((name, OPS[name][1](data, h, arrays)))
    views = [LAYOUTS[data.draw(st.sampled_from(sorted(LAYOUTS)), label="layout")] for _ in arrays]
    return _program(steps), arrays, views


@given(st.data())
def test_random_programs(data):
    run, arrays, views = draw_program(data)
    check_program(run, arrays, views)


@given(st.data())
def test_random_programs_of_activations_and_reductions(data):
    """The in-place rules (ReLU, the reductions, softmax) most of all: fewer ops, more of each,
    and the pieces of ReLU's backward tiny."""
    run, arrays, views = draw_program(data, ("relu", "exp", "sum", "mean", "max", "softmax", "log_softmax",
                                             "sub", "mul", "index", "transpose", "reshape"))
    with small_blocks():  # ReLU's backward a few numbers a piece, as on large arrays
        check_program(run, arrays, views)


_SPECIAL_OPS = ("neg", "tanh", "sigmoid", "relu", "leaky_relu", "abs", "clamp", "square", "rsub", "add", "sub",
                "mul", "sum", "mean", "max", "min", "reshape", "transpose", "index", "softmax", "log_softmax",
                "where", "concatenate", "exp")


def _with_specials(data, arrays, specials) -> None:
    x = arrays[0]
    if x.size:
        flat = x.reshape(-1)
        for i in data.draw(st.lists(st.integers(0, x.size - 1), min_size=1, max_size=3), label="where"):
            flat[i] = data.draw(st.sampled_from(specials), label="special")


@given(st.data())
def test_nan_gives_pytorchs_result(data):
    """A NaN in the input: PyTorch's values and gradients, and no RuntimeWarning."""
    if torch is None:
        pytest.skip("needs PyTorch as the reference")
    run, arrays, views = draw_program(data, _SPECIAL_OPS)
    _with_specials(data, arrays, [np.nan])
    check_program(run, arrays, views, finite_differences=False)


@given(st.data())
def test_infinities_give_pytorchs_result(data):
    """An infinity in the input: PyTorch's values and gradients. NumPy may warn where IEEE
    arithmetic makes a NaN of it (inf - inf in a sum, inf * 0 in a product's gradient), once
    per place by Python's default filter; the ops' own steps (softmax's shift, the ties of a
    maximum) do not."""
    if torch is None:
        pytest.skip("needs PyTorch as the reference")
    run, arrays, views = draw_program(data, _SPECIAL_OPS)
    _with_specials(data, arrays, [np.inf, -np.inf])
    check_program(run, arrays, views, finite_differences=False, quiet=False)


@pytest.mark.parametrize("shape, axis", [((0,), None), ((2, 0), 1), ((0, 3), 0), ((0,), 0)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_empty_extremum_raises(shape, axis, name):
    with pytest.raises(ValueError, match=f"{name.capitalize()}: .*{shape}"):
        getattr(ag.Tensor(np.zeros(shape)), name)(axis=axis)


@given(st.data())
def test_fused_losses_and_linear(data):
    """nn.functional's fused losses (over batches of 0, 1 and more, each reduction, label
    smoothing, class or probability targets) and linear, behind a layout of the input."""
    kind = data.draw(st.sampled_from(["cross_entropy", "bce", "bce_with_logits", "linear"]), label="loss")
    n = data.draw(st.sampled_from([0, 1, 3]), label="batch")
    classes = data.draw(st.integers(1, 4), label="classes")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    arrays = [values(data, (n, classes))]
    rng = np.random.default_rng(data.draw(st.integers(0, 99), label="target seed"))
    if kind == "cross_entropy":
        smoothing = data.draw(st.sampled_from([0.0, 0.2]), label="label_smoothing")
        if data.draw(st.booleans(), label="class indices"):
            labels = rng.integers(0, classes, n)
        else:
            arrays.append(rng.dirichlet(np.ones(classes), n).reshape(n, classes))

        def run(lib, leaves):
            target = leaves[1] if len(leaves) > 1 else (labels if lib is ag else torch.from_numpy(labels))
            functional = F if lib is ag else torch.nn.functional
            return functional.cross_entropy(leaves[0], target, reduction=reduction, label_smoothing=smoothing)
    elif kind == "linear":
        arrays += [values(data, (2, classes)), values(data, (2,))]

        def run(lib, leaves):
            return (F.linear if lib is ag else torch.nn.functional.linear)(*leaves)
    else:
        arrays.append(rng.random((n, classes)))
        if kind == "bce":
            arrays[0] = 0.05 + 0.9 * rng.random((n, classes))

        def run(lib, leaves):
            functional = F if lib is ag else torch.nn.functional
            loss = functional.binary_cross_entropy if kind == "bce" else functional.binary_cross_entropy_with_logits
            return loss(*leaves, reduction=reduction)
    views = [LAYOUTS[data.draw(st.sampled_from(sorted(LAYOUTS)), label="layout")]] + [None] * (len(arrays) - 1)
    check_program(run, arrays, views)
