"""``layergraph train``: train a network on a dataset, print progress and results, and save the run."""

import argparse
import inspect
import math
import os
import sys
import time
import warnings

import numpy as np

from .build import (ACTIVATIONS, SCHEDULES, build_model, default_lr, default_weight_decay, known_classes,
                    make_optimizer, make_schedule, optimizer_names, resolve_optimizer, run_options, trained_columns)
from .datasets import DATASETS, is_file_spec, load_dataset
from .options import (add_data_options, arch_spec, check_data_options, fraction, nonneg_float, nonneg_int,
                      optimizer_name, positive_float, positive_int)
from .presets import preset_help
from .run_files import BEST, RunWriter, out_dir

#: Built-in values of the options that define a run (all stored in the checkpoint, so --resume reuses them).
DEFAULTS = {"data": "digits", "data_dir": None, "target_column": None, "arch": None, "model": None,
            "activation": "relu", "optimizer": "Adam", "lr": None, "weight_decay": None, "schedule": "constant",
            "epochs": 30, "max_steps": None, "limit": None, "batch_size": 32, "seed": 0, "val_split": 0.0,
            "early_stopping": None, "save_best": None, "clip_norm": None, "stop_on_explosion": True}
MIN_VALIDATION = 10  # --val-split must hold out at least this many samples (and one per class)
DEFAULT_HIDDEN = (128, 64)
CHECKPOINT = "checkpoint.npz"


def register(sub):
    p = sub.add_parser(
        "train", help="train a network and save the run",
        description="Train a network (a multilayer perceptron by default, a convolutional --arch preset, or your "
                    "own --model) on a built-in dataset or your own .npz / .csv file, print the architecture, "
                    "progress and the held-out accuracy, and save a checkpoint, "
                    "the history (CSV, JSON), results.json and a learning-curve PNG into --out. With no options: "
                    "a 64-128-64-10 ReLU MLP trained with Adam on the digits shipped with layergraph.",
        epilog="Every option of a run is stored in its checkpoint: `--resume CHECKPOINT` continues it with the "
               "same options (--epochs is the total, so give a larger one to train further).")
    add_data_options(p, f"dataset: one of {', '.join(DATASETS)} (default digits), or your own PATH.npz (keys x, t, "
                        "optional x_test, t_test, class_names) or PATH.csv (one sample per row, see "
                        "--target-column); without a test set 20%% is held out. mnist uses the full set when its "
                        "four files are found, otherwise the 8,000/2,000 split of the test images")
    p.add_argument("--arch", type=arch_spec, default=None, metavar="WIDTHS|PRESET",
                   help="MLP layer widths from input features to classes, e.g. 784-100-100-10 (default: "
                        "<features>-128-64-<classes>), or a convolutional preset for image data: "
                        + preset_help().replace("%", "%%"))
    p.add_argument("--model", default=None, metavar="MODULE:FUNCTION",
                   help="build the network with your own factory, e.g. mypkg.models:build (imported from the "
                        "working directory too); it may accept input_shape, num_classes and seed, and must return "
                        "a network with a loss layer. Recorded in the checkpoint but never imported from it: "
                        "--resume, evaluate and predict rebuild the network from its saved architecture, or, for "
                        "your own layer classes, through the factory you name again with --model")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default=None,
                   help="activation between Affine layers (default relu; tanh and sigmoid use Xavier "
                        "initialisation, the others He)")
    p.add_argument("--optimizer", type=optimizer_name, default=None, metavar="NAME",
                   help=f"one of {', '.join(optimizer_names())}, any case (default Adam)")
    p.add_argument("--lr", type=nonneg_float, default=None,
                   help="learning rate (default: the optimizer's own default, 0.001 for Adam)")
    p.add_argument("--weight-decay", type=nonneg_float, default=None, metavar="WD",
                   help="L2 weight decay coefficient (decoupled for AdamW); default: the optimizer's own "
                        "default, as in Python (0.01 for AdamW, 0 for the others)")
    p.add_argument("--schedule", choices=list(SCHEDULES), default=None,
                   help="learning-rate schedule (default constant): "
                        + "; ".join(f"{k}: {v}" for k, v in SCHEDULES.items()).replace("%", "%%"))
    p.add_argument("--epochs", type=positive_int, default=None, help="total number of epochs (default 30)")
    p.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                   help="stop after N optimizer updates in total (a short run; the last epoch is cut short)")
    p.add_argument("--limit", type=positive_int, default=None, metavar="N",
                   help="use only the first N training and the first N held-out samples (quick trials)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="mini-batch size (default 32)")
    p.add_argument("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
                   help="stop when val_loss has not improved for PATIENCE (>= 1) epochs")
    p.add_argument("--save-best", action="store_true", default=None,
                   help=f"also save the epoch with the lowest val_loss as {BEST} in the output directory")
    p.add_argument("--clip-norm", type=positive_float, default=None, metavar="NORM",
                   help="clip the global norm of all gradients to NORM before each update")
    p.add_argument("--stop-on-explosion", action=argparse.BooleanOptionalAction, default=None,
                   help="stop (restoring the last finished epoch) when a batch loss exceeds 1000 times the starting "
                        "loss (default on); --no-stop-on-explosion only warns")
    p.add_argument("--seed", type=nonneg_int, default=None,
                   help="seed of the weight initialisation and of the batch order (default 0)")
    p.add_argument("--val-split", type=fraction, default=None, metavar="FRACTION",
                   help="hold out this fraction of the training data for the per-epoch validation; the default 0 "
                        "validates each epoch on the held-out test (or validation) set")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: runs/<data>-<arch>-<date-time> in the current directory; "
                        "with --resume, the checkpoint's directory, or for another file of a run such as best.npz a "
                        "new directory <run>-from-best next to the run, whose own checkpoint.npz is kept)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow --out to be a directory that already holds a checkpoint")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue the run saved in CHECKPOINT (its options are reused; options given here "
                        "override them)")
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--verbose", "-v", action="store_true",
                      help="also print the full configuration, and one line per epoch even on a terminal")
    talk.add_argument("--quiet", "-q", action="store_true",
                      help="print only the final result and where the files are")
    p.set_defaults(run=run)


def run(args):
    from ..train import load_checkpoint

    saved, saved_meta, resumed = {}, {}, None
    if args.resume:
        resumed = load_checkpoint(args.resume)
        saved_meta = resumed.meta
        saved = run_options(saved_meta)
        if not saved:
            raise ValueError(f"--resume: {args.resume} was not written by `layergraph train` (no run options in "
                             "it); load it from Python with Trainer.load_checkpoint")
    explicit = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}
    for key in ("data_dir", "data"):  # stored in the checkpoint: must still work from another directory
        if key in explicit and (key == "data_dir" or is_file_spec(explicit[key])):
            explicit[key] = os.path.abspath(explicit[key])
    config = {**DEFAULTS, **{k: v for k, v in saved.items() if k in DEFAULTS}, **explicit}
    check_data_options(config["data"], explicit.get("data_dir"), explicit.get("target_column"))
    if not str(config["data"]).lower().endswith(".csv"):  # saved for other --data than the one given now
        config["target_column"] = None
    if config["data"] != "mnist":
        config["data_dir"] = None
    config["optimizer"] = resolve_optimizer(config["optimizer"]).__name__
    if config["lr"] is None:
        config["lr"] = default_lr(config["optimizer"])
    if config["weight_decay"] is None:
        config["weight_decay"] = default_weight_decay(config["optimizer"])
    say = (lambda *a: None) if args.quiet else print

    given = args.data if args.data is not None else config["data"]  # the user's spelling, for messages
    # Resuming: the labels map to the checkpoint's classes, the CSV features are picked by their saved names.
    known = known_classes(saved_meta, args.resume) if args.resume else None
    trained = trained_columns(saved_meta) if args.resume else None
    data = load_dataset(given, config["data_dir"], config["target_column"], known=known, trained=trained)
    if config["limit"]:
        data = limited(data, config["limit"])
    if args.resume:
        _check_resumed_data(args, saved, saved_meta, data)
    if config["arch"] is None and not config["model"]:
        config["arch"] = "-".join(map(str, [data.n_features, *DEFAULT_HIDDEN, data.n_classes]))
    # A --model factory is imported only when named on this command line, never because the checkpoint names it.
    net, input_shape = build_model(config, data, resumed if "model" not in explicit else None)
    x_train = data.x_train.reshape(len(data.x_train), *input_shape)
    x_test = data.x_test.reshape(len(data.x_test), *input_shape)
    _check_val_split(config, data)
    out = out_dir(args, config, CHECKPOINT)
    ckpt_path = os.path.join(out, CHECKPOINT)
    meta = {"cli": dict(config), "input_shape": list(input_shape), "num_classes": data.n_classes}
    if data.class_names is not None:
        meta["class_names"] = list(data.class_names)
    if data.feature_names is not None:
        meta["feature_names"] = list(data.feature_names)

    optimizer = make_optimizer(config["optimizer"], config["lr"], config["weight_decay"])
    n_fit = len(data.x_train) - math.ceil(config["val_split"] * len(data.x_train))
    schedule, interval = make_schedule(config["schedule"], config["lr"], config["epochs"],
                                       math.ceil(n_fit / config["batch_size"]))
    writer = RunWriter(out, ckpt_path, meta, config, data)
    trainer = _trainer(net, optimizer, schedule, interval, config, writer, args)
    if args.resume:
        trainer.load_checkpoint(args.resume)
        _override_hyperparameters(optimizer, explicit, say)
        if trainer.epoch >= config["epochs"]:
            raise ValueError(f"--resume: {args.resume} has already trained {trainer.epoch} epoch(s) and --epochs "
                             f"is {config['epochs']}; --epochs counts the total, give a larger value")

    created = not os.path.isdir(out)
    os.makedirs(out, exist_ok=True)  # only now: a run that fails to start leaves nothing behind
    if args.resume:
        writer.resumed(trainer, args.resume)
    _print_header(say, args, config, data, net, optimizer, schedule, out, trainer.epoch, input_shape)
    fit = _fit_arguments(config, x_test, data)
    t0 = time.perf_counter()
    try:
        # Overflow warnings would only repeat what the Trainer reports: a non-finite loss stops the run.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            trainer.fit(x_train, data.t_train, epochs=config["epochs"], max_steps=config["max_steps"], **fit)
    except KeyboardInterrupt:
        held = saved_epoch(ckpt_path)
        writer.write_history(trainer.history, upto=held, say=print)
        writer.stopped(trainer, "interrupted", held)
        print(f"\ninterrupted during epoch {trainer.epoch + 1}; {_resume_hint(held, ckpt_path)}")
        _remove_if_empty(out, created)
        return 130
    except ValueError as err:  # DivergenceError included: the network was restored to the last good epoch
        held = saved_epoch(ckpt_path)
        writer.write_history(trainer.history, upto=held, say=say)
        writer.stopped(trainer, "diverged" if trainer.stop_reason else "failed", held, str(err))
        _remove_if_empty(out, created)
        if trainer.stop_reason:
            raise ValueError(f"{err}. Try a lower --lr; {_resume_hint(held, ckpt_path, ' --lr ...')}") from None
        raise
    seconds = time.perf_counter() - t0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = trainer.evaluate(x_test, data.t_test)
    _finish(trainer, result, seconds, writer, say)
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"layergraph train: warning: {message}", file=sys.stderr)


def limited(data, n):
    """*data* with only its first *n* training and *n* held-out samples (views, no copies)."""
    import dataclasses

    if n >= len(data.x_train) and n >= len(data.x_test):
        return data
    return dataclasses.replace(data, x_train=data.x_train[:n], t_train=data.t_train[:n], x_test=data.x_test[:n],
                               t_test=data.t_test[:n], description=f"{data.description}; limited to the first "
                               f"{min(n, len(data.x_train)):,} / {min(n, len(data.x_test)):,}")


def _check_resumed_data(args, saved, saved_meta, data):
    """``--resume`` with other data: fine when the samples and classes have the saved shapes, else blame --data."""
    shape, classes = saved_meta.get("input_shape"), saved_meta.get("num_classes")
    if shape is None or classes is None or saved.get("data") == data.name:
        return
    if int(np.prod(shape)) != data.n_features or int(classes) != data.n_classes:
        raise ValueError(f"--data {os.path.basename(str(data.name))}: {args.resume} was trained on "
                         f"{os.path.basename(str(saved.get('data')))} ({int(np.prod(shape))} input features, "
                         f"{classes} classes) but this data has {data.n_features} features and {data.n_classes} "
                         "classes; resume with the same data, or start a new run")


def _check_val_split(config, data):
    """Both parts of a --val-split need at least 10 samples and one per class."""
    if config["val_split"] <= 0:
        return
    n = len(data.x_train)
    n_val = math.ceil(config["val_split"] * n)
    need = max(MIN_VALIDATION, data.n_classes)
    if n_val >= need and n - n_val >= need:
        return
    low, high = need / n, (n - need) / n
    advice = f"use a fraction from {low:.2g} to {high:.2g}" if low <= high else \
        f"{n:,} samples are too few to split, use --val-split 0"
    raise ValueError(f"--val-split {config['val_split']:g}: holds out {n_val:,} of {n:,} training samples, leaving "
                     f"{n - n_val:,} to train on; validation needs at least {need} and so does training (10, and "
                     f"one per class for {data.n_classes} classes): {advice}")


def saved_epoch(path):
    """The epoch the checkpoint at *path* really holds (None when there is none or it cannot be read)."""
    from ..train import CheckpointError, load_checkpoint

    try:
        state = load_checkpoint(path).meta.get("trainer")
    except (OSError, CheckpointError, ValueError):
        return None
    return int(state["epoch"]) if isinstance(state, dict) and "epoch" in state else None


def _trainer(net, optimizer, schedule, interval, config, writer, args):
    from ..train import Callback, EarlyStopping, Trainer

    class SaveRun(Callback):
        """Saves the full run (checkpoint, history, results so far) into the output directory at every epoch end."""

        order = 100

        def on_epoch_end(self, epoch, logs=None):
            writer.epoch_end(self.trainer, logs)

    callbacks = [SaveRun()]
    if config["early_stopping"] is not None:
        callbacks.append(EarlyStopping("val_loss", patience=config["early_stopping"]))
    verbose = 0 if args.quiet else (2 if args.verbose else 1)
    return Trainer(net, optimizer, batch_size=config["batch_size"], seed=config["seed"], callbacks=callbacks,
                   schedule=schedule, schedule_interval=interval, schedule_monitor="val_loss", verbose=verbose,
                   clip_norm=config["clip_norm"], stop_on_explosion=config["stop_on_explosion"])


def _override_hyperparameters(optimizer, explicit, say):
    # The checkpoint restores the optimizer's saved hyperparameters; rates given on the command line win.
    for key, attr in (("lr", "lr"), ("weight_decay", "weight_decay")):
        if key in explicit and getattr(optimizer, attr) != explicit[key]:
            say(f"{attr} changed from {getattr(optimizer, attr):g} to {explicit[key]:g}")
            setattr(optimizer, attr, explicit[key])


def _fit_arguments(config, x_test, data):
    if config["val_split"] > 0:
        return {"validation_split": config["val_split"]}
    return {"validation_data": (x_test, data.t_test)}


def _print_header(say, args, config, data, net, optimizer, schedule, out, start_epoch, input_shape):
    say(f"data: {data.description}")
    say(net.summary(input_shape))
    sched = config["schedule"] if schedule is None or not args.verbose else _describe(schedule)
    say(f"optimizer: {config['optimizer']} (lr {config['lr']:g}, weight decay {config['weight_decay']:g}), "
        f"schedule: {sched}, batch size {config['batch_size']}, {config['epochs']} epochs, seed {config['seed']}"
        + (f", at most {config['max_steps']} steps" if config["max_steps"] else "")
        + (f", gradient norm clipped to {config['clip_norm']:g}" if config["clip_norm"] else "")
        + (f", early stopping after {config['early_stopping']} epoch(s) without a lower val_loss"
           if config["early_stopping"] is not None else ""))
    if config["val_split"] > 0:
        say(f"validation: {config['val_split']:g} of the training data; the {data.held_out} set is used once, "
            "at the end")
    else:
        say(f"validation: the {data.held_out} set ({len(data.x_test):,} samples), each epoch")
    if args.verbose:
        say(f"optimizer object: {optimizer!r}")
        say(f"arrays: x_train {data.x_train.shape} {data.x_train.dtype}, x_{data.held_out} {data.x_test.shape}")
    if start_epoch:
        say(f"resuming from {args.resume} after epoch {start_epoch}")
    say(f"output: {out}")


def _describe(obj):
    """``Class(arg=value, ...)`` from the constructor arguments an object keeps as attributes."""
    names = [n for n in inspect.signature(type(obj)).parameters if hasattr(obj, n)]
    return f"{type(obj).__name__}(" + ", ".join(f"{n}={getattr(obj, n)!r}" for n in names) + ")"


def _finish(trainer, result, seconds, writer, say):
    data = writer.data
    files = writer.finish(trainer, result, seconds, say)
    if trainer.stop_reason:
        say(trainer.stop_reason)
    if writer.best_epoch is not None:
        say(f"best val_loss {writer.best:.4f} at epoch {writer.best_epoch}, saved in {BEST}")
    say(f"training took {seconds:.1f} s; the run is at epoch {trainer.epoch}, step {trainer.step}")
    print(f"{data.held_out} accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) on "
          f"{len(data.x_test):,} held-out samples")
    print(f"saved in {writer.out}: " + ", ".join(os.path.basename(f) for f in files))


def _remove_if_empty(out, created):
    if created and os.path.isdir(out) and not os.listdir(out):
        os.rmdir(out)


def _resume_hint(held, ckpt_path, extra=""):
    if held:
        return (f"the checkpoint holds epoch {held}: continue with "
                f"`layergraph train --resume {ckpt_path}{extra}`")
    return "no epoch was completed, nothing was saved"
