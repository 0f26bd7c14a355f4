"""Training history: a dict of per-epoch lists that writes CSV and JSON."""

import csv
import io
import json
import math
import os

from .._atomic import atomic_write
from .modes import resolve_mode


class History(dict):
    """``{"epoch": [1, 2, ...], "loss": [...], "val_loss": [...], ...}``: one list per logged quantity.

    Every list has one entry per finished epoch; a quantity first logged at a later epoch is padded with
    ``None`` before it. Values are Python ints / floats (exactly those the trainer computed).
    """

    def append(self, row):
        """Add one epoch's values (a mapping name -> number)."""
        n = self.n_epochs
        for key, value in row.items():
            if key not in self:
                self[key] = [None] * n
            self[key].append(value)
        for key, values in self.items():
            if len(values) < n + 1:
                values.append(None)

    @property
    def n_epochs(self):
        """Number of epochs recorded (``len(history)`` is the number of quantities, as for any dict)."""
        return len(next(iter(self.values()))) if self else 0

    @property
    def keys_logged(self):
        """The logged quantities, in first-logged order."""
        return list(dict.keys(self))

    def best(self, key, mode="auto"):
        """``(epoch, value)`` of the best finite value of *key* (the first such epoch among equal values).

        Parameters
        ----------
        key : str
        mode : {"auto", "min", "max"}, default "auto"
            "auto" is the rule of ``EarlyStopping(mode="auto")``: the highest value for names containing "acc"
            (``val_accuracy``), the lowest otherwise (``val_loss``).
        """
        if key not in self:
            raise KeyError(f"History: no quantity {key!r}; logged: {self.keys_logged}")
        mode = resolve_mode(key, mode, "History.best")
        pairs = [(v if mode == "min" else -v, i) for i, v in enumerate(self[key])
                 if v is not None and math.isfinite(v)]
        if not pairs:
            raise ValueError(f"History.best: {key!r} has no finite value")
        i = min(pairs)[1]  # the first epoch among equal values
        v = self[key][i]
        return (self["epoch"][i] if "epoch" in self else i + 1), v

    def to_dict(self):
        """A plain ``dict`` of list copies."""
        return {k: list(v) for k, v in self.items()}

    def to_json(self, path):
        """Write ``{"name": [values...]}`` to *path* (non-finite values as ``null``), atomically; return the path."""
        clean = {k: [_finite_or_none(v) for v in vals] for k, vals in self.items()}
        _write_text(path, json.dumps(clean, indent=1, allow_nan=False) + "\n")
        return os.fspath(path)

    def to_csv(self, path):
        """Write one header row and one row per epoch to *path* (empty cells for missing values), atomically;
        return the path."""
        keys = self.keys_logged
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(keys)
        for i in range(self.n_epochs):
            writer.writerow(["" if self[k][i] is None else repr(self[k][i]) for k in keys])
        with atomic_write(path, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
        return os.fspath(path)

    @classmethod
    def from_json(cls, path):
        """Read a file written by :meth:`to_json`."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ValueError(f"History.from_json: {os.fspath(path)!r} does not hold a dict of lists")
        return cls(data)


def _finite_or_none(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _write_text(path, text):
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)
