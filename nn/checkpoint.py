"""Checkpoints: models, optimizers and schedules saved to one ``.npz`` file, atomically.

A path ending in ``.safetensors`` gives the safetensors format instead (PyTorch's names
and layouts, readable by ``safetensors.torch.load_file``; see nn/export/safetensors.py),
with the same promises.

``nn.save(obj, path)`` takes a Module, an optimizer, a schedule, or a dict of them
(``{"model": model, "optimizer": opt}`` to resume training); ``nn.load(obj, path)``
puts the state back into the same kind of object. Nested state is flattened with "/"
(``optimizer/state/0/exp_avg``); a Module's keys are its parameter names, so
``np.load(path)`` shows them as they are.

The write goes to a temporary file in the same directory, then ``os.replace``: a crash
never leaves half a checkpoint. Files are read with ``allow_pickle=False``, fully,
before anything is changed; a missing, corrupt or mismatched file raises an error
naming it and leaves the objects as they were.
"""
from __future__ import annotations

import os

import numpy as np

from .atomic import atomic_write
from .export import safetensors as safetensors_format


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or does not fit the objects it is loaded into."""


def _state_of(obj):
    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if isinstance(obj, dict):
        return {key: _state_of(value) for key, value in obj.items()}
    return obj


def _flatten(state: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in state.items():
        key = str(key)
        if "/" in key:
            raise ValueError(f"nn.save: key {key!r} contains '/', which separates nested keys")
        if isinstance(value, dict):
            flat.update(_flatten(value, prefix + key + "/"))
        elif value is not None:
            flat[prefix + key] = np.asarray(value.data if hasattr(value, "op") else value)
    return flat


def _unflatten(flat: dict) -> dict:
    state = {}
    for key, value in flat.items():
        *parents, leaf = key.split("/")
        node = state
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return state


def save_state(state: dict, path) -> None:
    """Write a (nested) dict of arrays and numbers to ``path`` as ``.npz`` (safetensors for a
    ``.safetensors`` path), atomically."""
    arrays = _flatten(state)
    if _is_safetensors(path):
        data = safetensors_format.to_bytes(arrays)
        with atomic_write(path) as file:
            file.write(data)
        return
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def _is_safetensors(path) -> bool:
    return os.fspath(path).endswith(safetensors_format.SUFFIX)


def _read_npz(path: str) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _read_safetensors(path: str) -> dict:
    with open(path, "rb") as file:
        data = file.read()
    return safetensors_format.from_bytes(data)


def load_state(path) -> dict:
    """Read a file written by ``save_state`` / ``save`` back into a (nested) dict of arrays."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"nn.load: no checkpoint file {path!r}")
    read, kind = (_read_safetensors, "safetensors") if _is_safetensors(path) else (_read_npz, ".npz")
    try:
        flat = read(path)
    except ImportError:
        raise
    except Exception as error:  # noqa: BLE001 (zip, zlib, header, format and pickle errors all mean "corrupt")
        raise CheckpointError(f"nn.load: {path!r} is not a readable {kind} checkpoint "
                              f"({type(error).__name__}: {_one_line(error)})") from error
    return _unflatten(flat)


def save(obj, path) -> None:
    """Save a Module's, optimizer's or schedule's ``state_dict()``, or a dict of them, to ``path``."""
    save_state(_state_of(obj), path)


def load(obj, path):
    """Load ``path`` into ``obj`` (what was given to ``save``) and return ``obj``.

    Raises FileNotFoundError or CheckpointError naming the file; then nothing changed.
    """
    state = load_state(path)
    try:
        _restore(obj, state)
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"nn.load: {os.fspath(path)!r} does not fit: {_one_line(error)}") from error
    return obj


def _one_line(error: BaseException) -> str:
    """An error's message on one line (a state dict's list of problems joined by "; ")."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)  # no repr quotes
    first, *rest = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    return " ".join([first, "; ".join(rest)]) if rest else first


def _restore(obj, state: dict) -> None:
    """Load ``state`` into ``obj``; for a dict of objects, all or none (earlier ones are rolled back)."""
    if hasattr(obj, "load_state_dict"):
        obj.load_state_dict(state)
        return
    missing = [key for key in obj if str(key) not in state]
    if missing:
        raise KeyError(f"no entry for {missing} in the file (it has {sorted(state)})")
    done = []
    try:
        for key, part in obj.items():
            before = _state_of(part)
            _restore(part, state[str(key)])
            done.append((part, before))
    except BaseException:
        for part, before in reversed(done):
            _restore(part, before)
        raise
