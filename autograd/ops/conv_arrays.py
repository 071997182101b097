"""Conv2d on arrays: the forward and the gradients as matrix products over batch-last columns.

The columns are (C*kh*kw, OH*OW*N): rows in the weight's order, so W2 @ columns is the
whole batch in one GEMM (W2 = weight.reshape(O, C*kh*kw)), and the image axis N innermost
in memory, so every slice copied or added is a run of OW*N contiguous numbers. NumPy's
loops pay per run: with OW = 8 innermost (NCHW), im2col and col2im of the small CNN's
second conv took 3x and 3.2x longer. The output is therefore an (N, O, OH, OW) view of an
(O, OH, OW, N) array; elementwise ops and the pools keep that layout, so the next conv
copies nothing to get it.

With a vertical stride of 1 and C*kw of 64 or more (the small CNN's conv2), the forward
and d/dW skip the full columns: the image is unfolded along the width only, and the
columns of each kernel row are a slice of that, one GEMM each (``_kernel_row_products``).

The forward keeps no columns: the backward rebuilds them block by block (output rows as
needed, and within those a few kernel rows of all input channels, or of one channel at a
time), so a block of columns, then its gradient, is the only large temporary of a
training step. It lives in a per-thread scratch buffer (``scratch``) reused from call to
call: a fresh 8 MB array each time is 2,000 page faults once glibc has handed the memory
back to the system, which it does at the end of every training step.
"""
from __future__ import annotations

import threading

import numpy as np

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
LONG_K, SMALL_RESULT, CHUNK = 1 << 14, 1 << 10, 1 << 10  # see long_product
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
    return buffer[:size].reshape(shape)


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


def conv2d(x, weight, bias, stride, padding, dilation, out_size) -> np.ndarray:
    """The output (N, O, OH, OW), a view of an (O, OH, OW, N) array: one GEMM per block of
    output rows, the whole batch inside each. A block has at most FORWARD_BLOCK numbers of
    columns, so they are still in cache for their GEMM (the small CNN's conv2: 5.6 -> 4.2 ms),
    and a prediction over 10,000 images does not build 576 MB of columns at once."""
    o, c, kh, kw = weight.shape
    (oh, ow), n = out_size, x.shape[0]
    image = batch_last(x, padding)
    out = np.empty((o, oh * ow * n), dtype=np.result_type(x, weight))
    step = _rows_per_unfolding(c, (kh, kw), stride, dilation, ow * n, FORWARD_BLOCK)
    by_rows = step > 0
    step = step or max(1, FORWARD_BLOCK // max(1, c * kh * kw * ow * n))
    weights = None if by_rows else _with_bias(weight.reshape(o, -1), bias)  # by rows: per kernel row
    for r0 in range(0, oh, step):
        r1 = min(oh, r0 + step)
        block = out[:, r0 * ow * n:r1 * ow * n]
        if by_rows:
            _kernel_row_products(image[:, r0:], weight, bias, block, stride, dilation, (r1 - r0, ow))
            continue
        cols = columns(image[:, r0 * stride[0]:], (0, c, 0, kh), (kh, kw), stride, dilation, (r1 - r0, ow),
                       ones=bias is not None)
        np.matmul(weights, cols, out=block)  # BLAS writes in place
    return out.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)


def _with_bias(weights: np.ndarray, bias) -> np.ndarray:
    """(O, K) weights with the bias as a last column, against the columns' row of ones: the
    GEMM adds it, with no pass of its own over the output (the first conv's: -0.17 ms)."""
    if bias is None:
        return weights
    return np.concatenate([weights, bias.reshape(-1, 1).astype(weights.dtype, copy=False)], axis=1)


def width_unfolded(image, kernel, stride, dilation, out_size, ones: bool = False) -> np.ndarray:
    """The windows of a batch-last ``image`` unfolded along the width only: (C*kw, H*OW*N) for
    the H image rows that out_size's rows reach, in the "columns" scratch buffer; the
    columns of kernel row i are its slice [:, i*dh*OW*N:][:, :OH*OW*N]. With ``ones``, a last
    row of ones (see ``columns``)."""
    (kh, kw), (oh, ow), n = kernel, out_size, image.shape[3]
    c, height = image.shape[0], (oh - 1) + (kh - 1) * dilation[0] + 1
    unfolded = scratch("columns", (c * kw + ones, height * ow * n), image.dtype)
    parts = unfolded[:c * kw].reshape(c, kw, height, ow, n)
    for j in range(kw):
        start = j * dilation[1]
        parts[:, j] = image[:, :height, start:start + stride[1] * (ow - 1) + 1:stride[1]]
    if ones:
        unfolded[c * kw] = 1
    return unfolded


def _rows_per_unfolding(channels: int, kernel: tuple, stride: tuple, dilation: tuple, run: int, limit: int) -> int:
    """Output rows per width-only unfolding of at most ``limit`` numbers (``run`` = OW*N), or
    0 where a conv takes whole columns instead: a vertical stride over 1, GEMMs of under 64
    rows, or unfoldings so short that each would copy an image row more than twice (a
    prediction over batches of 1,000 ran 8% slower with them)."""
    if stride[0] != 1 or channels * kernel[1] < 64:
        return 0
    rows = limit // (channels * kernel[1] * run) - (kernel[0] - 1) * dilation[0]
    return rows if rows >= kernel[0] else 0


def _kernel_row_products(image, weight, bias, out, stride, dilation, out_size) -> None:
    """``out`` = W @ columns without the whole columns: with a vertical stride of 1, the
    columns of kernel row i are rows i*dh.. of one unfolding along the width only, (C*kw,
    H*OW*N), so each kernel row is a GEMM on a slice of it, summed (the bias in the first).
    kh times fewer numbers copied; the small CNN's conv2 (C*kw = 80) forward alone took 1.97
    against 2.31 ms, a training step 0.4 to 1.1 ms less."""
    o, c, kh, kw = weight.shape
    (oh, ow), n = out_size, image.shape[3]
    unfolded = width_unfolded(image, (kh, kw), stride, dilation, out_size, ones=bias is not None)
    width = oh * ow * n
    for i in range(kh):
        top = i * dilation[0] * ow * n
        if i == 0:
            w = _with_bias(weight[:, :, 0].reshape(o, c * kw), bias)
            np.matmul(w, unfolded[:w.shape[1], top:top + width], out=out)
        else:
            out += np.matmul(weight[:, :, i].reshape(o, c * kw), unfolded[:c * kw, top:top + width])


def long_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T for a (M, K) and b (N, K), in chunks of CHUNK along K when K is long and the
    (M, N) result small: one batched matmul of GEMMs that each fit in cache, then a sum.
    OpenBLAS splits such a product over M and N only, so it ran the small CNN's first conv's
    d/dW (25 x 73,728 times 73,728 x 16) on one core, at 1.03 ms against 0.77 chunked
    (conv2's 240 x 8,192 x 32 gains nothing, and is left whole)."""
    (m, k), n = a.shape, b.shape[0]
    if k < LONG_K or m * n > SMALL_RESULT:
        return np.matmul(a, b.T)
    whole = k // CHUNK * CHUNK
    chunks = np.matmul(a[:, :whole].reshape(m, -1, CHUNK).transpose(1, 0, 2),
                       b[:, :whole].reshape(n, -1, CHUNK).transpose(1, 2, 0))
    out = chunks.sum(axis=0)
    if whole < k:
        out += np.matmul(a[:, whole:], b[:, whole:].T)
    return out


def conv2d_backward(grad, x, weight, needs: tuple, stride, padding, dilation) -> tuple:
    """(d/dx, d/dW, d/db), each None unless ``needs`` says so: per block of columns,
    d/dW[block] += (columns[block] @ grad[block]^T)^T, and fold(W[block]^T @ grad[block])
    added into d/dx. The blocks go through the output a few rows at a time when the
    columns of all of it would hold more than BLOCK numbers. Where the forward goes by
    kernel rows, d/dW does too, over the same width-only unfolding."""
    need_x, need_w, need_b = needs
    o, c, kh, kw = weight.shape
    n, _, h, w = x.shape
    (ph, pw), (oh, ow) = padding, grad.shape[2:]
    rows = grad.transpose(1, 2, 3, 0).reshape(o, -1)  # (O, OH*OW*N), no copy in Conv2d's layout
    image = batch_last(x, padding) if need_w else None
    grad_image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=grad.dtype) if need_x else None
    # d/dW transposed, (C, kh, kw, O): columns @ grad^T fills whole rows of it per block, and
    # is faster than grad @ columns^T (0.35 against 0.49 ms per block of the small CNN's conv2)
    grad_wt = np.zeros((c, kh, kw, o), dtype=grad.dtype) if need_w else None
    # d/db as the product of grad with the columns' row of ones, beside d/dW: no pass of its own
    grad_b = np.zeros(o, dtype=grad.dtype) if need_b and need_w else None
    # Output rows at a time: as many as keep a block of MIN_ROWS columns rows within BLOCK
    step = max(1, BLOCK // max(1, min(c * kh * kw, MIN_ROWS) * ow * n))
    by_rows = _rows_per_unfolding(c, (kh, kw), stride, dilation, ow * n, BLOCK) >= step
    for r0 in range(0, oh, step):
        r1 = min(oh, r0 + step)
        part, size, top = rows[:, r0 * ow * n:r1 * ow * n], (r1 - r0, ow), r0 * stride[0]
        if need_w and by_rows:
            unfolded = width_unfolded(image[:, top:], (kh, kw), stride, dilation, size, ones=need_b)
            for i in range(kh):
                start, ones = i * dilation[0] * ow * n, need_b and i == 0  # the row of ones once, with row 0
                products = long_product(unfolded[:c * kw + ones, start:start + part.shape[1]], part)
                grad_wt[:, i] += products[:c * kw].reshape(c, kw, o)
                if ones:
                    grad_b += products[-1]
        for block in blocks(c, (kh, kw), part.shape[1]):
            c0, c1, i0, i1 = block
            if need_w and not by_rows:
                ones = need_b and c0 == 0 and i0 == 0
                cols = columns(image[:, top:], block, (kh, kw), stride, dilation, size, ones=ones)
                products = long_product(cols, part)
                grad_wt[c0:c1, i0:i1] += products[:(c1 - c0) * (i1 - i0) * kw].reshape(c1 - c0, i1 - i0, kw, o)
                if ones:
                    grad_b += products[-1]
            if need_x:
                weights = weight[:, c0:c1, i0:i1].reshape(o, -1)
                # into the columns' buffer: d/dW is done with them, and one buffer of scratch is kept, not two
                spread = np.matmul(weights.T, part, out=scratch("columns", (weights.shape[1], part.shape[1]),
                                                                   grad.dtype))
                add_columns(grad_image[:, top:], spread, block, (kh, kw), stride, dilation, size)
    grad_x = grad_image[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2) if need_x else None
    grad_w = np.ascontiguousarray(grad_wt.transpose(3, 0, 1, 2)) if need_w else None
    if need_b and not need_w:  # a matrix-vector product: 2.5x faster than rows.sum(axis=1) on conv1's
        grad_b = np.matmul(rows, np.ones(rows.shape[1], rows.dtype))
    return grad_x, grad_w, grad_b
