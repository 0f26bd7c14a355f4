"""Per-channel reductions of ``(N, C)`` and ``(N, C, H, W)`` arrays through matrix products (no temporaries)."""

import numpy as np


def channel_sum(a):
    """Per-channel sum ``(C,)`` of ``a`` ``(N, C)`` or ``(N, C, H, W)``; for images one matrix-vector product per
    sample over the contiguous ``H * W`` values (no temporary the size of ``a``)."""
    if a.ndim == 2:
        return a.sum(axis=0)
    a3 = a.reshape(a.shape[0], a.shape[1], -1)
    return (a3 @ np.ones(a3.shape[2], dtype=a.dtype)).sum(axis=0)


def channel_dot(a, b):
    """Per-channel ``sum(a * b)`` ``(C,)`` over every axis but 1, without forming ``a * b``."""
    if a.ndim == 2:
        return (a * b).sum(axis=0)
    a3 = a.reshape(a.shape[0], a.shape[1], 1, -1)
    b3 = b.reshape(b.shape[0], b.shape[1], -1, 1)
    return (a3 @ b3).sum(axis=(0, 2, 3))
