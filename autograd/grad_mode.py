"""Switches that decide whether ops are recorded: no_grad, enable_grad, anomaly mode, module scopes."""
from __future__ import annotations

import contextlib
from typing import Iterator


class _State:
    """Process-wide recording flags, read by every op (one slot lookup each).

    Unlike PyTorch's, the mode is shared by all threads: ``no_grad()`` in one thread also
    stops recording in the others. A threading.local here costs 8% more per op (measured
    with callgrind), too much for a case this engine's users rarely meet.
    """

    __slots__ = ("enabled", "anomaly", "scope")

    def __init__(self):
        self.enabled = True   # ops record graph nodes
        self.anomaly = False  # ops check for NaN/Inf and remember where they were created
        self.scope = None     # tuple of the nn modules now running their forward, outermost first


STATE = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default), False inside ``no_grad()``."""
    return STATE.enabled


@contextlib.contextmanager
def _grad_enabled(enabled: bool) -> Iterator[None]:
    previous = STATE.enabled
    STATE.enabled = enabled
    try:
        yield
    finally:
        STATE.enabled = previous


def no_grad():
    """Context manager (and decorator) under which ops record nothing; results need no grad."""
    return _grad_enabled(False)


def enable_grad():
    """Context manager that turns recording back on, e.g. inside ``no_grad()``."""
    return _grad_enabled(True)


@contextlib.contextmanager
def module_scope(module) -> Iterator[None]:
    """Tag the ops created inside with the enclosing modules (so drawn graphs group by layer).

    Ops record ``STATE.scope``: a tuple of modules, outermost first, or None outside any.
    """
    previous = STATE.scope
    STATE.scope = (previous or ()) + (module,)
    try:
        yield
    finally:
        STATE.scope = previous
