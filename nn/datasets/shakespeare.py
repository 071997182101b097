"""Tiny Shakespeare: the character-level language-modelling corpus, found or downloaded.

``load_shakespeare`` reads ``input.txt`` from ``data_dir``, else ``$SHAKESPEARE_DIR``,
else a per-user cache directory (``$XDG_CACHE_HOME/dagrad/shakespeare``, by default
``~/.cache/dagrad/shakespeare``). A missing file is downloaded there from ``MIRRORS``
and kept only when its size and SHA-256 are the corpus's. A file already on disk is
read as it is, without a checksum, so another text put there loads too.

When the file can be neither found nor fetched, ``ShakespeareNotFoundError`` (a
``FileNotFoundError``) says where it looked and where to put the file.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from .download import DownloadError, data_dir
from .download import download as fetch

FILENAME = "input.txt"
MIRRORS = ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"]
SIZE = 1115394
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


class ShakespeareNotFoundError(FileNotFoundError):
    """input.txt is neither on disk nor downloadable."""


def shakespeare_dir() -> Path:
    """``$SHAKESPEARE_DIR`` if set, else the per-user cache directory (XDG_CACHE_HOME respected)."""
    return data_dir("SHAKESPEARE_DIR", "shakespeare")


def load_shakespeare(data_dir: str | os.PathLike | None = None, download: bool = True, *,
                     mirrors: Sequence[str] | None = None, progress: bool = True) -> str:
    """Tiny Shakespeare (1,115,394 characters, 65 distinct) as one ``str``.

    From ``data_dir/input.txt``, else ``shakespeare_dir()/input.txt``; when absent and
    ``download`` is true, fetched into that directory from ``mirrors`` (default
    ``MIRRORS``) in order, checked against ``SIZE`` and ``SHA256``, written atomically.
    Raises ShakespeareNotFoundError when the file is missing and cannot be fetched,
    and ValueError naming the file when it is not UTF-8 text.
    """
    directory = Path(data_dir).expanduser() if data_dir is not None else shakespeare_dir()
    path = directory / FILENAME
    if not path.is_file():
        path = _download(directory, download, MIRRORS if mirrors is None else mirrors, progress)
    try:
        return path.read_bytes().decode("utf-8")  # every character as it is: line ends are not translated
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def verify(path: str | os.PathLike) -> None:
    """Raise ValueError unless ``path`` has tiny Shakespeare's size and SHA-256."""
    path = Path(path)
    size = path.stat().st_size
    if size != SIZE:
        raise ValueError(f"{size} bytes, expected {SIZE}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise ValueError(f"sha256 checksum {digest}, expected {SHA256}")


def _download(directory: Path, download: bool, mirrors: Sequence[str], progress: bool) -> Path:
    how = (f"To work offline, put tiny Shakespeare's {FILENAME} ({SIZE:,} bytes, SHA-256 {SHA256}) in "
           f"{directory}, or in a directory given as data_dir=... or in the SHAKESPEARE_DIR environment variable.")
    if not download:
        raise ShakespeareNotFoundError(f"{FILENAME} not found in {directory}, and download=False.\n{how}")
    try:
        return fetch(FILENAME, directory, mirrors, verify, progress=progress)
    except DownloadError as error:
        raise ShakespeareNotFoundError(f"{FILENAME} not found in {directory}, and {error}\n{how}") from error
