"""Switches that decide whether ops are recorded: no_grad, enable_grad, anomaly mode, module scopes.

The switches are per thread, as PyTorch's: ``no_grad()`` in a prediction thread leaves a
training thread recording. Each thread holds one immutable tuple, ``STATE.mode``:

- ``enabled``: ops record graph nodes;
- ``anomaly``: ops check for NaN/Inf and remember the line that created them;
- ``scope``: the tuple of nn modules now running their forward, outermost first (None
  outside any), which ops record so drawings group by layer.

Every op reads the tuple once (``enabled, anomaly, scope = STATE.mode``): one lookup in a
``threading.local``, about 450 instructions against the 12,300 of a small ``Add`` (callgrind:
+4.5% on a bare Add, +1.6% on a mul/tanh chain's forward and backward, +1.9% on a small MLP's
training step). Measured against it: three attributes of the same local cost three
lookups; a ``ContextVar`` reads for about 100 instructions, but once it is set, NumPy's own
context-variable lookups (on ufuncs and allocations) stop finding an empty context and
the MLP step took 4.1% more instructions, a cost every NumPy call in the thread would pay.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

DEFAULT_MODE = (True, False, None)


def _switch(index: int):
    def get(self):
        return self.mode[index]

    def set(self, value):
        switches = list(self.mode)
        switches[index] = value
        self.mode = tuple(switches)
    return property(get, set)


class _State(threading.local):
    """This thread's switches: ``mode`` is the ``(enabled, anomaly, scope)`` tuple.

    A new thread starts from the class attribute, the defaults. ``enabled``, ``anomaly``
    and ``scope`` read and set one field (the older spelling; hot code reads ``mode``).
    """

    mode = DEFAULT_MODE
    enabled = _switch(0)
    anomaly = _switch(1)
    scope = _switch(2)


STATE = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default), False inside ``no_grad()``; per thread."""
    return STATE.mode[0]


@contextlib.contextmanager
def _switched(index: int, value) -> Iterator[None]:
    """Set one of this thread's switches inside the block, then restore all three."""
    state = STATE
    previous = state.mode
    switches = list(previous)
    switches[index] = value
    state.mode = tuple(switches)
    try:
        yield
    finally:
        state.mode = previous


def no_grad():
    """Context manager (and decorator) under which ops record nothing; results need no grad.

    Per thread, as PyTorch: other threads keep recording.
    """
    return _switched(0, False)


def enable_grad():
    """Context manager that turns recording back on, e.g. inside ``no_grad()``; per thread."""
    return _switched(0, True)


def anomaly_mode(enabled: bool = True):
    """Context manager turning this thread's anomaly checks on or off (see ``detect_anomaly``)."""
    return _switched(1, enabled)


@contextlib.contextmanager
def module_scope(module) -> Iterator[None]:
    """Tag the ops created inside with the enclosing modules (so drawn graphs group by layer).

    Ops record the scope: a tuple of modules, outermost first, or None outside any.
    """
    state = STATE
    previous = enabled, anomaly, scope = state.mode
    state.mode = (enabled, anomaly, (scope or ()) + (module,))
    try:
        yield
    finally:
        state.mode = previous
