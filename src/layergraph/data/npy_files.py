"""Reading users' ``.npz`` / ``.npy`` files safely: nothing is allocated before the sizes declared in the file are
checked against the bytes the file really holds, and nothing is unpickled.

``.npz`` members go through the checks of the checkpoint reader
(:class:`layergraph.train.checkpoint_validate.Archive`): each member's declared size against its compressed size
(at most the ratio deflate can reach) and the file size, each ``.npy`` header against the member's size, no
Python objects. The messages name the file and the key.
"""

import os

import numpy as np

from ..train.checkpoint_validate import Archive, CheckpointError, check_array_header

__all__ = ["DataFileError", "read_npz", "read_npy"]

# The checkpoint reader's wording, adapted to data files.
_WORDING = (
    ("not a readable checkpoint", "not a readable .npz archive"),
    ("not a checkpoint: ", ""),
    ("which checkpoints never use", "which numpy.savez never uses"),
    (", which checkpoints never store", " (pickled data), which are never loaded; save plain numeric or string "
                                      "arrays"),
)


class DataFileError(ValueError):
    """A data file refused by a check (its message names the file and is final)."""


class _DataArchive(Archive):
    """The checkpoint reader's checks, with messages about a data archive rather than a checkpoint."""

    def error(self, message):
        return CheckpointError(str(_error(self.path, message)))


def _error(path, message):
    """A DataFileError naming *path*, in the checkpoint reader's *message* reworded for data files."""
    for old, new in _WORDING:
        message = message.replace(old, new)
    return DataFileError(f"{path}: {message}")


def read_npz(path):
    """All arrays of the ``.npz`` file *path*, read after checking every member's declared size.

    Parameters
    ----------
    path : str

    Returns
    -------
    dict of str to ndarray
        By key (the member name without ``.npy``), in the archive's order.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataFileError
        The file is not a readable archive, a member declares more data than it holds (a "zip bomb" or a
        corrupt file), holds Python objects, or fails its CRC check.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with _DataArchive(path) as archive:
            return {key: archive.array(key) for key in archive.headers}
    except CheckpointError as err:
        raise DataFileError(str(err)) from None


def read_npy(path):
    """The array of the ``.npy`` file *path* (its header checked against the file size first).

    Parameters
    ----------
    path : str

    Returns
    -------
    ndarray

    Raises
    ------
    FileNotFoundError
        No such file.
    DataFileError
        Not a NumPy array, Python objects, a dtype of 0 bytes per element, or a shape larger than the bytes the
        file holds.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(f)
        except (ValueError, OSError, EOFError) as err:
            raise DataFileError(f"{path}: not a NumPy .npy array ({err})") from None
        check_array_header(shape, fortran, dtype, max(size - f.tell(), 0), lambda m: _error(path, m), "the array",
                           exact=False)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataFileError(f"{path}: not a readable .npy file ({err})") from None
