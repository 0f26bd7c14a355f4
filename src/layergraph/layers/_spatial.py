"""Shared helpers of the 2-D spatial layers (convolution and pooling): argument pairs, output sizes, window views.

Everything works on batch-first ``(N, C, H, W)`` arrays. A window view is a strided slice of the (padded) input
``xp[:, :, i : i + sh * (OH - 1) + 1 : sh, j : j + sw * (OW - 1) + 1 : sw]`` for one kernel offset ``(i, j)``;
it has the output's shape ``(N, C, OH, OW)`` and costs no copy.
"""

import numbers

import numpy as np

from ..errors import ShapeError, describe, shape_str

NCHW = "(N, C, H, W)"


def as_pair(value, arg, owner, minimum):
    """Return *value* as a pair of ints ``(a, b)``, each ``>= minimum``; an int means ``(value, value)``.

    Raises TypeError unless *value* is an int or a pair of ints, ValueError when an entry is below *minimum*.
    """
    items = (value, value) if _is_int(value) else value
    if not (isinstance(items, (tuple, list)) and len(items) == 2 and all(_is_int(v) for v in items)):
        raise TypeError(f"{owner}: {arg!r} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in items):
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{owner}: {arg!r} must be {bound} (per axis), got {value!r}")
    return int(items[0]), int(items[1])


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_nchw(layer, x, channels=None):
    """Check that ``x`` is ``(N, C, H, W)`` (with ``C == channels`` if given); raise ShapeError naming the layer."""
    layer._check_ndim(x, (4,), NCHW)
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(f"{describe(layer)}: argument 'x' must be laid out as {NCHW} with C = {channels}, "
                         f"got an array of shape {shape_str(x.shape)}")


def output_hw(layer, shape, kernel, stride, pad):
    """Output height and width ``(H + 2 * ph - kh) // sh + 1`` (same for W); ShapeError when empty."""
    h, w = shape[2], shape[3]
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    if hp < kernel[0] or wp < kernel[1]:
        raise ShapeError(
            f"{describe(layer)}: the output would be empty: padded input {hp}x{wp} (H, W = {h}x{w}, pad "
            f"{pad[0]}x{pad[1]}) is smaller than the kernel {kernel[0]}x{kernel[1]}; input shape {shape_str(shape)}"
        )
    return (hp - kernel[0]) // stride[0] + 1, (wp - kernel[1]) // stride[1] + 1


def pad_hw(x, pad, value=0.0):
    """Return ``x`` padded by ``pad = (ph, pw)`` on both sides of H and W with *value* (``x`` itself if no pad)."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def offset_slices(kernel, stride, out_hw):
    """Yield ``(i, j, index)`` for every kernel offset, ``index`` selecting that offset's window view."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                         slice(j, j + sw * (ow - 1) + 1, sw))


def crop_hw(xp, pad):
    """Inverse of :func:`pad_hw`: the view of ``xp`` without the padding."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return xp
    return xp[:, :, ph:xp.shape[2] - ph, pw:xp.shape[3] - pw]


def float_input(x):
    """``np.asarray(x)``, cast to float64 unless it already has a floating dtype."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)
