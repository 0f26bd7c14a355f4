"""Callbacks: code run by :class:`~layergraph.train.Trainer` at the start and end of training, epochs and batches.

Epochs are numbered from 1 and batches within an epoch from 0. ``trainer.step`` counts the optimizer updates done
so far. Callbacks run in the order given, except that each class's ``order`` attribute sorts them first
(:class:`ModelCheckpoint` has ``order = 100`` so it saves after the others have updated their state).
"""

import math
import os
import string

import numpy as np

from .modes import resolve_mode
from .serialize import copy_tree


class Callback:
    """Base class: override any hook; ``self.trainer`` is set before :meth:`on_train_begin`.

    ``logs`` are dicts of plain numbers: ``on_batch_end`` gets ``{"loss", "size"}``; ``on_epoch_end`` gets the
    epoch's row of the history (``loss``, metrics, ``val_*``, ``lr``, ``epoch``, ``step``). Set
    ``self.trainer.stop_training = True`` to stop after the current batch / epoch.

    A callback with state that must survive a checkpoint (counters, best values) overrides :meth:`state_dict`
    and :meth:`load_state_dict`; the trainer saves them with its own state. A callback that adds keys to the epoch
    logs lists them in ``log_keys`` (so that :class:`ModelCheckpoint` file names may use them).
    """

    order = 0
    trainer = None
    log_keys = ()

    def on_train_begin(self, logs=None):
        """Before the first epoch of :meth:`Trainer.fit`."""

    def on_train_end(self, logs=None):
        """After the last epoch, also after early stopping or divergence."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before the first batch of *epoch* (1-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """After the epoch's evaluation and history row; ``logs`` is that row."""

    def on_batch_begin(self, batch, logs=None):
        """Before the training step on *batch* (0-based within the epoch)."""

    def on_batch_end(self, batch, logs=None):
        """After the optimizer update of *batch*."""

    def state_dict(self):
        """State to put in checkpoints (plain values and arrays); empty by default."""
        return {}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict` output."""


def _monitored(logs, monitor, owner):
    if monitor not in logs:
        raise ValueError(f"{owner}: monitored quantity {monitor!r} is not logged; available: {sorted(logs)} "
                         "(val_* quantities need validation data)")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when *monitor* has not improved for *patience* epochs; optionally restore the best weights.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs.
    patience : int, default 5
        Epochs without improvement tolerated; training stops at epoch ``best_epoch + max(patience, 1)``.
    min_delta : float, default 0
        An improvement must beat the best value by more than this.
    mode : {"auto", "min", "max"}
        "auto" maximises quantities whose name contains "acc" and minimises the rest.
    restore_best_weights : bool, default False
        When training ends (stopped early or not), load the parameters and buffers of the best epoch.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=False):
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError(f"EarlyStopping: 'patience' must be an int >= 0, got {patience!r}")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"EarlyStopping: 'min_delta' must be a number >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.min_delta = str(monitor), patience, float(min_delta)
        self.mode = resolve_mode(self.monitor, mode, "EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None
        self.best_weights = None

    def _improves(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._snapshot()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (f"early stopping at epoch {epoch}: {self.monitor} has not improved for "
                                        f"{self.wait} epoch(s) (best {self.best:.6g} at epoch {self.best_epoch})")

    def _snapshot(self):
        live = {**self.trainer.net.params, **self.trainer.net.buffers}
        if self.best_weights is None or self.best_weights.keys() != live.keys():
            self.best_weights = {k: np.array(v, copy=True) for k, v in live.items()}
        else:
            for k, v in live.items():
                np.copyto(self.best_weights[k], v)

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None and self.trainer.epoch != self.best_epoch:
            self.trainer.net.load_state_dict(self.best_weights)
            self.trainer.restored_epoch = self.best_epoch

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best_weights = copy_tree(state["best_weights"])


class LRScheduler(Callback):
    """Drive ``optimizer.lr`` from a schedule, per step or per epoch.

    Parameters
    ----------
    schedule : callable ``t -> lr``, or an object with ``step(metric) -> lr`` and ``lr`` (ReduceLROnPlateau)
        A callable is a pure function: per epoch, epoch ``e`` (1-based) trains with ``lr = schedule(e - 1)``;
        per step, the update number ``s`` (0-based, counted over the whole run) uses ``lr = schedule(s)``.
        A metric-driven schedule is stepped at each epoch end with ``logs[monitor]``, and its new ``lr`` is used
        from the next epoch on; its state (``state_dict`` / ``load_state_dict``) goes into checkpoints.
    interval : {"epoch", "step"}, default "epoch"
    monitor : str, default "val_loss"
        Only for metric-driven schedules.
    """

    def __init__(self, schedule, interval="epoch", monitor="val_loss"):
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: 'interval' must be 'epoch' or 'step', got {interval!r}")
        self.metric_driven = not callable(schedule)
        if self.metric_driven and not (callable(getattr(schedule, "step", None)) and hasattr(schedule, "lr")):
            raise TypeError(f"LRScheduler: 'schedule' must be a function t -> lr or an object with step(metric) "
                            f"and lr, got {type(schedule).__name__}")
        if self.metric_driven and interval != "epoch":
            raise ValueError("LRScheduler: a metric-driven schedule is stepped per epoch; use interval='epoch'")
        self.schedule, self.interval, self.monitor = schedule, interval, monitor

    def _set(self, lr):
        self.trainer.optimizer.lr = float(lr)

    def on_train_begin(self, logs=None):
        if self.metric_driven:
            self._set(self.schedule.lr)

    def on_epoch_begin(self, epoch, logs=None):
        if self.interval == "epoch" and not self.metric_driven:
            self._set(self.schedule(epoch - 1))

    def on_batch_begin(self, batch, logs=None):
        if self.interval == "step":
            self._set(self.schedule(self.trainer.step))

    def on_epoch_end(self, epoch, logs=None):
        if self.metric_driven:
            self._set(self.schedule.step(_monitored(logs, self.monitor, "LRScheduler")))

    def state_dict(self):
        getter = getattr(self.schedule, "state_dict", None)
        return {"schedule": getter()} if self.metric_driven and getter else {}

    def load_state_dict(self, state):
        if "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])


def _make_directory(directory, path):
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise OSError(err.errno, f"ModelCheckpoint: cannot create the directory of {path!r}: "
                                 f"{err.strerror or err}", path) from None


class ModelCheckpoint(Callback):
    """Save a full training checkpoint (network, optimizer, trainer state, history) at epoch ends.

    Parameters
    ----------
    path : str or os.PathLike
        May contain ``{epoch}`` and any log key, e.g. ``"ckpt-{epoch:03d}.npz"``; a fixed name is overwritten
        atomically, so it always holds the last checkpoint written.
    monitor : str, optional
        With ``save_best_only``, the quantity that decides what "best" is.
    mode : {"auto", "min", "max"}
    save_best_only : bool, default False
        Save only when *monitor* improves.
    every : int, default 1
        Save every *every* epochs (ignored with ``save_best_only``).

    Missing directories of *path* are created (at the start of training when the directory part has no
    ``{...}`` field, otherwise at each save); errors name *path*, never a temporary file.

    The fields of *path* are checked before anything trains: its syntax, and names that no run logs
    (``{}``, ``{0}``), when the callback is made; every name against the trainer's log keys (``epoch``, ``step``,
    ``loss``, ``lr``, the metrics, the ``log_keys`` of the other callbacks, and their ``val_`` forms) when a
    :class:`Trainer` takes it; ``val_`` names against the validation data when ``fit`` starts. A field that
    cannot be filled raises a one-line ``ValueError`` listing the fields there are.
    """

    order = 100

    def __init__(self, path, monitor="val_loss", mode="auto", save_best_only=False, every=1):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"ModelCheckpoint: 'every' must be an int >= 1, got {every!r}")
        self.path, self.monitor, self.save_best_only, self.every = os.fspath(path), monitor, save_best_only, every
        self.fields = _template_fields(self.path)
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint")
        self.best = None
        self.last_saved = None
        self._trainer = None

    @property
    def trainer(self):
        """The trainer using this callback; setting it checks the fields of ``path`` against its log keys."""
        return getattr(self, "_trainer", None)

    @trainer.setter
    def trainer(self, trainer):
        if trainer is not None:
            _check_fields(self.path, self.fields, log_fields(trainer))
        self._trainer = trainer

    def on_train_begin(self, logs=None):
        if self.trainer is not None:
            validation = bool(self.trainer.plan.get("val_samples", 1))
            _check_fields(self.path, self.fields, log_fields(self.trainer, validation), validation)
        directory = os.path.dirname(self.path)
        if directory and "{" not in directory:
            _make_directory(directory, self.path)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = math.isfinite(value) and (self.best is None or
                                               (value < self.best if self.mode == "min" else value > self.best))
            if not better:
                return
            self.best = value
        elif epoch % self.every:
            return
        path = self.path.format(**{**logs, "epoch": epoch})
        if os.path.dirname(path):
            _make_directory(os.path.dirname(path), path)
        self.trainer.save_checkpoint(path)
        self.last_saved = path  # only once the file is complete

    def state_dict(self):
        return {"best": self.best, "last_saved": self.last_saved}

    def load_state_dict(self, state):
        self.best, self.last_saved = state["best"], state["last_saved"]


def log_fields(trainer, validation=True):
    """The keys of *trainer*'s epoch logs: epoch, step, loss, lr, per-output losses, metrics, the other callbacks'
    ``log_keys``, and (with *validation*) the ``val_`` form of each evaluated quantity."""
    net = trainer.net
    parts = [f"{o}_loss" for o in (getattr(net, "losses", None) or {})] \
        if getattr(net, "loss_layer", None) is None else []
    evaluated = ["loss", *parts, *trainer.metrics]
    extra = [k for cb in trainer.callbacks if cb is not None for k in getattr(cb, "log_keys", ())]
    lr = ["lr"] if getattr(trainer.optimizer, "lr", None) is not None else []
    return ["epoch", "step", *evaluated, *lr, *extra] + ([f"val_{k}" for k in evaluated] if validation else [])


def _template_fields(path):
    """The field names of the template *path*, checking its syntax (a one-line ValueError naming *path*)."""
    try:
        parsed = list(string.Formatter().parse(path))
    except ValueError as err:
        raise ValueError(f"ModelCheckpoint: 'path' {path!r} is not a valid file name template ({err}); write "
                         "fields as {epoch} and literal braces as {{ }}") from None
    fields = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        head = name.split(".")[0].split("[")[0]
        if not head or head.isdigit():
            raise ValueError(f"ModelCheckpoint: 'path' {path!r} has a positional field {{{name}}}; name a log key, "
                             "e.g. {epoch}, {step}, {loss} or {val_loss}")
        if "{" in (spec or ""):
            raise ValueError(f"ModelCheckpoint: 'path' {path!r} has a nested field in {{{name}:{spec}}}, which "
                             "file names cannot use")
        fields.append(head)
    _trial_format(path, {f: 1 for f in fields}, fields)
    return fields


def _check_fields(path, fields, known, validation=True):
    unknown = [f for f in fields if f not in known]
    if unknown:
        why = (" (there is no validation data: pass validation_data or validation_split to fit)"
               if not validation and all(f.startswith("val_") for f in unknown) else "")
        raise ValueError(f"ModelCheckpoint: 'path' {path!r} uses {{{unknown[0]}}}, which is not logged{why}; "
                         f"fields: {', '.join(known)}")
    _trial_format(path, {f: (1 if f in ("epoch", "step") else 1.0) for f in fields}, fields)


def _trial_format(path, values, fields):
    try:
        path.format(**values)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        raise ValueError(f"ModelCheckpoint: 'path' {path!r} cannot be filled in with the values of its fields "
                         f"{fields} (epoch and step are ints, the rest floats): {err}") from None
