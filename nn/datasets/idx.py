"""Read IDX files (the format of MNIST), gzipped or not, with strict checks.

An IDX file is a big-endian header followed by the raw payload: two zero
bytes, a type code (0x08 for unsigned bytes), the number of dimensions, then
one 32-bit size per dimension. Every check failure raises a ValueError whose
message starts with the file's path.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

UBYTE = 0x08


GZIP_MAGIC = b"\x1f\x8b"
IDX_START = b"\0\0"


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the content of ``path``, decompressed if it is gzip.

    The content decides, not the name: gzip starts with bytes 1f 8b, an IDX
    file with two zero bytes. A file named ``.gz`` that starts like neither is
    reported as not gzip.
    """
    with open(path, "rb") as file:
        data = file.read()
    if not data.startswith(GZIP_MAGIC):
        if os.fspath(path).endswith(".gz") and not data.startswith(IDX_START):
            start = f"starts with bytes {data[:2].hex(' ')}, not 1f 8b" if data else "is empty"
            raise ValueError(f"{path}: not a gzip file (it {start}), nor an IDX file")
        return data
    try:
        return gzip.decompress(data)
    except EOFError as err:
        raise ValueError(f"{path}: truncated gzip file (it ends before its compressed data does)") from err
    except (zlib.error, gzip.BadGzipFile) as err:
        raise ValueError(f"{path}: corrupt gzip file ({err})") from err


def read_idx(
    path: str | os.PathLike, ndim: int, item_shape: tuple[int, ...] = ()
) -> np.ndarray:
    """Read an IDX file of unsigned bytes with ``ndim`` dimensions.

    ``item_shape`` is what every dimension after the first must be, e.g.
    ``(28, 28)`` for MNIST images. Returns a writable uint8 array of the shape
    the header gives.
    """
    data = read_bytes(path)
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(
            f"{path}: {len(data)} bytes is too short for the {header_size}-byte"
            f" header of an IDX file with {ndim} dimension(s)"
        )
    magic = int.from_bytes(data[:4], "big")
    expected_magic = UBYTE << 8 | ndim
    if magic != expected_magic:
        raise ValueError(
            f"{path}: magic number 0x{magic:08x}, expected 0x{expected_magic:08x}"
            f" (unsigned bytes, {ndim} dimension(s))"
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", ndim, offset=4))
    if item_shape and shape[1:] != item_shape:
        raise ValueError(
            f"{path}: items of shape {_dims(shape[1:])}, expected {_dims(item_shape)}"
        )
    promised = math.prod(shape)
    payload = len(data) - header_size
    if payload != promised:
        raise ValueError(
            f"{path}: payload of {payload} bytes, but the header promises"
            f" {_dims(shape)} = {promised} bytes"
        )
    # frombuffer over bytes is read-only; one copy makes it writable.
    return np.frombuffer(data, np.uint8, offset=header_size).reshape(shape).copy()


def _dims(shape: tuple[int, ...]) -> str:
    """Format a shape as ``60000 x 28 x 28``."""
    return " x ".join(str(size) for size in shape)
