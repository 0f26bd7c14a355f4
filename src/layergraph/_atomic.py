"""Atomic file writes: a temporary file in the target's directory, flushed, fsync'ed, then moved into place.

Writing over an existing file keeps its permission bits; writing to a symbolic link replaces the file the link
points to (atomically, in that file's directory), leaving the link in place.

Temporary files are named ``.<target name>.<pid>-<random><suffix>``. A process killed while writing leaves its
temporary file behind; the next atomic write of the same target removes such leftovers when the process that made
them no longer exists (and leftovers without a process id once they are an hour old).
"""

import contextlib
import errno
import os
import re
import stat
import tempfile
import time

_UNNAMED_STALE_AFTER = 3600.0  # seconds; for temporary files whose writer is unknown
# errors of writing the file itself (an error raised in the block about something else passes unchanged)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid):
    if pid == os.getpid():
        return True  # ours: possibly another thread writing the same target
    if os.name != "posix":
        return True  # cannot tell cheaply: keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def clean_stale_temporaries(path, suffix=".tmp"):
    """Remove temporary files left beside *path* by atomic writes of *path* whose writer is gone.

    Parameters
    ----------
    path : str or os.PathLike
        The target file (not a temporary file).
    suffix : str
        The temporary files' suffix.

    Returns
    -------
    list of str
        The files removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(f".{os.path.basename(path)}.") + r"(?:(\d+)-)?[A-Za-z0-9_]{6,}"
                         + re.escape(suffix) + r"\Z")
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = pattern.match(name)
        if m is None:
            continue
        full = os.path.join(directory, name)
        try:
            if m.group(1) is not None:
                stale = not _pid_alive(int(m.group(1)))
            else:
                stale = now - os.stat(full).st_mtime > _UNNAMED_STALE_AFTER
            if stale:
                os.unlink(full)
                removed.append(full)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def _named_error(err, path):
    """An OSError of the same kind as *err* whose message and ``filename`` name the target *path*."""
    reason = err.strerror or str(err)
    if err.errno == errno.ENOSPC:
        reason = "no space left on device (disk full)"
    new = OSError(err.errno, f"cannot write {path!r}: {reason}", path) if err.errno else \
        OSError(f"cannot write {path!r}: {reason}")
    if not err.errno:
        new.filename = path
    return new


def _mode_of(target):
    """The permission bits (``rwx`` for user, group, others) of the existing file *target*; for a new file,
    ``0o666`` less the umask. Set-user-ID, set-group-ID and sticky bits are not carried over (as a write clears
    them)."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) & 0o777 if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, suffix=".tmp", encoding=None, newline=None, make_parents=False):
    """Yield a file open on a temporary file beside *path*; when the block ends normally, make it *path*.

    The file is flushed and fsync'ed, given the permission bits of the file it replaces (ordinary permissions,
    ``0o666`` less the umask, for a new file), moved over *path* with :func:`os.replace`, and the directory entry
    is synced where the platform allows. When *path* is a symbolic link, the file it points to is the one replaced
    (the temporary file is made beside it) and the link stays a link. If anything raises (in the block or while
    finishing), the temporary file is removed and *path* is left exactly as it was. Stale temporary files of the
    same target (from a writer that was killed) are removed first.

    Parameters
    ----------
    path : str or os.PathLike
    mode : {"wb", "w"}
    suffix : str
        Suffix of the temporary file's name.
    encoding, newline : str, optional
        For text mode, as for :func:`open`.
    make_parents : bool, default False
        Create the missing directories of *path* first.

    Raises
    ------
    OSError
        Of the same kind (``FileNotFoundError``, ``PermissionError``, ...) as the underlying error, with a message
        and ``filename`` naming *path*, never the temporary file; a full disk says so.
    """
    path = os.fspath(path)
    target = os.path.realpath(path) if os.path.islink(path) else path  # write through a link to its file
    directory = os.path.dirname(os.path.abspath(target))
    try:
        if make_parents:
            os.makedirs(directory, exist_ok=True)
        clean_stale_temporaries(target, suffix)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.{os.getpid()}-", suffix=suffix,
                                   dir=directory)
    except OSError as err:
        raise _named_error(err, path) from None
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_of(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and (exc.filename in (None, tmp) and exc.errno in _WRITE_ERRNOS
                                         or exc.filename == tmp):
            raise _named_error(exc, path) from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX; not possible on Windows)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
