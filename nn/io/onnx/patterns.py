"""Groups of recorded ops that export as one ONNX operator: batch norm in eval mode.

``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` in eval mode record plain elementwise ops,
``(x - running_mean) * (weight * scale) + bias`` with ``scale = 1 / sqrt(running_var +
eps)`` computed outside the graph (nn/modules/normalization.py), so op by op the running statistics would
reach the file as anonymous constants (``const_3``). Recognised here, the group becomes
one ``BatchNormalization`` whose inputs are the layer's own arrays under their dotted
names (``1.weight``, ``1.bias``, ``1.running_mean``, ``1.running_var``), as PyTorch's
exporter writes it and as Netron and other converters expect.

The match is strict: the ops must have run inside one batch norm module, in exactly
that shape, on that module's parameters, with constants equal to its running mean and
to the scale made from its running variance, and nothing outside the group may use an
intermediate result. Anything else exports op by op, as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd import Tensor
from autograd.ops import elementwise as ew
from autograd.ops import shape

from ...modules.normalization import BatchNorm1d, BatchNorm2d


@dataclass
class BatchNormCall:
    """One eval-mode call of a batch norm module: its input, and the ops it recorded."""

    module: BatchNorm1d | BatchNorm2d
    x: Tensor
    members: list  # the recorded ops of the call except the last (the Add giving its output)


def _op(t, cls, module):
    """``t``'s recording op when it is a ``cls`` recorded inside ``module``, else None."""
    fn = t.op if isinstance(t, Tensor) else None
    if type(fn) is cls and fn.scope and fn.scope[-1] is module:
        return fn
    return None


def _parameter(t, parameter, module) -> list | None:
    """The ops giving ``parameter`` as used (none, or its reshape to (C, 1, 1)); None if ``t`` is not it."""
    if t is parameter:
        return []
    fn = _op(t, shape.Reshape, module)
    return [fn] if fn is not None and fn.inputs[0] is parameter else None


def _constant_equal(t, values: np.ndarray) -> bool:
    return (isinstance(t, Tensor) and t.op is None and t.data.size == values.size
            and t.data.dtype == values.dtype and np.array_equal(t.data.reshape(-1), values))


def _match(add) -> BatchNormCall | None:
    """The batch norm call whose output ``add`` gives, or None when ``add`` is anything else."""
    module = add.scope[-1] if add.scope else None
    if not isinstance(module, (BatchNorm1d, BatchNorm2d)) or module.bias is None:
        return None
    product, bias = add.inputs
    mul = _op(product, ew.Mul, module)
    if mul is None:
        return None
    centred, weighted = mul.inputs
    sub, scale = _op(centred, ew.Sub, module), _op(weighted, ew.Mul, module)
    if sub is None or scale is None:
        return None
    x, mean = sub.inputs
    weight, factor = scale.inputs
    bias_ops, weight_ops = _parameter(bias, module.bias, module), _parameter(weight, module.weight, module)
    dtype = module.running_mean.dtype
    expected_factor = 1.0 / np.sqrt(module.running_var + module.eps)
    if (bias_ops is None or weight_ops is None or not _constant_equal(mean, module.running_mean)
            or not _constant_equal(factor, expected_factor) or not x.ndim >= 2
            or {x.dtype, add.out.dtype, module.weight.dtype, module.bias.dtype, module.running_var.dtype} != {dtype}):
        return None
    return BatchNormCall(module, x, [mul, sub, scale, *weight_ops, *bias_ops])


def batch_norm_calls(ops: list, roots: list) -> dict:
    """id(the call's last op) -> BatchNormCall, for each eval batch norm call among ``ops``
    (in creation order) whose intermediate results nothing else uses (no other op, no output
    of the model among ``roots``)."""
    used_by = {id(t.op): [None] for t in roots if t.op is not None}
    for fn in ops:
        for t in fn.inputs:
            if t.op is not None:
                used_by.setdefault(id(t.op), []).append(fn)
    calls = {}
    for fn in ops:
        call = _match(fn) if type(fn) is ew.Add else None
        if call is None:
            continue
        group = {id(member) for member in call.members} | {id(fn)}
        if all(id(user) in group for member in call.members for user in used_by.get(id(member), ())):
            calls[id(fn)] = call
    return calls
