"""The :class:`Trainer`: mini-batch training with validation, metrics, history, callbacks and checkpoints."""

import math
import os
import warnings

import numpy as np

from ..errors import ShapeError
from ..layers.init import as_generator, check_positive_int
from ..optim._checks import check_positive
from ..optim.clip import clip_grad_norm
from .batches import Batcher, epoch_order
from .guards import DivergenceError, LossExplosionError, check_finite, divergence_errors, warn_small_validation
from .guards import checkpoint_optimizer, restorable, update_in_place, warn_stateless
from .callbacks import Callback, LRScheduler
from .batches import n_rows, network_pair, take_rows
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .history import History
from .multi_output import check_trainable, training_loss
from .metrics import Averager, evaluate, loss_parts, resolve_metrics
from .progress import ProgressLogger
from . import rng_state
from .serialize import copy_tree


class Trainer:
    """Trains a network with an optimizer on mini-batches drawn by per-epoch permutation.

    Parameters
    ----------
    net : Sequential
        With a loss layer. Trained in place.
    optimizer : object with ``update(params, grads)`` (and ``lr``, ``state_dict`` / ``load_state_dict`` for
        schedules and checkpoints; without the latter two its state is not saved, with a ``UserWarning`` once)
    batch_size : int, default 32
    seed : int or numpy.random.Generator, optional
        Source of the batch order (and of the ``validation_split`` subset). Same seed, same initial weights,
        same data -> the same history and weights, bit for bit.
    metrics : "auto", sequence of str / callables, or mapping name -> callable, default "auto"
        ``fn(y, t) -> float`` batch means; logged for training batches (training-mode outputs, averaged over
        the epoch) and for the validation set (``val_<name>``). "auto" is ``["accuracy"]`` for a classification
        loss and nothing for a regression loss; see :func:`~layergraph.train.metrics.resolve_metrics`.
    callbacks : sequence of Callback
    schedule : callable ``t -> lr`` or a metric-driven schedule, optional
        Shortcut for ``callbacks=[LRScheduler(schedule, schedule_interval, monitor=schedule_monitor)]``.
    schedule_interval : {"epoch", "step"}, default "epoch"
    schedule_monitor : str, default "val_loss"
    verbose : {0, 1, 2}, default 1
        0 silent; 1 progress bar on a terminal, one line per epoch otherwise or under CI; 2 lines always.
    eval_batch_size : int, default 1000
        Rows per forward pass when evaluating.
    shuffle : bool, default True
    drop_last : bool, default False
    stream : file-like, optional
        Where progress goes (default ``sys.stdout``).
    flatten_parameters : bool, default True
        Call ``net.flatten_parameters()`` first (when the network has it): the parameters keep their values but
        move into one buffer, so the optimizer updates all of them in one pass. Arrays fetched from the layers
        before this call are then stale: read them again from ``net.params``.
    clip_norm : float > 0, optional
        Global gradient-norm clipping before every update (:func:`layergraph.optim.clip_grad_norm`): when the
        norm of all gradients taken together exceeds *clip_norm*, they are all scaled by ``clip_norm / norm``.
    stop_on_explosion : bool, default False
        The loss of a training batch above ``explosion_factor`` times the run's starting loss (its first batch)
        always gives a ``RuntimeWarning`` naming the epoch, step and factor (once per ``fit``); with True,
        training also stops: the network and optimizer are restored to the last finished epoch and
        :class:`LossExplosionError` (a :class:`DivergenceError`) is raised. A non-finite loss is a divergence
        either way.
    explosion_factor : float > 1, default 1e3

    Attributes
    ----------
    epoch, step : int
        Epochs finished and optimizer updates done (both survive checkpoints).
    history : History
    stop_training : bool
        Set by callbacks to stop after the current batch.
    stop_reason : str or None
        Why the last ``fit`` stopped before its budget (early stopping, divergence).

    Examples
    --------
    >>> trainer = Trainer(net, Adam(1e-3), batch_size=64, seed=0, callbacks=[EarlyStopping(patience=3)])
    >>> history = trainer.fit(x_train, t_train, epochs=20, validation_split=0.1)
    >>> trainer.evaluate(x_test, t_test)
    {'loss': 0.08..., 'accuracy': 0.97...}
    """

    def __init__(self, net, optimizer, *, batch_size=32, seed=None, metrics="auto", callbacks=(),
                 schedule=None, schedule_interval="epoch", schedule_monitor="val_loss", verbose=1,
                 eval_batch_size=1000, shuffle=True, drop_last=False, stream=None, flatten_parameters=True,
                 clip_norm=None, stop_on_explosion=False, explosion_factor=1e3):
        if getattr(net, "loss_layer", None) is None or not callable(getattr(net, "forward", None)):
            check_trainable(net)  # a Graph with several outputs has per-output ``losses`` instead
        if not callable(getattr(optimizer, "update", None)):
            raise TypeError(f"Trainer: 'optimizer' must have update(params, grads), got {type(optimizer).__name__}")
        self.net, self.optimizer = net, optimizer
        if flatten_parameters and callable(getattr(net, "flatten_parameters", None)):
            net.flatten_parameters()  # same values; lets the optimizer update every parameter in one pass
        self.batch_size = check_positive_int(batch_size, "batch_size", "Trainer")
        self.eval_batch_size = check_positive_int(eval_batch_size, "eval_batch_size", "Trainer")
        self.metrics = resolve_metrics(metrics, net)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.clip_norm = None if clip_norm is None else check_positive("Trainer", "clip_norm", clip_norm)
        self.stop_on_explosion = bool(stop_on_explosion)
        self.explosion_factor = check_positive("Trainer", "explosion_factor", explosion_factor)
        if self.explosion_factor <= 1:
            raise ValueError(f"Trainer: 'explosion_factor' must be > 1, got {explosion_factor!r}")
        self.start_loss, self._explosion_warned, self._stateless_warned = None, False, False
        self._rng = as_generator(seed, "Trainer")
        self._split_seed = int(self._rng.integers(2**63))
        callbacks = list(callbacks)
        if schedule is not None:
            callbacks.append(LRScheduler(schedule, schedule_interval, schedule_monitor))
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got {type(cb).__name__}")
        self.progress = ProgressLogger(verbose, stream)
        self.callbacks = sorted([*callbacks, self.progress], key=lambda cb: cb.order)
        for cb in self.callbacks:
            cb.trainer = self
        self.epoch = self.step = 0
        self.history = History()
        self.stop_training, self.stop_reason, self.restored_epoch = False, None, None
        self.plan = {}
        self._divergence = divergence_errors()

    # -- training ------------------------------------------------------------------------------------------

    def fit(self, x, t, *, epochs=None, max_steps=None, validation_data=None, validation_split=None):
        """Train until ``self.epoch == epochs`` or ``self.step == max_steps``, whichever comes first.

        Both budgets are totals over the trainer's life, so after :meth:`load_checkpoint` the same call continues
        the interrupted run. A ``max_steps`` budget that ends inside an epoch closes that epoch early (it is
        evaluated and logged like any other).

        Parameters
        ----------
        x : ndarray, shape (N, ...); for a graph also a dict input name -> array or a list in ``net.inputs`` order
        t : ndarray, shape (N,) labels or (N, ...) targets; for a graph also a dict output name -> array
        epochs : int, optional
        max_steps : int, optional
            At least one of *epochs* and *max_steps* is required.
        validation_data : tuple (x_val, t_val), optional
        validation_split : float in (0, 1), optional
            Hold out this fraction of ``(x, t)`` (a random subset fixed by the trainer's seed) for validation.

        Returns
        -------
        History
            ``self.history``: one row per epoch with ``epoch``, ``step``, ``loss``, metrics, ``val_*``, ``lr``; a
            graph with several losses also logs each output's unweighted loss (``<output>_loss``,
            ``val_<output>_loss``).

        Raises
        ------
        DivergenceError
            A non-finite loss or gradient: the network and optimizer are first restored to the end of the last
            finished epoch (checkpoints already written are kept); the message names the epoch and step.
        """
        x, t, val = self._prepare(x, t, epochs, max_steps, validation_data, validation_split)
        batcher = Batcher(x, t, self.batch_size, self.drop_last)
        self.plan = {"epochs": epochs, "max_steps": max_steps, "batches_per_epoch": len(batcher),
                     "samples": n_rows(x), "val_samples": 0 if val is None else n_rows(val[0])}
        self.stop_training, self.stop_reason, self.restored_epoch = False, None, None
        self._explosion_warned = False
        self._call("on_train_begin", dict(self.plan))
        while not self.stop_training and not self._budget_spent(epochs, max_steps):
            self._run_epoch(batcher, val, max_steps)
        self._call("on_train_end", {"epoch": self.epoch, "step": self.step})
        return self.history

    def _prepare(self, x, t, epochs, max_steps, validation_data, validation_split):
        x, t = network_pair(self.net, x, t, "Trainer.fit")
        check_finite("x", x)
        check_finite("t", t)
        if epochs is None and max_steps is None:
            raise ValueError("Trainer.fit: give 'epochs' or 'max_steps' (or both)")
        if epochs is not None:
            check_positive_int(epochs, "epochs", "Trainer.fit")
        if max_steps is not None:
            check_positive_int(max_steps, "max_steps", "Trainer.fit")
        if validation_data is not None and validation_split is not None:
            raise ValueError("Trainer.fit: give 'validation_data' or 'validation_split', not both")
        val = None
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise TypeError("Trainer.fit: 'validation_data' must be a tuple (x_val, t_val)")
            val = network_pair(self.net, *validation_data, "Trainer.fit", ("x_val", "t_val"))
            if n_rows(val[0]) == 0:
                raise ShapeError("Trainer.fit: 'validation_data' arrays must be non-empty")
            check_finite("validation_data[0]", val[0])
            check_finite("validation_data[1]", val[1])
        elif validation_split is not None:
            x, t, val = self._split(x, t, validation_split)
        if n_rows(x) == 0:
            raise ValueError("Trainer.fit: 'x' holds no samples")
        return x, t, val

    def _split(self, x, t, fraction):
        if not (isinstance(fraction, (int, float)) and 0.0 < fraction < 1.0):
            raise ValueError(f"Trainer.fit: 'validation_split' must be a fraction in (0, 1), got {fraction!r}")
        n = n_rows(x)
        n_val = math.ceil(fraction * n)
        if n_val >= n:
            raise ValueError(f"Trainer.fit: validation_split={fraction} of {n} samples leaves none for training")
        warn_small_validation(fraction, n, n_val, t)
        order = np.random.default_rng(self._split_seed).permutation(n)
        train_idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])
        return take_rows(x, train_idx), take_rows(t, train_idx), (take_rows(x, val_idx), take_rows(t, val_idx))

    def _budget_spent(self, epochs, max_steps):
        return (epochs is not None and self.epoch >= epochs) or (max_steps is not None and self.step >= max_steps)

    def _run_epoch(self, batcher, val, max_steps):
        epoch = self.epoch + 1
        good = self._snapshot()
        self._call("on_epoch_begin", epoch, {})
        order = epoch_order(batcher.n_samples, self._rng, self.shuffle)
        avg = Averager(self.metrics)
        for b, (xb, tb) in enumerate(batcher.batches(order)):
            if max_steps is not None and self.step >= max_steps:
                break
            self._call("on_batch_begin", b, {})
            loss = self._train_step(xb, tb, avg, epoch, b, good)
            self.step += 1
            self._call("on_batch_end", b, {"loss": loss, "size": n_rows(tb)})
            if self.stop_training:
                break
        logs = {"epoch": epoch, "step": self.step, **avg.result()}
        if val is not None:
            logs.update(self.evaluate(*val, prefix="val_"))
        lr = getattr(self.optimizer, "lr", None)
        if lr is not None:
            logs["lr"] = float(lr)
        self.epoch = epoch
        self.history.append(logs)
        self._call("on_epoch_end", epoch, dict(logs))

    def _train_step(self, xb, tb, avg, epoch, batch, good):
        net, loss_layer = self.net, training_loss(self.net)
        try:
            y = net.forward(xb, train=True)
            loss = float(loss_layer.forward(y, tb))
            if math.isfinite(loss):
                dout = loss_layer.backward(1.0)
                saved = net.requires_input_grad
                net.requires_input_grad = False  # nobody needs d(loss)/d(input)
                try:
                    net.backward(dout)
                finally:
                    net.requires_input_grad = saved
                if self.clip_norm is not None:
                    clip_grad_norm(net.grads, self.clip_norm)
                update_in_place(self.optimizer, net.params, net.grads, first=self.step == 0)
        except self._divergence as err:
            self._diverged(epoch, batch, str(err), good)
        if not math.isfinite(loss):
            self._diverged(epoch, batch, f"the loss is {loss}", good)
        self._watch_explosion(loss, epoch, batch, good)
        avg.add(loss, y, tb, self.metrics, loss_parts(loss_layer), loss_layer=loss_layer)
        return loss

    def _watch_explosion(self, loss, epoch, batch, good):
        if self.start_loss is None:
            self.start_loss = loss
            return
        if self.start_loss <= 0 or loss <= self.explosion_factor * self.start_loss:
            return
        factor = loss / self.start_loss
        where = (f"epoch {epoch}, step {self.step + 1} (batch {batch + 1} of {self.plan['batches_per_epoch']})")
        what = (f"the training loss exploded at {where}: {loss:.4g} is {factor:.3g} times the starting loss "
                f"{self.start_loss:.4g} (limit {self.explosion_factor:g}x); lower the learning rate or clip "
                "gradients (clip_norm=...)")
        if self.stop_on_explosion:
            self._diverged(epoch, batch, what, good, factor=factor)
        if not self._explosion_warned:
            self._explosion_warned = True
            warnings.warn(what, RuntimeWarning, stacklevel=4)

    def _diverged(self, epoch, batch, reason, good, factor=None):
        step = self.step + 1
        self._restore(good)
        where = f"the end of epoch {self.epoch}" if self.epoch else "the initial state"
        if factor is None:
            msg = (f"training diverged at epoch {epoch}, step {step} (batch {batch + 1} of "
                   f"{self.plan['batches_per_epoch']}): {reason}; network and optimizer restored to {where}")
        else:
            msg = f"{reason}; stopped, network and optimizer restored to {where}"
        self.stop_training, self.stop_reason, self.restored_epoch = True, msg, self.epoch
        self._call("on_train_end", {"epoch": self.epoch, "step": self.step, "diverged": True})
        if factor is not None:
            raise LossExplosionError(msg, epoch, step, self.epoch, self.history, factor)
        raise DivergenceError(msg, epoch, step, self.epoch, self.history)

    def _snapshot(self):
        state_fn = getattr(self.optimizer, "state_dict", None)
        return {"net": self.net.state_dict(), "optimizer": copy_tree(state_fn()) if state_fn else None,
                "rng": copy_tree(self._rng.bit_generator.state), "step": self.step,
                "layer_rngs": rng_state.snapshot(self.net)}

    def _restore(self, snap):
        self.net.load_state_dict(snap["net"])
        if snap["optimizer"] is not None:
            self.optimizer.load_state_dict(snap["optimizer"])
        self._rng.bit_generator.state = snap["rng"]
        rng_state.put_back(snap["layer_rngs"])
        self.step = snap["step"]

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def lr_find(self, x, t, start=1e-7, end=10.0, steps=100, **options):
        """Learning-rate range test (Smith 2017) with this trainer's network, optimizer and batch size; everything
        is restored afterwards. Returns an :class:`~layergraph.train.lr_find.LRFindResult` (``lrs``, ``losses``,
        ``smoothed``, ``suggestion``); see :func:`layergraph.train.lr_find.lr_find` for *options*."""
        from .lr_find import lr_find
        warn_stateless(self.optimizer, "Trainer.lr_find", "is changed by the range test and not restored")
        return lr_find(self, x, t, start, end, steps, **options)

    # -- evaluation ----------------------------------------------------------------------------------------

    def evaluate(self, x, t, *, batch_size=None, prefix=""):
        """Loss and metrics on ``(x, t)`` in inference mode, in batches; see :func:`layergraph.train.evaluate`."""
        return evaluate(self.net, x, t, batch_size=batch_size or self.eval_batch_size, metrics=self.metrics,
                        prefix=prefix)

    # -- state and checkpoints -----------------------------------------------------------------------------

    def state_dict(self):
        """Everything besides the network and optimizer needed to resume bit for bit (plain values)."""
        return {"epoch": self.epoch, "step": self.step, "optimizer_class": type(self.optimizer).__name__,
                "rng": self._rng.bit_generator.state,
                "split_seed": self._split_seed, "history": self.history.to_dict(), "start_loss": self.start_loss,
                "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks]}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict` output. Callback states are matched by class name and order."""
        try:
            self.epoch, self.step = int(state["epoch"]), int(state["step"])
            self._rng.bit_generator.state = state["rng"]
            self._split_seed = int(state["split_seed"])
            start = state.get("start_loss")
            self.start_loss = None if start is None else float(start)
            self.history = History({k: list(v) for k, v in state["history"].items()})
            saved = [s for s in state["callbacks"] if isinstance(s, dict) and isinstance(s.get("state"), dict)]
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise ValueError(f"Trainer.load_state_dict: malformed trainer state ({type(err).__name__}: {err})") \
                from None
        for cb in self.callbacks:
            match = next((s for s in saved if s.get("class") == type(cb).__name__), None)
            if match is not None:
                saved.remove(match)
                if match["state"]:
                    cb.load_state_dict(match["state"])

    def save_checkpoint(self, path, **meta):
        """:func:`save_checkpoint` of the network, optimizer, trainer state and *meta*; returns the path.

        An optimizer without ``state_dict`` / ``load_state_dict`` is left out, with a ``UserWarning`` (once per
        trainer): resuming from the file then restarts its state."""
        if not self._stateless_warned:
            self._stateless_warned = warn_stateless(self.optimizer, "Trainer.save_checkpoint", "is not saved: "
                                                    "resuming from this checkpoint is not bit for bit")
        opt = self.optimizer if restorable(self.optimizer) else None
        return save_checkpoint(path, self.net, opt, trainer=self.state_dict(), **meta)

    def load_checkpoint(self, path):
        """Restore network, optimizer and trainer state from *path* (written by :meth:`save_checkpoint`).

        Optimizer state saved by another optimizer class, or that this optimizer cannot load (it has no
        ``load_state_dict``), raises a one-line :class:`CheckpointError` naming both, before anything changes.

        Returns
        -------
        Checkpoint
        """
        ckpt = load_checkpoint(path)
        if not isinstance(ckpt.meta.get("trainer"), dict):
            raise CheckpointError(f"Trainer.load_checkpoint: {os.fspath(path)!r} holds no trainer state (it was "
                                  "not written by Trainer.save_checkpoint); use load_checkpoint(path, net, optimizer)")
        opt = checkpoint_optimizer(self.optimizer, ckpt, path)  # same optimizer class, able to load it
        saved = self._snapshot(), self.state_dict()
        ckpt.restore(self.net, opt)
        try:
            self.load_state_dict(ckpt.meta["trainer"])
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, OverflowError) as err:
            self._restore(saved[0])  # all or nothing
            self.load_state_dict(saved[1])
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CheckpointError(f"{os.fspath(path)}: malformed trainer state ({text})") from None
        return ckpt

