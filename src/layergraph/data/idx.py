"""Reader and writer for the IDX file format used by MNIST and its relatives.

An IDX file is a 4-byte magic number, one 4-byte size per dimension and then the
elements in C order, all big-endian::

    byte 0, 1   zero
    byte 2      element type code (see ``IDX_TYPES``)
    byte 3      number of dimensions (rank)
    rank x 4    big-endian unsigned 32-bit sizes
    ...         prod(sizes) elements of the given type, big-endian

Files may be gzip-compressed; compression is detected from the content (the
gzip signature ``1f 8b``), not from the file name.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from .._atomic import atomic_write

__all__ = ["IDX_TYPES", "IDXFormatError", "read_idx", "write_idx"]

PathLike = Union[str, "os.PathLike[str]"]

#: IDX element type code -> big-endian NumPy dtype.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_TYPES.items()}
_GZIP_SIGNATURE = b"\x1f\x8b"
_CHUNK = 1 << 22
_MAX_DEFLATE_RATIO = 1100


class IDXFormatError(ValueError):
    """An IDX file is malformed (bad magic number, truncated, wrong length)."""


def _name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or repr(source)


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    parts = []
    remaining = n
    while remaining > 0:
        block = stream.read(remaining)
        if not block:
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts)


def _remaining_bytes(stream) -> int | None:
    """Bytes left in a seekable stream, or None if it cannot be told."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _readinto_full(stream: BinaryIO, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream``; return the number of bytes read."""
    filled = 0
    total = len(buffer)
    while filled < total:
        got = stream.readinto(buffer[filled:filled + _CHUNK])
        if not got:
            break
        filled += got
    return filled


def _parse(stream: BinaryIO, name: str, compressed: bool, limit: int | None) -> np.ndarray:
    where = f"IDX file {name!r}" + (" (gzip)" if compressed else "")
    magic = _read_exact(stream, 4)
    if len(magic) < 4:
        raise IDXFormatError(
            f"{where}: truncated header: expected a 4-byte magic number, got {len(magic)} byte(s)"
        )
    zero, code, rank = struct.unpack(">HBB", magic)
    if zero != 0:
        raise IDXFormatError(
            f"{where}: bad magic number 0x{magic.hex()}: the first two bytes must be zero"
        )
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X} ({IDX_TYPES[c].name})" for c in IDX_TYPES)
        raise IDXFormatError(
            f"{where}: bad magic number 0x{magic.hex()}: unknown element type code "
            f"0x{code:02X}; expected one of {known}"
        )
    raw_dims = _read_exact(stream, 4 * rank)
    if len(raw_dims) < 4 * rank:
        raise IDXFormatError(
            f"{where}: truncated header: rank {rank} needs {4 * rank} bytes of dimension "
            f"sizes, got {len(raw_dims)}"
        )
    dims = struct.unpack(f">{rank}I", raw_dims)
    dtype = IDX_TYPES[code]
    count = 1
    for d in dims:
        count *= d
    expected = count * dtype.itemsize
    header_len = 4 + 4 * rank
    if limit is not None and expected > limit - header_len:
        # The source is too short to hold the data: report it without allocating.
        what = "at most" if compressed else "only"
        raise IDXFormatError(
            f"{where}: truncated data: dims {dims} of {dtype.name} need {expected} bytes "
            f"after the header, but the file can hold {what} {max(limit - header_len, 0)}"
        )
    try:
        out = np.empty(dims, dtype=dtype)
    except (MemoryError, ValueError) as exc:
        raise IDXFormatError(
            f"{where}: dims {dims} of {dtype.name} need {expected} bytes, which cannot be "
            f"allocated ({exc}); the header is probably corrupt"
        ) from exc
    got = _readinto_full(stream, memoryview(out.reshape(-1).view(np.uint8)))
    if got < expected:
        raise IDXFormatError(
            f"{where}: truncated data: dims {dims} of {dtype.name} need {expected} bytes "
            f"after the header, but the file has only {got}"
        )
    extra = stream.read(1)
    if extra:
        rest = 1 + sum(len(b) for b in iter(lambda: stream.read(_CHUNK), b""))
        raise IDXFormatError(
            f"{where}: length mismatch: dims {dims} of {dtype.name} need {expected} bytes "
            f"after the header, but the file has {expected + rest} ({rest} trailing)"
        )
    if dtype.itemsize > 1:
        out.byteswap(inplace=True)
        out = out.view(dtype.newbyteorder("="))
    else:
        out = out.view(dtype.newbyteorder("="))
    return out


def read_idx(source: PathLike | BinaryIO) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    Parameters
    ----------
    source : str, os.PathLike or binary file object
        The file to read. Gzip compression is detected from the first two bytes.

    Returns
    -------
    numpy.ndarray
        Array of shape ``dims`` (any rank, including 0) in native byte order with
        the dtype given by the element type code: uint8, int8, int16, int32,
        float32 or float64. The array is writable and owns its memory.

    Raises
    ------
    IDXFormatError
        (a ``ValueError``) if the magic number is wrong, the header or the data is
        truncated, the file is longer than its dimensions say, or the gzip stream
        is corrupt. The message names the file and what is wrong.
    FileNotFoundError
        If ``source`` is a path that does not exist.
    """
    name = _name(source)
    own = isinstance(source, (str, os.PathLike))
    if not own and not hasattr(source, "read"):
        raise TypeError(
            f"read_idx: source must be a path or a binary file object, got {type(source).__name__}"
        )
    raw = open(source, "rb") if own else source
    try:
        head = raw.read(2)
        if not isinstance(head, bytes):
            raise TypeError(f"read_idx: {name!r} must be opened in binary mode")
        compressed = head == _GZIP_SIGNATURE
        remaining = _remaining_bytes(raw)
        limit = None
        if remaining is not None:
            limit = remaining + len(head)
            if compressed:
                # deflate expands at most ~1032:1; generous bound on the payload size
                limit = _MAX_DEFLATE_RATIO * limit + 1024
        if compressed:
            body = io.BufferedReader(_PrefixReader(head, raw))
            stream = gzip.GzipFile(fileobj=body, mode="rb")
            try:
                return _parse(stream, name, True, limit)
            except (EOFError, OSError, zlib.error) as exc:
                if isinstance(exc, FileNotFoundError):
                    raise
                raise IDXFormatError(
                    f"IDX file {name!r} (gzip): corrupt or truncated gzip stream: {exc}"
                ) from exc
        return _parse(_PrefixReader(head, raw), name, False, limit)
    finally:
        if own:
            raw.close()


class _PrefixReader(io.RawIOBase):
    """A raw stream that yields ``prefix`` and then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        reader = getattr(self._stream, "readinto", None)
        if reader is not None:
            return reader(view) or 0
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def write_idx(path: PathLike, array, *, compress: bool | None = None) -> Path:
    """Write an array to an IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination. The file is written to a temporary file in the same
        directory and moved into place with ``os.replace``.
    array : array_like
        Data of any rank (0 to 255, each size < 2**32) with dtype uint8, int8,
        int16, int32, float32 or float64. The array is not modified.
    compress : bool, optional
        Gzip the output. Default: ``True`` if ``path`` ends with ``.gz``.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    TypeError
        If the dtype has no IDX element type.
    ValueError
        If the rank or a dimension size does not fit the format.
    """
    arr = np.asarray(array)
    code = _CODE_OF_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise TypeError(
            f"write_idx: array dtype {arr.dtype} has no IDX element type; "
            "expected uint8, int8, int16, int32, float32 or float64"
        )
    if arr.ndim > 255:
        raise ValueError(f"write_idx: array rank {arr.ndim} exceeds the IDX maximum of 255")
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"write_idx: array shape {arr.shape} has a size >= 2**32")
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    header = struct.pack(f">HBB{arr.ndim}I", 0, code, arr.ndim, *arr.shape)
    payload = np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    with atomic_write(path) as fh:
        if compress:
            with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            fh.write(header)
            fh.write(payload)
    return path
