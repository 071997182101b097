"""Download a file from the first of several mirrors that serves it intact.

The bytes go to a temporary file beside the target, which is renamed into
place only once the transfer is complete and the caller's check passes; a
failed attempt leaves nothing behind, not even the directory it made for the
file.
"""

from __future__ import annotations

import http.client
import os
import sys
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ..io.atomic import atomic_write

CHUNK_SIZE = 1 << 16


def data_dir(variable: str, name: str) -> Path:
    """``$variable`` if set, else the per-user cache folder ``$XDG_CACHE_HOME/dagrad/name``
    (``~/.cache/dagrad/name`` when XDG_CACHE_HOME is unset or relative)."""
    if os.environ.get(variable):
        return Path(os.environ[variable]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return base / "dagrad" / name


class DownloadError(RuntimeError):
    """Every mirror failed; ``failures`` lists ``(url, reason)`` pairs."""

    def __init__(self, message: str, failures: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.failures = failures


def download(
    filename: str,
    directory: str | os.PathLike,
    mirrors: Sequence[str],
    check: Callable[[Path], None] | None = None,
    *,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Fetch ``mirror + filename`` into ``directory``, trying mirrors in order.

    ``check(path)`` may inspect the finished temporary file and raise
    ValueError to reject it (e.g. on a checksum mismatch); the next mirror is
    then tried. Returns the path of the file in place. Raises DownloadError
    when no mirror succeeded; then the directories made for the file are
    removed again if they are still empty (on Ctrl-C too).
    """
    target = Path(directory) / filename
    created = _make_directories(target.parent)
    try:
        return _first_mirror(filename, target, mirrors, check, progress, timeout)
    except BaseException:
        _remove_if_empty(created)
        raise


def _first_mirror(
    filename: str,
    target: Path,
    mirrors: Sequence[str],
    check: Callable[[Path], None] | None,
    progress: bool,
    timeout: float,
) -> Path:
    """``target``, fetched from the first mirror that serves it intact; DownloadError if none does."""
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            _fetch(url, target, check, progress, timeout)
            return target
        except (OSError, ValueError, http.client.HTTPException) as err:
            failures.append((url, str(err) or type(err).__name__))
    tried = "".join(f"\n  {url}: {reason}" for url, reason in failures)
    raise DownloadError(f"could not download {filename}:{tried or ' no mirrors'}", failures)


def _make_directories(directory: Path) -> list[Path]:
    """Make ``directory`` and its missing parents; return the ones made here, deepest first."""
    missing, path = [], directory
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_if_empty(directories: list[Path]) -> None:
    """Remove these directories, deepest first, stopping at the first that is not empty (rmdir refuses)."""
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def _fetch(
    url: str,
    target: Path,
    check: Callable[[Path], None] | None,
    progress: bool,
    timeout: float,
) -> None:
    """Download ``url`` to a temporary file, check it, rename it to ``target``."""
    with atomic_write(target, check=check) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        _copy(response, out, url, progress)


def _copy(response, out, url: str, progress: bool) -> None:
    """Copy the response body to ``out``; raise ConnectionError if it is cut short."""
    length = response.headers.get("Content-Length")
    expected = int(length) if length else None
    bar = _progress_bar(expected, url) if progress else None
    received = 0
    try:
        while chunk := response.read(CHUNK_SIZE):
            out.write(chunk)
            received += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    # http.client returns a short body silently when the server hangs up.
    if expected is not None and received != expected:
        raise ConnectionError(
            f"connection closed after {received} of {expected} bytes"
        )


def _progress_bar(total: int | None, url: str):
    """Return a tqdm bar, or a one-line notice on stderr when tqdm is absent."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _Notice(total, url)
    return tqdm(total=total, desc=url.rsplit("/", 1)[-1], unit="B", unit_scale=True,
                unit_divisor=1024, leave=False)


class _Notice:
    """Stand-in for a tqdm bar: says what is being downloaded, then keeps quiet."""

    def __init__(self, total: int | None, url: str) -> None:
        size = f" ({total / 1e6:.1f} MB)" if total else ""
        print(f"downloading {url}{size}", file=sys.stderr, flush=True)

    def update(self, n: int) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""
