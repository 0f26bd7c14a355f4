"""Reading users' CSV tables: header detection, column lookup, numeric features and label cells, with every error
naming the file, line and column.

The first row is a header when any of its cells is not a number; empty lines are skipped; every row must have the
same number of cells, and a header must name each column once.
"""

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from .npy_files import DataFileError

__all__ = ["read_csv_table", "table_width", "column_index", "TrainedColumns", "target_index", "feature_columns",
           "numeric_columns", "label_values", "header_note"]


def _number(cell):
    """*cell* as a float, or None when it is not a number."""
    try:
        return float(cell)
    except ValueError:
        return None


def read_csv_table(path):
    """The header and rows of the CSV file *path*.

    Parameters
    ----------
    path : str

    Returns
    -------
    header : list of str or None
        The first row, when any of its cells is not a number.
    rows : list of (int, list of str)
        Each non-empty data row with its 1-based line number, cells stripped of surrounding spaces.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not UTF-8 text or not CSV, no rows, rows of different lengths, or a column name given twice.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(i + 1, [c.strip() for c in row]) for i, row in enumerate(csv.reader(f))
                    if any(c.strip() for c in row)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataFileError(f"{path}: not a readable CSV file ({err})") from None
    if not rows:
        raise DataFileError(f"{path}: the file holds no rows")
    header = None
    if any(_number(c) is None for c in rows[0][1]):
        (line, header), rows = rows[0], rows[1:]
        seen = {}
        for i, name in enumerate(header):
            if name in seen:
                raise DataFileError(f"{path}: line {line}: the header names column {name!r} twice (columns "
                                    f"{seen[name]} and {i}); give every column its own name")
            seen[name] = i
    width = table_width(header, rows)
    for line, row in rows:
        if len(row) != width:
            raise DataFileError(f"{path}: line {line} has {len(row)} cells, expected {width}")
    return header, rows


def table_width(header, rows):
    """The number of columns of a table read by :func:`read_csv_table`."""
    return len(header) if header else len(rows[0][1])


def header_note(header):
    """The remark the summary line makes about a header row: it says that the first row was read as a header, and
    warns when the row holds numbers (then it is more likely a sample of a file without a header)."""
    numbers = [c for c in header if _number(c) is not None]
    if not numbers:
        return "first row read as a header"
    return (f"first row read as a header although it holds numbers ({', '.join(numbers[:3])}"
            f"{', ...' if len(numbers) > 3 else ''}): if it is a sample, add a header row")


def column_index(path, header, width, column):
    """Index of *column*: a header name, or a 0-based index (negative counting from the end)."""
    if header and str(column) in header:
        return header.index(str(column))
    try:
        i = int(column)
    except (TypeError, ValueError):
        cols = ", ".join(header) if header else f"{width} unnamed columns"
        raise DataFileError(f"{path}: no column {column!r} (columns: {cols})") from None
    if not -width <= i < width:
        raise DataFileError(f"{path}: column index {i} is out of range for {width} columns")
    return i % width


@dataclass
class TrainedColumns:
    """The columns of the CSV file a network was trained on, to read another file the same way.

    Attributes
    ----------
    target : str or int, optional
        The ``--target-column`` of the training run (None: the last column).
    features : list of str, optional
        The header names of the feature columns (None: the file had no header).
    """

    target: object = None
    features: list = None


def target_index(path, header, width, target_column=None, trained=None):
    """Index of the label column: *target_column* (a header name or an index); without it, the training run's
    (:class:`TrainedColumns`) when this file has it (by name, or as an index in range), else the last column."""
    if target_column is not None:
        return column_index(path, header, width, target_column)
    if trained is not None and trained.target is not None:
        try:
            return column_index(path, header, width, trained.target)
        except DataFileError:
            pass
    return width - 1


def feature_columns(path, header, width, feature_names=None, target=None):
    """Indices of the feature columns: with a header and the *feature_names* a network was trained on, those
    columns by name, in that order (wherever the file puts them); else every column but *target* (an index or
    None), in the file's order.

    Raises
    ------
    ValueError
        A feature name the header lacks, or a named feature that is the *target* column.
    """
    if not (header and feature_names):
        return [c for c in range(width) if c != target]
    missing = [n for n in feature_names if n not in header]
    if missing:
        raise DataFileError(f"{path}: no column {missing[0]!r}, which the network was trained on (columns: "
                            f"{', '.join(header)})")
    columns = [header.index(n) for n in feature_names]
    if target in columns:
        raise DataFileError(f"{path}: column {header[target]!r} is the target column but also a feature the network "
                            "was trained on; choose the label column with --target-column")
    return columns


def numeric_columns(path, header, rows, columns):
    """Float32 array ``(N, len(columns))`` of the given column indices; errors name the line and column."""
    out = np.empty((len(rows), len(columns)), dtype=np.float32)
    for r, (line, row) in enumerate(rows):
        for j, c in enumerate(columns):
            cell = row[c]
            value = _number(cell)
            if value is None or not math.isfinite(value):
                name = repr(header[c]) if header else str(c)
                what = "is empty" if cell == "" else f"is {cell!r}, not a finite number"
                raise DataFileError(f"{path}: line {line}, column {name} {what}")
            out[r, j] = value
    return out


def label_values(path, rows, column, name):
    """The label cells of column *column*: all numbers (parsed as such, so ``1`` and ``1.0`` are one class) or all
    names.

    Parameters
    ----------
    path : str
    rows : list of (int, list of str)
        As returned by :func:`read_csv_table`.
    column : int
    name : str
        The column as messages name it.

    Returns
    -------
    ndarray
        float64 ``(N,)`` when every cell is a finite number, else str ``(N,)``.

    Raises
    ------
    ValueError
        An empty cell, a number that is not finite, or numbers mixed with names; the message names the line.
    """
    cells = [(line, row[column]) for line, row in rows]
    numbers, names = [], []
    for line, cell in cells:
        if cell == "":
            raise DataFileError(f"{path}: line {line}, column {name}: the label cell is empty")
        value = _number(cell)
        (names if value is None else numbers).append((line, cell, value))
    if names and numbers:
        few, many = (names, numbers) if len(names) <= len(numbers) else (numbers, names)
        kind = "is not a number" if few is names else "is a number"
        other = "numbers" if few is names else "names"
        raise DataFileError(f"{path}: line {few[0][0]}, column {name}: the label {few[0][1]!r} {kind} but "
                            f"{len(many)} other labels are {other} (line {many[0][0]}: {many[0][1]!r}); labels "
                            "must be all numbers or all names")
    if names:
        return np.array([cell for _, cell, _ in names])
    for line, cell, value in numbers:
        if not math.isfinite(value):
            raise DataFileError(f"{path}: line {line}, column {name}: the label {cell!r} is not a finite number")
    return np.array([value for _, _, value in numbers], dtype=np.float64)
