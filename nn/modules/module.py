"""Module and Parameter: models as trees of layers, found by walking their attributes.

A module's parameters and sub-modules are whatever its attributes hold, in assignment
order (``vars(self)``), looking into lists, tuples and dicts. Names are dotted paths
(``0.weight``, ``encoder.fc.bias``, ``blocks.2.bias``); a parameter or module reached
twice (shared) is listed once, under its first name; but ``state_dict()`` lists a shared
parameter under each module that holds it, as PyTorch's (a tied embedding and output head:
``wte.weight`` and ``head.weight``).
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from autograd import Tensor
from autograd.grad_mode import STATE

from .keras_methods import KerasMethods
from .torch_methods import ModuleTorchMethods


class Parameter(Tensor):
    """A Tensor that requires grad and that modules list among their parameters."""

    __slots__ = ()

    def __init__(self, data, name: str | None = None):
        super().__init__(data, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class StateDictError(ValueError):
    """A state dict does not fit the module: missing or unexpected keys, wrong shapes or dtypes."""


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list


def _members(value, name: str) -> Iterator[tuple]:
    """(dotted name, item) for the Parameters and Modules in ``value``, inside containers too."""
    if isinstance(value, (Parameter, Module)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _members(item, f"{name}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _members(item, f"{name}.{key}")


def _castable(source: np.dtype, target: np.dtype) -> bool:
    """True when a state array of ``source`` dtype may load into ``target``: the same kind
    (float64 into float32 and back, as PyTorch casts), never ints or strings into floats."""
    return source.kind == target.kind and np.can_cast(source, target, "same_kind")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _walk(module: "Module", prefix: str, seen: set) -> Iterator[tuple]:
    """Pre-order walk of the module tree, skipping modules already seen (shared, or cycles)."""
    if id(module) in seen:
        return
    seen.add(id(module))
    yield prefix, module
    for name, child in module.named_children():
        yield from _walk(child, _join(prefix, name), seen)


class Module(ModuleTorchMethods, KerasMethods):
    """Base class of layers and models: subclass, assign Parameters and Modules, define forward.

    ``model(x)`` runs ``forward(x)``. ``training`` is True until ``eval()``. Arrays that
    are state but not parameters (e.g. running statistics) are registered with
    ``register_buffer``: saved in the state dict, never given to an optimizer. PyTorch's
    ``to``, ``float``, ``double``, ``requires_grad_`` and ``apply`` come from
    ``ModuleTorchMethods`` (torch_methods.py); Keras' ``compile``, ``fit``, ``evaluate``
    and ``predict`` from ``KerasMethods`` (keras_methods.py).
    """

    training: bool = True

    def forward(self, *args, **kwargs):
        """The computation; subclasses define it and callers write ``module(x)``."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        """Run ``forward``, tagging the recorded ops with this module (for drawings)."""
        state = STATE
        outer = enabled, anomaly, scope = state.mode
        if not enabled:
            return self.forward(*args, **kwargs)
        # Tag the recorded ops with this module, for drawings (module_scope, inlined: this is hot).
        state.mode = (enabled, anomaly, (scope or ()) + (self,))
        try:
            return self.forward(*args, **kwargs)
        finally:
            state.mode = outer

    # ---- the tree ----
    def _own(self) -> Iterator[tuple]:
        for name, value in vars(self).items():
            yield from _members(value, name)

    def named_modules(self, prefix: str = "") -> Iterator[tuple]:
        """(dotted name, module) for this module and every sub-module, depth first, each once."""
        return _walk(self, prefix, set())

    def modules(self) -> Iterator["Module"]:
        """This module and every sub-module, depth first, each once."""
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple]:
        """(name, module) for the direct sub-modules, in assignment order."""
        return ((name, child) for name, child in self._own() if isinstance(child, Module))

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules, in assignment order (as PyTorch; ``named_children`` gives names)."""
        return (child for _, child in self.named_children())

    def named_parameters(self) -> Iterator[tuple]:
        """(dotted name, Parameter) for every parameter, each module's own in assignment order."""
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in module._own():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield _join(prefix, name), value

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, once each, in a fixed order (see named_parameters)."""
        return (p for _, p in self.named_parameters())

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """Keep ``value`` (an array or Tensor, stored as an ndarray) as ``self.<name>``.

        As PyTorch's: a buffer is state that is not a parameter (running statistics),
        never given to an optimizer, cast by ``to(dtype)`` when floating, and saved and
        loaded with the state dict unless ``persistent=False``.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', got {name!r}")
        buffers = vars(self).setdefault("_buffer_names", [])
        if name not in buffers:
            buffers.append(name)
        if not persistent:
            vars(self).setdefault("_transient_buffers", []).append(name)
        setattr(self, name, np.asarray(value))

    def named_buffers(self) -> Iterator[tuple]:
        """(dotted name, array) for every registered buffer."""
        for prefix, module in self.named_modules():
            for name in vars(module).get("_buffer_names", ()):
                yield _join(prefix, name), getattr(module, name)

    # ---- modes and gradients ----
    def train(self, mode: bool = True) -> "Module":
        """Set ``training`` on this module and every sub-module (Dropout, BatchNorm1d use it)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's grad to None, or (``set_to_none=False``) to zeros, as PyTorch's."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._result(np.zeros_like(p.data), None)

    # ---- state ----
    def _state_arrays(self) -> dict:
        """name -> the live array (parameter data or buffer); PyTorch's order: each module's params,
        then its buffers. A shared parameter is under each of its names, as PyTorch's (a module
        reached twice is walked once, under its first name, as by named_modules)."""
        arrays = {}
        for prefix, module in self.named_modules():
            for name, value in module._own():
                if isinstance(value, Parameter):
                    arrays[_join(prefix, name)] = value.data
            transient = vars(module).get("_transient_buffers", ())
            for name in vars(module).get("_buffer_names", ()):
                if name not in transient:
                    arrays[_join(prefix, name)] = getattr(module, name)
        return arrays

    def state_dict(self) -> dict:
        """name -> a copy of every parameter's and buffer's array; a shared parameter (weight
        tying) is under each of its names, as PyTorch's."""
        return {name: np.array(array, copy=True) for name, array in self._state_arrays().items()}

    def load_state_dict(self, state: dict, strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` into the parameters and buffers, in place.

        Every key, shape and dtype is checked first; if anything is wrong nothing is
        changed and StateDictError names each offending key. With ``strict=False``
        missing and unexpected keys are allowed (and returned), wrong shapes are not.
        Values are cast to the module's dtypes within a kind, as PyTorch does (a float32
        state dict loads into a float64 model); another kind (ints or strings into a
        floating parameter) is an error.
        """
        targets = self._state_arrays()
        # A shared array is present when any of its names is (a state dict saved with one of them).
        present = {id(target) for key, target in targets.items() if key in state}
        missing = [key for key, target in targets.items() if id(target) not in present]
        unexpected = [key for key in state if key not in targets]
        problems = ([f"missing key {key!r}" for key in missing]
                    + [f"unexpected key {key!r}" for key in unexpected]) if strict else []
        values = {}
        for key, target in targets.items():
            if key not in state:
                continue
            value = state[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != target.shape:
                problems.append(f"{key!r}: shape {value.shape} in the state, {target.shape} in the module")
            elif not _castable(value.dtype, target.dtype):
                problems.append(f"{key!r}: dtype {value.dtype} in the state cannot be cast to "
                                f"{target.dtype} in the module")
            values[key] = value
        if problems:
            raise StateDictError(f"load_state_dict ({type(self).__name__}): nothing was loaded, because:\n  "
                                 + "\n  ".join(problems))
        for key, value in values.items():
            np.copyto(targets[key], value, casting="same_kind")
        return LoadResult(missing, unexpected)

    # ---- display ----
    def graph(self, *inputs, **options):
        """Draw one forward pass on ``inputs`` as a graphviz.Digraph (see ``nn.make_dot``)."""
        from autograd.viz import nn_graph   # graphviz only when drawing
        return nn_graph(self, *inputs, **options)

    def extra_repr(self) -> str:
        """The arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def num_parameters(self) -> int:
        """How many numbers the parameters hold (shared ones counted once)."""
        return sum(p.size for p in self.parameters())

    def __repr__(self) -> str:
        """The module tree, one layer a line, with parameter counts."""
        count = self.num_parameters()
        note = f"  # {count:,} parameters" if count else ""
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = list(self.named_children())
        if not children:
            return f"{head}){note}"
        lines = [f"{head}{note}"]
        for name, child in children:
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return "\n".join(lines + [")"])
