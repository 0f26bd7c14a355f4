"""Small helpers shared by the dataset loaders and generators."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_generator", "one_hot", "check_flags", "check_positive_int", "check_nonnegative_float",
    "prepare_images", "prepare_labels",
]


def as_generator(seed, *, owner: str) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int seed or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{owner}: seed must be a non-negative int, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{owner}: seed must be an int or a numpy.random.Generator, got {type(seed).__name__}"
    )


def check_flags(owner: str, **flags) -> None:
    """Raise TypeError unless every keyword value is a bool."""
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{owner}: {name} must be a bool, got {type(value).__name__}")


def check_positive_int(value, *, name: str, owner: str, minimum: int = 1) -> int:
    """Validate an integer argument ``>= minimum`` and return it as ``int``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_nonnegative_float(value, *, name: str, owner: str) -> float:
    """Validate a finite real argument ``>= 0`` and return it as ``float``."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be finite and >= 0, got {value}")
    return value


def one_hot(labels, n_classes: int | None = None, *, dtype=np.float32) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int, optional
        Number of classes. Default: ``labels.max() + 1``.
    dtype : numpy dtype, default float32
        Dtype of the result.

    Returns
    -------
    numpy.ndarray, shape (N, n_classes)
        ``out[i, labels[i]] == 1`` and all other entries 0.

    Raises
    ------
    TypeError
        If ``labels`` are not integers.
    ValueError
        If ``labels`` is not 1-D or holds a value outside ``[0, n_classes)``.
    """
    t = np.asarray(labels)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"one_hot: labels must be 1-D (N,), got shape {t.shape}")
    if n_classes is None:
        n_classes = int(t.max()) + 1 if t.size else 0
    n_classes = check_positive_int(n_classes, name="n_classes", owner="one_hot", minimum=0)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {n_classes}), got range [{t.min()}, {t.max()}]"
        )
    out = np.zeros((t.shape[0], n_classes), dtype=dtype)
    out[np.arange(t.shape[0]), t] = 1
    return out


def prepare_images(images: np.ndarray, *, scale: float, normalize: bool, flatten: bool,
                   side: int) -> np.ndarray:
    """Turn uint8 images (N, ...) into (N, side*side) or (N, 1, side, side).

    With ``normalize`` the result is float32 ``images / scale`` (one new array,
    scaled in place); otherwise the uint8 values are kept.
    """
    n = images.shape[0]
    shape = (n, side * side) if flatten else (n, 1, side, side)
    if normalize:
        out = images.reshape(shape).astype(np.float32)
        np.divide(out, np.float32(scale), out=out)
        return out
    return images.reshape(shape)


def prepare_labels(labels: np.ndarray, *, one_hot_labels: bool, n_classes: int) -> np.ndarray:
    """int64 class indices (N,) or float32 one-hot rows (N, n_classes)."""
    if one_hot_labels:
        return one_hot(labels, n_classes)
    return labels.astype(np.int64)
