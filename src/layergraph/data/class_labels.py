"""Class labels of users' files as class indices ``0..C-1``, checked before anything is sized by them.

For training (the classes are read from the file):

- names (strings) become classes in sorted order, the names kept as the class names;
- integers that are exactly ``0..C-1`` (each index used) are the class indices;
- other non-negative integers (``1..3``, ``0/100/200``, a stray ``10**9``) are numbered in increasing order and
  their values become the class names, as for strings; a note says so;
- with names given by the file (``class_names`` of an ``.npz``), integers index them.

A label of a test part that no training sample has, a single class, more classes than half the samples (a target
that is not a class label) and non-integer numbers are refused. For evaluation the classes come from a checkpoint
(:class:`KnownClasses`): names are mapped through its class names, integers (numbers, or names that spell integers
such as ``'007'``) by their value when the class names are all integers (``'7'`` and ``'007'`` are one class), and
a label it does not know is refused; otherwise integers are the class indices.

Integer labels of a CSV file keep their spelling as class names (``007``), so that ``.csv`` and ``.npz`` files
with the same labels have the same class names.
"""

import re
from dataclasses import dataclass

import numpy as np

from .npy_files import DataFileError

__all__ = ["KnownClasses", "Part", "encode_labels", "CONTINUOUS_DISTINCT"]

#: Non-integer labels with at least this many distinct values are reported as a continuous target.
CONTINUOUS_DISTINCT = 10

_INT64_MAX = np.iinfo(np.int64).max
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass
class KnownClasses:
    """The classes of a trained network, which the labels of an evaluation file must be mapped to.

    Attributes
    ----------
    names : list of str or None
        The class names stored in the checkpoint (None: it was trained on integer class indices).
    source : str
        The checkpoint, as messages name it.
    count : int, optional
        The number of classes of the network, when known: class indices from ``count`` up are refused.
    """

    names: list
    source: str
    count: int = None


@dataclass
class Part:
    """One array of labels of a file.

    Attributes
    ----------
    key : str
        How messages name it, e.g. ``'t'`` or ``column 'species'``.
    values : ndarray
        The labels as read: strings, integers or floats, shape ``(N,)``.
    lines : list of int, optional
        The file line of each label (CSV), for messages.
    text : list of str, optional
        Each label as written in the file (CSV), whose integers keep this spelling as class names (``007``).
    """

    key: str
    values: np.ndarray
    lines: list = None
    text: list = None

    def where(self, i):
        """Where label *i* is, for messages: its line, or its index in the array."""
        return f" (line {self.lines[i]})" if self.lines is not None else f" (index {i})"


def _label(value):
    """A label as messages show it: names quoted, numbers plain."""
    return repr(str(value)) if isinstance(value, (str, np.str_, bytes, np.bytes_)) else str(value)


def _show(values, n=6):
    text = [str(v) for v in values]
    return ", ".join(text if len(text) <= n else text[:n - 1] + ["...", text[-1]])


def _as_ints(path, part):
    """The values of *part* as int64 (strings are returned unchanged); non-integers and negatives are refused."""
    v = part.values
    if v.dtype.kind in "US":
        return v.astype(str)
    if v.dtype.kind not in "iuf":
        raise DataFileError(f"{path}: {part.key} must hold integer class labels 0..C-1 or names, got dtype "
                            f"{v.dtype}")
    if v.dtype.kind == "f":
        bad = ~(np.isfinite(v) & (v == np.round(v)))
        if bad.any():
            fractional = np.unique(v[bad])
            i = int(np.argmax(bad))
            if len(fractional) >= CONTINUOUS_DISTINCT:
                hint = " (--target-column chooses it)" if part.lines is not None else ""
                raise DataFileError(f"{path}: {part.key} looks like a continuous target ({len(fractional)} distinct "
                                    f"non-integer values such as {_show(fractional[:3], 3)}): layergraph trains "
                                    f"classifiers; use a column of class labels{hint}, or bin the values into "
                                    "classes")
            raise DataFileError(f"{path}: {part.key} holds the label {v[i]:g}{part.where(i)}, not an integer; class "
                                "labels are integers or names")
    if len(v) and v.min() < 0:
        i = int(np.argmin(v))
        raise DataFileError(f"{path}: {part.key} holds the negative label {int(v[i])}{part.where(i)}; labels are "
                            "class indices 0..C-1 (or any non-negative integers, or names)")
    if len(v) and (v.max() >= 2.0 ** 63 if v.dtype.kind == "f" else v.max() > _INT64_MAX):
        raise DataFileError(f"{path}: {part.key} holds the label {int(v.max())}, larger than any class index")
    return v.astype(np.int64)


def _first_unknown(values, known):
    missing = ~np.isin(values, np.asarray(known))
    return int(np.argmax(missing)) if missing.any() else None


def encode_labels(path, parts, file_names=None, known=None):
    """Class indices of every part of a file's labels, its class names and a note about the numbering.

    Parameters
    ----------
    path : str
        The file, as messages name it.
    parts : list of Part
        The training labels first, then the test labels if the file has them.
    file_names : list of str, optional
        Class names stored in the file: integer labels index them.
    known : KnownClasses, optional
        For evaluation: map the labels to these classes instead of reading the classes from the file.

    Returns
    -------
    indices : list of ndarray
        int64 class indices, one array per part.
    names : list of str or None
        The class names (None: the labels are the class indices themselves).
    note : str or None
        A remark for the summary line when integer labels were renumbered.

    Raises
    ------
    ValueError
        One line naming the file, the key (or line) and the offending label.
    """
    values = [_as_ints(path, p) for p in parts]
    if file_names is not None and not (known is not None and known.names is None):
        values = [_named(path, p, v, file_names) for p, v in zip(parts, values)]
    if known is not None:
        return [_to_known(path, p, v, known) for p, v in zip(parts, values)], known.names, None
    train = values[0]
    classes = np.unique(train)
    for p, v in zip(parts[1:], values[1:]):
        i = _first_unknown(v, classes)
        if i is not None:
            raise DataFileError(f"{path}: {p.key} holds the label {_label(v[i])}{p.where(i)}, which no sample of "
                                f"{parts[0].key} has (its classes: {_show(classes)})")
    _check_class_count(path, parts[0], classes, len(train))
    if file_names is not None or train.dtype.kind in "US":
        names = list(file_names) if file_names is not None else [str(c) for c in classes]
        index = {c: i for i, c in enumerate(names)}
        return [np.array([index[c] for c in v.tolist()], dtype=np.int64) for v in values], names, None
    names = _spelled(parts[0], train, classes)
    if classes[-1] == len(classes) - 1:  # exactly 0..C-1: named only when written otherwise ('00', '01')
        return values, (None if names == [str(c) for c in classes.tolist()] else names), None
    note = (f"labels {_show(names)} are not 0..{len(classes) - 1}: classes 0..{len(classes) - 1} stand for "
            "them in increasing order, with their values as class names")
    return [np.searchsorted(classes, v).astype(np.int64) for v in values], names, note


def _spelled(part, values, classes):
    """The names of the integer classes *classes*: as the file writes the labels of a class when it writes them
    all alike as an integer (``007``), else the number (``1`` for cells ``1`` and ``1.0``)."""
    names = [str(c) for c in classes.tolist()]
    if part.text is None:
        return names
    spellings = {}
    for value, text in zip(values.tolist(), part.text):
        spellings.setdefault(value, set()).add(text)
    for k, c in enumerate(classes.tolist()):
        (text, *more) = spellings[c]
        if not more and _INTEGER.fullmatch(text):
            names[k] = text
    return names


def _named(path, part, v, names):
    """Integer labels turned into the file's class names (strings are checked against them)."""
    if v.dtype.kind in "US":
        i = _first_unknown(v, names)
        if i is not None:
            raise DataFileError(f"{path}: {part.key} holds the label {_label(v[i])}{part.where(i)}, not among the "
                                "class names")
        return v
    if len(v) and v.max() >= len(names):
        i = int(np.argmax(v))
        raise DataFileError(f"{path}: {part.key} holds the label {v[i]}{part.where(i)} but 'class_names' has "
                            f"{len(names)} names")
    return np.asarray(names, dtype=str)[v]


def _check_class_count(path, part, classes, n):
    hint = " (--target-column chooses the label column)" if part.lines is not None else ""
    if not len(classes):
        raise DataFileError(f"{path}: {part.key} holds no labels")
    if len(classes) < 2:
        raise DataFileError(f"{path}: every label of {part.key} is {_label(classes[0])}: a classifier needs at least "
                            f"two classes{hint}")
    if 2 * len(classes) > n:
        raise DataFileError(f"{path}: {part.key} holds {len(classes):,} different labels for {n:,} samples (fewer "
                            f"than 2 samples per class): is it a column of class labels?{hint}")


def _to_known(path, part, v, known):
    """Labels mapped to the classes of a trained network (:class:`KnownClasses`)."""
    names, numbers, by_value = known.names, _integers(v), _integer_names(known.names)
    if names is None or (by_value is not None and numbers is not None):
        if numbers is None:
            raise DataFileError(f"{path}: {part.key} holds names ({_show(np.unique(v)[:3], 3)}) but {known.source} "
                                "has no class names: it was trained on integer class labels")
        if names is None:  # class indices
            end = known.count if known.count is not None else _INT64_MAX + 1
            i = next((i for i, k in enumerate(numbers) if not 0 <= k < end), None)
            classes = f"0..{end - 1}" if known.count is not None else "class indices 0..C-1"
        else:
            i = next((i for i, k in enumerate(numbers) if k not in by_value), None)
            classes = _show(names)
        if i is not None:
            raise DataFileError(f"{path}: {part.key} holds the label {_label(v[i])}{part.where(i)}, which is not a "
                                f"class of {known.source} (its classes: {classes})")
        return np.array(numbers if by_value is None else [by_value[k] for k in numbers], dtype=np.int64)
    if v.dtype.kind in "US":
        text = v.astype(str)
        i = _first_unknown(text, names)
        if i is not None:
            raise DataFileError(f"{path}: {part.key} holds the label {_label(text[i])}{part.where(i)}, which is not a "
                                f"class of {known.source} (its classes: {_show(names)})")
        index = {c: k for k, c in enumerate(names)}
        return np.array([index[c] for c in text.tolist()], dtype=np.int64)
    # numbers for a network whose classes have names: class indices, which must be in range
    i = None if numbers is None else next((i for i, k in enumerate(numbers) if not 0 <= k < len(names)), None)
    if numbers is None or i is not None:
        bad = v[0] if numbers is None else v[i]
        raise DataFileError(f"{path}: {part.key} holds the label {_label(bad)}{part.where(i or 0)}, which is not a "
                            f"class of {known.source} (its classes: {_show(names)}, or their indices 0.."
                            f"{len(names) - 1})")
    return np.array(numbers, dtype=np.int64)


def _integers(v):
    """Labels as Python ints: integer labels, or names that all spell integers (``'007'``); else None."""
    if v.dtype.kind in "iu":
        return v.tolist()
    text = v.tolist()
    return [int(t) for t in text] if all(_INTEGER.fullmatch(t) for t in text) else None


def _integer_names(names):
    """``{value: class index}`` of class names that all spell integers, each a different one; else None."""
    if names is None or not all(_INTEGER.fullmatch(n) for n in names):
        return None
    by_value = {int(n): k for k, n in enumerate(names)}
    return by_value if len(by_value) == len(names) else None
