"""The convolution kernels behind :class:`~layergraph.layers.Conv2D`: window gathers and large matrix products.

The batch is processed in chunks of ``m`` samples. For each chunk the input windows are gathered by one copy from a
strided window view into a column buffer laid out ``(K, m * L)`` (``K = C * kh * kw`` rows, one column per output
position of the ``m`` samples, ``L = OH * OW``), and one matrix product ``(O, K) x (K, m * L)`` computes the chunk's
output. The chunk is sized so that the column buffer stays within the processor's cache (about 1 MiB), yet the
product is wide enough to run at full BLAS speed. The bias is added inside the product (one more weight column,
times a row of ones under the columns), and the result ``(O, m, L)`` is copied into the ``(N, O, OH, OW)`` output.
Large planes gathered without wide rows (see :class:`Columns`) use one product per sample instead,
``(O, K + 1) x (K + 1, L)`` with the bias likewise, written straight into the output.

Backward recomputes each chunk's columns from the cached (padded) input instead of keeping the whole column matrix
from the forward pass (``kh * kw`` times the input's size): the gather of a cached chunk is cheaper than reading a
large stored matrix back from memory, and a step's peak memory stays close to the activations themselves.

* weight gradient: ``dW += dout_chunk (O, m * L) x cols_chunk^T (m * L, K)`` per chunk (computed transposed
  when ``K > O``, see :func:`chunk_weight_grad`);
* stride-1 "same" convolutions compute the weight and input gradients in one loop (:func:`backward_same`);
* input gradient, stride 1: a "full" correlation of ``dout`` (padded by ``kh - 1 - ph`` rows and ``kw - 1 - pw``
  columns) with the flipped, transposed kernel: the same gather and product as the forward pass, no scatter;
* input gradient, larger strides: ``dcols = W^T x dout_chunk``, folded back (col2im) by ``kh * kw`` strided
  in-place adds into a padded, cache-sized chunk buffer.

Chunks are independent and run on the threads of :func:`layergraph.threads.parallel_for`, each worker with its own
scratch buffers; the chunk bounds depend only on the shapes and the weight gradient adds its per-chunk parts in chunk
order, so results are the same for every thread count. Scratch buffers live in a :class:`Workspace` owned by the
layer and are reused while shapes stay the same; the arrays returned to callers (outputs and input gradients) are
always freshly allocated.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .. import threads
from ._workspace import Workspace  # noqa: F401  (the layers' scratch buffers)

#: Target size in bytes of one chunk's column buffer (kept in the processor's L2 cache).
CHUNK_BYTES = 1 << 20
#: Minimum number of columns ``m * L`` of one chunk's product, so that BLAS runs on wide enough matrices. Kept low:
#: a larger floor makes chunks of samples with large columns overflow the cache (4096 measured 10-35 % slower than
#: 1024 on the convolutions of the benchmarks).
MIN_COLUMNS = 1024
#: Planes of at least this many output positions (without wide rows) get one product per sample.
PER_SAMPLE_LENGTH = 256
#: Gather stride-1 windows as "wide rows" (see :class:`Columns`); False gathers (OH, OW) windows.
WIDE_ROWS = True


def chunk_samples(n, k, length, itemsize):
    """Samples per chunk: about :data:`CHUNK_BYTES` of columns, at least :data:`MIN_COLUMNS` columns, at most n."""
    per_sample = k * length * itemsize
    m = max(CHUNK_BYTES // max(per_sample, 1), -(-MIN_COLUMNS // length), 1)
    return int(min(n, m))


def per_sample_chunk(n, k, length, itemsize):
    """Samples per gather when each sample gets its own product: about :data:`CHUNK_BYTES` of columns (a quarter
    of that measured 10-20 % slower on the 5x5 convolution of the benchmarks, one thread or two: fewer, larger
    chunks hand the interpreter lock between threads less often)."""
    return int(min(n, max(CHUNK_BYTES // max(k * length * itemsize, 1), 1)))


def chunk_bounds(n, m):
    """Bounds of an even number of chunks of about ``m`` samples (see :func:`~layergraph.threads.even_chunks`), two
    at least when ``n > 1``: each product then runs on one BLAS thread of a worker, never on BLAS's own threads,
    whose spinning after a call would slow down the next parallel loop."""
    return threads.even_chunks(n, min(m, -(-n // 2)))


def window_view(xp, kernel, stride, out_hw):
    """Strided view ``(C, kh, kw, N, OH, OW)`` of the windows of ``xp`` ``(N, C, Hp, Wp)``; no copy."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw]
    return win.transpose(1, 4, 5, 0, 2, 3)


def wide_rows(c, kernel, stride, ow, rows_out):
    """Whether :class:`Columns` gathers wide rows for ``c`` channels, *kernel*, *stride*, ``OW`` and *rows_out*."""
    kh, kw = kernel
    return WIDE_ROWS and stride == (1, 1) and kw > 1 and (ow <= 16 or c * kh * kw >= 4 * rows_out)


class Columns:
    """The (padded) input of one pass and how its windows are gathered into column buffers.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pad : (int, int)
        Zero rows and columns added on both sides; a negative entry crops that many instead.
    kernel, stride, out_hw : (int, int)
    rows_out : int
        Rows of the weight matrix the columns will be multiplied by (output channels).
    ws : Workspace, optional
        Where the padded input is kept between calls: one buffer per *name* and padding, made anew (zero-filled)
        when its shape changes; only its interior is ever written, so its border stays zero. Without *ws* a new
        zero-padded array is made.
    name : str

    With stride 1 the gather uses "wide rows": for kernel offset ``(i, j)`` the columns of a sample are the
    contiguous run ``xp_flat[i * Wp + j : i * Wp + j + OH * Wp]`` of its flattened padded plane, so each copied run
    is a whole plane long instead of one output row. The ``Wp - OW`` extra columns per output row hold values the
    output never reads (the product costs ``Wp / OW`` times more, the gather far less); one extra zero row at the
    bottom of the padded plane keeps the last run inside the array. Other strides gather ``(OH, OW)`` windows, and
    so do narrow products (``K < 4 * rows_out``) on wide images (``OW > 16``), where copying the output out of the
    wide layout would cost more than the gather saves.
    """

    def __init__(self, x, pad, kernel, stride, out_hw, rows_out, ws=None, name="xp"):
        (kh, kw), (oh, ow) = kernel, out_hw
        n, c, h, w = x.shape
        self.wide = wide_rows(c, kernel, stride, ow, rows_out)
        cut_h, cut_w = max(-pad[0], 0), max(-pad[1], 0)
        x = x[:, :, cut_h:h - cut_h, cut_w:w - cut_w]
        (ph, pw), extra = (max(pad[0], 0), max(pad[1], 0)), int(self.wide)
        if ph or pw or extra:
            shape = (n, c, x.shape[2] + 2 * ph + extra, x.shape[3] + 2 * pw)
            if ws is None:
                xp = np.zeros(shape, dtype=x.dtype)
            else:   # the interior's place follows from the shape and the key, so the border stays zero
                xp = ws.zeros(f"{name}.{ph}.{pw}.{extra}", shape, x.dtype)
            xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
        else:
            xp = x
        self.xp, self.out_hw, self.kernel = xp, out_hw, kernel
        if self.wide:
            wp = xp.shape[3]
            self.length = oh * wp
            sn, sc, _, sw = xp.strides
            self.view = as_strided(xp, (c, kh, kw, n, self.length), (sc, wp * sw, sw, sn, sw), writeable=False)
            self.tail = (self.length,)
            self.row = wp
        else:
            self.view = window_view(xp, kernel, stride, out_hw)
            self.length = oh * ow
            self.tail = (oh, ow)
            self.row = ow
        # Large planes without wide rows: one product per sample, written straight into the output.
        self.per_sample = not self.wide and self.length >= PER_SAMPLE_LENGTH

    def gather(self, ws, name, start, stop, ones_row=False):
        """Copy the windows of samples ``start:stop`` into the workspace buffer *name*; return it as ``(K, m * L)``,
        or with *ones_row* as ``(K + 1, m * L)`` whose last row is ones (a bias column of the weights then adds the
        bias inside the product)."""
        c, kh, kw = self.view.shape[:3]
        m, k = stop - start, c * kh * kw
        if not ones_row:
            cols = ws.get(f"{name}.{m}", (c, kh, kw, m, *self.tail), self.xp.dtype)
            np.copyto(cols, self.view[:, :, :, start:stop])
            return cols.reshape(k, -1)
        cols = ws.get(f"{name}.{m}.1", (k + 1, m * self.length), self.xp.dtype)
        np.copyto(cols[:k].reshape(c, kh, kw, m, *self.tail), self.view[:, :, :, start:stop])
        cols[k] = 1.0
        return cols

    def gather_per_sample(self, ws, name, start, stop, ones_row=False):
        """Copy the windows of samples ``start:stop`` into buffer *name*, returned as ``(m, K, L)``, or with
        *ones_row* as ``(m, K + 1, L)`` whose last row of each sample is ones."""
        c, kh, kw = self.view.shape[:3]
        m, k = stop - start, c * kh * kw
        cols = ws.get(f"{name}.s{m}.{int(ones_row)}", (m, k + ones_row, self.length), self.xp.dtype)
        np.copyto(cols[:, :k].reshape(m, c, kh, kw, *self.tail),
                  self.view[:, :, :, start:stop].transpose(3, 0, 1, 2, 4, 5))
        if ones_row:
            cols[:, k] = 1.0
        return cols

    def out_view(self, prod):
        """The ``(R, m, OH, OW)`` output positions inside a product ``prod`` of shape ``(R, m, length)``."""
        r, m, _ = prod.shape
        return prod.reshape(r, m, self.out_hw[0], self.row)[:, :, :, :self.out_hw[1]]


def correlate(g, Wm, bias, ws, tag="fwd"):
    """``y (N, O, OH, OW)`` of the cross-correlation of the columns *g* with ``Wm`` ``(O, K)``, plus ``bias``.

    ``K = C * kh * kw`` in ``(c, i, j)`` order; ``bias`` is ``(O,)`` or None. Chunks run in parallel
    (:func:`~layergraph.threads.parallel_for`), each writing its own samples of ``y``.
    """
    n = g.xp.shape[0]
    o, k = Wm.shape
    y = np.empty((n, o, *g.out_hw), dtype=Wm.dtype)
    # the bias as one more weight column, times a row of ones under the columns: adding it in the product costs
    # 1/K more multiply-adds, adding it to the output (or while copying the output out of the product) a slower pass
    Wb = Wm if bias is None else np.concatenate([Wm, bias[:, None].astype(Wm.dtype)], axis=1)
    if g.per_sample:
        bounds = chunk_bounds(n, per_sample_chunk(n, k, g.length, Wm.dtype.itemsize))
        y3 = y.reshape(n, o, g.length)

        def chunk(worker, u):
            s, e = bounds[u]
            np.matmul(Wb, g.gather_per_sample(ws, f"{tag}.cols{worker}", s, e, bias is not None), out=y3[s:e])
    else:
        bounds = chunk_bounds(n, chunk_samples(n, k, g.length, Wm.dtype.itemsize))

        def chunk(worker, u):
            s, e = bounds[u]
            cols = g.gather(ws, f"{tag}.cols{worker}", s, e, ones_row=bias is not None)
            prod = ws.get(f"{tag}.prod{worker}.{e - s}", (o, e - s, g.length), Wm.dtype)
            np.matmul(Wb, cols, out=prod.reshape(o, -1))
            np.copyto(y[s:e].transpose(1, 0, 2, 3), g.out_view(prod))
    threads.parallel_for(len(bounds), chunk)
    return y


def weight_parts(ws, count, o, k, dtype):
    """Per-chunk weight gradients: the stored array and its ``(count, O, K)`` view.

    Stored transposed, ``(count, K, O)``, when ``K > O``: BLAS runs the product faster (by about 10 % here) with
    the longer of ``K`` and ``O`` as the rows of the result (see :func:`chunk_weight_grad`).
    """
    if k > o:
        store = ws.get("bwd.dWt", (count, k, o), dtype)
        return store, store.transpose(0, 2, 1)
    store = ws.get("bwd.dW", (count, o, k), dtype)
    return store, store


def chunk_weight_grad(cols, d, part):
    """Write ``d (O, M) x cols^T (M, K)`` into ``part``, an ``(O, K)`` array or, when ``K > O``, a ``(K, O)`` one
    that receives the transposed product ``cols x d^T``."""
    if cols.shape[0] > d.shape[0]:
        np.matmul(cols, d.T, out=part)
    else:
        np.matmul(d, cols.T, out=part)


def split_bias(total, dWm, db):
    """Copy ``total`` ``(O, K)`` into ``dWm``, or ``total`` ``(O, K + 1)`` into ``dWm`` and its last column into
    ``db`` ``(O,)`` (the columns' row of ones carries the bias gradient)."""
    k = dWm.shape[1]
    np.copyto(dWm, total[:, :k])
    if db is not None:
        np.copyto(db, total[:, k])


def weight_grad(g, dout, dWm, ws, db=None):
    """Write ``dW (O, K) = sum_n dout[n] (O, L) x cols[n]^T (L, K)`` into ``dWm``; ``dout`` is ``(N, O, OH, OW)``.

    With ``db`` ``(O,)`` the bias gradient (``dout`` summed over samples and positions) is written there too: the
    columns get a row of ones, so it comes out of the same products. Each chunk's product goes to its own partial
    sum (``(O, K)``, or ``(K, O)`` when ``K > O``; chunks run in parallel); the partial sums are added in chunk
    order, so the results do not depend on the thread count.
    """
    n = g.xp.shape[0]
    o, k = dWm.shape
    ones = db is not None
    size = dWm.dtype.itemsize
    m = per_sample_chunk(n, k, g.length, size) if g.per_sample else chunk_samples(n, k, g.length, size)
    bounds = chunk_bounds(n, m)
    if g.per_sample:
        parts = ws.get("bwd.dW", (len(bounds), o, k + ones), dWm.dtype)
        d3 = dout.reshape(n, o, g.length)

        def chunk(worker, u):
            s, e = bounds[u]
            cols = g.gather_per_sample(ws, f"fwd.cols{worker}", s, e, ones)
            each = ws.get(f"bwd.dWs{worker}.{e - s}", (e - s, o, k + ones), dWm.dtype)
            np.matmul(d3[s:e], cols.transpose(0, 2, 1), out=each)
            np.sum(each, axis=0, out=parts[u])
    else:
        store, parts = weight_parts(ws, len(bounds), o, k + ones, dWm.dtype)

        def chunk(worker, u):
            s, e = bounds[u]
            cols = g.gather(ws, f"fwd.cols{worker}", s, e, ones_row=ones)
            # the extra columns of wide rows are never written, so they stay 0: one buffer per row layout
            dT = ws.zeros(f"bwd.dT{worker}.{e - s}.{g.row}.{g.out_hw[1]}", (o, e - s, g.length), dWm.dtype)
            np.copyto(g.out_view(dT), dout[s:e].transpose(1, 0, 2, 3))
            chunk_weight_grad(cols, dT.reshape(o, -1), store[u])
    threads.parallel_for(len(bounds), chunk)
    split_bias(threads.sum_in_order(parts), dWm, db)


def flipped_kernel(W):
    """``(C, O * kh * kw)``: the kernel ``W`` ``(O, C, kh, kw)`` flipped in space with its channel axes swapped, the
    weights of the input gradient as a correlation of ``dout``."""
    o, c, kh, kw = W.shape
    return np.ascontiguousarray(W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, o * kh * kw)


def input_grad_stride1(dout, W, x_hw, pad, ws):
    """``dx (N, C, H, W)`` of a stride-1 convolution: ``dout`` correlated with the flipped, transposed kernel.

    ``dout`` is padded by ``kh - 1 - ph`` rows and ``kw - 1 - pw`` columns (cropped where that is negative).
    """
    o, c, kh, kw = W.shape
    g = Columns(dout, (kh - 1 - pad[0], kw - 1 - pad[1]), (kh, kw), (1, 1), x_hw, c, ws, "bwd.dp")
    Wd = flipped_kernel(W)
    return correlate(g, Wd, None, ws, tag="bwd")


def backward_same(gx, dout, W, dWm, ws, db=None):
    """``dx`` and ``dW`` of a stride-1 "same" convolution (odd kernel, padding ``k // 2``) in one loop over chunks.

    The input gradient gathers ``dout`` padded by ``k // 2`` in wide rows; the centre tap of those columns is
    ``dout`` itself in the wide layout of the forward columns *gx* (zeros where *gx* has its extra columns), so the
    weight gradient multiplies the forward columns by that view instead of copying ``dout`` into a buffer of its own.
    Writes ``dW`` into ``dWm`` ``(O, K)`` (and the bias gradient into ``db`` ``(O,)``, when given, as
    :func:`weight_grad` does) and returns ``dx`` ``(N, C, H, W)``, or returns None (nothing written) when the layout
    does not allow it (then use :func:`weight_grad` and :func:`input_grad_stride1`).
    """
    o, c, kh, kw = W.shape
    n = dout.shape[0]
    if not (gx.wide and wide_rows(o, (kh, kw), (1, 1), gx.out_hw[1], c)):
        return None
    gd = Columns(dout, (kh // 2, kw // 2), (kh, kw), (1, 1), gx.out_hw, c, ws, "bwd.dp")
    # both wide and padded by k // 2: the same rows of W + 2 * (kw // 2) values, so gd.length == gx.length
    Wd = flipped_kernel(W)
    bounds = chunk_bounds(n, chunk_samples(n, max(c, o) * kh * kw, gx.length, W.dtype.itemsize))
    ones = db is not None
    store, parts = weight_parts(ws, len(bounds), o, c * kh * kw + ones, W.dtype)
    dx = np.empty((n, c, *gx.out_hw), dtype=W.dtype)

    def chunk(worker, u):
        s, e = bounds[u]
        cols_d = gd.gather(ws, f"bwd.cols{worker}", s, e)
        d_wide = cols_d.reshape(o, kh, kw, -1)[:, kh // 2, kw // 2]
        chunk_weight_grad(gx.gather(ws, f"fwd.cols{worker}", s, e, ones_row=ones), d_wide, store[u])
        prod = ws.get(f"bwd.prod{worker}.{e - s}", (c, e - s, gd.length), W.dtype)
        np.matmul(Wd, cols_d, out=prod.reshape(c, -1))
        np.copyto(dx[s:e].transpose(1, 0, 2, 3), gd.out_view(prod))
    threads.parallel_for(len(bounds), chunk)
    split_bias(threads.sum_in_order(parts), dWm, db)
    return dx


def input_grad_strided(d3, Wm, kernel, stride, pad, x_shape, out_hw, ws):
    """``dx (N, C, H, W)`` by ``dcols = W^T x dout`` per chunk, folded back by ``kh * kw`` strided in-place adds.

    The adds run over the last axis of the chunk's buffers, so that axis should be long: when a chunk has more
    samples than the output has columns (and the kernel more than one tap), the samples go last (``dout``'s columns
    ordered ``(OH, OW, m)``, the padded buffer ``(C, Hp, Wp, m)``): on the ResNet example's stride-2 3x3 layer (32
    samples, 7 x 7 outputs) that took the adds from 0.32 to 0.10 ms per chunk and the layer's backward from 1.37 to
    0.95 ms. Otherwise the buffer is ``(C, m, Hp, Wp)`` and the adds run along ``OW`` (with stride ``sw``); a 1x1
    kernel has one add, which does not pay for the slower copy out of the other layout.
    """
    n, c, h, w = x_shape
    o, k = Wm.shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = kernel, stride, pad, out_hw
    length = oh * ow
    bounds = chunk_bounds(n, chunk_samples(n, k, length, Wm.dtype.itemsize))
    dx = np.empty(x_shape, dtype=Wm.dtype)
    hp, wp = h + 2 * ph, w + 2 * pw

    def chunk(worker, u):
        s, e = bounds[u]
        m = e - s
        last = m > ow and kh * kw > 1                   # samples as the last (innermost) axis
        key = f"{worker}.{m}.{int(last)}"
        dT = ws.get(f"bwd.dTs{key}", (o, length, m) if last else (o, m, length), Wm.dtype)
        cols = ws.get(f"bwd.cols{key}", (c, kh, kw, oh, ow, m) if last else (c, kh, kw, m, oh, ow), Wm.dtype)
        buf = ws.get(f"bwd.dxp{key}", (c, hp, wp, m) if last else (c, m, hp, wp), Wm.dtype)
        np.copyto(dT, d3[s:e].transpose((1, 2, 0) if last else (1, 0, 2)))
        np.matmul(Wm.T, dT.reshape(o, -1), out=cols.reshape(k, -1))
        buf.fill(0)
        lead = (slice(None),) * (1 if last else 2)      # the axes before the rows of the buffer
        for i in range(kh):
            for j in range(kw):
                buf[lead + (slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))] += cols[:, i, j]
        inner = buf[lead + (slice(ph, ph + h), slice(pw, pw + w))]
        np.copyto(dx[s:e], inner.transpose((3, 0, 1, 2) if last else (1, 0, 2, 3)))
    threads.parallel_for(len(bounds), chunk)
    return dx
