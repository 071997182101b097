"""jacobian (jacrev) and hessian: whole derivative matrices, one reverse pass per output element."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..grad_mode import enable_grad
from ..ops.shape import Stack
from ..tensor import Tensor
from . import core


def jacobian(f: Callable, argnums=0) -> Callable:
    """The Jacobian of ``f`` as a function, in reverse mode (one backward pass per output element).

    The result's shape is the output's shape followed by the argument's, as
    torch.func.jacrev: a scalar function of a vector gives a vector, a matrix function
    of a matrix a 4-axis array. A tuple ``argnums`` gives a tuple of Jacobians; an ``f``
    returning a tuple of Tensors gives a tuple (over outputs) of them.
    """
    return _jacobian(f, argnums, "jacobian")


jacrev = jacobian


def hessian(f: Callable, argnums=0) -> Callable:
    """The Hessian of a scalar ``f`` as a function: the Jacobian of its gradient (shape: x's twice).

    A tuple ``argnums`` gives the blocks ``H[i][j]`` = d2f / dx_i dx_j as a tuple of tuples.
    """
    return _jacobian(_jacobian(f, argnums, "hessian"), argnums, "hessian")


def _jacobian(f: Callable, argnums, name: str) -> Callable:
    core.check_argnums(argnums, name)

    def jacobian_f(*args):
        with enable_grad():
            result, inputs = core.call_with_variables(f, args, argnums, name)
            outs = core.tensor_outputs(result, name)
            keep = core.depends_on_outside(outs, inputs)
            blocks = [_rows(out, inputs, keep) for out in outs]
        blocks = [tuple(b) if isinstance(argnums, tuple) else b[0] for b in blocks]
        return blocks[0] if isinstance(result, Tensor) else tuple(blocks)

    return jacobian_f


def _rows(out: Tensor, inputs, keep: bool) -> list:
    """d out / d x for each input x, of shape out.shape + x.shape: one vjp per element of ``out``."""
    rows = []
    for i in range(out.size):
        basis = np.zeros(out.size, dtype=out.dtype)
        basis[i] = 1.0
        rows.append(core.gradients([out], inputs, [basis.reshape(out.shape)], create_graph=keep,
                                   retain_graph=True))
    blocks = []
    for k, x in enumerate(inputs):
        shape = out.shape + x.shape
        if not rows:
            blocks.append(Tensor._result(np.zeros(shape, dtype=x.dtype), None))
        elif keep:
            blocks.append(Stack.apply(*[row[k] for row in rows], axis=0).reshape(shape))
        else:
            blocks.append(Tensor._result(np.stack([row[k].data for row in rows]).reshape(shape), None))
    return blocks
