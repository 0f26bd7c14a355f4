"""The files of a ``layergraph train`` run, each written atomically: the checkpoint (and ``best.npz``) and, at
every epoch end, ``history.csv``, ``history.json`` and ``results.json``; the learning-curve PNG at the end."""

import math
import os

from .outputs import PLOT_HINT, plot_history, write_json

BEST = "best.npz"


class RunWriter:
    """Writes a run's files into *out*; *meta* (run options, input shape, class names) goes into checkpoints."""

    def __init__(self, out, ckpt_path, meta, config, data):
        self.out, self.ckpt_path, self.meta, self.config, self.data = out, ckpt_path, meta, config, data
        self.best, self.best_epoch = None, None

    def path(self, name):
        return os.path.join(self.out, name)

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

    def _results(self, trainer, status, result=None, seconds=None):
        data = self.data
        out = {"status": status, "data": data.description, "held_out": data.held_out,
               "held_out_samples": len(data.x_test), "epochs": trainer.epoch, "steps": trainer.step}
        if result is not None:
            out[f"{data.held_out}_loss"] = result["loss"]
            out[f"{data.held_out}_accuracy"] = result["accuracy"]
        else:
            last = {k: v[-1] for k, v in trainer.history.items() if v}
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
