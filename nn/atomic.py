"""atomic_write: a file appears whole at its path, or not at all."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", check: Callable[[Path], None] | None = None) -> Iterator:
    """Write through a temporary file beside ``path``, then rename it into place.

    Yields the open file. When the block ends normally the data is flushed to disk,
    ``check(temporary_path)`` (if given) may still reject it by raising, and the file
    gets the permissions a plain ``open`` would give before ``os.replace`` puts it at
    ``path``. On any error, interruptions included, the temporary file is removed and
    whatever was at ``path`` is untouched.
    """
    path = Path(path)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if check is not None:
            check(temporary)
        temporary.chmod(0o666 & ~_umask())  # mkstemp makes it private; the data is not
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
