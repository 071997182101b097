"""Pooling: MaxPool2d and AvgPool2d over (N, C, H, W) images, rules beside forwards.

Max pooling sends each window's gradient to one element: the first maximum of the
window in row-major order, as PyTorch does, also when several elements tie. Average
pooling counts the zero padding in the average (PyTorch's count_include_pad=True).
Both work on strided slices of the input, one per kernel offset, and write their
gradients slice by slice. On Tensors (create_graph) max pooling's rule is a ScatterAdd
of the gradient into the input's positions, itself differentiable (its gradient is an
index), and average pooling's a Fold of the gradient spread evenly over each window.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from .conv import fold
from .nn import recorded
from .shape import ScatterAdd
from .windows import (batch_last_layout, channel_blocks, check_image, in_layout, new_image, offsets, output_size,
                      padded, pair, window_label)

_NO_DILATION = (1, 1)


class _Pool2d(Function):
    """The attributes and checks the two pools share."""

    def __init__(self, kernel_size, stride=None, padding=0):
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, name, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, name, "stride", 1)
        self.padding = pair(padding, name, "padding", 0)

    def describe(self) -> str:
        """The label of a drawing: ``MaxPool2d(2x2)``, with stride and padding when not the defaults."""
        return window_label(type(self).__name__, self.kernel_size, stride=(self.stride, self.kernel_size),
                            padding=(self.padding, (0, 0)))

    def _out_size(self, x: np.ndarray) -> tuple:
        name = type(self).__name__
        check_image(name, x)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half of kernel_size "
                             f"{self.kernel_size}")
        return output_size(name, x.shape[2:], self.kernel_size, self.stride, self.padding, _NO_DILATION)


class MaxPool2d(_Pool2d):
    """The maximum of each window; padding is -inf, so it never wins.

    gradient: grad added at the position of each window's (first) maximum.
    One pass per kernel offset over (N, C, OH, OW) slices of the input (no window copy).
    The forward keeps only the running maximum; the rule finds the winners again, offset by
    offset: where the slice equals the maximum and no earlier offset has won. Tracking the
    winning offset in the forward instead (three passes per offset) was two thirds of the
    small CNN's first pool, more than the rule's extra passes; and the rule saves nothing
    but the input and output, which the graph keeps anyway.
    """

    def forward(self, x):
        out_size = self._out_size(x)
        image = padded(x, self.padding, -np.inf)
        out = new_image((x.shape[0], x.shape[1], *out_size), x.dtype, batch_last_layout(x))
        slices = self._offsets(out_size)
        for cs in channel_blocks(image.shape):
            total = out[:, cs]
            np.copyto(total, image[:, cs, slices[0][0], slices[0][1]])
            for rows, columns in slices[1:]:
                np.maximum(total, image[:, cs, rows, columns], out=total)
        self.save(x, out)
        return out

    def _offsets(self, out_size) -> list:
        """(rows, columns) slices of the padded image, one per kernel offset in row-major order."""
        return [(rows, columns) for _, _, rows, columns in
                offsets(self.kernel_size, self.stride, _NO_DILATION, out_size)]

    def backward(self, grad):
        x, out = self.saved
        if recorded(grad):
            index = self._flat_index(self._winners(x.data, out.data), x.shape)
            return ScatterAdd.apply(grad.reshape(-1), index=(index,), shape=(x.size,)).reshape(x.shape)
        layout = batch_last_layout(x)
        image = padded(x, self.padding, -np.inf)
        grad = in_layout(grad, layout)  # one layout for the loops below (mixed ones run 10x slower)
        if layout and _tiles(self, image.shape[2:], out.shape[2:]):
            return self._tiled_backward(image, out, grad, x.shape)
        hit, taken = new_image(out.shape, bool, layout), new_image(out.shape, bool, layout)
        slices = self._offsets(out.shape[2:])

        def part(k, cs, slot, tiles):
            rows, columns = slices[k]
            _first_maxima(k, len(slices), image[:, cs, rows, columns], out[:, cs], hit[:, cs], taken[:, cs])
            if tiles:
                np.multiply(grad[:, cs], hit[:, cs], out=slot)
            else:
                slot += grad[:, cs] * hit[:, cs]
        return _spread(self, grad, x.shape, layout, part)

    def _tiled_backward(self, image, out, grad, shape) -> np.ndarray:
        """The rule where the windows tile the padded batch-last image exactly (a 2x2 pool of
        stride 2): the image viewed as (C, OH, kh, OW, kw, N), every offset compared with its
        window's maximum in one broadcast call, the first of tied maxima kept, and the
        gradient spread by one broadcast product, all contiguous. The small CNN's first pool:
        1.37 -> 1.0 ms, against a compare and a product per offset on strided slices."""
        (kh, kw), (n, c, oh, ow) = self.kernel_size, out.shape
        (ph, pw), (h, w) = self.padding, shape[2:]
        windows = image.transpose(1, 2, 3, 0).reshape(c, oh, kh, ow, kw, n)
        maxima, grads = (a.transpose(1, 2, 3, 0).reshape(c, oh, 1, ow, 1, n) for a in (out, grad))
        result = np.empty(windows.shape, grad.dtype)
        for cs in channel_blocks(image.shape):
            hit = np.equal(windows[cs], maxima[cs])
            _keep_first([hit[:, :, i, :, j] for i in range(kh) for j in range(kw)])
            np.multiply(grads[cs], hit, out=result[cs])
        full = result.reshape(c, oh * kh, ow * kw, n).transpose(3, 0, 1, 2)
        return full[:, :, ph:ph + h, pw:pw + w]

    def _winners(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The kernel offset of each window's first maximum (for the recorded rule)."""
        image = padded(x, self.padding, -np.inf)
        hit, taken = np.empty(out.shape, bool), np.empty(out.shape, bool)
        winner = np.zeros(out.shape, np.int64)
        slices = self._offsets(out.shape[2:])
        for k, (rows, columns) in enumerate(slices):
            _first_maxima(k, len(slices), image[:, :, rows, columns], out, hit, taken)
            winner[hit] = k
        return winner

    def _flat_index(self, winner: np.ndarray, shape: tuple) -> np.ndarray:
        """The position in x (flat, C order) of each window's maximum."""
        (kw,), (sh, sw), (ph, pw) = self.kernel_size[1:], self.stride, self.padding
        n, c, h, w = shape
        i, j = np.divmod(winner.astype(np.int64), kw)
        # clipped: a window of padding and -inf alone picks its edge
        rows = np.clip(i + (np.arange(winner.shape[2]) * sh - ph)[:, None], 0, h - 1)
        columns = np.clip(j + np.arange(winner.shape[3]) * sw - pw, 0, w - 1)
        return ((np.arange(n * c).reshape(n, c, 1, 1) * h + rows) * w + columns).reshape(-1)


class AvgPool2d(_Pool2d):
    """The mean of each window, zero padding included (count_include_pad=True).

    gradient: grad / (kh*kw) added to every element of its window (a Fold).
    """

    def forward(self, x):
        out_size = self._out_size(x)
        image = padded(x, self.padding)
        layout = batch_last_layout(x)
        out = new_image(x.shape[:2] + out_size, x.dtype, layout)
        for cs in channel_blocks(image.shape):
            total = out[:, cs]
            for k, (_, _, rows, columns) in enumerate(offsets(self.kernel_size, self.stride, _NO_DILATION, out_size)):
                if k:
                    total += image[:, cs, rows, columns]
                else:
                    total[...] = image[:, cs, rows, columns]
            total *= 1.0 / (self.kernel_size[0] * self.kernel_size[1])
        self.save(x.shape, layout)
        return out

    def backward(self, grad):
        shape, layout = self.saved
        kh, kw = self.kernel_size
        share = grad / (kh * kw)
        if recorded(grad):
            n, c, oh, ow = grad.shape
            blocks = share.reshape(n, c, 1, oh * ow).broadcast_to((n, c, kh * kw, oh * ow))
            # oh * ow, not -1, which a batch of 0 leaves undetermined
            return fold(blocks.reshape(n, c * kh * kw, oh * ow), shape[2:], self.kernel_size, _NO_DILATION,
                        self.padding, self.stride)

        def part(k, cs, slot, tiles):
            if tiles:
                slot[...] = share[:, cs]
            else:
                slot += share[:, cs]
        return _spread(self, grad, shape, layout, part)


def _first_maxima(k: int, count: int, candidate, out, hit, taken) -> None:
    """``hit``: where kernel offset k (of ``count``, called in order) holds the first maximum
    of its window; ``taken``: where one of offsets 0..k does, kept for the next offset.
    The maximum is one of the window's values, so the last offset wins wherever no other
    has (a window with a NaN, whose maximum equals nothing, included)."""
    if k and k == count - 1:
        np.logical_not(taken, out=hit)
        return
    np.equal(candidate, out, out=hit)
    if k:
        np.greater(hit, taken, out=hit)  # hit and not taken: a tie goes to the first maximum
    if k == 0:
        np.copyto(taken, hit)
    elif k < count - 1:
        np.logical_or(taken, hit, out=taken)


def _keep_first(hits: list) -> None:
    """``hits``, each offset's "equals the window's maximum", in row-major order, left true only
    at each window's first maximum; the last offset takes every window no other has (see
    ``_first_maxima``)."""
    if len(hits) == 1:
        hits[0][...] = True
        return
    taken = hits[0].copy()
    for hit in hits[1:-1]:
        np.greater(hit, taken, out=hit)
        np.logical_or(taken, hit, out=taken)
    np.logical_not(taken, out=hits[-1])


def _tiles(pool: _Pool2d, size: tuple, out_size: tuple) -> bool:
    """True when the windows cover the padded image of ``size`` exactly, each pixel once."""
    return pool.stride == pool.kernel_size and all(o * k == s for o, k, s in zip(out_size, pool.kernel_size, size))


def _spread(pool: _Pool2d, grad: np.ndarray, shape: tuple, layout: bool, part) -> np.ndarray:
    """The input's gradient, from ``part(k, cs, slot, tiles)``, which puts kernel offset k's share
    of ``grad[:, cs]`` into ``slot``, the slice of the gradient that offset k covers in channels cs.
    The gradient is laid out as the input was (batch-last when ``layout``).

    ``tiles``: the windows tile the input exactly, so each slot is written once, straight
    into place (no zeros first); otherwise the slots are added into zeros (windows that
    overlap, leave pixels out, or are padded).
    """
    (ph, pw), out_size = pool.padding, grad.shape[2:]
    n, c, h, w = shape
    size = (h + 2 * ph, w + 2 * pw)
    tiles = _tiles(pool, size, out_size)
    out = new_image((n, c) + size, grad.dtype, layout, None if tiles else 0.0)
    for cs in channel_blocks(out.shape):
        for k, (_, _, rows, columns) in enumerate(offsets(pool.kernel_size, pool.stride, _NO_DILATION, out_size)):
            part(k, cs, out[:, cs, rows, columns], tiles)
    return out[:, :, ph:ph + h, pw:pw + w]
