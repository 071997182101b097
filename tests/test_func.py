"""ag.func: every transform against central finite differences (float64), closed forms, and
torch.func when PyTorch is installed; nesting, graphs kept or not, no .grad touched, errors."""
import re

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd import func

rng = np.random.default_rng(0)
X = rng.standard_normal(4)
Y = rng.standard_normal(4)
M = rng.standard_normal((2, 3))
A = rng.standard_normal((3, 3))


# Written with methods and operators only, so the same code runs on dagrad's and torch's tensors.
def scalar_f(x):
    return (x.tanh() * x * x).sum()


def two_args(x, y):
    return ((x * y).sigmoid() + x * x * y).sum()


def vector_f(x):
    return x.tanh() * x.sum()


def matrix_f(m):
    return (m @ Tensor(A)).tanh() if isinstance(m, Tensor) else (m @ _torch().tensor(A)).tanh()


def _torch():
    import torch
    return torch


def numeric_jacobian(f, x, eps=1e-6):
    """d f / d x by central differences: shape f's output + x's, from plain float64 evaluations."""
    x = np.array(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        plus = f(Tensor(x + step.reshape(x.shape))).data
        minus = f(Tensor(x - step.reshape(x.shape))).data
        columns.append((plus - minus) / (2 * eps))
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def close(value, expected, tol=1e-6):
    np.testing.assert_allclose(np.asarray(value.data if isinstance(value, Tensor) else value),
                               expected, rtol=tol, atol=tol)


# ---- against finite differences ----

def test_grad_matches_finite_differences():
    g = func.grad(scalar_f)(X)
    assert isinstance(g, Tensor) and g.shape == X.shape and g.dtype == np.float64
    close(g, numeric_jacobian(scalar_f, X))


def test_grad_with_a_tuple_of_argnums_gives_a_tuple():
    gx, gy = func.grad(two_args, argnums=(0, 1))(X, Y)
    close(gx, numeric_jacobian(lambda x: two_args(x, Tensor(Y)), X))
    close(gy, numeric_jacobian(lambda y: two_args(Tensor(X), y), Y))
    gy_only = func.grad(two_args, argnums=1)(X, Y)
    close(gy_only, gy.data, 1e-12)
    close(func.grad(two_args, argnums=-1)(X, Y), gy.data, 1e-12)


def test_value_and_grad_with_aux():
    def f(x):
        out = scalar_f(x)
        return out, {"twice": out * 2, "note": "passed through"}

    (value, aux), g = func.value_and_grad(f, has_aux=True)(X)
    close(value, scalar_f(Tensor(X)).data, 1e-12)
    close(aux["twice"], 2 * value.data, 1e-12)
    assert aux["note"] == "passed through"
    assert not value.requires_grad and not aux["twice"].requires_grad  # plain at the top level
    close(g, numeric_jacobian(scalar_f, X))
    g2, aux2 = func.grad(f, has_aux=True)(X)
    close(g2, g.data, 1e-12)
    assert set(aux2) == {"twice", "note"}


def test_vjp_matches_the_transposed_jacobian():
    cotangent = rng.standard_normal(4)
    out, vjp_fn = func.vjp(vector_f, X)
    close(out, vector_f(Tensor(X)).data, 1e-12)
    (g,) = vjp_fn(cotangent)
    close(g, cotangent @ numeric_jacobian(vector_f, X))
    (again,) = vjp_fn(Tensor(cotangent))  # may be called again: the graph is kept
    close(again, g.data, 1e-12)


def test_vjp_of_a_function_with_two_outputs_and_two_arguments():
    (a, b), vjp_fn = func.vjp(lambda x, y: (x * y, (x * x).sum()), X, Y)
    gx, gy = vjp_fn((np.ones(4), np.array(2.0)))
    close(gx, Y + 4 * X, 1e-12)
    close(gy, X, 1e-12)


def test_jvp_matches_the_jacobian_times_the_tangent():
    tangent = rng.standard_normal(4)
    out, product = func.jvp(vector_f, (X,), (tangent,))
    close(out, vector_f(Tensor(X)).data, 1e-12)
    close(product, numeric_jacobian(vector_f, X) @ tangent)
    out, product = func.jvp(two_args, (X, Y), (tangent, np.ones(4)))
    expected = numeric_jacobian(lambda x: two_args(x, Tensor(Y)), X) @ tangent + numeric_jacobian(
        lambda y: two_args(Tensor(X), y), Y) @ np.ones(4)
    close(product, expected)


@pytest.mark.parametrize("f, x, shape", [
    (lambda s: s * Tensor(np.arange(1.0, 4.0)), np.array(0.7), (3,)),  # scalar -> vector
    (vector_f, X, (4, 4)),                                              # vector -> vector
    (scalar_f, X, (4,)),                                                # vector -> scalar
    (matrix_f, M, (2, 3, 2, 3)),                                        # matrix -> matrix
], ids=["scalar->vector", "vector->vector", "vector->scalar", "matrix->matrix"])
def test_jacobian_has_the_output_shape_then_the_input_shape(f, x, shape):
    J = func.jacobian(f)(x)
    assert J.shape == shape
    close(J, numeric_jacobian(f, x))
    assert func.jacrev is func.jacobian


def test_jacobian_of_several_arguments_and_outputs():
    (jx, jy), (kx, ky) = func.jacobian(lambda x, y: (x * y, (x * y).sum()), argnums=(0, 1))(X, Y)
    close(jx, np.diag(Y), 1e-12)
    close(jy, np.diag(X), 1e-12)
    close(kx, Y, 1e-12)
    close(ky, X, 1e-12)


def test_hessian_of_a_small_function():
    def f(x):  # x0^2 x1 + sin-free closed form: H = [[2 x1, 2 x0], [2 x0, 6 x1]]
        return x[0] * x[0] * x[1] + x[1] ** 3

    x = np.array([0.5, -1.5])
    H = func.hessian(f)(x)
    close(H, [[2 * x[1], 2 * x[0]], [2 * x[0], 6 * x[1]]], 1e-12)
    close(func.hessian(scalar_f)(X), numeric_jacobian(func.grad(scalar_f), X))


def test_hessian_blocks_for_a_tuple_of_argnums():
    (hxx, hxy), (hyx, hyy) = func.hessian(two_args, argnums=(0, 1))(X, Y)
    grad_x = func.grad(two_args, argnums=0)
    close(hxx, numeric_jacobian(lambda x: grad_x(x, Tensor(Y)), X))
    close(hxy, numeric_jacobian(lambda y: grad_x(Tensor(X), y), Y))
    close(hyx, np.asarray(hxy.data).T, 1e-10)
    assert hyy.shape == (4, 4)


def test_hvp_is_the_hessian_times_the_vector():
    v = rng.standard_normal(4)
    value, product = func.hvp(scalar_f, (X,), (v,))
    close(value, scalar_f(Tensor(X)).data, 1e-12)
    close(product[0], func.hessian(scalar_f)(X).data @ v, 1e-10)
    _, single = func.hvp(scalar_f, X, v)
    close(single, product[0].data, 1e-12)


# ---- higher orders and nesting ----

def test_third_derivative_of_tanh_matches_the_closed_form():
    d1 = func.grad(lambda x: x.tanh())
    d2, d3 = func.grad(d1), func.grad(func.grad(d1))
    for x in (-2.0, -0.3, 0.0, 0.8, 1.7):
        t = np.tanh(x)
        close(d1(np.array(x)), 1 - t * t, 1e-12)
        close(d2(np.array(x)), -2 * t * (1 - t * t), 1e-12)
        close(d3(np.array(x)), (1 - t * t) * (6 * t * t - 2), 1e-12)


def test_elementwise_third_derivative_over_a_vector():
    d = lambda g: func.grad(lambda x: g(x).sum())  # noqa: E731 (elementwise: the sum's gradient)
    d3 = d(d(d(lambda x: x.tanh())))
    t = np.tanh(X)
    close(d3(X), (1 - t * t) * (6 * t * t - 2), 1e-12)


def test_nested_transforms_keep_their_variables_apart():
    # d/dx [ d/dy (x * y) at y = x ] = d/dx [x] = 1 (a shared variable would give 2)
    close(func.grad(lambda x: func.grad(lambda y: x * y)(x))(np.array(3.0)), 1.0, 1e-12)


def test_forward_over_reverse_and_vjp_inside_grad_compose():
    v = rng.standard_normal(4)
    _, hv = func.hvp(scalar_f, X, v)
    _, jvp_of_grad = func.jvp(func.grad(scalar_f), X, v)  # jvp of a gradient: H v again
    close(jvp_of_grad, hv.data, 1e-10)

    def through_vjp(x):
        _, vjp_fn = func.vjp(vector_f, x)
        return (vjp_fn(np.ones(4))[0] ** 2).sum()

    close(func.grad(through_vjp)(X), numeric_jacobian(through_vjp, X))


def test_top_level_results_are_plain_unless_they_depend_on_outside_tensors():
    g = func.grad(scalar_f)(X)
    assert not g.requires_grad and g.op is None
    w = Tensor(np.array(1.5), requires_grad=True)
    penalty = func.grad(lambda x: (w * x * x).sum())(X)  # 2 w x: depends on the captured w
    assert penalty.requires_grad
    (penalty * penalty).sum().backward()  # d/dw of sum (2 w x)^2 = 8 w sum x^2
    close(w.grad, 8 * 1.5 * (X * X).sum(), 1e-12)


def test_no_transform_touches_any_grad():
    x = Tensor(X.copy(), requires_grad=True)
    w = Tensor(np.array(2.0), requires_grad=True)
    f = lambda x: (w * x.tanh()).sum()  # noqa: E731
    func.grad(f)(x)
    func.value_and_grad(f)(x)
    func.vjp(lambda x: w * x, x)[1](np.ones(4))
    func.jvp(f, (x,), (np.ones(4),))
    func.jacobian(f)(x)
    func.hessian(f)(x)
    func.hvp(f, (x,), (np.ones(4),))
    assert x.grad is None and w.grad is None


def test_arguments_may_be_tensors_arrays_or_numbers_and_dtypes_are_kept():
    assert func.grad(lambda x: x * x)(3.0).dtype == ag.get_default_dtype()
    assert func.grad(scalar_f)(X.astype(np.float32)).dtype == np.float32
    close(func.grad(scalar_f)(Tensor(X)), func.grad(scalar_f)(X).data, 0)
    assert func.grad(lambda x, labels: (x * labels).sum())(X, np.arange(4)).shape == (4,)


def test_a_function_that_ignores_its_argument_has_zero_gradient():
    close(func.grad(lambda x: Tensor(np.array(1.0)))(X), np.zeros(4), 0)
    close(func.jacobian(lambda x, y: Tensor(y) * 2.0)(X, Y), np.zeros((4, 4)), 0)


def test_transforms_work_under_no_grad():
    with ag.no_grad():
        close(func.grad(scalar_f)(X), numeric_jacobian(scalar_f, X))


def test_checkpoint_inside_a_transform():
    w = Tensor(A, requires_grad=False)
    block = lambda m: (m @ w).tanh()  # noqa: E731
    plain = func.hessian(lambda m: block(block(m)).sum())(M)
    checkpointed = func.hessian(lambda m: ag.checkpoint(block, ag.checkpoint(block, m)).sum())(M)
    close(checkpointed, plain.data, 1e-12)


def test_make_dot_draws_the_graph_of_a_second_derivative():
    x = Tensor(np.array(0.5), requires_grad=True, name="x")
    second = func.grad(func.grad(lambda x: x.tanh()))(x)
    assert second.requires_grad  # x requires grad, so the result keeps its graph
    ops = re.findall(r'op\d+ \[label="?(\w+)', ag.make_dot(second).source)
    assert {"Tanh", "Mul", "Sub", "Identity"} <= set(ops)
    assert ops.count("Tanh") == 1  # one forward node, reused by every derivative
    first = func.grad(lambda x: x.tanh())(x)
    assert len(re.findall(r"op\d+ \[", ag.make_dot(first).source)) < len(ops)


# ---- errors ----

def test_grad_of_a_non_scalar_output_says_use_jacobian_or_vjp():
    with pytest.raises(ValueError, match=r"one-element.*shape \(4,\).*jacobian.*vjp"):
        func.grad(vector_f)(X)


def test_argnums_out_of_range_or_of_the_wrong_type():
    with pytest.raises(IndexError, match=r"argnums=2 is out of range.*2 positional arguments"):
        func.grad(two_args, argnums=2)(X, Y)
    with pytest.raises(IndexError, match="argnums"):
        func.jacobian(vector_f, argnums=(0, 1))(X)
    with pytest.raises(TypeError, match="argnums must be an int"):
        func.grad(scalar_f, argnums=[0])
    with pytest.raises(ValueError, match="twice"):
        func.grad(two_args, argnums=(0, 0))(X, Y)


def test_a_function_returning_a_non_tensor():
    with pytest.raises(TypeError, match="f must return a Tensor, got float"):
        func.grad(lambda x: 1.0)(X)
    with pytest.raises(TypeError, match="f must return a Tensor, got ndarray"):
        func.jacobian(lambda x: np.tanh(x.data))(X)
    with pytest.raises(TypeError, match=r"has_aux=True.*pair \(output, aux\), got Tensor"):
        func.grad(scalar_f, has_aux=True)(X)
    with pytest.raises(TypeError, match="must return a Tensor"):
        func.vjp(lambda x: [x, 3], X)


def test_shapes_of_tangents_and_cotangents_are_checked():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\) but must have shape \(4,\)"):
        func.jvp(vector_f, (X,), (np.ones(3),))
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        func.hvp(scalar_f, (X,), (X, X))
    _, vjp_fn = func.vjp(vector_f, X)
    with pytest.raises(ValueError, match="cotangent 0 has shape"):
        vjp_fn(np.ones(2))


# ---- PyTorch's torch.func as a second reference ----

@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    return torch


def as_torch(torch, *arrays):
    return tuple(torch.tensor(a) for a in arrays)


def same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t)
        return
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_grad_and_value_and_grad_match_torch(torch):
    same(func.grad(scalar_f)(X), torch.func.grad(scalar_f)(*as_torch(torch, X)))
    same(func.grad(two_args, argnums=(0, 1))(X, Y), torch.func.grad(two_args, argnums=(0, 1))(*as_torch(torch, X, Y)))
    aux_f = lambda x: (scalar_f(x), x * 2)  # noqa: E731
    (value, aux), g = func.value_and_grad(aux_f, has_aux=True)(X)
    g_t, (value_t, aux_t) = torch.func.grad_and_value(aux_f, has_aux=True)(*as_torch(torch, X))
    same([value, aux, g], [value_t, aux_t, g_t])


def test_vjp_and_jvp_match_torch(torch):
    c, v = rng.standard_normal(4), rng.standard_normal(4)
    out, vjp_fn = func.vjp(vector_f, X)
    out_t, vjp_t = torch.func.vjp(vector_f, *as_torch(torch, X))
    same([out, vjp_fn(c)], [out_t, vjp_t(torch.tensor(c))])
    same(func.jvp(two_args, (X, Y), (v, c)), torch.func.jvp(two_args, as_torch(torch, X, Y), as_torch(torch, v, c)))


def test_jacobian_hessian_and_hvp_match_torch(torch):
    same(func.jacrev(vector_f)(X), torch.func.jacrev(vector_f)(*as_torch(torch, X)))
    same(func.jacobian(matrix_f)(M), torch.func.jacrev(matrix_f)(*as_torch(torch, M)))
    same(func.hessian(scalar_f)(X), torch.func.hessian(scalar_f)(*as_torch(torch, X)))
    same(func.hessian(two_args, argnums=(0, 1))(X, Y),
         torch.func.hessian(two_args, argnums=(0, 1))(*as_torch(torch, X, Y)))
    v = rng.standard_normal(4)
    _, hv = func.hvp(scalar_f, (X,), (v,))
    _, hv_t = torch.func.jvp(torch.func.grad(scalar_f), as_torch(torch, X), as_torch(torch, v))
    same(hv[0], hv_t)


def test_several_outputs_and_nesting_match_torch(torch):
    f = lambda x, y: (x * y.tanh(), (x * x * y).sum())  # noqa: E731
    same(func.jacobian(f, argnums=(0, 1))(X, Y), torch.func.jacrev(f, argnums=(0, 1))(*as_torch(torch, X, Y)))
    nested = lambda x: func.grad(lambda y: (x * y * y).sum())(x)  # 2 x y at y = x: diag(4 x)  # noqa: E731
    nested_t = lambda x: torch.func.grad(lambda y: (x * y * y).sum())(x)  # noqa: E731
    same(func.jacobian(nested)(X), torch.func.jacrev(nested_t)(*as_torch(torch, X)))


def test_third_derivative_of_tanh_matches_torch(torch):
    d3 = func.grad(func.grad(func.grad(lambda x: x.tanh())))
    d3_t = torch.func.grad(torch.func.grad(torch.func.grad(lambda x: x.tanh())))
    for x in (-1.2, 0.4):
        same(d3(np.array(x)), d3_t(torch.tensor(x, dtype=torch.float64)))
