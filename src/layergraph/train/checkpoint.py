"""Checkpoints: a network's parameters and buffers, optimizer state and metadata in one atomically written ``.npz``.

File layout (every entry a plain array, so the file loads with ``allow_pickle=False`` and never runs code):

``__checkpoint__``
    0-d unicode array, JSON: format tag, version, the key lists, and the packed optimizer state and metadata.
``__architecture__``
    0-d unicode array, JSON: :func:`~layergraph.train.architecture.describe_network` of the saved network.
``params/<key>``, ``buffers/<key>``
    The network's arrays under their dotted names.
``optimizer/<n>``, ``meta/<n>``
    Arrays referenced from the packed optimizer state and metadata.
"""

import os
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from .._atomic import atomic_write

from ..errors import StateDictError, shape_str
from . import architecture as arch
from .serialize import PackError, from_json, pack, to_json, unpack

FORMAT = "layergraph-checkpoint"
VERSION = 1
_HEADER = "__checkpoint__"
_ARCH = "__architecture__"


class CheckpointError(StateDictError):
    """A checkpoint file is unreadable, truncated or corrupt, or does not match the network / optimizer."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read.

    Attributes
    ----------
    params, buffers : dict str -> ndarray
        The saved arrays, dotted keys.
    optimizer : dict or None
        The optimizer's ``state_dict()`` as saved (None when saved without an optimizer).
    meta : dict
        The keyword arguments given to :func:`save_checkpoint`.
    architecture : dict
        The network description; :meth:`build_network` turns it back into a network.
    """

    path: str
    params: dict
    buffers: dict
    optimizer: object
    meta: dict = field(default_factory=dict)
    architecture: dict = field(default_factory=dict)

    def build_network(self, custom_objects=None, load=True):
        """A new network with the saved architecture (and, when *load*, the saved weights)."""
        net = arch.build_network(self.architecture, custom_objects)
        if load:
            self.restore(net)
        return net

    def restore(self, net=None, optimizer=None, strict=True):
        """Load the saved state into *net* and / or *optimizer*; see :func:`load_checkpoint`."""
        if net is not None:
            _check_state(self, net, self.path, strict)
        if optimizer is not None:
            if self.optimizer is None:
                raise CheckpointError(f"{self.path}: the checkpoint holds no optimizer state to load into "
                                      f"{type(optimizer).__name__}")
            try:
                optimizer.load_state_dict(self.optimizer)
            except (ValueError, TypeError) as err:
                raise CheckpointError(f"{self.path}: optimizer state does not fit "
                                      f"{type(optimizer).__name__}: {err}") from err
        if net is not None:
            _copy_state(self, net)
        return self


def save_checkpoint(path, net, optimizer=None, **meta):
    """Write *net*'s parameters and buffers, *optimizer*'s state and *meta* to *path*, atomically.

    The file is written to a temporary file in the same directory, flushed and fsync'ed, then moved over *path*
    with :func:`os.replace`: a crash or an error at any point leaves either the old file or the new one, never a
    mix, and no temporary file is left behind after an error.

    Parameters
    ----------
    path : str or os.PathLike
        Target file, written exactly as named (no extension is added; ``.npz`` is conventional).
    net : Sequential
    optimizer : object with ``state_dict()``, optional
    **meta
        Extra values (epoch, step, history, ...): nested dicts / lists / tuples of numbers, strings, None and
        NumPy arrays.

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    arrays = {}
    for kind in ("params", "buffers"):
        for key, value in getattr(net, kind).items():
            arrays[f"{kind}/{key}"] = np.asarray(value)
    try:
        opt_tree = None if optimizer is None else pack(optimizer.state_dict(), arrays, "optimizer/")
        meta_tree = pack(meta, arrays, "meta/")
    except PackError as err:
        raise TypeError(f"save_checkpoint: {err}") from None
    header = {"format": FORMAT, "version": VERSION,
              "params": list(net.params), "buffers": list(net.buffers),
              "optimizer": opt_tree, "meta": meta_tree}
    arrays[_HEADER] = np.array(to_json(header))
    arrays[_ARCH] = np.array(to_json(arch.describe_network(net)))
    _atomic_savez(path, arrays)
    return path


def _atomic_savez(path, arrays):
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def load_checkpoint(path, net=None, optimizer=None, *, strict=True):
    """Read a checkpoint; if *net* / *optimizer* are given, load the saved state into them.

    Parameters
    ----------
    path : str or os.PathLike
    net : Sequential, optional
        Receives the parameters and buffers. Layer classes, keys, shapes and dtypes must all match; nothing is
        changed unless everything does.
    optimizer : object with ``load_state_dict(d)``, optional
        Receives the saved optimizer state (an error if the checkpoint has none).
    strict : bool, default True
        When False, keys missing on either side are skipped (shapes and dtypes must still match).

    Returns
    -------
    Checkpoint

    Raises
    ------
    FileNotFoundError
        No file at *path*.
    CheckpointError
        Unreadable, truncated or corrupt file; not a layergraph checkpoint; or a mismatch with *net*, listing
        every mismatched layer, key, shape and dtype.
    """
    path = os.fspath(path)
    data = _read_npz(path)
    try:
        header = from_json(str(data[_HEADER][()]), f"{path}: {_HEADER}")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise PackError("wrong format tag")
        if header.get("version") != VERSION:
            raise PackError(f"format version {header.get('version')!r}, this layergraph reads {VERSION}")
        architecture = from_json(str(data[_ARCH][()]), f"{path}: {_ARCH}")
        params = {k: data[f"params/{k}"] for k in header["params"]}
        buffers = {k: data[f"buffers/{k}"] for k in header["buffers"]}
        opt_state = None if header["optimizer"] is None else unpack(header["optimizer"], data)
        meta = unpack(header["meta"], data)
    except KeyError as err:
        raise CheckpointError(f"{path}: not a complete layergraph checkpoint (entry {err} is missing)") from None
    except (PackError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path}: not a valid layergraph checkpoint ({err})") from None
    return Checkpoint(path, params, buffers, opt_state, meta, architecture).restore(net, optimizer, strict)


def _read_npz(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {path!r}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not hasattr(loaded, "files"):
            raise ValueError("a single .npy array, not an .npz archive")
        with loaded as z:
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as err:
        raise CheckpointError(f"{path}: not a readable checkpoint: the file is truncated or corrupt "
                              f"({type(err).__name__}: {err})") from None


def _check_state(ckpt, net, path, strict=True):
    problems = arch.compare(ckpt.architecture, arch.describe_network(net))
    for kind in ("params", "buffers"):
        saved, live = getattr(ckpt, kind), getattr(net, kind)
        for key, value in live.items():
            if key not in saved:
                if strict:
                    problems.append(f"{kind} {key!r} {shape_str(value.shape)} {value.dtype} is missing "
                                    "from the checkpoint")
                continue
            got = saved[key]
            if got.shape != value.shape:
                problems.append(f"{kind} {key!r}: checkpoint shape {shape_str(got.shape)}, "
                                f"network shape {shape_str(value.shape)}")
            elif got.dtype != value.dtype:
                problems.append(f"{kind} {key!r}: checkpoint dtype {got.dtype}, network dtype {value.dtype} "
                                f"(convert the network with net.astype({str(got.dtype)!r}) first)")
        if strict:
            problems += [f"{kind} {k!r} {shape_str(v.shape)} is in the checkpoint but not in the network"
                         for k, v in saved.items() if k not in live]
    if problems:
        raise CheckpointError(f"{path}: checkpoint does not match the network ({len(problems)} problem(s)):\n  "
                              + "\n  ".join(problems))


def _copy_state(ckpt, net):
    for kind in ("params", "buffers"):
        saved = getattr(ckpt, kind)
        for key, target in getattr(net, kind).items():
            if key in saved:
                np.copyto(target, saved[key])
