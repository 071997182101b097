"""Conv2d on arrays: the forward and the gradients as matrix products over batch-last columns.

The columns are (C*kh*kw, OH*OW*N): rows in the weight's order, so W2 @ columns is the
whole batch in one GEMM (W2 = weight.reshape(O, C*kh*kw)), and the image axis N innermost
in memory, so every slice copied or added is a run of OW*N contiguous numbers. NumPy's
loops pay per run: with OW = 8 innermost (NCHW), im2col and col2im of the small CNN's
second conv took 3x and 3.2x longer. The output is therefore an (N, O, OH, OW) view of an
(O, OH, OW, N) array; elementwise ops and the pools keep that layout, so the next conv
copies nothing to get it.

With a vertical dilation of 1 (``goes_by_rows``), the forward and d/dW skip the full
columns: the image is unfolded along the width only, image rows outermost
(``unfolded_rows``), and the columns of one output row are then one contiguous block of
that, one GEMM each. kw copies of the image instead of kh*kw.

The forward keeps no columns: the backward rebuilds them (for d/dx, block by block:
output rows as needed, and within those a few kernel rows of all input channels, or of
one channel at a time), so a block of columns, then its gradient, is the only large
temporary of a training step. It lives in a per-thread scratch buffer (``scratch``)
reused from call to call: a fresh 8 MB array each time is 2,000 page faults once glibc
has handed the memory back to the system, which it does at the end of every training step.
"""
from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .windows import offsets

# Numbers in one block of columns in the backward pass (8 MB in float32). With blocks of
# whole kernel rows over all channels (see ``blocks``), the small CNN's training step
# against 4 MB blocks, alternating: 0.3 to 0.5 ms less, most of it conv2's backward, whose
# block now holds three of its five kernel rows. (Before those blocks, with blocks of a few
# output rows, 4 MB had beaten 2 and 8 MB: conv2 backward 9.8 ms against 10.6 and 10.4.)
BLOCK = 1 << 21
MIN_ROWS = 100           # but at least this many rows: GEMMs of 5 rows ran conv1 d/dW 2x slower
FORWARD_BLOCK = 1 << 21  # at most this many numbers of columns at once in the forward (8 MB; 4 MB: +0.2 ms a step)
SCRATCH_LIMIT = 1 << 22  # scratch buffers up to this many numbers are kept between calls (16 MB in float32)
LONG_K, SMALL_RESULT, CHUNK = 1 << 14, 1 << 10, 1 << 10  # see long_product and _small_row_products
_SCRATCH = threading.local()


def scratch(role: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array for a temporary that never leaves this module (columns, their
    gradient), one buffer per ``role`` and dtype and thread, reused by the next call.

    Never for an array that is returned or saved: the next call overwrites it.
    """
    size = int(np.prod(shape))
    if size > SCRATCH_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffers = getattr(_SCRATCH, "buffers", None)
    if buffers is None:
        buffers = _SCRATCH.buffers = {}
    key = (role, np.dtype(dtype))
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = buffers[key] = np.empty(size, dtype=dtype)
    uses = _SCRATCH.__dict__.setdefault("uses", {})
    uses[key] = uses.get(key, 0) + 1
    return buffer[:size].reshape(shape)


def receipt(role: str, array: np.ndarray):
    """A token for ``array``, just taken from the ``role`` scratch buffer and filled, that
    ``redeem`` turns back into it as long as no later ``scratch`` call (on this thread) has
    taken that buffer again; None when ``array`` is no scratch buffer (too large to keep)."""
    key = (role, array.dtype)
    buffer = getattr(_SCRATCH, "buffers", {}).get(key)
    if buffer is None or not np.may_share_memory(array, buffer):
        return None
    return threading.get_ident(), key, _SCRATCH.uses[key], array


def redeem(token):
    """The array of a ``receipt`` if its buffer still holds it, else None."""
    if token is None:
        return None
    thread, key, count, array = token
    held = thread == threading.get_ident() and getattr(_SCRATCH, "uses", {}).get(key) == count
    return array if held else None


def scratch_nbytes() -> int:
    """Bytes of scratch this thread keeps between calls (what a benchmark reports beside its peak)."""
    return sum(buffer.nbytes for buffer in getattr(_SCRATCH, "buffers", {}).values())


def batch_last(x: np.ndarray, padding: tuple = (0, 0)) -> np.ndarray:
    """``x`` (N, C, H, W) as a C-ordered (C, H + 2ph, W + 2pw, N) array, zero padded: x's own
    memory when it is laid out so and needs no padding, else one copy."""
    n, c, h, w = x.shape
    ph, pw = padding
    t = x.transpose(1, 2, 3, 0)
    if not ph and not pw:
        return t if t.flags.c_contiguous else np.ascontiguousarray(t)
    out = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
    out[:, ph:ph + h, pw:pw + w] = t
    return out


def blocks(channels: int, kernel: tuple, width: int):
    """(c0, c1, i0, i1): input channels c0:c1 and kernel rows i0:i1 whose columns (each
    ``width`` = OH*OW*N long) hold about BLOCK numbers, but at least MIN_ROWS columns
    rows, so each block's GEMMs stay efficient; every (channel, kernel row) once.

    All channels together before a few channels: a block of whole kernel rows copies and
    adds each kernel offset's slice of every channel in one NumPy call. Blocks of a few
    channels cut the same work into several times as many calls, and their overhead was
    most of conv2's col2im (2.2 against 1.5 ms)."""
    kh, kw = kernel
    rows = max(MIN_ROWS, BLOCK // max(1, width))
    if rows >= channels * kw:
        step = rows // (channels * kw)
        for i0 in range(0, kh, step):
            yield 0, channels, i0, min(kh, i0 + step)
        return
    step = max(1, rows // kw)
    for c0 in range(channels):
        for i0 in range(0, kh, step):
            yield c0, c0 + 1, i0, min(kh, i0 + step)


def columns(image: np.ndarray, block: tuple, kernel, stride, dilation, out_size, ones: bool = False) -> np.ndarray:
    """The rows of the columns of a batch-last padded ``image`` that ``block`` covers, in the
    "columns" scratch buffer (valid until the next call); with ``ones``, a last row of ones,
    so that a weight matrix with the bias as its last column adds the bias in its GEMM, and
    the product with grad^T gives d/db as its last row."""
    c0, c1, i0, i1 = block
    shape = (c1 - c0, i1 - i0, kernel[1], *out_size, image.shape[3])
    rows, width = int(np.prod(shape[:3])), int(np.prod(shape[3:]))
    buffer = scratch("columns", (rows + ones, width), image.dtype)
    cols = buffer[:rows].reshape(shape)
    for i, j, window_rows, cs in offsets(kernel, stride, dilation, out_size):
        if i0 <= i < i1:
            cols[:, i - i0, j] = image[c0:c1, window_rows, cs]
    if ones:
        buffer[rows] = 1
    return buffer


def add_columns(image: np.ndarray, cols: np.ndarray, block: tuple, kernel, stride, dilation, out_size) -> None:
    """col2im of one block: each column added back into its window of ``image`` (in place)."""
    c0, c1, i0, i1 = block
    parts = cols.reshape(c1 - c0, i1 - i0, kernel[1], *out_size, image.shape[3])
    for i, j, rows, cs in offsets(kernel, stride, dilation, out_size):
        if i0 <= i < i1:
            image[c0:c1, rows, cs] += parts[:, i - i0, j]


def conv2d(x, weight, bias, stride, padding, dilation, out_size) -> tuple:
    """(output, unfolding): the output (N, O, OH, OW), a view of an (O, OH, OW, N) array, the
    whole batch inside each GEMM: one per output row over ``unfolded_rows`` where the
    vertical dilation is 1, else one per block of output rows over whole columns. Either
    way the columns built at once hold at most FORWARD_BLOCK numbers, so they are still in
    cache for their GEMM (the small CNN's conv2: 5.6 -> 4.2 ms), and a prediction over
    10,000 images does not build 576 MB of columns at once.

    ``unfolding``: a ``receipt`` for the row unfolding when one block held all of it, for
    ``conv2d_backward``, else None."""
    o, c, kh, kw = weight.shape
    (oh, ow), n = out_size, x.shape[0]
    if not x.size or not weight.size:  # a batch, channels or filters of 0: the blocks below divide by them
        out = np.zeros((n, o, oh, ow), dtype=np.result_type(x, weight))
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        return out, None
    out = np.empty((o, oh, ow * n), dtype=np.result_type(x, weight))
    if goes_by_rows(dilation):
        weights, token = _row_weights(weight, bias), None
        for r0, r1, unfolded in _row_blocks_unfolded(x, padding, (kh, kw), stride, dilation, out_size,
                                                     bias is not None, FORWARD_BLOCK):
            # one batched matmul (a loop over rows took 0.05 ms longer per conv); BLAS writes in place
            np.matmul(weights, _row_columns(unfolded, r1 - r0, kh, stride[0]), out=out[:, r0:r1].transpose(1, 0, 2))
            token = receipt("columns", unfolded) if (r0, r1) == (0, oh) else None
        return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2), token
    out, image = out.reshape(o, -1), batch_last(x, padding)
    step = max(1, FORWARD_BLOCK // max(1, c * kh * kw * ow * n))
    weights = _with_bias(weight.reshape(o, -1), bias)
    for r0 in range(0, oh, step):
        r1 = min(oh, r0 + step)
        cols = columns(image[:, r0 * stride[0]:], (0, c, 0, kh), (kh, kw), stride, dilation, (r1 - r0, ow),
                       ones=bias is not None)
        np.matmul(weights, cols, out=out[:, r0 * ow * n:r1 * ow * n])
    return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2), None


def _with_bias(weights: np.ndarray, bias) -> np.ndarray:
    """(O, K) weights with the bias as a last column, against the columns' row of ones: the
    GEMM adds it, with no pass of its own over the output (the first conv's: -0.17 ms)."""
    if bias is None:
        return weights
    return np.concatenate([weights, bias.reshape(-1, 1).astype(weights.dtype, copy=False)], axis=1)


def goes_by_rows(dilation: tuple) -> bool:
    """True when the forward and d/dW take ``unfolded_rows`` rather than whole columns: with a
    vertical dilation of 1, the columns of one output row are one contiguous block of it."""
    return dilation[0] == 1


def unfolded_rows(image, top: int, count: int, kernel, stride, dilation, ow: int, ones: bool = False) -> np.ndarray:
    """Rows top:top+count of a batch-last padded ``image`` unfolded along the width only,
    image rows outermost: (count, C*kw + ones, OW*N) in the "columns" scratch buffer (valid
    until the next call). With ``ones``, each image row ends in a row of ones.

    With a vertical dilation of 1, the columns of output row y (rows y*sh .. y*sh + kh - 1,
    counted from ``top``) are then one contiguous (kh*(C*kw + ones), OW*N) block: in the
    order (kernel row, channel, kernel column), with the ones of each kernel row, so the
    weight matrix of ``_row_weights`` with the bias in kernel row 0 adds it in the GEMM. kw
    copies of the image instead of kh*kw, and each output row's block fits in cache for
    its GEMM."""
    (kh, kw), n, c = kernel, image.shape[3], image.shape[0]
    unfolded = scratch("columns", (count, c * kw + ones, ow * n), image.dtype)
    parts = unfolded[:, :c * kw].reshape(count, c, kw, ow, n)
    for j in range(kw):
        start = j * dilation[1]
        window = image[:, top:top + count, start:start + stride[1] * (ow - 1) + 1:stride[1]]
        parts[:, :, j] = window.transpose(1, 0, 2, 3)
    if ones:
        unfolded[:, c * kw] = 1
    return unfolded


def _row_weights(weight: np.ndarray, bias) -> np.ndarray:
    """(O, kh*(C*kw + ones)): the weight in ``unfolded_rows``' order, the bias against kernel
    row 0's row of ones and zeros against the others."""
    o, c, kh, kw = weight.shape
    rows = weight.transpose(0, 2, 1, 3).reshape(o, kh, c * kw)
    if bias is None:
        return rows.reshape(o, -1)
    ones = np.zeros((o, kh, 1), dtype=rows.dtype)
    ones[:, 0, 0] = bias
    return np.concatenate([rows, ones], axis=2).reshape(o, -1)


def _row_blocks(out_rows: int, kernel: tuple, stride: tuple, row_size: int, limit: int):
    """(r0, r1): output rows whose image rows (``row_size`` numbers each unfolded) hold at
    most ``limit`` numbers, at least one output row a block."""
    kh, sh = kernel[0], stride[0]
    step = max(1, (limit // max(1, row_size) - kh) // sh + 1)
    for r0 in range(0, out_rows, step):
        yield r0, min(out_rows, r0 + step)


def _row_blocks_unfolded(x, padding, kernel, stride, dilation, out_size, ones: bool, limit: int, unfolding=None):
    """(r0, r1, unfolded): ``unfolded_rows`` of x (N, C, H, W) for output rows r0:r1, of at
    most ``limit`` numbers; for all rows at once, the forward's ``unfolding`` while its
    buffer still holds it (the small CNN's conv2: 0.25 ms, its unfolding's 4 MB written
    again), and then x is not padded or laid out batch-last again either."""
    (kh, kw), (oh, ow), (n, c) = kernel, out_size, x.shape[:2]
    image = None
    for r0, r1 in _row_blocks(oh, kernel, stride, (c * kw + ones) * ow * n, limit):
        count = (r1 - r0 - 1) * stride[0] + kh
        held = redeem(unfolding) if (r0, r1) == (0, oh) else None
        if held is not None and held.shape == (count, c * kw + ones, ow * n):
            yield r0, r1, held
            continue
        if image is None:
            image = batch_last(x, padding)
        yield r0, r1, unfolded_rows(image, r0 * stride[0], count, kernel, stride, dilation, ow, ones)


def _row_columns(unfolded: np.ndarray, out_rows: int, kernel_rows: int, stride: int) -> np.ndarray:
    """A read-only (out_rows, kh*(C*kw + ones), OW*N) view of a block of ``unfolded_rows``:
    the columns of each of its output rows (overlapping, no copy)."""
    count, rows, width = unfolded.shape
    s0, s1, s2 = unfolded.strides
    return as_strided(unfolded, (out_rows, kernel_rows * rows, width), (stride * s0, s1, s2), writeable=False)


def long_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T for a (M, K) and b (N, K), in chunks of CHUNK along K when K is long and the
    (M, N) result small: one batched matmul of GEMMs that each fit in cache, then a sum.
    OpenBLAS splits such a product over M and N only, so it ran the small CNN's first conv's
    d/dW (25 x 73,728 times 73,728 x 16) on one core, at 1.03 ms against 0.77 chunked
    (conv2's 240 x 8,192 x 32 gains nothing, and is left whole)."""
    (m, k), n = a.shape, b.shape[0]
    if k < LONG_K or m * n > SMALL_RESULT:
        return np.matmul(a, b.T)
    return _small_row_products(a[None], b[:, None])  # one "output row" of K columns


def conv2d_backward(grad, x, weight, needs: tuple, stride, padding, dilation, unfolding=None) -> tuple:
    """(d/dx, d/dW, d/db), each None unless ``needs`` says so. d/dW (and d/db, from the
    columns' ones) is the sum over output rows of columns @ grad^T, the columns built as
    the forward builds them. d/dx: per block of columns, fold(W[block]^T @ grad[block])
    added into it; the blocks go through the output a few rows at a time when the columns
    of all of it would hold more than BLOCK numbers. ``unfolding``: the forward's (see
    ``conv2d``)."""
    need_x, need_w, need_b = needs
    o, c, kh, kw = weight.shape
    n, _, h, w = x.shape
    if not x.size or not weight.size:  # as in ``conv2d``: nothing to multiply, only d/db can be nonzero
        return (np.zeros(x.shape, grad.dtype) if need_x else None,
                np.zeros(weight.shape, grad.dtype) if need_w else None,
                grad.sum(axis=(0, 2, 3)) if need_b else None)
    (ph, pw), (oh, ow) = padding, grad.shape[2:]
    rows = grad.transpose(1, 2, 3, 0).reshape(o, -1)  # (O, OH*OW*N), no copy in Conv2d's layout
    grad_w = grad_b = None
    if need_w and goes_by_rows(dilation):
        grad_w, grad_b = _weight_gradient_by_rows(x, padding, rows.reshape(o, oh, -1), weight.shape, need_b,
                                                  stride, dilation, unfolding)
    elif need_w:
        grad_w, grad_b = _weight_gradient_by_columns(batch_last(x, padding), rows, weight.shape, need_b, stride,
                                                     dilation, (oh, ow))
    elif need_b:  # a matrix-vector product: 2.5x faster than rows.sum(axis=1) on conv1's
        grad_b = np.matmul(rows, np.ones(rows.shape[1], rows.dtype))
    grad_x = _input_gradient(rows, weight, (n, c, h, w), stride, padding, dilation, (oh, ow)) if need_x else None
    return grad_x, grad_w, grad_b


def _weight_gradient_by_rows(x, padding, grad_rows, shape, need_b: bool, stride, dilation, unfolding=None) -> tuple:
    """(d/dW, d/db) as the sum over output rows y of columns_y @ grad[:, y]^T, ``grad_rows``
    (O, OH, OW*N); d/db is the product's row for kernel row 0's ones. Against whole columns
    and one long product, the small CNN's conv2 d/dW 2.1 -> 1.3 ms."""
    o, c, kh, kw = shape
    oh, width = grad_rows.shape[1:]
    total = None
    for r0, r1, unfolded in _row_blocks_unfolded(x, padding, (kh, kw), stride, dilation, (oh, width // x.shape[0]),
                                                 need_b, BLOCK, unfolding):
        cols = _row_columns(unfolded, r1 - r0, kh, stride[0])
        if cols.shape[1] * o <= SMALL_RESULT:
            products = [_small_row_products(cols, grad_rows[:, r0:r1])]
        else:
            products = (np.matmul(cols[r], grad_rows[:, r0 + r].T) for r in range(r1 - r0))
        for product in products:
            if total is None:
                total = product
            else:
                total += product
    total = total.reshape(kh, c * kw + need_b, o)
    grad_w = np.ascontiguousarray(total[:, :c * kw].reshape(kh, c, kw, o).transpose(3, 1, 0, 2))
    return grad_w, (total[0, c * kw].copy() if need_b else None)


def _small_row_products(cols, grad_rows) -> np.ndarray:
    """The sum over output rows r of cols[r] @ grad[:, r]^T when that (M, O) result is small:
    one batched matmul over rows and CHUNK-long pieces of them, each GEMM in cache (OpenBLAS
    runs one small product on one core; the small CNN's conv1, 30 x 3,072 x 16 per row:
    1.2 -> 0.9 ms)."""
    out_rows, m, width = cols.shape
    o = grad_rows.shape[0]
    (s0, s1, item), pieces, whole = cols.strides, width // CHUNK, width // CHUNK * CHUNK
    total = 0
    if pieces:
        chunks = as_strided(cols, (out_rows, pieces, m, CHUNK), (s0, CHUNK * item, s1, item), writeable=False)
        grads = grad_rows[:, :, :whole].reshape(o, out_rows, pieces, CHUNK).transpose(1, 2, 3, 0)
        total = np.matmul(chunks, grads).sum(axis=(0, 1))
    if whole < width:
        total = total + np.matmul(cols[:, :, whole:], grad_rows[:, :, whole:].transpose(1, 2, 0)).sum(axis=0)
    return total


def _weight_gradient_by_columns(image, rows, shape, need_b: bool, stride, dilation, out_size) -> tuple:
    """(d/dW, d/db) per block of whole columns (a vertical dilation over 1): d/dW[block] +=
    (columns[block] @ grad[block]^T)^T, d/db from the first block's row of ones."""
    o, c, kh, kw = shape
    (oh, ow), n = out_size, image.shape[3]
    # d/dW transposed, (C, kh, kw, O): columns @ grad^T fills whole rows of it per block, and
    # is faster than grad @ columns^T (0.35 against 0.49 ms per block of the small CNN's conv2)
    grad_wt = np.zeros((c, kh, kw, o), dtype=rows.dtype)
    grad_b = np.zeros(o, dtype=rows.dtype) if need_b else None
    for r0, r1, part, block in _column_blocks(rows, (c, kh, kw), out_size, n):
        c0, c1, i0, i1 = block
        ones = need_b and c0 == 0 and i0 == 0
        cols = columns(image[:, r0 * stride[0]:], block, (kh, kw), stride, dilation, (r1 - r0, ow), ones=ones)
        products = long_product(cols, part)
        grad_wt[c0:c1, i0:i1] += products[:(c1 - c0) * (i1 - i0) * kw].reshape(c1 - c0, i1 - i0, kw, o)
        if ones:
            grad_b += products[-1]
    return np.ascontiguousarray(grad_wt.transpose(3, 0, 1, 2)), grad_b


def _input_gradient(rows, weight, shape, stride, padding, dilation, out_size) -> np.ndarray:
    """d/dx (N, C, H, W): per block of columns, W[block]^T @ grad[block] folded back (col2im)."""
    o, c, kh, kw = weight.shape
    n, _, h, w = shape
    (ph, pw), (oh, ow) = padding, out_size
    grad_image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=rows.dtype)
    for r0, r1, part, block in _column_blocks(rows, (c, kh, kw), out_size, n):
        c0, c1, i0, i1 = block
        weights = weight[:, c0:c1, i0:i1].reshape(o, -1)
        spread = np.matmul(weights.T, part, out=scratch("columns", (weights.shape[1], part.shape[1]), rows.dtype))
        add_columns(grad_image[:, r0 * stride[0]:], spread, block, (kh, kw), stride, dilation, (r1 - r0, ow))
    return grad_image[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2)


def _column_blocks(rows, kernel: tuple, out_size: tuple, n: int):
    """(r0, r1, grad rows, block): output rows r0:r1 at a time, as many as keep a block of
    MIN_ROWS columns rows within BLOCK, and the ``blocks`` of their columns."""
    c, kh, kw = kernel
    oh, ow = out_size
    step = max(1, BLOCK // max(1, min(c * kh * kw, MIN_ROWS) * ow * n))
    for r0 in range(0, oh, step):
        r1 = min(oh, r0 + step)
        part = rows[:, r0 * ow * n:r1 * ow * n]
        for block in blocks(c, (kh, kw), part.shape[1]):
            yield r0, r1, part, block
