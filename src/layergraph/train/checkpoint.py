"""Checkpoints: a network's parameters and buffers, optimizer state and metadata in one atomically written ``.npz``.

File layout (every entry a plain array, so the file loads with ``allow_pickle=False`` and never runs code):

``__checkpoint__``
    0-d unicode array, JSON: format tag, version, the key lists, and the packed optimizer state and metadata.
``__architecture__``
    0-d unicode array, JSON: :func:`~layergraph.train.architecture.describe_network` of the saved network.
``params/<key>``, ``buffers/<key>``
    The network's arrays under their dotted names.
``optimizer/<n>``, ``meta/<n>``, ``rngs/<n>``
    Arrays referenced from the packed optimizer state, metadata and layers' random-generator states.
"""

import os
from dataclasses import dataclass, field

import numpy as np

from .._atomic import atomic_write

from ..errors import shape_str
from . import architecture as arch
from . import rng_state
from .checkpoint_validate import MAX_DEPTH, Archive, CheckpointError, check_description
from .serialize import PackError, from_json, pack, to_json, unpack

FORMAT = "layergraph-checkpoint"
VERSION = 1
_HEADER = "__checkpoint__"
_ARCH = "__architecture__"


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
    load_report : LoadReport or None
        What the last :meth:`restore` into a network loaded and skipped.
    rngs : dict or None
        The random-generator states of the layers that have one (Dropout, ...), by layer name:
        ``{name: {"class": ..., "state": bit_generator.state}}``; None for files written without them.
    """

    path: str
    params: dict
    buffers: dict
    optimizer: object
    meta: dict = field(default_factory=dict)
    architecture: dict = field(default_factory=dict)
    load_report: object = None
    rngs: object = None

    def build_network(self, custom_objects=None, load=True):
        """A new network with the saved architecture (and, when *load*, the saved weights).

        Raises
        ------
        CheckpointError
            The description names an unknown class (pass it in *custom_objects*) or values its class rejects.
        """
        try:
            net = arch.build_network(self.architecture, custom_objects)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, MemoryError,
                OverflowError) as err:
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CheckpointError(f"{self.path}: cannot rebuild the network ({text})") from None
        if load:
            self.restore(net)
        return net

    def restore(self, net=None, optimizer=None, strict=True):
        """Load the saved state into *net* and / or *optimizer*; see :func:`load_checkpoint`."""
        report, rngs_before = None, []
        if net is not None:
            report = _check_state(self, net, self.path, strict)
            rngs_before = rng_state.restore(self.rngs, net, self.path, strict)  # all or nothing
        if optimizer is not None:
            problem = None
            if self.optimizer is None:
                problem = (f"{self.path}: the checkpoint holds no optimizer state to load into "
                           f"{type(optimizer).__name__}")
            else:
                try:
                    optimizer.load_state_dict(self.optimizer)
                except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError,
                        OverflowError) as err:
                    text = str(err).splitlines()[0] if str(err) else type(err).__name__
                    problem = f"{self.path}: optimizer state does not fit {type(optimizer).__name__}: {text}"
            if problem is not None:
                rng_state.put_back(rngs_before)
                raise CheckpointError(problem)
        if net is not None:
            _copy_state(self, net, report)
            self.load_report = report
        return self


@dataclass
class LoadReport:
    """What a non-strict load did: keys are dotted ``params`` / ``buffers`` names.

    Attributes
    ----------
    loaded : list of str
        Copied into the network (``converted`` ones cast to the network's dtype).
    missing : list of str
        In the network but not in the checkpoint: left as they were.
    unexpected : list of str
        In the checkpoint but not in the network: ignored.
    mismatched : list of (str, tuple, tuple)
        ``(key, checkpoint shape, network shape)``: same name, other shape; left as they were.
    converted : list of (str, str, str)
        ``(key, checkpoint dtype, network dtype)``: loaded with a cast.
    """

    loaded: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)
    converted: list = field(default_factory=list)

    def __str__(self):
        parts = [f"loaded {len(self.loaded)}"]
        if self.missing:
            parts.append(f"missing from the checkpoint {self.missing}")
        if self.unexpected:
            parts.append(f"not in the network {self.unexpected}")
        if self.mismatched:
            parts.append("shape mismatches " + ", ".join(f"{k} {shape_str(a)} vs {shape_str(b)}"
                                                         for k, a, b in self.mismatched))
        if self.converted:
            parts.append("converted " + ", ".join(f"{k} {a}->{b}" for k, a, b in self.converted))
        return "; ".join(parts)


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

    Raises
    ------
    TypeError
        A parameter or buffer holds Python objects (dtype object), or the optimizer state or *meta* holds a value
        that cannot be stored without pickle: raised before anything is written, so an existing file is kept.
    """
    path = os.fspath(path)
    arrays = {}
    for kind in ("params", "buffers"):
        for key, value in getattr(net, kind).items():
            value = np.asarray(value)
            if value.dtype.hasobject:
                raise TypeError(f"save_checkpoint: {'parameter' if kind == 'params' else 'buffer'} {key!r} must be a "
                                f"numeric array, got dtype {value.dtype} (Python objects, which checkpoints never "
                                f"store); nothing was written to {path!r}")
            arrays[f"{kind}/{key}"] = value
    try:
        opt_tree = None if optimizer is None else pack(optimizer.state_dict(), arrays, "optimizer/")
        meta_tree = pack(meta, arrays, "meta/")
        rngs_tree = pack(rng_state.collect(net), arrays, "rngs/")
    except PackError as err:
        raise TypeError(f"save_checkpoint: {err}") from None
    header = {"format": FORMAT, "version": VERSION,
              "params": list(net.params), "buffers": list(net.buffers),
              "optimizer": opt_tree, "meta": meta_tree, "rngs": rngs_tree}
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
        When False, load every parameter and buffer that matches by name and shape (casting the dtype when
        needed) and skip the rest: keys missing on either side, shape mismatches, and layer classes are not
        checked. What was loaded and skipped is in ``checkpoint.load_report`` (a :class:`LoadReport`). Use it
        to fine-tune from a checkpoint with a new head, or to load a backbone only.

    Returns
    -------
    Checkpoint

    Raises
    ------
    FileNotFoundError
        No file at *path*.
    CheckpointError
        Unreadable, truncated or corrupt file (in one line: damaged zip directory, truncation, wrong JSON types,
        nesting deeper than 200 levels, array shapes declared by the network description that the stored
        arrays' headers do not match: checked before any array is read or layer built); not a layergraph
        checkpoint; a directory; or (strict) a mismatch with *net*, listing every mismatched layer, key, shape
        and dtype.
    """
    path = os.fspath(path)
    with Archive(path) as archive:
        ckpt = _read(archive, path)
    return ckpt.restore(net, optimizer, strict)


_MALFORMED = (PackError, KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError,
              MemoryError, OverflowError, UnicodeError)


def _read(archive, path):
    def text(key):
        head = archive.headers.get(key)
        if head is None:
            raise CheckpointError(f"{path}: not a complete layergraph checkpoint (entry {key!r} is missing)")
        if head.shape != () or head.dtype.kind != "U":
            raise CheckpointError(f"{path}: entry {key!r} must be a 0-d string array, got "
                                  f"{shape_str(head.shape)} {head.dtype}")
        return str(archive.array(key)[()])

    try:
        header = from_json(text(_HEADER), f"{path}: {_HEADER}")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a layergraph checkpoint (wrong format tag)")
        if header.get("version") != VERSION:
            raise CheckpointError(f"{path}: checkpoint format version {header.get('version')!r}, this "
                                  f"layergraph reads {VERSION}")
        keys = {kind: header.get(kind) for kind in ("params", "buffers")}
        for kind, names in keys.items():
            if not (isinstance(names, list) and all(isinstance(k, str) for k in names)):
                raise CheckpointError(f"{path}: {_HEADER}: '{kind}' must be a list of names")
            missing = [k for k in names if f"{kind}/{k}" not in archive.headers]
            if missing:
                raise CheckpointError(f"{path}: not a complete layergraph checkpoint ({kind} {missing[0]!r} is "
                                      "missing)")
            unlisted = sorted({k[len(kind) + 1:] for k in archive.headers if k.startswith(kind + "/")} - set(names))
            if unlisted or len(set(names)) != len(names):
                raise CheckpointError(f"{path}: {_HEADER}: the list of {kind} does not match the stored arrays "
                                      f"({unlisted[0]!r} is not listed)" if unlisted else
                                      f"{path}: {_HEADER}: the list of {kind} names an array twice")
        architecture = from_json(text(_ARCH), f"{path}: {_ARCH}")
        check_description(architecture, archive.headers, path)  # before any array is read or layer built
        for tree in (header.get("optimizer"), header.get("meta"), header.get("rngs")):
            _check_depth(tree, path)
        params = {k: archive.array(f"params/{k}") for k in keys["params"]}
        buffers = {k: archive.array(f"buffers/{k}") for k in keys["buffers"]}
        others = {k: archive.array(k) for k in archive.headers if k.startswith(("optimizer/", "meta/", "rngs/"))}
        opt_state = None if header.get("optimizer") is None else unpack(header["optimizer"], others)
        meta = unpack(header.get("meta", {}), others)
        if not isinstance(meta, dict):
            raise CheckpointError(f"{path}: {_HEADER}: 'meta' must be an object")
        rngs = None if header.get("rngs") is None else unpack(header["rngs"], others)
    except CheckpointError:
        raise
    except _MALFORMED as err:
        raise CheckpointError(f"{path}: not a valid layergraph checkpoint ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''})") from None
    return Checkpoint(path, params, buffers, opt_state, meta, architecture, rngs=rngs)


def _check_depth(tree, path):
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CheckpointError(f"{path}: {_HEADER} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _check_state(ckpt, net, path, strict=True):
    if not strict:
        return _plan_partial(ckpt, net)
    try:
        problems = arch.compare(ckpt.architecture, arch.describe_network(net))
    except (KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path}: the network description is malformed ({type(err).__name__}: {err})") \
            from None
    for kind in ("params", "buffers"):
        saved, live = getattr(ckpt, kind), getattr(net, kind)
        for key, value in live.items():
            if key not in saved:
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
        problems += [f"{kind} {k!r} {shape_str(v.shape)} is in the checkpoint but not in the network"
                     for k, v in saved.items() if k not in live]
    if problems:
        raise CheckpointError(f"{path}: checkpoint does not match the network ({len(problems)} problem(s)):\n  "
                              + "\n  ".join(problems))
    return None


def _plan_partial(ckpt, net):
    report = LoadReport()
    for kind in ("params", "buffers"):
        saved, live = getattr(ckpt, kind), getattr(net, kind)
        for key, value in live.items():
            got = saved.get(key)
            if got is None:
                report.missing.append(key)
            elif got.shape != value.shape:
                report.mismatched.append((key, tuple(got.shape), tuple(value.shape)))
            else:
                if got.dtype != value.dtype:
                    if not np.can_cast(got.dtype, value.dtype, "same_kind"):
                        report.mismatched.append((key, tuple(got.shape), tuple(value.shape)))
                        continue
                    report.converted.append((key, str(got.dtype), str(value.dtype)))
                report.loaded.append(key)
        report.unexpected += [k for k in saved if k not in live]
    return report


def _copy_state(ckpt, net, report=None):
    chosen = None if report is None else set(report.loaded)
    for kind in ("params", "buffers"):
        saved = getattr(ckpt, kind)
        for key, target in getattr(net, kind).items():
            if key in saved and (chosen is None or key in chosen):
                np.copyto(target, saved[key], casting="same_kind")
