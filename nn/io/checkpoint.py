"""Checkpoints: models, optimizers and schedules saved to one ``.npz`` file, atomically.

A path ending in ``.safetensors`` gives the safetensors format instead (PyTorch's names
and layouts, readable by ``safetensors.torch.load_file``; see safetensors.py),
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
from . import safetensors as safetensors_format


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
    """The arrays of an .npz checkpoint; each way it can be wrong is one CheckpointError line."""
    try:
        with open(path, "rb") as file:
            start = file.read(len(_NPY_MAGIC))
    except OSError as error:
        raise CheckpointError(f"nn.load: cannot read {path!r} ({error.strerror or error})") from error
    if not start.startswith(_ZIP_MAGIC):
        what = ("is empty" if not start else
                "is a single .npy array, not an .npz checkpoint" if start == _NPY_MAGIC else
                "is not a checkpoint (an .npz file is a zip archive; this one does not start like one)")
        raise CheckpointError(f"nn.load: {path!r} {what}")
    flat = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                flat[key] = _array(archive, key, path)
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 (zip, zlib, EOF and header errors all mean "damaged")
        raise CheckpointError(f"nn.load: {path!r} is truncated or corrupt "
                              f"({type(error).__name__}: {_first_line(error)})") from error
    return flat


def _read_safetensors(path: str) -> dict:
    with open(path, "rb") as file:
        data = file.read()
    return safetensors_format.from_bytes(data)


def load_state(path) -> dict:
    """Read a file written by ``save_state`` / ``save`` back into a (nested) dict of arrays.

    Every failure is one line naming the file: FileNotFoundError (missing), IsADirectoryError,
    or CheckpointError (empty, not an .npz archive, truncated or corrupt, or holding objects
    that only pickle could read, which nn.load never does).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"nn.load: {path!r} is a directory, not a checkpoint file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no checkpoint file {path!r}")
    if not _is_safetensors(path):
        return _unflatten(_read_npz(path))
    try:
        flat = _read_safetensors(path)
    except ImportError:
        raise
    except Exception as error:  # noqa: BLE001 (header, format and size errors all mean "corrupt")
        raise CheckpointError(f"nn.load: {path!r} is not a readable safetensors checkpoint "
                              f"({type(error).__name__}: {_one_line(error)})") from error
    return _unflatten(flat)


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first entry, or an empty archive
_NPY_MAGIC = b"\x93NUMPY"


def _array(archive, key: str, path: str) -> np.ndarray:
    """``archive[key]``, refusing object arrays (they need pickle) and members that are not arrays."""
    try:
        value = archive[key]
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
        raise CheckpointError(f"nn.load: {path!r} holds Python objects in {key!r}, which only pickle "
                              f"could read; a checkpoint holds only arrays") from None
    if not isinstance(value, np.ndarray):
        raise CheckpointError(f"nn.load: {path!r} is a zip archive but not a checkpoint: "
                              f"{key!r} is not a NumPy array")
    return value


def _first_line(error: BaseException, limit: int = 80) -> str:
    line = (str(error).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[:limit - 3] + "..."


def save(obj, path) -> None:
    """Save a Module's, optimizer's or schedule's ``state_dict()``, or a dict of them, to ``path``."""
    save_state(_state_of(obj), path)


def load(obj, path):
    """Load ``path`` into ``obj`` (what was given to ``save``) and return ``obj``.

    A Module also loads the "model" entry of a file saved from a dict (a ModelCheckpoint).

    Raises FileNotFoundError or CheckpointError naming the file; then nothing changed.
    """
    state = load_state(path)
    if hasattr(obj, "named_parameters") and isinstance(state.get("model"), dict):
        state = state["model"]  # a training checkpoint ({"model", "optimizer", "epoch"}) into the model alone
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
