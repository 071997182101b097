"""Checks shared by the random-program tests: a program's value and gradients against central
finite differences (float64, always) and against PyTorch (when it is installed), its dtype
kept in float32, and no RuntimeWarning on the way.

A program is ``run(lib, leaves) -> output``, written once for both engines: ``lib`` is
``autograd`` or ``torch`` and ``leaves`` are that engine's tensors.
"""
from __future__ import annotations

import warnings
from contextlib import ExitStack, contextmanager
from unittest.mock import patch

import numpy as np

import autograd as ag

try:
    import torch
except ImportError:  # the PyTorch comparison is skipped; the finite differences still run
    torch = None

STEP = 1e-6


@contextmanager
def small_blocks():
    """The fast paths' block, piece and chunk sizes made tiny, so the loops over several blocks
    (taken by large inputs only) run on the small inputs of a test."""
    from autograd.ops import conv_arrays, elementwise, windows

    with ExitStack() as stack:
        for module, names in ((conv_arrays, dict(BLOCK=48, MIN_ROWS=2, FORWARD_BLOCK=40, SCRATCH_LIMIT=64,
                                                 LONG_K=8, SMALL_RESULT=1 << 10, CHUNK=4)),
                              (elementwise, dict(_PIECE=4)), (windows, dict(CACHE_BLOCK=8))):
            stack.enter_context(patch.multiple(module, **names))
        yield


def weights_for(shape: tuple) -> np.ndarray:
    """Fixed weights that make the output a scalar loss seeing every element differently."""
    return np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape) if shape else np.array(0.75)


def dagrad_run(run, arrays: list, dtype=np.float64, views=None):
    """(value, grads) of the program in dagrad, the leaves made from ``arrays`` (as ``views``
    of them when given: functions from a fresh array to a view of it)."""
    leaves = []
    for i, a in enumerate(arrays):
        data = np.array(a, dtype=dtype)
        if views is not None and views[i] is not None and data.ndim:  # NumPy's makers turn 0-d into 1-d
            data = views[i](data)
        leaves.append(ag.Tensor(data, requires_grad=True))
    out = run(ag, leaves)
    loss = (out * ag.Tensor(weights_for(out.shape).astype(dtype))).sum()
    loss.backward()
    grads = [np.zeros(a.shape, dtype) if t.grad is None else t.grad.numpy() for a, t in zip(arrays, leaves)]
    return out.numpy(), grads, out, leaves


def torch_run(run, arrays: list):
    """(value, grads) of the same program in PyTorch (float64)."""
    leaves = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = run(torch, leaves)
    if out.requires_grad:
        (out * torch.tensor(weights_for(tuple(out.shape)))).sum().backward()
    grads = [np.zeros(a.shape) if t.grad is None else t.grad.numpy() for a, t in zip(arrays, leaves)]
    return out.detach().numpy(), grads


def numeric_grads(run, arrays: list, coordinates: int = 16) -> list:
    """Central differences of the weighted loss, one array per leaf, at up to ``coordinates``
    coordinates of each (evenly spread); NaN at the others and at a coordinate where the two
    one-sided differences disagree (a kink: relu at 0, a tie, a clamp bound), where no
    difference quotient is the derivative."""
    def loss(values):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = run(ag, [ag.Tensor(v) for v in values]).numpy()
        return float((out * weights_for(out.shape)).sum())

    values = [np.array(a, dtype=np.float64) for a in arrays]
    base = loss(values)
    grads = []
    for v in values:
        g = np.full(v.shape, np.nan)
        flat, out = v.reshape(-1), g.reshape(-1)
        for i in np.unique(np.linspace(0, flat.size - 1, min(flat.size, coordinates)).astype(int)):
            keep = flat[i]
            flat[i] = keep + STEP
            up = loss(values)
            flat[i] = keep - STEP
            down = loss(values)
            flat[i] = keep
            right, left = (up - base) / STEP, (base - down) / STEP
            smooth = abs(right - left) <= 1e-3 * (1 + abs(right) + abs(left))
            out[i] = (up - down) / (2 * STEP) if smooth else np.nan
        grads.append(g)
    return grads


def check_program(run, arrays: list, views=None, finite_differences: bool = True, quiet: bool = True) -> None:
    """The program's value and gradients: against finite differences (float64, where smooth
    and finite), against PyTorch when installed; float32 leaves give float32 everywhere; no
    RuntimeWarning when ``quiet``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error" if quiet else "ignore", RuntimeWarning)
        value, grads, out, _ = dagrad_run(run, arrays, views=views)
        value32, grads32, out32, leaves32 = dagrad_run(run, arrays, np.float32, views)
    assert out.dtype == np.float64
    assert out32.dtype == np.float32, f"float32 in, {out32.dtype} out"
    for g in grads32:
        assert g.dtype == np.float32, f"float32 leaf, {g.dtype} gradient"
    np.testing.assert_allclose(value32, value, rtol=1e-3, atol=1e-3, equal_nan=True)
    if finite_differences and np.all(np.isfinite(value)) and all(np.all(np.isfinite(a)) for a in arrays):
        for got, want in zip(grads, numeric_grads(run, arrays)):
            smooth = np.isfinite(want)
            np.testing.assert_allclose(got[smooth], want[smooth], rtol=1e-4, atol=1e-5)
    if torch is not None:
        want_value, want_grads = torch_run(run, arrays)
        assert value.shape == want_value.shape
        np.testing.assert_allclose(value, want_value, rtol=1e-9, atol=1e-12, equal_nan=True)
        for got, want in zip(grads, want_grads):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)
