"""A progress bar over the runs of a sweep (a live bar on a terminal, a few plain lines otherwise)."""

from __future__ import annotations

import sys
import time

from ..train.progress import use_bar

__all__ = ["RunProgress"]


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


class RunProgress:
    """Counts finished runs out of ``total``; call the object with each run id.

    Parameters
    ----------
    total : int
    stream : file-like, optional
        Default ``sys.stderr``.  On a terminal (and ``CI`` unset) the bar is redrawn in
        place; otherwise a line is printed at every 10% of the runs.
    width : int
        Characters of the bar.
    enabled : bool
        False prints nothing.
    """

    def __init__(self, total: int, stream=None, width: int = 30, enabled: bool = True):
        self.total, self.done, self.width, self.enabled = int(total), 0, width, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = use_bar(self.stream)
        self._t0 = time.perf_counter()
        self._next_line = 0.1

    def __call__(self, run_id: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        frac = self.done / self.total if self.total else 1.0
        elapsed = time.perf_counter() - self._t0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        text = f"{self.done}/{self.total} runs  {_clock(elapsed)} elapsed  eta {_clock(eta)}"
        if self.live:
            filled = int(round(frac * self.width))
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {text}  {run_id[:40]:<40}")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif frac >= self._next_line or self.done >= self.total:
            while self._next_line <= frac:
                self._next_line += 0.1
            self.stream.write(text + "\n")
            self.stream.flush()
