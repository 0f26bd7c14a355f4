"""The files of a ``layergraph train`` run, each written atomically: the checkpoint (and ``best.npz``) and, at
every epoch end, ``history.csv``, ``history.json`` and ``results.json``; the learning-curve PNG at the end. Also
where a run goes (:func:`out_dir`)."""

import math
import os
import shutil
import time

from .._atomic import atomic_write
from .options import same_file
from .outputs import PLOT_HINT, plot_history, write_json

BEST = "best.npz"


def out_dir(args, config, checkpoint_name):
    """The output directory of a ``train`` run: ``--out``; with ``--resume``, the directory of the checkpoint, or
    a new ``<dir>-from-<stem>`` next to it when the file resumed (e.g. ``best.npz``) is not the run's own
    *checkpoint_name*, which continuing in place would overwrite; else a new ``runs/<data>-<model>-<date-time>``.

    Raises
    ------
    ValueError
        The directory holds another run (without ``--overwrite``), or is a file.
    """
    if args.out:
        out = args.out
    elif args.resume:
        source = os.path.dirname(os.path.abspath(args.resume))
        own = os.path.join(source, checkpoint_name)
        out = source
        if os.path.exists(own) and not same_file(own, args.resume):
            out = _fresh(f"{source}-from-{os.path.splitext(os.path.basename(args.resume))[0]}")
    else:
        data = os.path.splitext(os.path.basename(config["data"]))[0]
        model = config["model"].rpartition(":")[2] if config["model"] else config["arch"]
        out = _fresh(os.path.join("runs", f"{data}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"))
    existing = os.path.join(out, checkpoint_name)
    resuming_here = args.resume and same_file(args.resume, existing)
    if os.path.exists(existing) and not (args.overwrite or resuming_here):
        raise ValueError(f"--out: {out} already holds a run ({checkpoint_name}); continue it with --resume "
                         f"{existing}, choose another --out, or pass --overwrite")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out: {out} exists and is not a directory")
    return out


def _fresh(base):
    out, n = base, 1
    while os.path.exists(out):
        n += 1
        out = f"{base}-{n}"
    return out


class RunWriter:
    """Writes a run's files into *out*; *meta* (run options, input shape, class names) goes into checkpoints."""

    def __init__(self, out, ckpt_path, meta, config, data):
        self.out, self.ckpt_path, self.meta, self.config, self.data = out, ckpt_path, meta, config, data
        self.best, self.best_epoch = None, None

    def path(self, name):
        return os.path.join(self.out, name)

    def resumed(self, trainer, source):
        """Continue the ``--save-best`` record of a run resumed from *source* (the trainer holds its state): the
        lowest ``val_loss`` of the restored history stays the one to beat when *out* has the ``best.npz`` written
        for it, or when it is the resumed epoch itself (e.g. resuming from ``best.npz``), which is then copied."""
        values = trainer.history.get("val_loss") or []
        finite = [(float(v), e) for v, e in zip(values, trainer.history.get("epoch") or [])
                  if isinstance(v, (int, float)) and math.isfinite(v)]
        if not self.config.get("save_best") or not finite:
            return
        best, epoch = min(finite)
        if not os.path.isfile(self.path(BEST)):
            if epoch != trainer.epoch:
                return
            with open(source, "rb") as src, atomic_write(self.path(BEST), "wb") as dst:
                shutil.copyfileobj(src, dst)
        self.best, self.best_epoch = best, int(epoch)

    def epoch_end(self, trainer, logs):
        """Checkpoint first (the resume point), then the best checkpoint, history and results so far."""
        trainer.save_checkpoint(self.ckpt_path, **self.meta)
        value = (logs or {}).get("val_loss")
        if self.config.get("save_best") and value is not None and math.isfinite(value) \
                and (self.best is None or value < self.best):
            trainer.save_checkpoint(self.path(BEST), **self.meta)
            self.best, self.best_epoch = float(value), int(trainer.epoch)
        trainer.history.to_csv(self.path("history.csv"))
        trainer.history.to_json(self.path("history.json"))
        write_json(self.path("results.json"), self._results(trainer, "running"))

    def stopped(self, trainer, status, held, error=None):
        """Write ``results.json`` of a run that did not finish (*status* "interrupted", "diverged" or "failed"),
        describing epoch *held*, the one its checkpoint holds (nothing is written when it holds none)."""
        if held is None:
            return
        history = _truncated(trainer.history, held)
        steps = history.get("step") or [trainer.step]
        out = self._results(trainer, status, history=history, epochs=held, steps=steps[-1])
        if error is not None and "stop_reason" not in out:
            out["error"] = error
        write_json(self.path("results.json"), out)

    def _results(self, trainer, status, result=None, seconds=None, history=None, epochs=None, steps=None):
        data = self.data
        history = trainer.history if history is None else history
        out = {"status": status, "data": data.description, "held_out": data.held_out,
               "held_out_samples": len(data.x_test), "epochs": trainer.epoch if epochs is None else epochs,
               "steps": trainer.step if steps is None else steps}
        if result is not None:
            out[f"{data.held_out}_loss"] = result["loss"]
            out[f"{data.held_out}_accuracy"] = result["accuracy"]
        else:
            last = {k: v[-1] for k, v in history.items() if v}
            out["last_epoch"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                 for k, v in last.items()}
        if seconds is not None:
            out["train_seconds"] = seconds
        if self.best_epoch is not None:
            out["best"] = {"epoch": self.best_epoch, "val_loss": self.best, "file": BEST}
        if trainer.stop_reason:
            out["stop_reason"] = trainer.stop_reason
        out["config"] = self.config
        return out

    def write_history(self, history, upto=None, say=print):
        """Write the history files (rows up to epoch *upto*, the epoch the checkpoint holds, when given) and the
        learning curve; return the paths written."""
        if upto is not None:
            history = _truncated(history, upto)
        if not history.get("epoch"):
            return []
        paths = [history.to_csv(self.path("history.csv")), history.to_json(self.path("history.json"))]
        c = self.config
        model = c["model"] or c["arch"]
        title = f"{os.path.basename(str(c['data']))} {model} {c['activation']}, {c['optimizer']}"
        png = plot_history(history, self.path("learning_curve.png"), title=title,
                           val_label="validation" if c["val_split"] else self.data.held_out)
        if png is None:
            say(PLOT_HINT)
        else:
            paths.append(png)
        return paths

    def finish(self, trainer, result, seconds, say):
        files = [self.ckpt_path]
        if self.best_epoch is not None:
            files.append(self.path(BEST))
        files += self.write_history(trainer.history, say=say)
        files.append(self.path("results.json"))
        status = "stopped early" if trainer.stop_reason else "finished"
        write_json(files[-1], self._results(trainer, status, result, seconds))
        return files


def _truncated(history, upto):
    from ..train import History

    keep = [i for i, e in enumerate(history.get("epoch", [])) if e <= upto]
    return History({k: [v[i] for i in keep] for k, v in history.items()})
