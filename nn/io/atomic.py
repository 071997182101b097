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
    descriptor, name = _temporary_beside(path)
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


def check_writable(path) -> None:
    """Raise OSError, in one line naming ``path``, unless ``atomic_write(path)`` could write it.

    ``path`` must not be a directory, and a file must be creatable in its directory: that is
    tried with a temporary file, removed at once. Run it before long work whose result goes
    to ``path``.
    """
    descriptor, name = _temporary_beside(Path(path))
    os.close(descriptor)
    os.unlink(name)


def _temporary_beside(path: Path) -> tuple[int, str]:
    """mkstemp in ``path``'s directory; its errors name ``path`` and what is wrong, not the temporary."""
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        where = "the current directory" if str(path.parent) == "." else str(path.parent)
        if isinstance(error, FileNotFoundError) and not path.parent.is_dir():
            reason = f"the directory {where} does not exist"
        elif isinstance(error, NotADirectoryError):
            reason = f"{where} is not a directory"
        elif isinstance(error, PermissionError):
            reason = f"no permission to create files in {where}"
        else:
            reason = f"cannot create files in {where} ({error.strerror or error})"
        raise type(error)(f"cannot write {path}: {reason}") from None
