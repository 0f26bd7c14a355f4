"""Weight initialisation and the random-generator / dtype conventions shared by layers with parameters."""

import math
import numbers

import numpy as np


def as_generator(rng, owner="rng"):
    """Return a ``np.random.Generator`` from an int seed, a Generator, or None (fresh OS entropy).

    Parameters
    ----------
    rng : int, numpy.random.Generator or None
    owner : str
        Used in the error message.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"{owner}: 'rng' must be an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def as_float_dtype(dtype, owner="layer"):
    """Return ``np.dtype(dtype)``, checking it is a floating type."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{owner}: 'dtype' must be a NumPy floating dtype, got {dtype!r}") from err
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{owner}: 'dtype' must be a floating dtype, got {dt}")
    return dt


def init_std(init, fan_in, fan_out, owner="layer"):
    """Standard deviation for a normal weight initialisation.

    ``"he"``: ``sqrt(2 / fan_in)`` (He et al. 2015, for ReLU); ``"xavier"``: ``sqrt(2 / (fan_in + fan_out))``
    (Glorot & Bengio 2010, for tanh/sigmoid); a positive float: that standard deviation.
    """
    if isinstance(init, str):
        if init == "he":
            return math.sqrt(2.0 / fan_in)
        if init == "xavier":
            return math.sqrt(2.0 / (fan_in + fan_out))
        raise ValueError(f"{owner}: 'init' must be 'he', 'xavier' or a positive float, got {init!r}")
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        if not (math.isfinite(init) and init > 0):
            raise ValueError(f"{owner}: 'init' as a standard deviation must be positive and finite, got {init!r}")
        return float(init)
    raise TypeError(f"{owner}: 'init' must be 'he', 'xavier' or a float, got {type(init).__name__}")


def check_positive_int(value, arg, owner):
    """Return *value* as int, raising TypeError / ValueError unless it is a positive integer."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{owner}: {arg!r} must be a positive int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{owner}: {arg!r} must be a positive int, got {value}")
    return int(value)
