"""Putting a built folder in place of the last one: what `opsbook build --out` and the MkDocs plugin share.

A build writes into a staging folder of its own, made beside the target with a unique name
(`staging_beside`), so that two builds at once never write into one folder. Only once the build has
fully succeeded is the staging folder renamed over the target (`replace_folder`), under an exclusive
lock on the folder that holds both, so that two builds finishing at once replace the site one after
the other, each whole. A build that fails removes its staging folder (`discard`) and leaves the last
good target as it was; the staging folders of builds that died without cleaning up (they hold no
lock any more) are removed by the next build. `write_problem` says in one line why a folder could not
be written (a full disk, a read-only tree), for the adapters to print instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the renames are not serialised
    fcntl = None  # type: ignore[assignment]

__all__ = ["WRITE_ERRORS", "discard", "replace_folder", "staging_beside", "write_problem"]

#: The errors of a file system that cannot take the build: full, over quota, read-only, not permitted.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def staging_beside(target: Path, label: str = "staging") -> Path:
    """A new, empty folder beside `target`, unique to this build: `.<name>.<label>-<random>`.

    The build holds a lock (flock) on its staging folder until the folder is put in place or discarded.
    Staging folders of builds that died without cleaning up (killed, or a machine that stopped) hold
    no lock: they are removed here first, so that they cannot fill the disk for the builds after them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        _remove_stale(target, label)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{label}-", dir=target.parent))
        _hold(staging)
    return staging


#: The staging folders this process is writing, each with the descriptor that holds its lock.
_HELD: dict[Path, int] = {}


def _hold(folder: Path) -> None:
    if fcntl is None:  # pragma: no cover
        return
    handle = os.open(folder, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX)
    _HELD[folder] = handle


def _release(folder: Path) -> None:
    handle = _HELD.pop(folder, None)
    if handle is not None:
        os.close(handle)


def _remove_stale(target: Path, label: str) -> None:
    """Remove the staging and replaced folders beside `target` that no living build holds."""
    if fcntl is None:  # pragma: no cover - without locks, a living build's folder cannot be told apart
        return
    for prefix in (f".{target.name}.{label}-", f".{target.name}.previous-"):
        for candidate in target.parent.glob(glob.escape(prefix) + "*"):
            if candidate in _HELD or candidate.is_symlink() or not candidate.is_dir():
                continue
            try:
                handle = os.open(candidate, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a build running now holds it
            finally:
                os.close(handle)
            shutil.rmtree(candidate, ignore_errors=True)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock (flock) on `folder` itself, held while the target is replaced."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the last descriptor releases the lock


def replace_folder(staging: Path, target: Path) -> None:
    """Rename `staging` over `target`, serialised with every other build into the same folder. The last
    target is moved aside first and deleted only once the new one is in place; if the new one cannot be
    put in place, the last one is put back. Raises OSError, with the staging folder left for the caller
    to discard."""
    with _locked(target.parent):
        previous = None
        if target.exists() or target.is_symlink():
            previous = target.with_name(f".{target.name}.previous-{os.getpid()}-{secrets.token_hex(4)}")
            target.rename(previous)
        try:
            staging.rename(target)
        except BaseException:
            if previous is not None:
                previous.rename(target)
            raise
        _release(staging)
    if previous is not None:
        discard(previous)


def discard(folder: Path) -> None:
    """Remove a staging folder (or a replaced one), whatever it holds; never raises."""
    _release(folder)
    if folder.is_symlink():
        folder.unlink(missing_ok=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def write_problem(error: OSError, target: Path) -> str:
    """Why `target` could not be written, in one line: `cannot write site: No space left on device`.
    The file the error names is left out: it is in a staging folder that is gone, or it is the source
    of a copy. A permission error on a file outside the target and its staging folders is a file
    that could not be read: `cannot read docs/x.md: Permission denied`."""
    reason = error.strerror or str(error)
    names = [str(name) for name in (error.filename, error.filename2) if name]
    if error.errno in (errno.EACCES, errno.EPERM) and names and not any(_ours(name, target) for name in names):
        return f"cannot read {names[0]}: {reason}"
    return f"cannot write {target}: {reason}"


def _ours(name: str, target: Path) -> bool:
    """Whether a path is the target, inside it, or inside one of its staging or replaced folders."""
    try:
        relative = Path(name).absolute().relative_to(target.parent.absolute())
    except ValueError:
        return False
    first = relative.parts[0] if relative.parts else ""
    return first == target.name or first.startswith(f".{target.name}.")
