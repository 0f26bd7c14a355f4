"""Reading a checkpoint archive defensively: every entry's ``.npy`` header is read and checked (and the network
description checked against those headers) before any array is allocated or any layer built.

A malformed file of any kind (flipped bytes, truncation, wrong JSON types, deep nesting, huge declared shapes)
raises :class:`CheckpointError` with a one-line message naming the file.
"""

import math
import os
import struct
import zipfile
import zlib

import numpy as np

from ..errors import StateDictError, shape_str

__all__ = ["CheckpointError", "Archive", "ArrayHeader", "check_array_header", "check_description", "MAX_DEPTH",
           "MIN_IMPLIED_ELEMENTS"]

MAX_DEPTH = 200  # nesting limit of the JSON trees (layers in layers, packed state)
MIN_IMPLIED_ELEMENTS = 2 ** 24  # hyperparameters implying fewer elements than this are never questioned
_DEFLATE_MAX_RATIO = 1100  # zlib cannot expand by more than ~1032:1


class CheckpointError(StateDictError):
    """A checkpoint file is unreadable, truncated or corrupt, or does not match the network / optimizer."""


class ArrayHeader:
    """Shape, dtype and layout of one stored array, read from its ``.npy`` header (no data read)."""

    __slots__ = ("shape", "dtype", "fortran", "nbytes")

    def __init__(self, shape, dtype, fortran):
        self.shape, self.dtype, self.fortran = shape, dtype, fortran
        self.nbytes = math.prod(shape) * dtype.itemsize


class Archive:
    """The entries of a checkpoint ``.npz``: headers checked on opening, data read on demand.

    Parameters
    ----------
    path : str
    """

    def __init__(self, path):
        self.path = path
        if os.path.isdir(path):
            hint = os.path.join(path, "checkpoint.npz")
            extra = f"; did you mean {hint!r}?" if os.path.isfile(hint) else ""
            raise CheckpointError(f"{path}: is a directory, not a checkpoint file{extra}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {path!r}")
        self.size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if fh.read(6) == b"\x93NUMPY":
                raise self.error("not a checkpoint: a single .npy array, not an .npz archive")
        try:
            self._zip = zipfile.ZipFile(path)
        except Exception as err:  # BadZipFile, NotImplementedError (bad version fields), struct.error, ...
            raise self.error(f"not a readable checkpoint: the file is truncated or corrupt ({_why(err)})")
        self.headers, self._infos = {}, {}
        try:
            self._read_headers()
        except CheckpointError:
            self.close()
            raise
        except Exception as err:  # anything the zip / npy readers raise on damaged bytes
            self.close()
            raise self.error(f"not a readable checkpoint: the file is truncated or corrupt ({_why(err)})") \
                from None

    def error(self, message):
        return CheckpointError(f"{self.path}: {message}")

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_headers(self):
        infos = self._zip.infolist()
        stored_total = 0
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise self.error(f"entry {name!r} is not an array (.npy)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.error(f"entry {name!r} uses zip compression method {info.compress_type}, which "
                                 "checkpoints never use: the file is corrupt")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise self.error(f"entry {name!r} is stored uncompressed but declares {info.file_size} bytes in "
                                 f"{info.compress_size}: the file is corrupt")
            if info.compress_size > self.size or \
                    info.file_size > _DEFLATE_MAX_RATIO * max(info.compress_size, 1) + 1024:
                raise self.error(f"entry {name!r} declares {info.file_size} bytes in {info.compress_size}: "
                                 "the file is corrupt")
            stored_total += info.compress_size
            key = name[:-4]
            if key in self.headers:
                raise self.error(f"entry {name!r} appears twice")
            with self._zip.open(info) as f:
                shape, fortran, dtype = _read_header(f, self.error, name)
                header_len = f.tell()
            self.headers[key] = check_array_header(shape, fortran, dtype, info.file_size - header_len,
                                                   self.error, f"entry {name!r}")
            self._infos[key] = (info, header_len)
        if stored_total > self.size:
            raise self.error("the zip directory declares more data than the file holds: the file is corrupt")

    def array(self, key):
        """The array stored under *key* (its header was checked; the bytes are checked against the zip CRC)."""
        head = self.headers.get(key)
        if head is None:
            raise self.error(f"entry {key!r} is missing: not a complete layergraph checkpoint")
        out = np.empty(head.shape, dtype=head.dtype, order="F" if head.fortran else "C")
        info, header_len = self._infos[key]
        if info.compress_type == zipfile.ZIP_STORED and head.nbytes >= _CHUNK:
            self._read_stored(key, info, header_len, out)
            return out
        try:
            with self._zip.open(key + ".npy") as f:
                _read_header(f)
                got = _read_into(f, out, head.nbytes)
                rest = f.read(1)  # reaching the end makes zipfile check the CRC
        except Exception as err:
            raise self.error(f"entry {key!r} is truncated or corrupt ({_why(err)})") from None
        if got != head.nbytes or rest:
            raise self.error(f"entry {key!r} is truncated or corrupt (size differs from its header)")
        return out

    def _read_stored(self, key, info, header_len, out):
        """Read an uncompressed entry straight into *out* (one read, no intermediate copy), checking its CRC."""
        view = memoryview(out.reshape(-1, order="A")).cast("B")
        try:
            with open(self.path, "rb") as fh:
                fh.seek(info.header_offset)
                local = fh.read(30)
                if len(local) != 30 or local[:4] != b"PK\x03\x04":
                    raise self.error(f"entry {key!r}: bad local zip header: the file is corrupt")
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                fh.seek(info.header_offset + 30 + name_len + extra_len)
                crc = zlib.crc32(fh.read(header_len))
                got = fh.readinto(view)
        except OSError as err:
            raise self.error(f"entry {key!r} is truncated or corrupt ({_why(err)})") from None
        if got != len(view):
            raise self.error(f"entry {key!r} is truncated")
        if zlib.crc32(view, crc) != info.CRC:
            raise self.error(f"entry {key!r} fails its CRC check: the file is corrupt")


def check_array_header(shape, fortran, dtype, held, error, what, exact=True):
    """The :class:`ArrayHeader` of an array whose ``.npy`` header declares *shape*, *fortran* and *dtype*, checked
    against the *held* bytes that follow the header before anything is allocated.

    Refused: Python objects, an invalid shape, a dtype of 0 bytes per element (``<U0``, ``|S0``, ``|V0``: any
    shape of it declares 0 bytes, yet ``numpy.empty`` allocates at least one byte per element), and a size that
    differs from *held* (*exact*) or exceeds it; so the element count never exceeds the bytes the file holds.

    Parameters
    ----------
    shape, fortran, dtype
        As read by ``numpy.lib.format.read_array_header_*``.
    held : int
        Bytes of the file (or archive member) after the header.
    error : callable
        Message -> the exception to raise (its message names the file).
    what : str
        The array, as messages name it (``"entry 'x.npy'"``, ``"the array"``).
    exact : bool
        Whether *held* must be exactly the declared size (archive members) or at least it.
    """
    if dtype.hasobject:
        raise error(f"{what} holds Python objects, which checkpoints never store")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise error(f"{what} declares an invalid shape {shape}")
    if dtype.itemsize == 0:
        raise error(f"{what} declares shape {shape_str(tuple(shape))} of dtype {dtype.str}, 0 bytes per element: "
                    "arrays of empty elements hold no data and are never loaded")
    head = ArrayHeader(tuple(shape), dtype, bool(fortran))
    if head.nbytes > held or (exact and head.nbytes != held):
        raise error(f"{what} declares shape {shape_str(head.shape)} {dtype} ({head.nbytes:,} bytes) but "
                    f"{'holds' if exact else 'the file holds only'} {held:,} bytes"
                    + ("" if exact else ": it is truncated or corrupt"))
    return head


_CHUNK = 1 << 22  # bytes per read: large reads through zipfile concatenate their pieces


def _read_into(f, out, nbytes):
    """Fill *out*'s memory with the next *nbytes* of *f*, in chunks; return the number of bytes read."""
    if not nbytes:
        return 0
    view = memoryview(out.reshape(-1, order="A")).cast("B")
    pos = 0
    while pos < nbytes:
        chunk = f.read(min(_CHUNK, nbytes - pos))
        if not chunk:
            break
        view[pos:pos + len(chunk)] = chunk
        pos += len(chunk)
    return pos


def _read_header(f, error=None, name=None):
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise (error or CheckpointError)(f"entry {name!r} has .npy format version {version}, not 1.0 or 2.0")


def _why(err):
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _is_shape(value):
    return isinstance(value, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                           for d in value)


def _ints(value):
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def check_description(desc, headers, where):
    """Check a network description (any tree of dicts and lists) against the stored arrays' headers.

    Every dict with ``"params"`` / ``"buffers"`` entries (a layer, wherever it sits: in ``"layers"`` lists, in a
    composite's ``"config"``, in a graph's nodes) declares ``{key: [shape, dtype]}``; the key qualified by the
    ``"name"`` of the enclosing layer dicts must be a stored ``params/<key>`` / ``buffers/<key>`` array (or, for
    descriptions named differently, some stored array of that kind whose key ends with it) of exactly that shape
    and dtype. A layer whose integer hyperparameters imply far more elements than it stores (and more than
    :data:`MIN_IMPLIED_ELEMENTS`) is refused, so that building it cannot allocate what the file merely declares.

    Parameters
    ----------
    desc : object
        Parsed JSON of the ``__architecture__`` entry.
    headers : dict str -> ArrayHeader
        Entry name (without ``.npy``) -> header.
    where : str
        Prefix of the error messages (the file).

    Raises
    ------
    CheckpointError
    """
    if not isinstance(desc, dict):
        raise CheckpointError(f"{where}: the network description is a {type(desc).__name__}, not an object")
    by_kind = {kind: {k[len(kind) + 1:]: h for k, h in headers.items() if k.startswith(kind + "/")}
               for kind in ("params", "buffers")}
    used = {kind: set() for kind in by_kind}
    stack = [(desc, (), 0)]
    while stack:
        node, names, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CheckpointError(f"{where}: the network description is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, list):
            stack.extend((v, names, depth + 1) for v in node)
            continue
        if not isinstance(node, dict):
            continue
        name = node.get("name")
        if name is not None and not isinstance(name, str):
            raise CheckpointError(f"{where}: a layer name is a {type(name).__name__}, not a string")
        if "class" in node and not isinstance(node["class"], str):
            raise CheckpointError(f"{where}: layer {name!r} has a class name that is not a string")
        for key in ("layers",):
            if key in node and not isinstance(node[key], list):
                raise CheckpointError(f"{where}: layer {name!r}: 'layers' must be a list")
        if "config" in node and not isinstance(node["config"], dict):
            raise CheckpointError(f"{where}: layer {name!r}: 'config' must be an object")
        inner = names + (name,) if isinstance(name, str) and name else names
        stored = 0
        for kind in ("params", "buffers"):
            if kind in node:
                stored += _check_declared(node[kind], kind, inner, by_kind[kind], where, used[kind])
        _check_implied(node, inner, stored, where)
        stack.extend((v, inner, depth + 1) for k, v in node.items() if k not in ("params", "buffers", "name"))
    for kind, keys in by_kind.items():
        extra = [k for k in keys if k not in used[kind]]
        if extra:
            raise CheckpointError(f"{where}: the file stores {kind} {extra[0]!r} (and {len(extra) - 1} more) that "
                                  "the network description does not declare" if len(extra) > 1 else
                                  f"{where}: the file stores {kind} {extra[0]!r} that the network description "
                                  "does not declare")


def _check_declared(declared, kind, names, stored, where, used):
    layer = ".".join(names) or "<top>"
    if not isinstance(declared, dict):
        raise CheckpointError(f"{where}: layer {layer!r}: '{kind}' must be an object")
    total = 0
    for key, spec in declared.items():
        if not (isinstance(spec, list) and len(spec) == 2 and _is_shape(spec[0]) and isinstance(spec[1], str)):
            raise CheckpointError(f"{where}: layer {layer!r}: {kind} {key!r} must be declared as "
                                  f"[shape, dtype], got {repr(spec)[:80]}")
        shape = tuple(spec[0])
        qualified = ".".join((*names, key))
        head = stored.get(qualified)
        if head is not None:
            used.add(qualified)
        else:  # a description that qualifies names its own way: any stored array ending with key
            found = next((k for k, h in stored.items() if (k == key or k.endswith("." + key)) and k not in used
                          and h.shape == shape and str(h.dtype) == spec[1]), None)
            if found is not None:
                head = stored[found]
                used.add(found)
        if head is None:
            raise CheckpointError(f"{where}: the network description declares {kind} {qualified!r} "
                                  f"{shape_str(shape)} {spec[1]}, which the file does not hold")
        if head.shape != shape or str(head.dtype) != spec[1]:
            raise CheckpointError(f"{where}: the network description declares {kind} {qualified!r} as "
                                  f"{shape_str(shape)} {spec[1]} but the file stores "
                                  f"{shape_str(head.shape)} {head.dtype}")
        total += math.prod(shape)
    return total


def _check_implied(node, names, stored, where):
    config = node.get("config")
    if not isinstance(config, dict):
        return
    implied = math.prod(abs(v) for value in config.values() for v in _ints(value) if v)
    if implied > max(MIN_IMPLIED_ELEMENTS, 64 * stored):
        layer = ".".join(names) or "<top>"
        raise CheckpointError(f"{where}: layer {layer!r} ({node.get('class')!r}) has hyperparameters "
                              f"{ {k: v for k, v in config.items() if _ints(v)} } implying about {implied:.3g} "
                              f"elements but stores {stored}: refusing to build it")
