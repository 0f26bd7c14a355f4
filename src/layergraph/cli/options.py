"""Argument types for the command-line parsers (bad values become one-line argparse errors), the options several
commands share (defined once here) and the checks of their values."""

import argparse
import math
import os


def _int_at_least(text, low, expected):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text):
    """``type=`` for options that take an int >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def nonneg_float(text):
    """``type=`` for options that take a finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def fraction(text):
    """``type=`` for options that take a fraction in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def optimizer_name(text):
    """``type=`` for ``--optimizer``: any case of a :mod:`layergraph.optim` class name -> the class name."""
    from .build import resolve_optimizer

    try:
        return resolve_optimizer(text).__name__
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--optimizer: ")) from None


def arch_spec(text):
    """``type=`` for ``--arch``: a preset name, or widths (``64-100-10``) returned normalised."""
    from .build import parse_arch
    from .presets import is_preset

    if is_preset(text):
        return text.lower()
    try:
        return "-".join(map(str, parse_arch(text)))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--arch: ")) from None


def nonneg_int(text):
    """``type=`` for options that take an int >= 0 (``--seed``, ``--early-stopping``)."""
    return _int_at_least(text, 0, "an integer >= 0")


def positive_float(text):
    """``type=`` for options that take a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


# -- options shared by several commands (one definition each) ----------------------------------------------------

def data_spec(text):
    """``type=`` for ``--data``: a built-in name or a path ending in ``.npz`` / ``.csv`` that is not a directory."""
    from .datasets import data_choice, is_file_spec

    value = data_choice(text)
    if is_file_spec(value) and os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a .npz / .csv file")
    return value


def add_data_options(parser, data_help, target_default="the last column", dir_default="$LAYERGRAPH_DATA, then "
                     "~/.cache/layergraph"):
    """Add ``--data``, ``--target-column`` and ``--data-dir`` (defaults None) as ``train``, ``lr-find`` and
    ``evaluate`` take them; *data_help* is the help of ``--data``, *target_default* and *dir_default* say what the
    other two default to. Check the values with :func:`check_data_options`."""
    parser.add_argument("--data", type=data_spec, default=None, metavar="NAME|FILE", help=data_help)
    parser.add_argument("--target-column", default=None, metavar="COLUMN",
                        help="for --data PATH.csv: the column of class labels, by header name or 0-based index "
                             f"(default: {target_default}); labels may be integers 0..C-1 or strings")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="for --data mnist: the directory of the MNIST files, or of a mnist/ folder holding "
                             f"them (default: {dir_default})")


def check_data_options(data, data_dir=None, target_column=None):
    """Refuse ``--target-column`` without a CSV file and ``--data-dir`` without MNIST, and a ``--data-dir`` whose
    files would be replaced by MNIST files found elsewhere ($LAYERGRAPH_DATA, the cache); one-line ValueErrors."""
    shown = os.path.basename(str(data))
    if target_column is not None and not str(data).lower().endswith(".csv"):
        raise ValueError(f"--target-column applies to .csv files only, not --data {shown}")
    if data_dir is None:
        return
    if data != "mnist":
        raise ValueError(f"--data-dir applies to --data mnist only, not --data {shown}")
    where = _mnist_source(data_dir)
    mine = {os.path.realpath(data_dir), os.path.realpath(os.path.join(data_dir, "mnist"))}
    if where is not None and os.path.realpath(where) not in mine:
        what = "no such directory" if not os.path.isdir(data_dir) else "no MNIST set there or in its mnist/ folder"
        raise ValueError(f"--data-dir {data_dir}: {what}, and the files would be read from {where} instead; drop "
                         "--data-dir to use those, or name the directory holding the files")


def _mnist_source(data_dir):
    """The directory ``--data mnist`` would read (the full set first, else the test files), None if none."""
    from ..data import find_mnist_files

    for splits in (("train", "test"), ("test",)):
        try:
            files = find_mnist_files(data_dir, splits=splits)
        except FileNotFoundError:
            continue
        return str(next(iter(files.values())).parent)
    return None


def add_model_option(parser):
    """Add ``--model MODULE:FUNCTION`` for commands that read a checkpoint (``predict``; ``evaluate`` may too):
    the factory of a network whose layer classes the checkpoint's architecture cannot rebuild. A checkpoint's
    own record of its factory is never imported: only a module the user names here is."""
    parser.add_argument("--model", default=None, metavar="MODULE:FUNCTION",
                        help="rebuild the network with this factory (as given to `train --model`) instead of from "
                             "the checkpoint's architecture; needed only for networks with your own layer classes. "
                             "The module is imported (it runs its code), so name only modules you trust; it must be "
                             "importable: run from the training directory or set PYTHONPATH")


def same_file(a, b):
    """True when paths *a* and *b* name the same file (the same inode, or the same resolved path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting_inputs(option, out, inputs):
    """ValueError when the output path *out* of *option* is one of the *inputs* (pairs ``(what, path)``), or
    cannot be written (see :func:`check_output_file`)."""
    for what, path in inputs:
        if path is not None and same_file(out, path):
            raise ValueError(f"{option} {out}: is the {what} this command reads; writing there would destroy it, "
                             "choose another file")
    check_output_file(option, out)


def check_output_file(option, path):
    """ValueError naming *option* when the file *path* cannot be written: it is a directory, or its directory is
    missing or not writable; checked before the command does its work."""
    if os.path.isdir(path):
        raise ValueError(f"{option} {path}: is a directory; name a file to write")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{option} {path}: no such directory {directory}; create it first or choose another path")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"{option} {path}: the directory {directory} is not writable")
