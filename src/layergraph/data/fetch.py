"""Download the MNIST archives from public mirrors, verify them, write them atomically."""

from __future__ import annotations

import hashlib
import http.client
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .._atomic import atomic_write
from .mnist import MNIST_FILES, cache_dir

__all__ = ["MNIST_MIRRORS", "DownloadError", "ChecksumError", "fetch_mnist", "verify_file"]

#: Mirrors tried in order; each holds the four ``*.gz`` files of ``MNIST_FILES``.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_HASHES = ("sha256", "md5")
_BLOCK = 1 << 16


class DownloadError(OSError):
    """A file could not be obtained from any mirror."""


class ChecksumError(DownloadError, ValueError):
    """Downloaded or existing data does not match its expected size or checksum."""


def _check_spec(name: str, spec) -> dict:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"fetch_mnist: file names must be plain names without '/', got {name!r}")
    if not isinstance(spec, Mapping):
        raise TypeError(
            f"fetch_mnist: files[{name!r}] must be a mapping with 'sha256' and/or 'md5' "
            f"(and optionally 'size'), got {type(spec).__name__}"
        )
    unknown = set(spec) - {"size", *_HASHES}
    if unknown:
        raise ValueError(f"fetch_mnist: files[{name!r}] has unknown keys {sorted(unknown)}")
    if not any(spec.get(h) for h in _HASHES):
        raise ValueError(
            f"fetch_mnist: files[{name!r}] needs a 'sha256' or 'md5' checksum; "
            "unverified downloads are refused"
        )
    return dict(spec)


def _mismatch(digests: dict[str, str], size: int, spec: Mapping) -> str | None:
    """Describe how the data differs from ``spec``, or None if it matches."""
    want_size = spec.get("size")
    if want_size is not None and size != want_size:
        return f"size {size} bytes, expected {want_size}"
    for h in _HASHES:
        want = spec.get(h)
        if want and digests[h] != want.lower():
            return f"{h} {digests[h]}, expected {want.lower()}"
    return None


def verify_file(path, spec: Mapping) -> str | None:
    """Check a file against a size/checksum spec.

    Parameters
    ----------
    path : str or os.PathLike
        File to check.
    spec : mapping
        Keys ``"sha256"`` and/or ``"md5"`` (hex strings) and optionally ``"size"``.

    Returns
    -------
    str or None
        None if the file matches, else a short description of the mismatch.
    """
    hashers = {h: hashlib.new(h) for h in _HASHES}
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            size += len(block)
            for hasher in hashers.values():
                hasher.update(block)
    return _mismatch({h: x.hexdigest() for h, x in hashers.items()}, size, spec)


def _download(url: str, target: Path, spec: Mapping, timeout: float,
              progress: Callable | None) -> None:
    """Stream ``url`` into a temporary file next to ``target``, verify, then rename."""
    request = urllib.request.Request(url, headers={"User-Agent": "layergraph-fetch"})
    hashers = {h: hashlib.new(h) for h in _HASHES}
    size = 0
    with atomic_write(target, suffix=".part") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        announced = int(length) if length and length.isdigit() else None
        total = announced if announced is not None else spec.get("size")
        for block in iter(lambda: resp.read(_BLOCK), b""):
            out.write(block)
            size += len(block)
            for hasher in hashers.values():
                hasher.update(block)
            if progress is not None:
                progress(target.name, size, total)
        # Raising here, inside the block, discards the temporary file and leaves any existing target alone.
        if announced is not None and size != announced:
            raise DownloadError(f"{url}: transfer ended after {size} of {announced} announced bytes")
        problem = _mismatch({h: x.hexdigest() for h, x in hashers.items()}, size, spec)
        if problem is not None:
            raise ChecksumError(f"{url}: {problem}")


def fetch_mnist(dest=None, *, mirrors: Sequence[str] | str | None = None,
                files: Mapping[str, Mapping] | None = None, overwrite: bool = False,
                timeout: float = 30.0, log: Callable[[str], None] | None = None,
                progress: Callable[[str, int, int | None], None] | None = None) -> Path:
    """Download the MNIST archives, verify their checksums and store them.

    Each file is streamed into a temporary file in ``dest``, checked against its
    expected size and checksums, and only then renamed into place, so an
    interrupted or corrupt download never leaves a file under the final name.
    Mirrors are tried in order until one delivers a verified copy. Files already
    present with the right checksum are kept.

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Target directory (created if needed). Default: ``cache_dir() / "mnist"``,
        where :func:`load_mnist` looks.
    mirrors : sequence of str or str, optional
        Base URLs, each joined with the file name. Default: ``MNIST_MIRRORS``.
    files : mapping, optional
        File name -> ``{"sha256": ..., "md5": ..., "size": ...}`` (at least one
        checksum). Default: ``MNIST_FILES`` (the four standard archives).
    overwrite : bool, default False
        Download again even if a verified copy exists.
    timeout : float, default 30
        Socket timeout in seconds for each request.
    log : callable(str), optional
        Receives one line per file (e.g. ``print``). Default: silent.
    progress : callable(name, bytes_done, bytes_total or None), optional
        Called after each received block.

    Returns
    -------
    pathlib.Path
        The directory holding the verified files.

    Raises
    ------
    ChecksumError
        (a ``DownloadError`` and ``ValueError``) if no mirror delivered data with
        the right checksum and at least one delivered wrong data.
    DownloadError
        (an ``OSError``) if no mirror could deliver a file; the message lists
        every URL tried and why it failed.
    """
    if files is None:
        files = MNIST_FILES
    if not isinstance(files, Mapping):
        raise TypeError(f"fetch_mnist: files must be a mapping, got {type(files).__name__}")
    specs = {name: _check_spec(name, spec) for name, spec in files.items()}
    if mirrors is None:
        mirrors = MNIST_MIRRORS
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    mirrors = tuple(mirrors)
    if not mirrors or not all(isinstance(m, str) and m for m in mirrors):
        raise ValueError(f"fetch_mnist: mirrors must be a non-empty sequence of URLs, got {mirrors!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"fetch_mnist: timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(overwrite, bool):
        raise TypeError(f"fetch_mnist: overwrite must be a bool, got {type(overwrite).__name__}")
    dest = cache_dir() / "mnist" if dest is None else Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    say = log if log is not None else (lambda line: None)

    for name, spec in specs.items():
        target = dest / name
        if target.is_file() and not overwrite:
            problem = verify_file(target, spec)
            if problem is None:
                say(f"{name}: already present and verified in {dest}")
                continue
            say(f"{name}: existing copy is wrong ({problem}); downloading again")
        failures: list[str] = []
        bad_data = False
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _download(url, target, spec, timeout, progress)
            except DownloadError as exc:  # the message already names the URL
                bad_data = bad_data or isinstance(exc, ChecksumError)
                failures.append(f"  - {exc}")
            except (OSError, ValueError, http.client.HTTPException) as exc:
                failures.append(f"  - {url}: {exc}")
            else:
                say(f"{name}: downloaded from {url} and verified")
                break
        else:
            kind = ChecksumError if bad_data else DownloadError
            raise kind(
                f"fetch_mnist: could not get a verified copy of {name}; tried:\n"
                + "\n".join(failures)
                + f"\n{target} was left unchanged. Check the network, or download the file "
                "by other means into that directory."
            )
    return dest
