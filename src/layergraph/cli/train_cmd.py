"""``layergraph train``: train an MLP on a dataset, print progress and results, and save the run."""

import inspect
import math
import os
import time

import numpy as np

from .build import (ACTIVATIONS, SCHEDULES, build_mlp, default_lr, make_optimizer, make_schedule, optimizer_names,
                    parse_arch, resolve_optimizer)
from .datasets import DATASETS, load_dataset
from .options import arch_spec, fraction, nonneg_float, optimizer_name, positive_int
from .outputs import PLOT_HINT, plot_history, write_json

#: Built-in values of the options that define a run (all stored in the checkpoint, so --resume reuses them).
DEFAULTS = {"data": "digits", "data_dir": None, "arch": None, "activation": "relu", "optimizer": "Adam",
            "lr": None, "weight_decay": 0.0, "schedule": "constant", "epochs": 30, "batch_size": 32, "seed": 0,
            "val_split": 0.0}
DEFAULT_HIDDEN = (128, 64)
CHECKPOINT = "checkpoint.npz"


def register(sub):
    p = sub.add_parser(
        "train", help="train an MLP and save the run",
        description="Train a multilayer perceptron (Affine layers, an activation, softmax cross-entropy) on a "
                    "dataset, print the architecture, progress and the held-out accuracy, and save a checkpoint, "
                    "the history (CSV, JSON), results.json and a learning-curve PNG into --out. With no options: "
                    "a 64-128-64-10 ReLU MLP trained with Adam on the digits shipped with layergraph.",
        epilog="Every option of a run is stored in its checkpoint: `--resume CHECKPOINT` continues it with the "
               "same options (--epochs is the total, so give a larger one to train further).")
    p.add_argument("--data", choices=DATASETS, default=None,
                   help="dataset (default digits). mnist uses the full set when its four files are found, "
                        "otherwise the 8,000/2,000 split of the test images")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="directory of the MNIST files (default: $LAYERGRAPH_DATA, then ~/.cache/layergraph)")
    p.add_argument("--arch", type=arch_spec, default=None, metavar="WIDTHS",
                   help="layer widths from input features to classes, e.g. 784-100-100-10 "
                        "(default: <features>-128-64-<classes>)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default=None,
                   help="activation between Affine layers (default relu; tanh and sigmoid use Xavier "
                        "initialisation, the others He)")
    p.add_argument("--optimizer", type=optimizer_name, default=None, metavar="NAME",
                   help=f"one of {', '.join(optimizer_names())}, any case (default Adam)")
    p.add_argument("--lr", type=nonneg_float, default=None,
                   help="learning rate (default: the optimizer's own default, 0.001 for Adam)")
    p.add_argument("--weight-decay", type=nonneg_float, default=None, metavar="WD",
                   help="L2 weight decay coefficient (decoupled for AdamW; default 0)")
    p.add_argument("--schedule", choices=list(SCHEDULES), default=None,
                   help="learning-rate schedule (default constant): "
                        + "; ".join(f"{k}: {v}" for k, v in SCHEDULES.items()).replace("%", "%%"))
    p.add_argument("--epochs", type=positive_int, default=None, help="total number of epochs (default 30)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="mini-batch size (default 32)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the weight initialisation and of the batch order (default 0)")
    p.add_argument("--val-split", type=fraction, default=None, metavar="FRACTION",
                   help="hold out this fraction of the training data for the per-epoch validation; the default 0 "
                        "validates each epoch on the held-out test (or validation) set")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: runs/<data>-<arch>-<date-time> in the current directory; "
                        "with --resume, the checkpoint's directory)")
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

    saved = {}
    if args.resume:
        saved = load_checkpoint(args.resume).meta.get("cli")
        if not isinstance(saved, dict):
            raise ValueError(f"--resume: {args.resume} was not written by `layergraph train` (no run options in "
                             "it); load it from Python with Trainer.load_checkpoint")
    explicit = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if "data_dir" in explicit:  # stored in the checkpoint: must still work from another directory
        explicit["data_dir"] = os.path.abspath(explicit["data_dir"])
    config = {**DEFAULTS, **{k: v for k, v in saved.items() if k in DEFAULTS}, **explicit}
    config["optimizer"] = resolve_optimizer(config["optimizer"]).__name__
    if config["lr"] is None:
        config["lr"] = default_lr(config["optimizer"])
    say = (lambda *a: None) if args.quiet else print

    data = load_dataset(config["data"], config["data_dir"])
    widths = _widths(config, data)
    config["arch"] = "-".join(map(str, widths))
    out = _out_dir(args, config)
    ckpt_path = os.path.join(out, CHECKPOINT)

    net = build_mlp(widths, config["activation"], seed=config["seed"]).flatten_parameters()
    optimizer = make_optimizer(config["optimizer"], config["lr"], config["weight_decay"])
    n_fit = len(data.x_train) - math.ceil(config["val_split"] * len(data.x_train))
    schedule, interval = make_schedule(config["schedule"], config["lr"], config["epochs"],
                                       math.ceil(n_fit / config["batch_size"]))
    trainer = _trainer(net, optimizer, schedule, interval, config, ckpt_path, args)
    if args.resume:
        trainer.load_checkpoint(args.resume)
        _override_hyperparameters(optimizer, explicit, say)
        if trainer.epoch >= config["epochs"]:
            raise ValueError(f"--resume: {args.resume} has already trained {trainer.epoch} epoch(s) and --epochs "
                             f"is {config['epochs']}; --epochs counts the total, give a larger value")

    created = not os.path.isdir(out)
    os.makedirs(out, exist_ok=True)  # only now: a run that fails to start leaves nothing behind
    _print_header(say, args, config, data, net, optimizer, schedule, out, trainer.epoch)
    fit = _fit_arguments(config, data)
    t0 = time.perf_counter()
    try:
        # Overflow warnings would only repeat what the Trainer reports: a non-finite loss stops the run.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            trainer.fit(data.x_train, data.t_train, epochs=config["epochs"], **fit)
    except KeyboardInterrupt:
        _write_history(trainer.history, out, config, data, say=print)
        print(f"\ninterrupted during epoch {trainer.epoch + 1}; {_resume_hint(trainer, ckpt_path)}")
        _remove_if_empty(out, created)
        return 130
    except ValueError as err:  # DivergenceError included: the network was restored to the last good epoch
        _write_history(trainer.history, out, config, data, say=say)
        _remove_if_empty(out, created)
        if trainer.stop_reason:
            raise ValueError(f"{err}. Try a lower --lr; {_resume_hint(trainer, ckpt_path, ' --lr ...')}") from None
        raise
    seconds = time.perf_counter() - t0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = trainer.evaluate(data.x_test, data.t_test)
    _finish(trainer, result, seconds, out, config, data, say)
    return 0


def _widths(config, data):
    if config["arch"] is None:
        return [data.n_features, *DEFAULT_HIDDEN, data.n_classes]
    widths = parse_arch(config["arch"])
    if widths[0] != data.n_features or widths[-1] != data.n_classes:
        raise ValueError(f"--arch {config['arch']}: {data.name} has {data.n_features} input features and "
                         f"{data.n_classes} classes, so the widths must be {data.n_features}-...-{data.n_classes}")
    return widths


def _out_dir(args, config):
    if args.out:
        out = args.out
    elif args.resume:
        out = os.path.dirname(os.path.abspath(args.resume))
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = base = os.path.join("runs", f"{config['data']}-{config['arch']}-{stamp}")
        n = 1
        while os.path.exists(out):
            n += 1
            out = f"{base}-{n}"
    existing = os.path.join(out, CHECKPOINT)
    resuming_here = args.resume and os.path.abspath(args.resume) == os.path.abspath(existing)
    if os.path.exists(existing) and not (args.overwrite or resuming_here):
        raise ValueError(f"--out: {out} already holds a run ({CHECKPOINT}); continue it with --resume {existing}, "
                         "choose another --out, or pass --overwrite")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out: {out} exists and is not a directory")
    return out


def _trainer(net, optimizer, schedule, interval, config, ckpt_path, args):
    from ..train import Callback, Trainer

    class SaveRun(Callback):
        """Saves the full run (and its options) into the output directory at every epoch end."""

        order = 100

        def on_epoch_end(self, epoch, logs=None):
            self.trainer.save_checkpoint(ckpt_path, cli=dict(config))

    verbose = 0 if args.quiet else (2 if args.verbose else 1)
    return Trainer(net, optimizer, batch_size=config["batch_size"], seed=config["seed"], callbacks=[SaveRun()],
                   schedule=schedule, schedule_interval=interval, schedule_monitor="val_loss", verbose=verbose)


def _override_hyperparameters(optimizer, explicit, say):
    # The checkpoint restores the optimizer's saved hyperparameters; rates given on the command line win.
    for key, attr in (("lr", "lr"), ("weight_decay", "weight_decay")):
        if key in explicit and getattr(optimizer, attr) != explicit[key]:
            say(f"{attr} changed from {getattr(optimizer, attr):g} to {explicit[key]:g}")
            setattr(optimizer, attr, explicit[key])


def _fit_arguments(config, data):
    if config["val_split"] > 0:
        return {"validation_split": config["val_split"]}
    return {"validation_data": (data.x_test, data.t_test)}


def _print_header(say, args, config, data, net, optimizer, schedule, out, start_epoch):
    say(f"data: {data.description}")
    say(net.summary(data.n_features))
    sched = config["schedule"] if schedule is None or not args.verbose else _describe(schedule)
    say(f"optimizer: {config['optimizer']} (lr {config['lr']:g}, weight decay {config['weight_decay']:g}), "
        f"schedule: {sched}, batch size {config['batch_size']}, {config['epochs']} epochs, seed {config['seed']}")
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


def _write_history(history, out, config, data, say):
    if not history.get("epoch"):
        return []
    paths = [os.path.join(out, "history.csv"), os.path.join(out, "history.json")]
    history.to_csv(paths[0])
    history.to_json(paths[1])
    png = plot_history(history, os.path.join(out, "learning_curve.png"),
                       title=f"{config['data']} {config['arch']} {config['activation']}, {config['optimizer']}",
                       val_label="validation" if config["val_split"] else data.held_out)
    if png is None:
        say(PLOT_HINT)
    else:
        paths.append(png)
    return paths


def _finish(trainer, result, seconds, out, config, data, say):
    n_epochs = trainer.epoch
    results = {"data": data.description, "held_out": data.held_out, "held_out_samples": len(data.x_test),
               f"{data.held_out}_loss": result["loss"], f"{data.held_out}_accuracy": result["accuracy"],
               "epochs": trainer.epoch, "steps": trainer.step, "train_seconds": seconds, "config": config}
    files = [os.path.join(out, CHECKPOINT), *_write_history(trainer.history, out, config, data, say)]
    files.append(os.path.join(out, "results.json"))
    write_json(files[-1], results)
    if trainer.stop_reason:
        say(trainer.stop_reason)
    say(f"training took {seconds:.1f} s; the run is at epoch {n_epochs}, step {trainer.step}")
    print(f"{data.held_out} accuracy: {result['accuracy']:.2%} (loss {result['loss']:.4f}) on "
          f"{len(data.x_test):,} held-out samples")
    print(f"saved in {out}: " + ", ".join(os.path.basename(f) for f in files))


def _remove_if_empty(out, created):
    if created and not os.listdir(out):
        os.rmdir(out)


def _resume_hint(trainer, ckpt_path, extra=""):
    if trainer.epoch and os.path.exists(ckpt_path):
        return (f"the run is saved up to epoch {trainer.epoch}: continue with "
                f"`layergraph train --resume {ckpt_path}{extra}`")
    return "no epoch was completed, nothing was saved"
