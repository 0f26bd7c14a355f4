"""Guards of a training run: divergence and loss-explosion errors, data and validation-split checks, and the
checks of an optimizer's state in checkpoints."""

import os
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


def _has(optimizer, method):
    return callable(getattr(optimizer, method, None))


def restorable(optimizer):
    """Whether *optimizer* has both ``state_dict()`` and ``load_state_dict(state)``, so its state can be saved and
    put back."""
    return _has(optimizer, "state_dict") and _has(optimizer, "load_state_dict")


def warn_stateless(optimizer, owner, consequence, stacklevel=3):
    """A ``UserWarning`` naming *optimizer*'s class when it lacks ``state_dict`` / ``load_state_dict``; returns
    whether it warned."""
    if restorable(optimizer):
        return False
    warnings.warn(f"{owner}: optimizer {type(optimizer).__name__} has no state_dict()/load_state_dict(), so its "
                  f"internal state (moments, step counts) {consequence}; add both methods "
                  "(see docs/optimizers.md, 'Writing your own optimizer')", UserWarning, stacklevel=stacklevel)
    return True


def checkpoint_optimizer(optimizer, ckpt, path):
    """The optimizer that should receive *ckpt*'s optimizer state in ``Trainer.load_checkpoint`` (None for a plain
    update-only optimizer, which has nothing to load), after checking that the state was saved by the same
    optimizer class.

    The class is the one recorded in the trainer state (``optimizer_class``) or, in older files, the one named by
    the saved state itself.

    Raises
    ------
    CheckpointError
        The state belongs to another optimizer class, or *optimizer* cannot load the saved state (no
        ``load_state_dict``): one line naming both.
    """
    from .checkpoint_validate import CheckpointError

    mine = type(optimizer).__name__
    saved = ckpt.meta.get("trainer", {}).get("optimizer_class")
    if saved is None and isinstance(ckpt.optimizer, dict):
        saved = ckpt.optimizer.get("optimizer")
    where = f"Trainer.load_checkpoint: {os.fspath(path)!r}"
    if isinstance(saved, str) and saved != mine:
        raise CheckpointError(f"{where} holds the state of optimizer {saved}, but this trainer's optimizer is "
                              f"{mine}; build the trainer with a {saved} to resume")
    if not restorable(optimizer):
        if ckpt.optimizer is not None:
            raise CheckpointError(f"{where} holds the state of optimizer {saved if isinstance(saved, str) else '?'}, "
                                  f"but {mine} has no state_dict()/load_state_dict() to restore it")
        return None  # a plain update-only optimizer: nothing was saved, nothing to load
    return optimizer


def update_in_place(optimizer, params, grads, first):
    """``optimizer.update(params, grads)``; on the *first* update, raise when a parameter has no gradient or when
    the update rebound an entry of *params* instead of changing the array in place (the layers keep their own
    arrays, so such an update changes nothing)."""
    before = [(k, id(v)) for k, v in params.items()] if first else None
    if first:
        missing = [k for k in params if k not in grads]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ValueError(f"Trainer: no gradient for parameter {missing[0]!r}{more}: the layer's backward must "
                             "fill grads under the same keys as params, or the parameter would never change")
    optimizer.update(params, grads)
    if before is not None:
        moved = [k for k, i in before if id(params.get(k)) != i]
        if moved:
            more = f" (and {len(moved) - 1} more)" if len(moved) > 1 else ""
            raise TypeError(f"Trainer: {type(optimizer).__name__}.update rebound params[{moved[0]!r}]{more} to a new "
                            "array instead of updating it in place (use params[key] -= step, or np.subtract(p, "
                            "step, out=p)); the network would not change")
