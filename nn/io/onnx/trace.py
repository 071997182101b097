"""Tracing for export: a recorded forward pass in eval mode, and the axes that follow the batch.

The input is a fresh Tensor that requires grad, so every op that depends on it is
recorded; ops on constants alone run then and give constants (folded). Which axes of
each op's output follow the batch size is seen, not guessed: the model is traced a
second time on one more example (the first row repeated), and the axes whose length
changed are the batch's. A constant whose shape changed (``np.zeros(x.shape)`` made
outside the graph), or an op's array attribute that did (the condition of
``where(x > 0, ...)``: comparisons are not recorded), is refused.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor
from autograd.grad_mode import enable_grad


def example_tensor(model, example_input) -> Tensor:
    """A fresh input Tensor that requires grad, in the model's dtype (integer pixels too)."""
    data = example_input.data if isinstance(example_input, Tensor) else np.asarray(example_input)
    dtype = next((p.dtype for p in model.parameters()), None)
    if dtype is not None and data.dtype != dtype and data.dtype.kind in "fiub":
        data = data.astype(dtype)
    return Tensor(data, requires_grad=True, name="input")


def trace(model, x: Tensor) -> list:
    """The model's outputs on ``x`` (a list of Tensors), recorded in eval mode; every
    module's mode is restored after."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with enable_grad():
            out = model(x)
    finally:
        for module, mode in modes:
            module.training = mode
    roots = list(out) if isinstance(out, (list, tuple)) else [out]
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError(f"export_onnx: the model must return a Tensor or a tuple of Tensors, "
                        f"got {type(out).__name__}")
    return roots


def ops_behind(roots) -> list:
    """The recorded nodes the roots depend on, in creation order (inputs before users)."""
    found, stack = {}, [t.op for t in roots if t.op is not None]
    while stack:
        fn = stack.pop()
        if id(fn) not in found:
            found[id(fn)] = fn
            stack.extend(t.op for t in fn.inputs if t.op is not None and id(t.op) not in found)
    return sorted(found.values(), key=lambda fn: fn.seq)


def batch_axes(model, x: Tensor, ops: list, refuse) -> dict:
    """id(fn) -> (the axes of fn's output that follow the batch, its shape at one more example).

    ``refuse(fn, what)`` makes the ValueError for an op that cannot follow the batch.
    """
    bigger = example_tensor(model, np.concatenate([x.data, x.data[:1]]))
    others = ops_behind(trace(model, bigger))
    if [type(fn) for fn in others] != [type(fn) for fn in ops]:
        raise ValueError(f"export_onnx: the model records other ops at batch size {len(x.data) + 1} than at "
                         f"{len(x.data)}, so no one graph serves every batch size; export with "
                         "dynamic_batch=False; nothing was written")
    axes = {}
    for fn, other in zip(ops, others):
        for t, u in zip(fn.inputs, other.inputs):
            if t.op is None and t is not x and t.shape != u.shape:
                raise refuse(fn, f"its input of shape {t.shape} is a constant whose shape follows the batch "
                                 "(made from the input's shape outside the graph); make it from the input with "
                                 "recorded ops, or export with dynamic_batch=False")
        for name, value in fn.attributes().items():
            other_value = other.attributes().get(name)
            if isinstance(value, np.ndarray) and np.shape(value) != np.shape(other_value):
                raise refuse(fn, f"its {name} (an array of shape {value.shape}) follows the batch: it was made "
                                 "from the input (a comparison such as x > 0 is not a recorded op), so the file "
                                 "would hold the example's values")
        changed = frozenset(i for i, (a, b) in enumerate(zip(fn.out.shape, other.out.shape)) if a != b)
        axes[id(fn)] = (changed, other.out.shape)
    return axes
