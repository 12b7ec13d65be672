"""Checksums of index files, and a reader that hands out only bytes that match them.

- Every file of an index has its size and sha256 in the manifest (:func:`file_meta`).
- Large memory-mapped files (the TF-IDF rows, the document digests) also have a sha256 per
  block of :data:`BLOCK_BYTES` (:func:`block_digests`, stored in ``block_checksums.npy``);
  :class:`BlockCheck` checks a block the first time it is read in a process and remembers it,
  so a query pays only for the blocks it touches.
- :class:`FolderReader` opens the files of one folder relative to one directory handle, never
  through a symlink, and only regular files, so a folder swapped in mid-read is noticed.

Every failure is an :class:`~semhash.errors.IndexFormatError` naming the file and the fix.
NumPy and the standard library only: this is on the query path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import REBUILD, IndexFormatError

BLOCK_BYTES = 8192  # a TF-IDF row is a few hundred bytes: a re-ranked row costs one or two blocks
DIGEST_BYTES = 16  # the first 16 bytes of each block's sha256
# a .npy header of the arrays semhash writes is a few hundred bytes; it must fit in block 0
NPY_HEADER_MAX = BLOCK_BYTES
# the bytes of a file as read (bytes) or mapped (a uint8 np.memmap)
Data = bytes | memoryview | np.ndarray


def _view(data: Data) -> memoryview:
    """``data`` as a memoryview (NumPy arrays are buffers; their stubs do not say so)."""
    return memoryview(data)  # type: ignore[arg-type]
PathLike = str | os.PathLike


def damaged(path: PathLike, problem: str) -> IndexFormatError:
    """The error for a damaged index file: names it and says how to fix it."""
    return IndexFormatError(f"index file {path} {problem}; {REBUILD}")


def mismatch(path: PathLike, where: str = "") -> IndexFormatError:
    """The error for a file that does not match its checksum (``where``: which part)."""
    return damaged(path, f"does not match its checksum{where} (corrupted)")


def sha256_hex(data: Data) -> str:
    """The sha256 of ``data``, in hex."""
    return hashlib.sha256(_view(data)).hexdigest()


def sha256_stream(f: BinaryIO, out: BinaryIO | None = None) -> str:
    """The sha256 of what is left to read in ``f``, read in 1 MiB chunks (each also written to ``out``)."""
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
        if out is not None:
            out.write(chunk)
    return h.hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of the file at ``path``."""
    with open(path, "rb") as f:
        return sha256_stream(f)


def block_digests(data: Data, block_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """``(n_blocks, DIGEST_BYTES)`` uint8: the truncated sha256 of each block of ``data``."""
    view = _view(data)
    n = -(-len(view) // block_bytes)
    out = np.zeros((n, DIGEST_BYTES), dtype=np.uint8)
    for i in range(n):
        out[i] = np.frombuffer(hashlib.sha256(view[i * block_bytes : (i + 1) * block_bytes]).digest()[:DIGEST_BYTES],
                               dtype=np.uint8)
    return out


def map_file(fd: int, size: int) -> Data:
    """A read-only map of a whole file as a uint8 ``np.memmap`` (``b""`` for an empty one)."""
    if not size:
        return b""
    with os.fdopen(os.dup(fd), "rb") as f:  # the map keeps its own handle on the file
        return np.memmap(f, dtype=np.uint8, mode="r", shape=(size,))


def file_meta(path: Path, blocks: bool = False) -> tuple[dict, np.ndarray | None]:
    """``({"bytes", "sha256"}, block digests or None)`` of a written file, in one read."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = map_file(f.fileno(), size)
        meta = {"bytes": size, "sha256": sha256_hex(data)}
        return meta, (block_digests(data) if blocks else None)


class BlockCheck:
    """The blocks of one mapped file, each checked against its digest the first time it is read."""

    def __init__(self, path: PathLike, data: Data, digests: np.ndarray, block_bytes: int = BLOCK_BYTES) -> None:
        self.path, self.data, self.block_bytes = path, _view(data), block_bytes
        self.digests = digests
        self.checked = np.zeros(len(digests), dtype=bool)
        self.done = not len(digests)  # every block checked: reads skip the bookkeeping
        if len(digests) != -(-len(self.data) // block_bytes):
            raise damaged(path, f"has {len(self.data)} bytes, its block checksums cover {len(digests)} blocks")

    def blocks(self, ids: np.ndarray) -> None:
        """Check the blocks ``ids`` (each one only once per process)."""
        ids = np.asarray(ids, dtype=np.int64)
        todo = ids[~self.checked[ids]]
        if not len(todo):  # the usual case once a process is warm
            return
        for b in np.unique(todo).tolist():
            chunk = self.data[b * self.block_bytes : (b + 1) * self.block_bytes]
            if hashlib.sha256(chunk).digest()[:DIGEST_BYTES] != self.digests[b].tobytes():
                raise mismatch(self.path, f" in block {b}")
            self.checked[b] = True  # set only after the check: threads at worst check twice
        self.done = bool(self.checked.all())  # read from the flags, never counted: safe on threads

    def spans(self, starts: np.ndarray | list[int], stops: np.ndarray | list[int]) -> None:
        """Check every block holding a byte of the spans ``[starts[i], stops[i])``."""
        if self.done:
            return
        starts, stops = np.asarray(starts, np.int64), np.asarray(stops, np.int64)
        keep = stops > starts
        first, last = starts[keep] // self.block_bytes, (stops[keep] - 1) // self.block_bytes
        counts = last - first + 1
        if not len(counts):
            return
        at = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        self.blocks(np.repeat(first, counts) + at)

    def all(self) -> None:
        if not self.done and not self.checked.all():
            self.blocks(np.arange(len(self.digests)))


class ArrayCheck:
    """Checks of a 1-D array's elements, over the :class:`BlockCheck` of the file holding it."""

    def __init__(self, check: BlockCheck, offset: int, itemsize: int) -> None:
        self.check, self.offset, self.itemsize = check, offset, itemsize

    def ranges(self, starts: np.ndarray | list[int], stops: np.ndarray | list[int]) -> None:
        """Check elements ``[starts[i], stops[i])``."""
        starts, stops = np.asarray(starts, np.int64), np.asarray(stops, np.int64)
        self.check.spans(self.offset + starts * self.itemsize, self.offset + stops * self.itemsize)

    def items(self, at: np.ndarray | list[int]) -> None:
        """Check the elements at ``at``."""
        at = np.asarray(at, np.int64)
        self.ranges(at, at + 1)

    def all(self) -> None:
        self.check.all()


def lazy_npy(path: PathLike, data: Data, digests: np.ndarray, block_bytes: int = BLOCK_BYTES) -> tuple[np.ndarray, ArrayCheck]:
    """The 1-D array of a mapped ``.npy`` file and the :class:`ArrayCheck` to call before
    reading its elements (its header is checked now)."""
    check = BlockCheck(path, data, digests, block_bytes)
    array, offset = npy_from_buffer(path, data, check)
    if array.ndim != 1:
        raise damaged(path, f"holds a {array.ndim}-D array, expected 1-D")
    return array, ArrayCheck(check, offset, array.dtype.itemsize)


def npy_array(path: PathLike, data: Data) -> np.ndarray:
    """The array of a ``.npy`` file held in ``data``, already checked (no copy; never unpickles)."""
    return npy_from_buffer(path, data)[0]


def npy_from_buffer(path: PathLike, data: Data, check: BlockCheck | None = None) -> tuple[np.ndarray, int]:
    """``(array, offset of its first element)`` of a ``.npy`` file held in ``data``.

    With ``check``, the header is checked before it is parsed; the array's blocks are left to
    the caller (checked on read).
    """
    if check is not None:
        check.spans([0], [min(len(data), NPY_HEADER_MAX)])
    head = io.BytesIO(bytes(_view(data)[:NPY_HEADER_MAX]))
    try:
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise damaged(path, f"is not a readable .npy file ({exc})") from exc
    offset = head.tell()
    count = int(np.prod(shape, dtype=np.int64))
    if dtype.hasobject or offset + count * dtype.itemsize != len(data):
        raise damaged(path, f"does not hold the {shape} {dtype} array its header announces")
    if isinstance(data, np.ndarray):  # a map: the array stays an np.memmap over the file
        array = data[offset : offset + count * dtype.itemsize].view(dtype)
    else:
        array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran else "C"), offset


class FolderReader:
    """The files of one index folder, opened relative to one handle on the folder.

    Files are opened without following symlinks and must be regular files: a symlink, folder
    or device in an index folder is damage. Sizes and checksums come from the manifest.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
        self.fd = os.open(self.folder, flags)  # the caller turns a missing folder into its error

    def close(self) -> None:
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)
            del self.fd

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def replaced(self) -> bool:
        """Whether the folder's path now names another folder (a writer swapped one in)."""
        try:
            now, ours = os.stat(self.folder), os.fstat(self.fd)
        except OSError:
            return True
        return (now.st_dev, now.st_ino) != (ours.st_dev, ours.st_ino)

    def path(self, name: str) -> Path:
        return self.folder / name

    def open(self, name: str, size: int | None = None) -> int:
        """A descriptor of the regular file ``name`` (refusing symlinks), of ``size`` bytes if given."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(name, flags, dir_fd=self.fd)
        except FileNotFoundError:
            raise IndexFormatError(f"index file missing: {self.path(name)}; {REBUILD}") from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise damaged(self.path(name), "is a symlink (an index folder holds only its own files)") from None
            raise damaged(self.path(name), f"cannot be opened ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise damaged(self.path(name), "is not a regular file")
        if size is not None and st.st_size != size:
            os.close(fd)
            raise damaged(self.path(name), f"has {st.st_size} bytes, the manifest says {size} (truncated or replaced)")
        return fd

    def exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return False
        return True

    def read(self, name: str, meta: dict | None, verify: bool = True, limit: int | None = None) -> bytes:
        """The bytes of ``name``, checked against ``meta`` (size always, sha256 when ``verify``)."""
        fd = self.open(name, None if meta is None else meta["bytes"])
        try:
            size = os.fstat(fd).st_size
            if limit is not None and size > limit:
                raise damaged(self.path(name), f"is larger than {limit} bytes")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
            if len(data) != size:
                raise damaged(self.path(name), "changed while it was read")
        finally:
            os.close(fd)
        if verify and meta is not None and sha256_hex(data) != meta["sha256"]:
            raise mismatch(self.path(name))
        return data

    def map(self, name: str, meta: dict, verify: bool = True) -> Data:
        """A read-only map of ``name``; the whole file is checked when ``verify``."""
        fd = self.open(name, meta["bytes"])
        try:
            data = map_file(fd, meta["bytes"])
        finally:
            os.close(fd)
        if verify and sha256_hex(data) != meta["sha256"]:
            raise mismatch(self.path(name))
        return data

    def check(self, name: str, meta: dict) -> None:
        """Size and sha256 of ``name`` (read in chunks, for files that are not loaded)."""
        fd = self.open(name, meta["bytes"])
        try:
            with os.fdopen(fd, "rb", closefd=False) as f:
                digest = sha256_stream(f)
        finally:
            os.close(fd)
        if digest != meta["sha256"]:
            raise mismatch(self.path(name))

    def copy(self, name: str, meta: dict, dest: Path) -> None:
        """Copy ``name`` to ``dest``, checking its size and sha256 on the way."""
        fd = self.open(name, meta["bytes"])
        try:
            with os.fdopen(fd, "rb", closefd=False) as src, open(dest, "wb") as out:
                digest = sha256_stream(src, out)
        finally:
            os.close(fd)
        if digest != meta["sha256"]:
            raise mismatch(self.path(name))


__all__ = ["BLOCK_BYTES", "ArrayCheck", "BlockCheck", "FolderReader", "block_digests", "file_meta", "lazy_npy",
           "npy_array", "sha256_file", "sha256_stream"]
