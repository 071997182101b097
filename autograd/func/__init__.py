"""Functional transforms: grad, value_and_grad, vjp, jvp, jacobian (jacrev), hessian, hvp.

Functions of Tensors in, functions out, composable to any depth (``grad(grad(f))``),
as in JAX, HIPS autograd and torch.func; a thin layer on ``ag.grad`` with
``create_graph``. No transform touches any ``.grad``. Forward mode (``jvp``) is two
reverse passes (transforms.py says why).
"""
from .jacobians import hessian, jacobian, jacrev
from .transforms import grad, hvp, jvp, value_and_grad, vjp

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacrev", "hessian", "hvp"]
