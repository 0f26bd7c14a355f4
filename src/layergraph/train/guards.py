"""Guards of a training run: divergence and loss-explosion errors, data and validation-split checks."""

import warnings

import numpy as np

from ..errors import NonFiniteError


class DivergenceError(NonFiniteError):
    """Training produced a non-finite loss (or gradient); the weights were restored to the last good epoch.

    Attributes
    ----------
    epoch, step : int
        The epoch (1-based) and the update number (1-based, over the whole run) whose loss was not finite.
    restored_epoch : int
        The epoch whose end state the network and optimizer were restored to (0: the initial state).
    history : History
    """

    def __init__(self, message, epoch, step, restored_epoch, history):
        super().__init__(message)
        self.epoch, self.step, self.restored_epoch, self.history = epoch, step, restored_epoch, history


class LossExplosionError(DivergenceError):
    """The loss grew beyond ``explosion_factor`` times its starting value (``Trainer(stop_on_explosion=True)``);
    the weights were restored to the last finished epoch. Attributes as :class:`DivergenceError`, plus
    ``factor`` (loss / starting loss)."""

    def __init__(self, message, epoch, step, restored_epoch, history, factor):
        super().__init__(message, epoch, step, restored_epoch, history)
        self.factor = factor


def divergence_errors():
    """The exception types that mean a training step diverged (non-finite loss, logits or gradients)."""
    errors = [NonFiniteError, FloatingPointError]
    try:  # optimizers reject NaN/inf gradients with their own error type
        from ..optim import NonFiniteGradientError
        errors.append(NonFiniteGradientError)
    except ImportError:
        pass
    return tuple(errors)


def check_finite(name, value):
    """:func:`check_finite_data` on an array, or on each array of a dict (named ``name['key']``)."""
    if isinstance(value, dict):
        for key, arr in value.items():
            check_finite_data(f"{name}[{key!r}]", np.asarray(arr))
    else:
        check_finite_data(name, np.asarray(value))


def check_finite_data(name, arr):
    """A one-line error naming the argument when a floating array holds NaN or infinity."""
    if arr.dtype.kind not in "fc" or np.isfinite(np.sum(arr)) or np.all(np.isfinite(arr)):
        return
    bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
    rows = np.flatnonzero(bad)
    raise ValueError(f"Trainer.fit: argument '{name}' holds NaN or infinity in {len(rows)} sample(s) "
                     f"(first at index {int(rows[0])}); clean the data first")


def warn_small_validation(fraction, n, n_val, t):
    """Warn when a validation split is too small to mean much (few samples, or fewer than the classes)."""
    classes = (len(np.unique(t)) if isinstance(t, np.ndarray) and t.ndim == 1 and t.dtype.kind in "iub"
               else None)
    if n_val >= 5 and (classes is None or n_val >= classes):
        return
    extra = f" and fewer than the {classes} classes" if classes is not None and n_val < classes else ""
    warnings.warn(f"Trainer.fit: validation_split={fraction} of {n} samples validates on only {n_val} "
                  f"sample(s){extra}: validation figures will be noise; use a larger fraction",
                  UserWarning, stacklevel=4)
