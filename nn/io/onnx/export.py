"""export_onnx: trace a model and write the graph as an ONNX file, atomically.

The trace (trace.py) is an ordinary forward pass in eval mode on a copy of
``example_input`` that requires grad, so every op that depends on the input is recorded
(ops on constants alone are computed then and become constants: folded). The nodes are
walked from the output in creation order (a topological order), each converted by its
entry in ``onnx_ops.CONVERTERS``, except the ops of an eval batch norm call, which become one
BatchNormalization (patterns.py). Parameters and buffers become initializers under their
dotted names (``0.weight``, ``1.running_mean``), other constants initializers named ``const_<k>``.
"""
from __future__ import annotations

import os

import numpy as np

from autograd import Tensor
from autograd.ops.elementwise import Cast

from ..atomic import atomic_write
from .ops import CONVERTERS
from .patterns import batch_norm_calls
from .trace import batch_axes, example_tensor, ops_behind, trace

MIN_OPSET = 13  # Softmax over one axis, ReduceSum's and Unsqueeze's axes as inputs


def _require_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError("export_onnx needs the onnx package: pip install onnx (or dagrad's extra: "
                          "pip install -e '.[onnx]')") from error
    return onnx


class _Graph:
    """The ONNX nodes and initializers being built, and the names already given out."""

    def __init__(self, onnx, opset: int, x: Tensor, dynamic: bool, module_names: dict):
        self.onnx, self.opset, self.x, self.dynamic = onnx, opset, x, dynamic
        self.batch = len(x.data) if dynamic else None
        self.module_names = module_names
        self.axes = {}     # id(fn) -> (its output's axes that follow the batch, its shape at batch + 1)
        self.nodes, self.initializers = [], []
        self.names = {}    # id(array) of an initializer -> its name
        self.keep = []     # the constant arrays named, kept alive so their ids stay theirs
        self.counts = {}

    def fresh(self, stem: str) -> str:
        count = self.counts[stem] = self.counts.get(stem, -1) + 1
        return f"{stem}_{count}"

    def add(self, op_type: str, inputs: list, **attributes) -> str:
        """Append one node; returns the name of its (single) output."""
        output = self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], name=output, **attributes))
        return output

    def constant(self, array: np.ndarray, name: str | None = None) -> str:
        """An initializer holding ``array`` (each array stored once)."""
        known = self.names.get(id(array))
        if known is not None:
            return known
        name = name or self.fresh("const")
        contiguous = array if array.flags.c_contiguous else np.array(array, order="C")  # keeps 0-d as 0-d
        self.initializers.append(self.onnx.numpy_helper.from_array(contiguous, name))
        self.names[id(array)] = name
        self.keep.append(array)
        return name

    def ints(self, values) -> str:
        """An int64 vector initializer (shapes, axes, slice bounds)."""
        return self.constant(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def tensor_type(self, dtype) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def batch_axes(self, value) -> frozenset:
        """The axes of a node's output (or of a Tensor) whose length is the batch's, or follows it."""
        if isinstance(value, Tensor):
            if value.op is None:
                return frozenset([0]) if value is self.x and self.dynamic else frozenset()
            value = value.op
        return self.axes[id(value)][0] if id(value) in self.axes else frozenset()

    def is_batch_size(self, fn, axis: int) -> bool:
        """True when the length of ``fn``'s output along ``axis`` is the batch size itself."""
        return fn.out.shape[axis] == self.batch and self.axes[id(fn)][1][axis] == self.batch + 1

    def batch_size(self) -> str:
        """The model input's first axis as a one-element int64 vector (for dynamic shapes)."""
        return self.add("Gather", [self.add("Shape", ["input"]), self.ints([0])], axis=0)

    def where(self, fn) -> str:
        """Which module recorded ``fn``: its dotted name and class, for error messages."""
        scope = getattr(fn, "scope", None)
        if not scope:
            return "outside any module"
        module = scope[-1]
        name = self.module_names.get(id(module))
        return f"in module {name!r} ({type(module).__name__})" if name else f"in the model ({type(module).__name__})"

    def unsupported(self, fn, what: str | None = None) -> ValueError:
        """The ValueError for an op that cannot be exported, naming it and its module."""
        what = what or "has no ONNX form in dagrad's exporter"
        return ValueError(f"export_onnx: op {type(fn).__name__} {self.where(fn)}: {what}; nothing was written "
                          "(see nn/io/onnx/ops.py for the ops that export)")


def _value_info(graph: _Graph, name: str, array: np.ndarray, batched: bool):
    dims = ["batch" if batched and i == 0 else int(n) for i, n in enumerate(array.shape)]
    return graph.onnx.helper.make_tensor_value_info(name, graph.tensor_type(array.dtype), dims)


def _infer_output_shapes(onnx, proto) -> None:
    """The outputs' shapes from ONNX's shape inference: which axes follow the batch (a
    transpose moves it, a slice of it is unknown) is worked out there, not guessed."""
    inferred = onnx.shape_inference.infer_shapes(proto)
    for output, found in zip(proto.graph.output, inferred.graph.output):
        if found.type.tensor_type.HasField("shape"):
            output.type.CopyFrom(found.type)


def _batch_norm(graph: _Graph, call, x: str, state_names: dict) -> str:
    """A BatchNormalization of ``x`` by the module's weight, bias and running statistics."""
    module = call.module
    arrays = module.weight.data, module.bias.data, module.running_mean, module.running_var
    return graph.add("BatchNormalization", [x, *(graph.constant(a, state_names.get(id(a))) for a in arrays)],
                     epsilon=float(module.eps))


def _build(graph: _Graph, model, x: Tensor, roots: list):
    """The ONNX GraphProto computing ``roots`` from ``x``."""
    state_names = {id(array): name for name, array in model._state_arrays().items()}
    values = {}    # id(fn) -> the ONNX name of its output
    used_input = False

    def name_of(t: Tensor) -> str:
        nonlocal used_input
        if t.op is not None:
            return values[id(t.op)]
        if t is x:
            used_input = True
            return "input"
        return graph.constant(t.data, state_names.get(id(t.data)))

    ops = ops_behind(roots)
    for fn in ops:
        if type(fn) not in CONVERTERS:
            raise graph.unsupported(fn)
    if graph.dynamic:
        graph.axes = batch_axes(model, x, ops, graph.unsupported)
    batch_norms = batch_norm_calls(ops, roots)  # each one BatchNormalization on the layer's named arrays
    inside = {id(member) for call in batch_norms.values() for member in call.members}
    for fn in ops:
        if id(fn) in inside:
            continue
        if id(fn) in batch_norms:
            call = batch_norms[id(fn)]
            values[id(fn)] = _batch_norm(graph, call, name_of(call.x), state_names)
            continue
        names = [name_of(t) for t in fn.inputs]
        if type(fn) is not Cast:  # NumPy promotes mixed dtypes: ONNX needs the casts spelled out
            names = [graph.add("Cast", [name], to=graph.tensor_type(fn.out.dtype))
                     if t.data.dtype != fn.out.dtype else name for t, name in zip(fn.inputs, names)]
        values[id(fn)] = CONVERTERS[type(fn)](graph, fn, names)
    outputs = []
    for i, root in enumerate(roots):
        result, name = name_of(root), "output" if len(roots) == 1 else f"output{i}"
        graph.nodes.append(graph.onnx.helper.make_node("Identity", [result], [name], name=name))
        if graph.dynamic:  # the shape comes from shape inference (_infer_output_shapes)
            outputs.append(graph.onnx.helper.make_tensor_value_info(name, graph.tensor_type(root.dtype), None))
        else:
            outputs.append(_value_info(graph, name, root.data, False))
    if not used_input:
        raise ValueError("export_onnx: the output does not depend on the input (the forward cut the graph: "
                         "detach(), .data or NumPy on the data); nothing was written")
    inputs = [_value_info(graph, "input", x.data, graph.dynamic and x.ndim > 0)]
    return graph.onnx.helper.make_graph(graph.nodes, type(model).__name__, inputs, outputs, graph.initializers)


def export_onnx(model, example_input, path, opset: int = 17, dynamic_batch: bool = True, *,
                metadata: dict | None = None) -> None:
    """Trace ``model`` on ``example_input`` and write it to ``path`` as an ONNX model, atomically.

    The model runs in eval mode (each module's mode is restored after): once, and with
    ``dynamic_batch`` once more on one more row, to see which axes follow the batch. The
    input is named ``input``, the output ``output`` (``output0``... for a tuple); with
    ``dynamic_batch`` the input's first axis is ``batch`` and the file runs at any batch
    size. Parameters and buffers are stored
    under their dotted names (``0.weight``). ``metadata`` (str -> str) goes to the
    model's ``metadata_props`` (e.g. the preprocessing a server must apply). The model
    is checked with ``onnx.checker`` before anything is written.

    Raises ValueError naming the op and the module it ran in for an op with no ONNX
    form (the list is in ``nn/io/onnx/ops.py``); then no file is written. Needs the
    ``onnx`` package (``pip install -e '.[onnx]'``).
    """
    onnx = _require_onnx()
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export_onnx: opset must be between {MIN_OPSET} and {newest}, got {opset}")
    x = example_tensor(model, example_input)
    if dynamic_batch and (x.ndim == 0 or len(x.data) == 0):
        raise ValueError(f"export_onnx: a dynamic batch needs an example with a batch axis of at least one "
                         f"row, got shape {x.shape}")
    roots = trace(model, x)
    module_names = {id(module): name for name, module in model.named_modules()}
    graph = _Graph(onnx, opset, x, dynamic_batch, module_names)
    proto = onnx.helper.make_model(_build(graph, model, x, roots), producer_name="dagrad",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = onnx.helper.find_min_ir_version_for(list(proto.opset_import))
    if graph.dynamic:
        _infer_output_shapes(onnx, proto)
    if metadata:
        onnx.helper.set_model_props(proto, {str(k): str(v) for k, v in metadata.items()})
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    with atomic_write(os.fspath(path)) as file:
        file.write(data)
