"""Learning-rate range test (L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

Train for a few steps while the learning rate grows geometrically from *start* to *end*, record the smoothed
loss, and suggest a rate. The network, the optimizer and the trainer are restored exactly afterwards.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import NonFiniteError, ShapeError
from ..layers.init import check_positive_int
from ..optim._checks import check_positive
from ..optim.clip import clip_grad_norm
from .batches import Batcher, epoch_order
from .serialize import copy_tree

__all__ = ["LRFindResult", "lr_find"]


@dataclass
class LRFindResult:
    """What :func:`lr_find` measured.

    Attributes
    ----------
    lrs : ndarray, shape (K,)
        The learning rate of each step done (``K <= steps``: the test stops early when the loss diverges).
    losses : ndarray, shape (K,)
        The raw training loss of each step's batch.
    smoothed : ndarray, shape (K,)
        Bias-corrected exponential moving average of ``losses`` (factor *smoothing*).
    suggestion : float
        The suggested learning rate (see ``method``).
    method : str
        ``"steepest"``: the rate where the smoothed loss falls fastest against ``log(lr)``, looked for before the
        minimum of the smoothed loss; ``"min/10"``: a tenth of the rate at the minimum, used when fewer than
        5 steps precede the minimum.
    min_lr : float
        The rate at the minimum of the smoothed loss.
    stopped_early : bool
        True when the loss diverged (non-finite, or above *diverge_factor* times the best smoothed loss).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    method: str
    min_lr: float
    stopped_early: bool = False
    notes: list = field(default_factory=list)


def lr_find(trainer, x, t, start=1e-7, end=10.0, steps=100, *, smoothing=0.98, diverge_factor=4.0,
            skip_start=5):
    """Run a learning-rate range test with *trainer*'s network, optimizer and batch size; restore all of them.

    Parameters
    ----------
    trainer : Trainer
    x : ndarray, shape (N, ...)
    t : ndarray, shape (N,) or (N, ...)
    start, end : float, 0 < start < end
        First and last learning rate; step ``i`` of ``steps`` uses ``start * (end / start) ** (i / (steps - 1))``.
    steps : int >= 2
        Number of updates (batches are drawn by per-epoch permutation, as in ``fit``, cycling over the data).
    smoothing : float in [0, 1)
        Factor of the moving average of the loss.
    diverge_factor : float > 1
        Stop when the smoothed loss exceeds this multiple of its minimum so far (or the loss is not finite).
    skip_start : int >= 0
        Steps ignored at the start when looking for the steepest descent (the average is still warming up).

    Returns
    -------
    LRFindResult

    Notes
    -----
    Afterwards the network's parameters and buffers, the optimizer's ``state_dict()`` and ``lr``, the random
    generators of the layers (e.g. Dropout) and the trainer (epoch, step, history, batch-order generator) are
    exactly as they were, bit for bit. The batch order is drawn from a copy of the trainer's generator.
    """
    start = check_positive("lr_find", "start", start)
    end = check_positive("lr_find", "end", end)
    if not start < end:
        raise ValueError(f"lr_find: 'start' must be below 'end', got start={start} and end={end}")
    steps = check_positive_int(steps, "steps", "lr_find")
    if steps < 2:
        raise ValueError(f"lr_find: 'steps' must be at least 2, got {steps}")
    if not (0.0 <= smoothing < 1.0):
        raise ValueError(f"lr_find: 'smoothing' must be in [0, 1), got {smoothing!r}")
    if not diverge_factor > 1:
        raise ValueError(f"lr_find: 'diverge_factor' must be > 1, got {diverge_factor!r}")
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim < 1 or t.ndim < 1 or len(x) != len(t) or len(x) == 0:
        raise ShapeError(f"lr_find: 'x' and 't' must hold the same number (> 0) of samples, got shapes "
                         f"{x.shape} and {t.shape}")
    opt = trainer.optimizer
    if getattr(opt, "lr", None) is None:
        raise TypeError(f"lr_find: the optimizer ({type(opt).__name__}) has no 'lr' attribute to vary")

    saved = _save(trainer)
    try:
        lrs, losses, stopped = _run(trainer, x, t, start, end, steps, smoothing, diverge_factor)
    finally:
        _restore(trainer, saved)
    smoothed = _smooth(losses, smoothing)
    suggestion, method, min_lr = suggest(lrs, smoothed, skip_start)
    return LRFindResult(np.array(lrs), np.array(losses), smoothed, suggestion, method, min_lr, stopped)


def _run(trainer, x, t, start, end, steps, smoothing, diverge_factor):
    net, opt, loss_layer = trainer.net, trainer.optimizer, trainer.net.loss_layer
    rng = np.random.default_rng()
    rng.bit_generator.state = copy_tree(trainer._rng.bit_generator.state)  # the trainer's own is not advanced
    batcher = Batcher(x, t, trainer.batch_size, trainer.drop_last)
    ratio = math.log(end / start)
    lrs, losses, avg, best = [], [], 0.0, math.inf
    batches = iter(())
    for i in range(steps):
        batch = next(batches, None)
        if batch is None:
            batches = batcher.batches(epoch_order(len(x), rng, trainer.shuffle))
            batch = next(batches)
        xb, tb = batch
        lr = start * math.exp(ratio * i / (steps - 1))
        opt.lr = lr
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = float(loss_layer.forward(net.forward(xb, train=True), tb))
                if not math.isfinite(loss):
                    return lrs, losses, True
                net.backward(loss_layer.backward(1.0))
                if trainer.clip_norm is not None:
                    clip_grad_norm(net.grads, trainer.clip_norm)
                opt.update(net.params, net.grads)
        except (NonFiniteError, FloatingPointError, ArithmeticError) + _optim_errors():
            return lrs, losses, True
        lrs.append(lr)
        losses.append(loss)
        avg = smoothing * avg + (1.0 - smoothing) * loss
        smooth = avg / (1.0 - smoothing ** (i + 1))
        best = min(best, smooth)
        if smooth > diverge_factor * best:
            return lrs, losses, True
    return lrs, losses, False


def _optim_errors():
    try:
        from ..optim import NonFiniteGradientError
        return (NonFiniteGradientError,)
    except ImportError:  # pragma: no cover
        return ()


def _smooth(losses, smoothing):
    out, avg = np.empty(len(losses)), 0.0
    for i, loss in enumerate(losses):
        avg = smoothing * avg + (1.0 - smoothing) * loss
        out[i] = avg / (1.0 - smoothing ** (i + 1))
    return out


def suggest(lrs, smoothed, skip_start=5):
    """``(suggestion, method, min_lr)`` from a range test's rates and smoothed losses; see :class:`LRFindResult`.

    Parameters
    ----------
    lrs, smoothed : sequences of float, same length K >= 1
    skip_start : int
    """
    lrs, smoothed = np.asarray(lrs, dtype=float), np.asarray(smoothed, dtype=float)
    if len(lrs) == 0:
        raise ValueError("lr_find: the loss was not finite even at the first rate; lower 'start'")
    i_min = int(np.argmin(smoothed))
    min_lr = float(lrs[i_min])
    lo = min(skip_start, max(i_min - 1, 0))
    if i_min - lo < 5:
        return min_lr / 10.0, "min/10", min_lr
    slope = np.gradient(smoothed[lo:i_min + 1], np.log(lrs[lo:i_min + 1]))
    # the minimum's own slope is one-sided (the last drop into it): the steepest rate is looked for before it,
    # so the suggestion is never the rate at the edge of divergence
    return float(lrs[lo + int(np.argmin(slope[:-1]))]), "steepest", min_lr


def _generators(net):
    """Every numpy Generator reachable from the network's layers (Dropout masks and the like)."""
    found, seen, stack = [], set(), [net]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.random.Generator):
            found.append(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif callable(getattr(obj, "forward", None)) and hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return found


def _save(trainer):
    opt = trainer.optimizer
    state_fn = getattr(opt, "state_dict", None)
    return {"net": {k: v.copy() for k, v in trainer.net.state_dict().items()},
            "optimizer": copy_tree(state_fn()) if callable(state_fn) else None, "lr": opt.lr,
            "rngs": [(g, copy_tree(g.bit_generator.state)) for g in _generators(trainer.net)],
            "trainer_rng": copy_tree(trainer._rng.bit_generator.state)}


def _restore(trainer, saved):
    trainer.net.load_state_dict(saved["net"])
    opt = trainer.optimizer
    if saved["optimizer"] is not None:
        opt.load_state_dict(saved["optimizer"])
    opt.lr = saved["lr"]
    for gen, state in saved["rngs"]:
        gen.bit_generator.state = state
    trainer._rng.bit_generator.state = saved["trainer_rng"]
