"""dagrad's engine: Tensors that record ops, and reverse-mode gradients over the graph.

Note: HIPS autograd is also imported as ``autograd``; install one of the two per
environment.
"""
from .anomaly import AnomalyError, detect_anomaly
from .dtypes import get_default_dtype, set_default_dtype
from .function import Function
from .functions import (as_tensor, broadcast_to, concatenate, exp, log, matmul, max, mean, relu, repeat,
                        reshape, sigmoid, stack, sum, tanh, transpose, where)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .gradients import grad
from .ops import (Add, BroadcastTo, Cast, Concatenate, Div, Exp, GetItem, Log, MatMul, Max, Mean, Mul, Neg, Pow,
                  ReLU, Repeat, Reshape, ScatterAdd, Sigmoid, Stack, Sub, Sum, Tanh, Transpose, Where)
from .ops import AvgPool2d, Conv2d, Fold, MaxPool2d, Unfold
from .tensor import Tensor

# Functional transforms (ag.func.grad, jacobian, ...) and gradient checkpointing (issue 13).
from . import func
from .checkpoint import checkpoint
# PyTorch's spellings (torch_methods.py, creation.py)
from .creation import arange, cat, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .functions import min
from .ops import Abs, Clamp, Min, Sqrt
# Issues 21 and 24: more of PyTorch's names (torch_shape_methods.py, ops/einsum.py, ops/cumulative.py)
from .creation import from_numpy
from .ops import Cumsum, Einsum
from .ops.einsum import einsum
from .torch_shape_methods import chunk, split, tril, triu


def make_dot(*roots, **options):
    """Draw the graph behind ``roots`` as a graphviz.Digraph (see autograd.viz.make_dot)."""
    from .viz import make_dot as draw
    return draw(*roots, **options)


__all__ = [
    "Tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
    "AnomalyError", "gradcheck", "gradgradcheck", "GradcheckError", "make_dot", "set_default_dtype",
    "get_default_dtype", "as_tensor", "exp", "log", "sigmoid", "tanh", "relu", "matmul", "sum", "mean",
    "max", "reshape", "transpose", "repeat", "broadcast_to", "concatenate", "stack", "where",
    "Add", "Cast", "Sub", "Neg", "Mul", "Div", "Pow", "Exp", "Log", "Sigmoid", "Tanh", "ReLU", "Where", "MatMul",
    "Sum", "Mean", "Max", "Reshape", "Transpose", "BroadcastTo", "GetItem", "ScatterAdd", "Concatenate",
    "Stack", "Repeat",
    "func", "checkpoint",
    # PyTorch's spellings (torch_methods.py, creation.py)
    "min", "Abs", "Sqrt", "Clamp", "Min", "tensor", "zeros", "ones", "full", "arange", "randn", "rand",
    "zeros_like", "ones_like", "cat", "manual_seed",
]
__all__ += ["Conv2d", "Unfold", "Fold", "MaxPool2d", "AvgPool2d"]
__all__ += ["from_numpy", "einsum", "split", "chunk", "tril", "triu", "Cumsum", "Einsum"]
