"""How each dagrad op becomes ONNX operators: one converter per op class, in ``CONVERTERS``.

A converter is ``convert(graph, fn, names) -> name``: ``fn`` is the recorded node (its
attributes, ``fn.inputs`` and ``fn.out`` give shapes and dtypes), ``names`` the ONNX
value names of its inputs, already cast to the output's dtype; it adds nodes with
``graph.add`` and returns the name of the op's result. Ops missing here have no ONNX
form yet: exporting a model that uses one raises a ValueError naming it.

What exports (the list README.md and ``export_onnx`` refer to):

========================================  ============================================
dagrad op                                 ONNX
========================================  ============================================
Linear (nn.Linear, F.linear)              Gemm(transB=1); MatMul + Add beyond 2-D
MatMul                                    MatMul
Add, Sub, Mul, Div, Neg, Pow, Exp, Log    Add, Sub, Mul, Div, Neg, Pow, Exp, Log
Sigmoid, Tanh, ReLU, LeakyReLU            Sigmoid, Tanh, Relu, LeakyRelu
Softmax, LogSoftmax                       Softmax, LogSoftmax (axis)
Sum, Mean, Max (axis, keepdims)           ReduceSum, ReduceMean, ReduceMax
Reshape (reshape, flatten)                Reshape (the batch axis copied, not fixed)
Transpose, BroadcastTo                    Transpose, Expand
Concatenate, Stack                        Concat (Unsqueeze first for Stack)
Repeat (not along the batch axis)         Gather
GetItem: ints, slices, None, ..., one     Gather, Slice, Unsqueeze
integer array (or boolean mask)
Cast, Where (a constant condition)        Cast, Where
Conv2d, MaxPool2d, AvgPool2d              Conv, MaxPool, AveragePool(count_include_pad=1)
BatchNorm1d/2d, eval mode (patterns.py)   BatchNormalization
Unfold (im2col), Fold (col2im)            Conv, ConvTranspose by a one-hot kernel; Reshape
LSTMSequence, GRUSequence, RNNSequence    unrolled over the example's length (recurrent.py)
(nn.LSTM, nn.GRU, nn.RNN)
========================================  ============================================

Dropout in eval mode records nothing. BatchNorm1d/2d in eval mode record elementwise ops
on their buffers; patterns.py recognises each such call and exports it as one
BatchNormalization on the layer's named arrays (a formula that only looks like it exports
op by op, with these converters).
Not exported: ScatterAdd, the fused losses, and GetItem with several index arrays.
A float64 model's Conv and AveragePool are valid ONNX, but onnxruntime's CPU provider has no
float64 kernel for those two (float64 CNNs run elsewhere, or in float32).
"""
from __future__ import annotations

import numpy as np

from autograd.ops import conv, elementwise as ew, linalg, pool, reduce, shape
from autograd.ops import nn as fused

from .recurrent import RECURRENT_CONVERTERS

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _same(op_type: str, **attributes):
    """An op that is one ONNX operator with the same inputs."""
    def convert(graph, fn, names):
        return graph.add(op_type, names, **attributes)
    return convert


CONVERTERS = {
    ew.Add: _same("Add"), ew.Sub: _same("Sub"), ew.Mul: _same("Mul"), ew.Div: _same("Div"),
    ew.Neg: _same("Neg"), ew.Exp: _same("Exp"), ew.Log: _same("Log"), ew.Sigmoid: _same("Sigmoid"),
    ew.Tanh: _same("Tanh"), ew.ReLU: _same("Relu"), linalg.MatMul: _same("MatMul"),
    **RECURRENT_CONVERTERS,
}


def converts(*classes):
    """Register the decorated function as the converter of ``classes``."""
    def register(convert):
        for cls in classes:
            CONVERTERS[cls] = convert
        return convert
    return register


# ---- elementwise and activations ----

@converts(ew.Pow)
def _pow(graph, fn, names):
    if len(names) == 1:  # a constant exponent, stored in the base's dtype
        names = [names[0], graph.constant(np.asarray(fn.exponent, dtype=fn.out.dtype))]
    return graph.add("Pow", names)


@converts(ew.Where)
def _where(graph, fn, names):
    return graph.add("Where", [graph.constant(np.asarray(fn.condition, dtype=bool)), *names])


@converts(ew.Cast)
def _cast(graph, fn, names):
    return graph.add("Cast", names, to=graph.tensor_type(fn.dtype))


@converts(fused.LeakyReLU)
def _leaky_relu(graph, fn, names):
    return graph.add("LeakyRelu", names, alpha=float(fn.negative_slope))


@converts(fused.Softmax, fused.LogSoftmax)
def _softmax(graph, fn, names):
    return graph.add(type(fn).__name__, names, axis=int(fn.axis))


@converts(fused.Linear)
def _linear(graph, fn, names):
    if fn.inputs[0].ndim == 2:
        return graph.add("Gemm", names, transB=1)
    out = graph.add("MatMul", [names[0], graph.add("Transpose", [names[1]], perm=[1, 0])])
    return graph.add("Add", [out, names[2]]) if len(names) == 3 else out


# ---- reductions: ReduceSum takes its axes as an input from opset 13, the others from 18 ----

def _reduction(op_type: str, axes_input_from: int):
    def convert(graph, fn, names):
        if fn.axis == ():  # NumPy reduces over no axis: nothing changes
            return graph.add("Identity", names)
        attributes, inputs = {"keepdims": int(fn.keepdims)}, list(names)
        if fn.axis is not None:
            if graph.opset >= axes_input_from:
                inputs.append(graph.ints(fn.axis))
            else:
                attributes["axes"] = [int(a) for a in fn.axis]
        return graph.add(op_type, inputs, **attributes)
    return convert


CONVERTERS.update({reduce.Sum: _reduction("ReduceSum", 13), reduce.Mean: _reduction("ReduceMean", 18),
                   reduce.Max: _reduction("ReduceMax", 18)})


# ---- shapes ----

@converts(shape.Reshape)
def _reshape(graph, fn, names):
    """The traced shape, with each axis that follows the batch copied from the input (0) or
    left to be worked out (-1), so the file runs at any batch size."""
    target, source = [int(n) for n in fn.out.shape], fn.inputs[0].shape
    copied = graph.batch_axes(fn.inputs[0])
    for axis in sorted(graph.batch_axes(fn)):
        if axis in copied and source[axis] == target[axis]:
            target[axis] = 0
        elif -1 in target:
            raise graph.unsupported(fn, f"a reshape to {fn.shape} in which several axes follow the batch size")
        else:
            target[axis] = -1
    return graph.add("Reshape", [names[0], graph.ints(target)])


@converts(shape.Transpose)
def _transpose(graph, fn, names):
    ndim = fn.inputs[0].ndim
    axes = reversed(range(ndim)) if fn.axes is None else (a % ndim for a in fn.axes)
    return graph.add("Transpose", names, perm=[int(a) for a in axes])


@converts(shape.BroadcastTo)
def _broadcast_to(graph, fn, names):
    """Expand to the traced shape; an axis that follows the batch is 1 where the input has it
    (Expand keeps the input's length) and the model input's batch size where it does not."""
    dims, kept = [int(n) for n in fn.out.shape], graph.batch_axes(fn.inputs[0])
    offset, from_input = fn.out.ndim - fn.inputs[0].ndim, []
    for axis in graph.batch_axes(fn):
        if axis - offset in kept:
            dims[axis] = 1
        elif graph.is_batch_size(fn, axis):
            from_input.append(axis)
        else:
            raise graph.unsupported(fn, f"a broadcast to {fn.shape} whose axis {axis} follows the batch size "
                                        "without being it")
    if not from_input:
        return graph.add("Expand", [names[0], graph.ints(dims)])
    parts = [graph.batch_size() if axis in from_input else graph.ints([n]) for axis, n in enumerate(dims)]
    return graph.add("Expand", [names[0], graph.add("Concat", parts, axis=0)])


@converts(shape.Concatenate)
def _concatenate(graph, fn, names):
    return graph.add("Concat", names, axis=int(fn.axis))


@converts(shape.Stack)
def _stack(graph, fn, names):
    axis = graph.ints([fn.axis % fn.out.ndim])
    return graph.add("Concat", [graph.add("Unsqueeze", [name, axis]) for name in names], axis=int(fn.axis))


@converts(shape.Repeat)
def _repeat(graph, fn, names):
    """np.repeat as a Gather of each index repeated (flattened first when axis is None)."""
    source = fn.inputs[0]
    if graph.batch_axes(source) and (fn.axis is None or fn.axis % source.ndim in graph.batch_axes(source)):
        raise graph.unsupported(fn, "a repeat along the batch axis (its indices would hold the traced batch size)")
    name, axis = names[0], 0 if fn.axis is None else fn.axis % source.ndim
    if fn.axis is None:
        name = graph.add("Reshape", [name, graph.ints([-1])])
    index = np.repeat(np.arange(source.size if fn.axis is None else source.shape[axis]), fn.repeats)
    return graph.add("Gather", [name, graph.constant(index.astype(np.int64))], axis=axis)


@converts(shape.GetItem)
def _getitem(graph, fn, names):
    """Item by item along the axes: a slice is a Slice, an int a Gather (the axis goes), None an
    Unsqueeze, one integer array a Gather (its axes replace the indexed one, as in NumPy)."""
    items = fn.index if isinstance(fn.index, tuple) else (fn.index,)
    if sum(isinstance(i, np.ndarray) for i in items) > 1:
        raise graph.unsupported(fn, "indexing with several integer arrays (or a mask of several axes)")
    name, axis = names[0], 0
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    for item in items:
        if item is Ellipsis:
            axis += fn.inputs[0].ndim - consumed
        elif item is None:
            name = graph.add("Unsqueeze", [name, graph.ints([axis])])
            axis += 1
        elif isinstance(item, slice):
            if item != slice(None) and item != slice(None, None, 1):
                name = graph.add("Slice", [name, *_slice_bounds(graph, item), graph.ints([axis])] +
                                 ([graph.ints([item.step])] if item.step not in (None, 1) else []))
            axis += 1
        else:  # an int (the axis goes) or an integer array (its axes come in its place)
            index = np.asarray(item, dtype=np.int64)
            name = graph.add("Gather", [name, graph.constant(index)], axis=axis)
            axis += index.ndim
    return name if name != names[0] else graph.add("Identity", names)


def _slice_bounds(graph, item: slice) -> list:
    """ONNX Slice's starts and ends for a Python slice, independent of the axis length."""
    backwards = item.step is not None and item.step < 0
    start = item.start if item.start is not None else (INT64_MAX if backwards else 0)
    stop = item.stop if item.stop is not None else (INT64_MIN if backwards else INT64_MAX)
    return [graph.ints([start]), graph.ints([stop])]


# ---- convolutions and pooling (autograd/ops/conv.py, pool.py) ----

def _window(fn, kernel) -> dict:
    """kernel_shape, strides, pads (ONNX lists begins then ends) and dilations of a 2-D window."""
    ph, pw = fn.padding
    window = {"kernel_shape": [int(k) for k in kernel], "strides": [int(s) for s in fn.stride],
              "pads": [int(ph), int(pw), int(ph), int(pw)]}
    if getattr(fn, "dilation", None) is not None:
        window["dilations"] = [int(d) for d in fn.dilation]
    return window


@converts(conv.Conv2d)
def _conv2d(graph, fn, names):
    return graph.add("Conv", names, **_window(fn, fn.inputs[1].shape[2:]))


@converts(pool.MaxPool2d)
def _max_pool2d(graph, fn, names):
    return graph.add("MaxPool", names, **_window(fn, fn.kernel_size))


@converts(pool.AvgPool2d)
def _avg_pool2d(graph, fn, names):
    return graph.add("AveragePool", names, count_include_pad=1, **_window(fn, fn.kernel_size))


def _one_hot_kernel(fn, channels: int, dtype) -> np.ndarray:
    """The (C*kh*kw, C, kh, kw) weight whose convolution is F.unfold: output channel
    c*kh*kw + i*kw + j picks input channel c at kernel offset (i, j)."""
    kh, kw = fn.kernel_size
    weight = np.zeros((channels * kh * kw, channels, kh, kw), dtype=dtype)
    rows = np.arange(channels * kh * kw)
    weight[rows, rows // (kh * kw), rows % (kh * kw) // kw, rows % kw] = 1
    return weight


@converts(conv.Unfold)
def _unfold(graph, fn, names):
    """im2col as a Conv by a one-hot kernel (each output one input times 1 plus zeros: exact
    for finite values; an inf or NaN in a window spreads NaN to the window's other columns),
    its (N, C*kh*kw, OH, OW) output reshaped to (N, C*kh*kw, L)."""
    channels, (kh, kw) = fn.inputs[0].shape[1], fn.kernel_size
    weight = graph.constant(_one_hot_kernel(fn, channels, fn.out.dtype))
    out = graph.add("Conv", [names[0], weight], **_window(fn, fn.kernel_size))
    return graph.add("Reshape", [out, graph.ints([0, channels * kh * kw, -1])])


@converts(conv.Fold)
def _fold(graph, fn, names):
    """col2im as a ConvTranspose by Unfold's one-hot kernel (its adjoint), on the columns
    reshaped to (N, C*kh*kw, OH, OW); output_padding reaches rows and columns no window covers."""
    (kh, kw), (dh, dw) = fn.kernel_size, fn.dilation
    channels = fn.inputs[0].shape[1] // (kh * kw)
    (sh, sw), (ph, pw) = fn.stride, fn.padding
    height, width = fn.output_size
    oh = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    covered = sh * (oh - 1) + dh * (kh - 1) + 1 - 2 * ph, sw * (ow - 1) + dw * (kw - 1) + 1 - 2 * pw
    grid = graph.add("Reshape", [names[0], graph.ints([0, channels * kh * kw, oh, ow])])
    weight = graph.constant(_one_hot_kernel(fn, channels, fn.out.dtype))
    return graph.add("ConvTranspose", [grid, weight], output_padding=[height - covered[0], width - covered[1]],
                     **_window(fn, fn.kernel_size))
