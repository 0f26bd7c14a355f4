"""Users' own data for the commands: ``.npz`` archives and ``.csv`` tables, checked before use.

``.npz``: keys ``x`` (samples, any shape ``(N, ...)``), ``t`` (class labels ``(N,)``: non-negative integers or
strings), optional ``x_test`` / ``t_test`` and ``class_names``. Without a test set, 20% of the samples (a fixed
random subset) are held out as one. ``.csv``: one sample per row, optional header row, the labels in the
``--target-column`` (default the last). Every error names the file and the key, row or column.
"""

import csv
import os
import zipfile

import numpy as np

from .datasets import TOY_SEED, Dataset

HELD_OUT_FRACTION = 0.2


class _Refused(ValueError):
    """A file refused by a check here (its message is final)."""


def _fail(path, message):
    return _Refused(f"{path}: {message}")


# -- safe array reading: headers are checked against the bytes actually present before anything is allocated --

def _check_header(path, name, f, stored_bytes):
    try:
        version = np.lib.format.read_magic(f)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(f)
    except (ValueError, OSError, EOFError) as err:
        raise _fail(path, f"{name}: not a NumPy array ({err})") from None
    if dtype.hasobject:
        raise _fail(path, f"{name} holds Python objects (pickled data), which are never loaded; save plain "
                          "numeric or string arrays")
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if stored_bytes is not None and declared > stored_bytes - f.tell():
        raise _fail(path, f"{name} declares shape {shape} {dtype} ({declared:,} bytes) but holds only "
                          f"{max(stored_bytes - f.tell(), 0):,} bytes: the file is truncated or corrupt")


def read_npz(path):
    """All arrays of the ``.npz`` file *path* (checked, loaded with ``allow_pickle=False``) as a dict."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                with zf.open(info) as f:
                    _check_header(path, f"key {info.filename.removesuffix('.npy')!r}", f, info.file_size)
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except _Refused:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise _fail(path, f"not a readable .npz archive ({type(err).__name__}: {err})") from None


def read_npy(path):
    """The array of the ``.npy`` file *path* (checked, loaded with ``allow_pickle=False``)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        _check_header(path, "the array", f, os.path.getsize(path))
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise _fail(path, f"not a readable .npy file ({err})") from None


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


def labels(path, t, key, n, class_names=None):
    """*t* as int64 labels ``(n,)`` and the class names (string labels become indices into sorted names)."""
    t = np.asarray(t)
    if t.ndim != 1 or len(t) != n:
        raise _fail(path, f"{key!r} must hold one class label per sample, shape ({n},), got shape {t.shape}")
    if t.dtype.kind in "US":
        if class_names is None:
            class_names = sorted(set(t.astype(str).tolist()))
        index = {c: i for i, c in enumerate(class_names)}
        unknown = [v for v in t.astype(str).tolist() if v not in index]
        if unknown:
            raise _fail(path, f"{key!r} holds the label {unknown[0]!r}, not among the class names")
        return np.array([index[v] for v in t.astype(str).tolist()], dtype=np.int64), class_names
    if t.dtype.kind not in "iuf" or (t.dtype.kind == "f" and not np.all(np.isfinite(t) & (t == np.round(t)))):
        raise _fail(path, f"{key!r} must hold integer class labels 0 .. C-1 (or strings), got dtype {t.dtype} "
                          "with non-integer values")
    t = t.astype(np.int64)
    if t.min() < 0:
        raise _fail(path, f"{key!r} holds the negative label {int(t.min())}; labels are 0 .. C-1")
    if class_names is not None and t.max() >= len(class_names):
        raise _fail(path, f"{key!r} holds the label {int(t.max())} but 'class_names' has {len(class_names)} names")
    return t, class_names


def _held_out_split(n):
    n_test = max(1, round(HELD_OUT_FRACTION * n))
    order = np.random.default_rng(TOY_SEED).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _dataset(path, x, t, xt, tt, class_names, feature_names=None, extra=""):
    name = os.path.basename(path)
    if xt is None:
        if len(x) < 5:
            raise _fail(path, f"{len(x)} samples are too few to hold out a test set; add x_test / t_test")
        train, test = _held_out_split(len(x))
        x, t, xt, tt = x[train], t[train], x[test], t[test]
        how = f"{len(t):,} train / {len(tt):,} test (20% held out, seed {TOY_SEED})"
    else:
        how = f"{len(t):,} train / {len(tt):,} test"
    image = x.shape[1:] if x.ndim == 4 else None
    return Dataset(os.path.abspath(path), x, t, xt, tt, f"{name}{extra}: {how}", image_shape=image,
                   class_names=class_names, feature_names=feature_names)


def load_npz(path):
    """A :class:`~layergraph.cli.datasets.Dataset` from an ``.npz`` file (keys ``x``, ``t``, optional
    ``x_test``, ``t_test``, ``class_names``)."""
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
    x = features(path, arrays["x"], "x")
    t, names = labels(path, arrays["t"], "t", len(x), names)
    xt = tt = None
    if "x_test" in arrays:
        xt = features(path, arrays["x_test"], "x_test")
        if xt.shape[1:] != x.shape[1:]:
            raise _fail(path, f"'x_test' samples have shape {xt.shape[1:]} but 'x' samples {x.shape[1:]}")
        tt, names = labels(path, arrays["t_test"], "t_test", len(xt), names)
    return _dataset(path, x, t, xt, tt, names)


# -- CSV ----------------------------------------------------------------------------------------------------

def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_csv_table(path):
    """``(header or None, rows)`` of a CSV file: the first row is a header when any of its cells is not a
    number; empty lines are skipped; every row must have the same number of cells."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(i + 1, [c.strip() for c in row]) for i, row in enumerate(csv.reader(f))
                    if any(c.strip() for c in row)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise ValueError(f"{path}: the file holds no rows")
    header = None
    if not all(_is_number(c) for c in rows[0][1]):
        header, rows = rows[0][1], rows[1:]
    width = len(header) if header else len(rows[0][1]) if rows else 0
    for line, row in rows:
        if len(row) != width:
            raise ValueError(f"{path}: line {line} has {len(row)} cells, expected {width}")
    return header, rows


def column_index(path, header, width, column):
    """Index of *column* (a header name, or a 0-based index, negative counting from the end)."""
    if header and str(column) in header:
        return header.index(str(column))
    try:
        i = int(column)
    except (TypeError, ValueError):
        cols = ", ".join(header) if header else f"{width} unnamed columns"
        raise ValueError(f"{path}: no column {column!r} (columns: {cols})") from None
    if not -width <= i < width:
        raise ValueError(f"{path}: column index {i} is out of range for {width} columns")
    return i % width


def numeric_columns(path, header, rows, columns):
    """Float32 array ``(N, len(columns))`` of the given column indices; errors name the line and column."""
    out = np.empty((len(rows), len(columns)), dtype=np.float32)
    for r, (line, row) in enumerate(rows):
        for j, c in enumerate(columns):
            cell = row[c]
            try:
                value = float(cell)
            except ValueError:
                value = None
            if value is None or not np.isfinite(value):
                name = repr(header[c]) if header else str(c)
                what = "is empty" if cell == "" else f"is {cell!r}, not a finite number"
                raise ValueError(f"{path}: line {line}, column {name} {what}")
            out[r, j] = value
    return out


def load_csv(path, target_column=None):
    """A Dataset from a CSV file: features are every column but *target_column* (default the last)."""
    header, rows = read_csv_table(path)
    width = len(header) if header else len(rows[0][1]) if rows else 0
    if width < 2:
        raise _fail(path, f"needs at least one feature column and the target column, got {width} column(s)")
    target = column_index(path, header, width, -1 if target_column is None else target_column)
    feature_cols = [c for c in range(width) if c != target]
    x = numeric_columns(path, header, rows, feature_cols)
    if len(x) == 0:
        raise _fail(path, "the file holds a header but no samples")
    raw = [row[target] for _, row in rows]
    if all(v.isdigit() for v in raw):
        t, names = np.array([int(v) for v in raw], dtype=np.int64), None
    else:
        if any(v == "" for v in raw):
            line = rows[raw.index("")][0]
            raise _fail(path, f"line {line}: the target cell is empty")
        t, names = labels(path, np.array(raw), f"column {header[target] if header else target}", len(raw))
    feature_names = [header[c] for c in feature_cols] if header else None
    target_name = header[target] if header else str(target)
    return _dataset(path, x, t, None, None, names, feature_names, f" (target column {target_name!r})")


def load_file(path, target_column=None):
    """Dispatch on the file extension: ``.npz`` or ``.csv``."""
    if target_column is not None and not path.lower().endswith(".csv"):
        raise _fail(path, "--target-column applies to .csv files only")
    if path.lower().endswith(".npz"):
        return load_npz(path)
    return load_csv(path, target_column)
