"""Users' own data for the commands: ``.npz`` archives and ``.csv`` tables, checked before use.

``.npz``: keys ``x`` (samples, any shape ``(N, ...)``), ``t`` (class labels ``(N,)``: non-negative integers or
names), optional ``x_test`` / ``t_test`` and ``class_names``. Without a test set, 20% of the samples (a fixed
random subset) are held out as one. ``.csv``: one sample per row, optional header row, the labels in the
``--target-column`` (default the last). How labels become classes: :mod:`layergraph.data.class_labels`. Every
error names the file and the key, row or column.
"""

import os

import numpy as np

from ..data.class_labels import Part, encode_labels
from ..data.csv_files import (feature_columns, header_note, label_values, numeric_columns, read_csv_table,
                               table_width, target_index)
from ..data.npy_files import DataFileError, read_npz
from .datasets import TOY_SEED, Dataset

__all__ = ["HELD_OUT_FRACTION", "features", "load_csv", "load_file", "load_npz"]

HELD_OUT_FRACTION = 0.2


def _fail(path, message):
    return DataFileError(f"{path}: {message}")


def features(path, x, key):
    """*x* as finite float32 samples ``(N, ...)``; errors name *key*."""
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise _fail(path, f"{key!r} must hold samples of shape (N, features...), got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise _fail(path, f"{key!r} must be numeric, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if bad.any():
        raise _fail(path, f"{key!r} holds NaN or infinite values ({int(bad.sum())} sample(s), the first at "
                          f"index {int(np.argmax(bad))})")
    return x


def _one_per_sample(path, t, key, n):
    """*t* checked to hold one label per sample: ``(n,)``; errors name *key*."""
    t = np.asarray(t)
    if t.ndim != 1 or len(t) != n:
        raise _fail(path, f"{key!r} must hold one class label per sample, shape ({n},), got shape {t.shape}")
    return t


def _held_out_split(n):
    n_test = max(1, round(HELD_OUT_FRACTION * n))
    order = np.random.default_rng(TOY_SEED).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _dataset(path, x, t, xt, tt, class_names, feature_names=None, extra="", notes=(), split=True):
    name = os.path.basename(path)
    held = None
    if xt is None and not split:
        xt, tt = x[:0], t[:0]
        how = f"{len(t):,} samples"
    elif xt is None:
        if len(x) < 5:
            raise _fail(path, f"{len(x)} samples are too few to hold out a test set; add x_test / t_test")
        train, test = _held_out_split(len(x))
        x, t, xt, tt = x[train], t[train], x[test], t[test]
        how = f"{len(t):,} train / {len(tt):,} test (20% held out, seed {TOY_SEED})"
        held = f"a fixed random {HELD_OUT_FRACTION:.0%} of the rows of {name}, seed {TOY_SEED}"
    else:
        how = f"{len(t):,} train / {len(tt):,} test"
    image = x.shape[1:] if x.ndim == 4 else None
    notes = "".join(f"; {n}" for n in notes if n)
    return Dataset(os.path.abspath(path), x, t, xt, tt, f"{name}{extra}: {how}{notes}", image_shape=image,
                   class_names=class_names, feature_names=feature_names, held_out_rows=held)


def load_npz(path, known=None, split=True):
    """A :class:`~layergraph.cli.datasets.Dataset` from an ``.npz`` file (keys ``x``, ``t``, optional
    ``x_test``, ``t_test``, ``class_names``).

    Parameters
    ----------
    path : str
    known : KnownClasses, optional
        Map the labels to these classes (evaluation) instead of reading the classes from the file.
    split : bool
        Without a test set in the file: hold out 20% (True) or keep every sample as training data.
    """
    arrays = read_npz(path)
    for key in ("x", "t"):
        if key not in arrays:
            raise _fail(path, f"no key {key!r} (the archive holds {', '.join(map(repr, arrays)) or 'nothing'}); "
                              "expected x, t and optionally x_test, t_test, class_names")
    if ("x_test" in arrays) != ("t_test" in arrays):
        raise _fail(path, "give both 'x_test' and 't_test', or neither")
    names = None
    if "class_names" in arrays:
        raw = arrays["class_names"]
        if raw.ndim != 1 or raw.dtype.kind not in "US" or len(raw) == 0:
            raise _fail(path, f"'class_names' must be a 1-D array of strings, got {raw.dtype} {raw.shape}")
        names = raw.astype(str).tolist()
        if len(set(names)) != len(names):
            raise _fail(path, f"'class_names' names a class twice: {next(n for n in names if names.count(n) > 1)!r}")
    x = features(path, arrays["x"], "x")
    parts = [Part("'t'", _one_per_sample(path, arrays["t"], "t", len(x)))]
    xt = None
    if "x_test" in arrays:
        xt = features(path, arrays["x_test"], "x_test")
        if xt.shape[1:] != x.shape[1:]:
            raise _fail(path, f"'x_test' samples have shape {xt.shape[1:]} but 'x' samples {x.shape[1:]}")
        parts.append(Part("'t_test'", _one_per_sample(path, arrays["t_test"], "t_test", len(xt))))
    indices, names, note = encode_labels(path, parts, names, known)
    tt = indices[1] if xt is not None else None
    return _dataset(path, x, indices[0], xt, tt, names, notes=[note], split=split)


def load_csv(path, target_column=None, known=None, split=True, trained=None):
    """A Dataset from a CSV file: features are every column but *target_column* (default the last); *known* and
    *split* as for :func:`load_npz`. *trained* (:class:`~layergraph.data.csv_files.TrainedColumns`, for
    evaluation) picks the columns as a training run did: its target column when this file has it (unless
    *target_column* is given), and with a header its feature columns by name."""
    header, rows = read_csv_table(path)
    width = table_width(header, rows)
    if width < 2:
        raise _fail(path, f"needs at least one feature column and the target column, got {width} column(s)")
    target = target_index(path, header, width, target_column, trained)
    feature_cols = feature_columns(path, header, width, trained and trained.features, target)
    x = numeric_columns(path, header, rows, feature_cols)
    if len(x) == 0:
        raise _fail(path, "the file holds a header but no samples")
    target_name = header[target] if header else str(target)
    key = f"column {target_name!r}"
    raw = label_values(path, rows, target, repr(target_name))
    part = Part(key, raw, [line for line, _ in rows], [row[target] for _, row in rows])
    (t,), names, note = encode_labels(path, [part], None, known)
    feature_names = [header[c] for c in feature_cols] if header else None
    notes = [header_note(header) if header else None, note]
    return _dataset(path, x, t, None, None, names, feature_names, f" (target column {target_name!r})", notes,
                    split=split)


def load_file(path, target_column=None, known=None, split=True, trained=None):
    """Dispatch on the file extension: ``.npz`` or ``.csv``; *known* and *split* as for :func:`load_npz`,
    *trained* as for :func:`load_csv`."""
    if path.lower().endswith(".npz"):
        return load_npz(path, known, split)
    return load_csv(path, target_column, known, split, trained)
