"""Text for language models: a character tokenizer and random windows of the encoded text.

    tokenizer = CharTokenizer(text)                    # vocabulary: the sorted set of characters
    ids = tokenizer.encode(text)                       # int64 array, one id per character
    batches = RandomWindows(ids, block_size=64, batch_size=32, seed=0)
    inputs, targets = next(batches)                    # (32, 64) each; targets = inputs shifted by one

Encoding and decoding go through arrays of code points, so a million characters take
milliseconds, not a Python loop.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_CODEC = "utf-32-le"  # one 4-byte code point per character, so a str and a uint32 array map one to one


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(_CODEC, errors="surrogatepass"), dtype="<u4")


class CharTokenizer:
    """Characters to integer ids and back; the vocabulary is the sorted set of ``text``'s characters.

    ``chars`` lists the vocabulary (id i is ``chars[i]``), ``vocab_size`` its length.
    ``encode`` of a character outside the vocabulary raises ValueError naming it.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer: expected the text as a str, got {type(text).__name__}")
        if not text:
            raise ValueError("CharTokenizer: the text is empty, so there is no vocabulary")
        self.chars = sorted(set(text))
        self._points = _code_points("".join(self.chars))  # sorted, as the characters are

    @property
    def vocab_size(self) -> int:
        """The number of distinct characters."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters, an int64 array of ``len(text)``."""
        points = _code_points(text)
        ids = np.searchsorted(self._points, points)
        known = self._points[np.minimum(ids, len(self._points) - 1)] == points
        if not known.all():
            where = int(np.argmin(known))
            raise ValueError(f"CharTokenizer: character {text[where]!r} (at position {where}) is not in the "
                             f"vocabulary of {self.vocab_size} characters")
        return ids.astype(np.int64)

    def decode(self, ids) -> str:
        """The text of these ids (any integer sequence or array, or a Tensor of whole numbers)."""
        ids = np.asarray(ids.data if hasattr(ids, "op") else ids).reshape(-1)
        if ids.size and (ids.dtype.kind not in "iu" and not np.array_equal(ids, np.round(ids))):
            raise ValueError(f"CharTokenizer: ids must be whole numbers, got dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        bad = (ids < 0) | (ids >= self.vocab_size)
        if bad.any():
            raise ValueError(f"CharTokenizer: id {int(ids[np.argmax(bad)])} is out of range for a vocabulary "
                             f"of {self.vocab_size} characters")
        return self._points[ids].tobytes().decode(_CODEC, errors="surrogatepass")

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def windows_at(ids: np.ndarray, starts, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)`` of shape (len(starts), block_size): ``ids[s:s + block_size]`` and
    ``ids[s + 1:s + block_size + 1]`` for each start ``s``."""
    windows = sliding_window_view(ids, block_size + 1)[np.asarray(starts)]  # one gather, a copy
    return windows[:, :-1], windows[:, 1:]


class RandomWindows:
    """An endless iterator of ``(inputs, targets)`` batches of random windows of ``ids``.

    Each batch holds ``batch_size`` windows of ``block_size`` ids, each starting anywhere
    in ``ids`` (uniformly, with replacement); the targets are the same windows shifted by
    one. ``seed``: an int or None (a fresh Generator from it) or a NumPy Generator used
    as it is, so the same seed gives the same batches.
    """

    def __init__(self, ids, block_size: int, batch_size: int, seed=None):
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(f"RandomWindows: ids must be a 1-D integer array, got {ids.dtype} of shape {ids.shape}")
        for name, value in (("block_size", block_size), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"RandomWindows: {name} must be a whole number >= 1, got {value!r}")
        if len(ids) < block_size + 1:
            raise ValueError(f"RandomWindows: {len(ids)} ids are too few for one window of {block_size} "
                             f"inputs and its shifted targets (at least {block_size + 1})")
        self.ids, self.block_size, self.batch_size = ids, int(block_size), int(batch_size)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __iter__(self) -> RandomWindows:
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        starts = self.rng.integers(0, len(self.ids) - self.block_size, size=self.batch_size)
        return windows_at(self.ids, starts, self.block_size)
