"""Folder transactions: an index folder changes only by a whole new folder swapped in.

A writer takes :func:`writer_lock` (an exclusive ``flock`` on a sibling ``.<name>.lock``), writes
everything into a temporary sibling folder and swaps it in with two renames
(:func:`atomic_write_folder`). If the process dies between the two renames, the previous index
is put back on the next load (:func:`recover`); temporary folders of killed writers are removed
by the next reader or writer that finds no live writer (:func:`recover_if_idle`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError, SemhashError
from ..manifest import FORMAT
from ..manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from .layout import KNOWN_FILES, MANIFEST


def writer_path(dest: str | os.PathLike) -> Path:
    """The real folder behind ``dest``, where its writers work: a symlinked index folder is
    updated where the link points (the link stays a link), and ``.`` gets a name."""
    return Path(os.path.realpath(dest))


def leftovers(dest: Path) -> tuple[list[Path], list[Path]]:
    """Previous folders (oldest first) and temporary folders that writers left beside ``dest``."""
    old, tmp = f".{dest.name}.old-", f".{dest.name}.tmp-"
    backups, temporary = [], []
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest.parent):
            if entry.name.startswith(old):
                backups.append(Path(entry.path))
            elif entry.name.startswith(tmp):
                temporary.append(Path(entry.path))
    with contextlib.suppress(OSError):
        backups.sort(key=lambda p: p.lstat().st_mtime)
    return backups, temporary


def recover(dest: Path) -> None:
    """Finish or undo a swap that a crash interrupted, and drop leftover temporary folders.

    Only for a caller that holds :func:`writer_lock` on ``dest`` (or where no writer ever
    took it): then no temporary folder beside it belongs to a live writer.
    """
    dest = writer_path(dest)
    backups, temporary = leftovers(dest)
    if not dest.exists() and backups:
        os.rename(backups[-1], dest)  # the crash fell between the two renames: put the old one back
        backups = backups[:-1]
    for leftover in backups + temporary:
        shutil.rmtree(leftover, ignore_errors=True)


def lock_path(dest: Path) -> Path:
    """The lock file of ``dest``'s writers: ``.<name>.lock`` beside the real folder."""
    dest = writer_path(dest)
    return dest.parent / f".{dest.name}.lock"


def recover_if_idle(dest: Path, wait: float = 10.0) -> None:
    """:func:`recover` for a reader: only when no writer holds the lock on ``dest``.

    While a writer holds it, its temporary folder and its swap are its own (a reader never
    touches them); a reader that finds ``dest`` missing mid-swap waits up to ``wait`` seconds
    for it to reappear. Once the lock is free, what killed writers left behind (a half-done
    swap, full-size temporary copies) is undone or removed.
    """
    dest = writer_path(dest)
    backups, temporary = leftovers(dest)
    if dest.exists() and not backups and not temporary:
        return  # nothing to recover: no lock needed
    try:
        fd = os.open(lock_path(dest), os.O_RDONLY)
    except OSError:
        recover(dest)  # no writer ever locked this index
        return
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if dest.exists() or time.monotonic() >= deadline:
                    return  # a live writer: its folders are its own
                time.sleep(0.05)
                continue
            recover(dest)
            return
    finally:
        os.close(fd)


def check_replaceable(dest: Path) -> None:
    """:class:`ConfigError` unless a writer may replace ``dest``: a new folder, an empty one or
    a semhash index (even a damaged one), never the current folder or a folder of other files."""
    dest = writer_path(dest)
    cwd = Path(os.path.realpath(os.getcwd()))
    if dest == cwd or dest in cwd.parents:
        raise ConfigError(f"cannot write an index to {dest}: it is the current folder or holds it; "
                          "run semhash from another folder, or choose another --index")
    if not os.path.lexists(dest):
        return
    if not dest.is_dir():
        raise ConfigError(f"cannot write an index to {dest}: it is a file, not a folder; choose another --index")
    with contextlib.suppress(OSError, ValueError, RecursionError, AttributeError):
        if json.loads((dest / MANIFEST).read_bytes()[:MANIFEST_MAX_BYTES]).get("format") == FORMAT:
            return
    others = sorted(n for n in os.listdir(dest) if n not in KNOWN_FILES and n != MANIFEST)
    if others:
        raise ConfigError(f"cannot write an index to {dest}: it is a folder that is not a semhash index "
                          f"(it holds {others[0]!r}); choose another --index, or empty the folder")


def lock_wait() -> float:
    """Seconds a writer waits for the lock: ``$SEMHASH_LOCK_WAIT``, 600 by default."""
    raw = os.environ.get("SEMHASH_LOCK_WAIT", "600")
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"SEMHASH_LOCK_WAIT must be a number of seconds, got {raw!r}") from None


@contextlib.contextmanager
def writer_lock(dest: Path, wait: float | None = None) -> Iterator[None]:
    """Serialize writers of one index with an exclusive ``flock`` on a sibling lock file."""
    check_replaceable(dest)
    dest = writer_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if wait is None:
        wait = lock_wait()
    fd = os.open(lock_path(dest), os.O_CREAT | os.O_RDWR, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SemhashError(
                        f"another semhash process is writing {dest}; wait for it to finish and retry "
                        f"(SEMHASH_LOCK_WAIT={wait:g} seconds)"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _test_pause() -> None:
    """Test hook only: ``SEMHASH_TEST_PAUSE_BEFORE_SWAP=seconds`` sleeps after the temporary
    folder is written and again between the two renames, so a crash test can kill the process
    inside the save window. Never set it in normal use."""
    pause = os.environ.get("SEMHASH_TEST_PAUSE_BEFORE_SWAP")
    if pause:
        time.sleep(float(pause))


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder``, and the folder itself, to disk."""
    for p in folder.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_folder(dest: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_folder)``, then swap the result in place of ``dest`` (under the writer
    lock; a symlinked ``dest`` is replaced where it points, see :func:`writer_path`)."""
    check_replaceable(dest)
    dest = writer_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)  # also removes killed writers' temporary folders: we hold the lock
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        write(tmp)
        fsync_tree(tmp)
        _test_pause()
        if dest.exists():
            backup = dest.parent / f".{dest.name}.old-{os.getpid()}-{time.time_ns()}"
            os.rename(dest, backup)
            _test_pause()
            os.rename(tmp, dest)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["atomic_write_folder", "check_replaceable", "leftovers", "lock_path", "recover", "recover_if_idle",
           "writer_lock", "writer_path"]
