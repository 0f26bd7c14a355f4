"""Progress display: a live bar on a terminal, one plain line per epoch otherwise (log files, CI)."""

import os
import sys
import time

from .callbacks import Callback


def use_bar(stream):
    """True when *stream* is an interactive terminal and the ``CI`` environment variable is unset or false."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not ci


def format_logs(logs, skip=("epoch", "step")):
    """``"loss 0.1234  accuracy 0.9650  ..."``: floats with 4 significant decimals, ``lr`` in ``%g``."""
    parts = []
    for key, value in logs.items():
        if key in skip or value is None:
            continue
        if key == "lr":
            parts.append(f"lr {value:.3g}")
        elif isinstance(value, float):
            parts.append(f"{key} {value:.4f}")
        else:
            parts.append(f"{key} {value}")
    return "  ".join(parts)


def _clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class ProgressLogger(Callback):
    """Prints training progress.

    Parameters
    ----------
    verbose : {0, 1, 2}
        0: nothing. 1: a live bar on a terminal (unless ``CI`` is set), one line per epoch otherwise.
        2: one line per epoch always.
    stream : file-like, optional
        Where to write; ``sys.stdout`` (looked up when training starts) by default.
    refresh : float, default 0.1
        Minimum seconds between two redraws of the bar.
    """

    order = 50

    def __init__(self, verbose=1, stream=None, refresh=0.1, width=24):
        if verbose not in (0, 1, 2):
            raise ValueError(f"ProgressLogger: 'verbose' must be 0, 1 or 2, got {verbose!r}")
        self.verbose, self.stream, self.refresh, self.width = verbose, stream, refresh, width
        self._out = None
        self._bar = False

    def on_train_begin(self, logs=None):
        self._out = self.stream if self.stream is not None else sys.stdout
        self._bar = self.verbose == 1 and use_bar(self._out)
        enc = (getattr(self._out, "encoding", None) or "").lower()
        self._fill = ("\u2588", "\u2591") if "utf" in enc else ("#", "-")

    def _write(self, text):
        if self.verbose:
            self._out.write(text)
            self._out.flush()

    def _epoch_label(self, epoch):
        total = self.trainer.plan.get("epochs")
        return f"epoch {epoch}/{total}" if total else f"epoch {epoch}"

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = self._last = time.monotonic()
        if self._bar:
            self._draw(epoch, 0, None)

    def on_batch_end(self, batch, logs=None):
        if not self._bar:
            return
        now = time.monotonic()
        if now - self._last >= self.refresh or batch + 1 == self.trainer.plan["batches_per_epoch"]:
            self._last = now
            self._draw(self.trainer.epoch + 1, batch + 1, logs.get("loss"))

    def _draw(self, epoch, done, loss):
        total = self.trainer.plan["batches_per_epoch"]
        filled = self.width * done // max(total, 1)
        bar = self._fill[0] * filled + self._fill[1] * (self.width - filled)
        elapsed = time.monotonic() - self._t0
        rate = done / elapsed if elapsed > 0 and done else 0.0
        eta = _clock((total - done) / rate) if rate else "--:--"
        text = f"{self._epoch_label(epoch)} |{bar}| {done}/{total} [{_clock(elapsed)}<{eta}, {rate:.1f} it/s]"
        if loss is not None:
            text += f"  loss {loss:.4f}"
        self._write("\r" + text + "\x1b[K")

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.monotonic() - self._t0
        line = f"{self._epoch_label(epoch)}  {elapsed:.1f}s  {format_logs(logs)}"
        self._write(("\r\x1b[K" if self._bar else "") + line + "\n")

    def on_train_end(self, logs=None):
        reason = getattr(self.trainer, "stop_reason", None)
        if reason and not (logs or {}).get("diverged"):  # a divergence is reported by the exception it raises
            self._write(("\r\x1b[K" if self._bar else "") + reason + "\n")
