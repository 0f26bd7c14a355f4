"""Atomic file writes: a temporary file in the target's directory, flushed, fsync'ed, then moved into place."""

import contextlib
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, suffix=".tmp", encoding=None):
    """Yield a file open on a temporary file beside *path*; when the block ends normally, make it *path*.

    The file is flushed and fsync'ed, given ordinary permissions (``0o666`` less the umask), moved over *path*
    with :func:`os.replace`, and the directory entry is synced where the platform allows. If anything raises
    (in the block or while finishing), the temporary file is removed and *path* is left exactly as it was.

    Parameters
    ----------
    path : str or os.PathLike
    mode : {"wb", "w"}
    suffix : str
        Suffix of the temporary file's name.
    encoding : str, optional
        For text mode.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX; not possible on Windows)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
