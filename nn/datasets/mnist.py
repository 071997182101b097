"""MNIST: find or download the four IDX files, load them, and preprocess.

``load_mnist`` looks in ``root``, else ``$MNIST_DIR``, else a per-user cache
directory (``$XDG_CACHE_HOME/dagrad/mnist``, by default
``~/.cache/dagrad/mnist``). A missing file is downloaded from ``MIRRORS`` and
kept only if the SHA-256 of its decompressed content matches ``CHECKSUMS``.
Files already on disk are read as they are, without a checksum (see
``verify_file``), so other data in the same format loads too.

When the data cannot be found or fetched, ``MNISTNotFoundError`` (a
``FileNotFoundError``) says where it looked and how to supply the files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .download import DownloadError, data_dir
from .download import download as fetch
from .idx import read_bytes, read_idx

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# SHA-256 of the decompressed files; the same for every mirror's gzip.
CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

IMAGE_SHAPE = (28, 28)

_HOW_TO_SUPPLY = (
    "To work offline, put the four MNIST files ("
    + ", ".join(f"{name}.gz" for split in ("train", "test") for name in FILES[split])
    + "; gzipped or not) in one directory and pass it as root=..., as --data DIR"
    " to examples/mnist.py, or in the MNIST_DIR environment variable."
)


class MNISTNotFoundError(FileNotFoundError):
    """An MNIST file is neither on disk nor downloadable."""


def default_root() -> Path:
    """Return ``$MNIST_DIR`` if set, else the per-user cache directory."""
    return data_dir("MNIST_DIR", "mnist")


def load_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    *,
    mirrors: Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split as ``(images, labels)``: uint8 ``(N, 784)`` and ``(N,)``.

    ``split`` is ``"train"`` (60,000 images) or ``"test"`` (10,000). Each
    file may be gzipped (``name.gz``) or not (``name``, preferred when both
    exist). Missing files are downloaded when ``download`` is true, from
    ``mirrors`` (default ``MIRRORS``) in order, and checked against
    ``checksums`` (default ``CHECKSUMS``; a file without an entry is not
    checked). Raises ValueError naming the file when a file is malformed,
    and MNISTNotFoundError when a file is missing and cannot be fetched.
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, not {split!r}")
    directory = Path(root).expanduser() if root is not None else default_root()
    images_path, labels_path = (
        _find_or_download(name, directory, download, mirrors, checksums, progress)
        for name in FILES[split]
    )
    images = read_idx(images_path, 3, IMAGE_SHAPE)
    labels = read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path}"
            f" holds {len(labels)} labels"
        )
    return images.reshape(len(images), IMAGE_SHAPE[0] * IMAGE_SHAPE[1]), labels


def verify_file(path: str | os.PathLike, expected: str) -> None:
    """Raise ValueError unless the decompressed content of ``path`` has this digest.

    ``expected`` is a hex MD5 (32 digits) or SHA-256 (64 digits).
    """
    algorithm = {32: "md5", 64: "sha256"}.get(len(expected))
    if algorithm is None:
        raise ValueError(f"{expected!r} is neither an MD5 nor a SHA-256 hex digest")
    actual = hashlib.new(algorithm, read_bytes(path)).hexdigest()
    if actual != expected.lower():
        raise ValueError(f"{path}: {algorithm} checksum {actual}, expected {expected}")


def _find_or_download(
    name: str,
    directory: Path,
    download: bool,
    mirrors: Sequence[str] | None,
    checksums: Mapping[str, str] | None,
    progress: bool,
) -> Path:
    """Return the path of ``name`` or ``name.gz`` in ``directory``, fetching it if allowed."""
    for path in (directory / name, directory / f"{name}.gz"):
        if path.is_file():
            return path
    if not download:
        raise MNISTNotFoundError(
            f"{name} (or {name}.gz) not found in {directory}, and download=False.\n"
            + _HOW_TO_SUPPLY
        )
    expected = (CHECKSUMS if checksums is None else checksums).get(name)
    check = None if expected is None else (lambda path: verify_file(path, expected))
    try:
        return fetch(f"{name}.gz", directory, MIRRORS if mirrors is None else mirrors,
                     check, progress=progress)
    except DownloadError as err:
        raise MNISTNotFoundError(
            f"{name} (or {name}.gz) not found in {directory}, and {err}\n" + _HOW_TO_SUPPLY
        ) from err


def scale_unit(images: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Scale pixels from 0..255 to [0, 1]: ``images / 255`` computed in ``dtype``."""
    out = np.empty(images.shape, dtype)
    return np.divide(images, out.dtype.type(255), out=out)


def scale_symmetric(images: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Scale pixels from 0..255 to [-1, 1] as the textbook does: ``((x / 255) - .5) * 2``.

    In float64 the result equals the textbook's expression bit for bit; the
    work happens in place in the one output array.
    """
    out = scale_unit(images, dtype)
    out -= 0.5
    out *= 2
    return out


def train_valid_split(
    images: np.ndarray, labels: np.ndarray, n_valid: int = 5000
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split into ``(train_images, train_labels), (valid_images, valid_labels)``.

    The last ``n_valid`` examples are for validation, as in the textbook
    (60,000 -> 55,000 + 5,000). The parts are views, not copies.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if not 0 <= n_valid <= len(images):
        raise ValueError(f"n_valid must be in 0..{len(images)}, not {n_valid}")
    cut = len(images) - n_valid
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def mean_std(images: np.ndarray, chunk_size: int = 1 << 20) -> tuple[float, float]:
    """Return the mean and (population) std of ``images / 255`` from a pixel histogram.

    ``images`` must be uint8. Counting the 256 pixel values is far cheaper
    than ``(images / 255).std()``, which makes float copies of all pixels.
    """
    if images.dtype != np.uint8:
        raise TypeError(f"mean_std needs uint8 pixels, not {images.dtype}")
    if images.size == 0:
        raise ValueError("mean_std of an empty array")
    pixels = images.reshape(-1)
    counts = np.zeros(256, np.int64)
    # bincount casts its input to intp: in chunks, that copy stays small.
    for start in range(0, pixels.size, chunk_size):
        counts += np.bincount(pixels[start:start + chunk_size], minlength=256)
    values = np.arange(256) / 255
    mean = counts @ values / pixels.size
    variance = counts @ (values - mean) ** 2 / pixels.size
    return float(mean), float(np.sqrt(variance))
