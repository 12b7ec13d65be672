"""Delta segments: what ``add`` and ``remove`` write instead of a whole new index folder.

An index folder holds a *base segment* (the files a build or a compaction writes, listed in
:mod:`semhash.index.layout`) and up to :data:`MAX_SEGMENTS` delta segments, listed in the
manifest in the order they were written::

    "segments": [{"name": "delta-000001", "first_row": 1000000, "rows": 1, "removed": 0}, ...]

Each delta segment is two files, listed in the manifest's ``files`` with size and sha256 like
every other file and read whole (they are small):

    delta-NNNNNN.npz      ``codes`` (rows x n_bits/8, uint8), ``tfidf_data``/``tfidf_indices``/
                          ``tfidf_indptr`` (the rows' L2-normalized TF-IDF, CSR) of the rows
                          ``first_row .. first_row + rows - 1``, and ``removed`` (int64): the
                          rows, of any earlier segment, that this one removes (tombstones)
    delta-NNNNNN.sqlite   the documents of its rows (the schema of ``documents.sqlite``)

A row is never renumbered: rows added later are numbered on from the last one, removed rows
keep their number (and, in the base, their bytes) until a compaction writes a new base segment
without them. Writing a segment (:func:`write_segment`) writes its two files, then a new
manifest beside the old one, and renames it over ``manifest.json``: a reader sees the index
before or after, and a writer killed before the rename leaves two unlisted files that the next
writer removes (:func:`remove_unlisted`). A compaction (``semhash compact``, or automatically
when :func:`compaction_due`) is a whole-folder transaction (:mod:`semhash.index.transactions`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import store as docstore
from ..codes import CsrArrays, check_csr, stack_rows
from ..errors import REBUILD, IndexFormatError
from ..integrity import FolderReader, file_meta
from ..manifest import CHECKSUM, FORMAT_VERSION
from ..manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from ..manifest import dumps as dump_manifest
from .layout import MANIFEST, READ_ERRORS, SEGMENT_FILE
from .transactions import writer_path

SEGMENT_PREFIX = "delta-"
SEGMENT_FORMAT_VERSION = FORMAT_VERSION  # the manifest's format_version while the index has delta segments
# a compaction is due when another segment would make more than MAX_SEGMENTS, or when the rows
# of the segments (added and removed) outnumber MAX_SEGMENT_SHARE of the base segment's rows
MAX_SEGMENTS = 10
MAX_SEGMENT_SHARE = 0.5
MANIFEST_TMP = ".manifest.json.tmp-"


def segment_files(name: str) -> tuple[str, str]:
    """The two files of the segment ``name``: its arrays and its documents."""
    return f"{name}.npz", f"{name}.sqlite"


def is_segment_file(name: str) -> bool:
    return SEGMENT_FILE.match(name) is not None


@dataclass
class Delta:
    """The rows added after the base segment and the rows removed since, saved or not.

    ``first_row`` is the base segment's row count: added rows are ``first_row``, ``first_row + 1``,
    ... in the order they were added. The first ``saved_rows`` of them and the tombstones in
    ``saved_dead`` are in the folder's segments (their documents in ``stores``); the rest are
    pending until the next save.
    """

    first_row: int
    n_bytes: int
    n_cols: int
    codes: np.ndarray = field(init=False)
    tfidf_parts: list[CsrArrays] = field(default_factory=list)
    saved_rows: int = 0
    saved_dead: set[int] = field(default_factory=set)
    pending_dead: set[int] = field(default_factory=set)
    stores: list[tuple[int, int, sqlite3.Connection]] = field(default_factory=list)  # (first, end, conn)
    version: int = 0  # changes with every change: the views made of it are rebuilt

    def __post_init__(self) -> None:
        self.codes = np.zeros((0, self.n_bytes), dtype=np.uint8)

    @property
    def n_rows(self) -> int:
        """Every row of the index: the base's and the added ones."""
        return self.first_row + len(self.codes)

    @property
    def empty(self) -> bool:
        return not len(self.codes) and not self.saved_dead and not self.pending_dead

    @property
    def pending(self) -> bool:
        return len(self.codes) > self.saved_rows or bool(self.pending_dead)

    def dead(self) -> np.ndarray:
        """Every removed row, sorted."""
        return np.array(sorted(self.saved_dead | self.pending_dead), dtype=np.int64)

    def is_dead(self, row: int) -> bool:
        return row in self.saved_dead or row in self.pending_dead

    def tfidf(self) -> CsrArrays:
        """The added rows' TF-IDF, as one CSR matrix (rows ``first_row ..``)."""
        if len(self.tfidf_parts) > 1:
            self.tfidf_parts = [stack_rows(self.tfidf_parts, self.n_cols)]
        return self.tfidf_parts[0] if self.tfidf_parts else stack_rows([], self.n_cols)

    def append(self, codes: np.ndarray, tfidf: CsrArrays) -> np.ndarray:
        """Add rows (their packed codes and L2-normalized TF-IDF); returns their row numbers."""
        rows = np.arange(self.n_rows, self.n_rows + len(codes), dtype=np.int64)
        self.codes = np.concatenate([self.codes, np.asarray(codes, dtype=np.uint8)])
        self.tfidf_parts.append(tfidf)
        self.version += 1
        return rows

    def kill(self, rows: np.ndarray) -> None:
        """Remove rows (tombstones); their numbers are never used again."""
        self.pending_dead.update(int(r) for r in rows)
        self.version += 1

    def live_added(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, codes)`` of the added rows still live."""
        rows = np.arange(self.first_row, self.n_rows, dtype=np.int64)
        keep = ~np.isin(rows, self.dead())
        return rows[keep], self.codes[keep]

    def saved(self, store: sqlite3.Connection) -> None:
        """The pending rows and tombstones were written as a segment whose documents are ``store``."""
        self.stores.append((self.first_row + self.saved_rows, self.n_rows, store))
        self.saved_rows = len(self.codes)
        self.saved_dead |= self.pending_dead
        self.pending_dead = set()

    def store_for(self, row: int) -> sqlite3.Connection | None:
        for first, end, conn in self.stores:
            if first <= row < end:
                return conn
        return None

    def close(self) -> None:
        for _, _, conn in self.stores:
            conn.close()
        self.stores = []


def compaction_due(manifest: dict, delta: Delta) -> bool:
    """Whether the next save should write a new base segment instead of one more delta."""
    segments = manifest.get("segments") or []
    changed = len(delta.codes) + len(delta.saved_dead | delta.pending_dead)
    return len(segments) + 1 > MAX_SEGMENTS or changed > MAX_SEGMENT_SHARE * max(delta.first_row, 1)


# ----------------------------------------------------------------------------- reading


def _segment_arrays(path: Path, data: bytes, entry: dict, n_bytes: int, n_cols: int, n_rows: int
                    ) -> tuple[np.ndarray, CsrArrays, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        codes, removed = z["codes"], z["removed"]
        indptr, indices, tf = z["tfidf_indptr"], z["tfidf_indices"], z["tfidf_data"]
    rows = entry["rows"]
    check_csr(tf, indices, indptr, "tfidf")
    if codes.dtype != np.uint8 or codes.shape != (rows, n_bytes) or len(indptr) != rows + 1:
        raise ValueError(f"not {rows} rows of {n_bytes}-byte codes and TF-IDF")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_cols):
        raise ValueError("TF-IDF columns outside the vocabulary")
    if removed.dtype != np.int64 or removed.ndim != 1 or len(removed) != entry["removed"] or (
            len(removed) and (removed.min() < 0 or removed.max() >= n_rows)):
        raise ValueError("removed rows that are not rows of the index")
    return codes, CsrArrays(tf, indices, indptr, (rows, n_cols)), removed


def read_segments(reader: FolderReader, manifest: dict, first_row: int, n_bytes: int, n_cols: int,
                  verify: bool) -> Delta:
    """The delta segments the manifest lists, each file checked (size, and sha256 when
    ``verify``); :class:`IndexFormatError` naming the file when one is damaged or does not fit."""
    delta = Delta(first_row, n_bytes, n_cols)
    files = manifest["files"]
    try:
        for entry in manifest.get("segments") or []:
            arrays, documents = segment_files(entry["name"])
            path = reader.path(arrays)
            if entry["first_row"] != delta.n_rows or arrays not in files or documents not in files:
                raise IndexFormatError(f"{reader.path(MANIFEST)} is damaged (segment {entry['name']} does not "
                                       f"follow the rows before it, or its files are not listed); {REBUILD}")
            try:
                data = reader.read(arrays, files[arrays], verify=verify)
                codes, tfidf, removed = _segment_arrays(path, data, entry, n_bytes, n_cols,
                                                        delta.n_rows + entry["rows"])
            except IndexFormatError:
                raise
            except READ_ERRORS as exc:
                raise IndexFormatError(f"cannot read {path} ({exc}); {REBUILD}") from exc
            if verify:
                reader.check(documents, files[documents])
            else:
                os.close(reader.open(documents, files[documents]["bytes"]))
            conn = docstore.connect(reader.path(documents), readonly=True)
            delta.stores.append((delta.n_rows, delta.n_rows + len(codes), conn))
            delta.append(codes, tfidf)
            delta.saved_dead.update(removed.tolist())
        delta.saved_rows, delta.pending_dead = len(delta.codes), set()
    except BaseException:
        delta.close()
        raise
    return delta


# ----------------------------------------------------------------------------- writing


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def next_name(manifest: dict) -> str:
    """The name of the next segment: one more than the last listed (or than any file left)."""
    numbers = [int(s["name"][len(SEGMENT_PREFIX):]) for s in manifest.get("segments") or []]
    return f"{SEGMENT_PREFIX}{max(numbers, default=0) + 1:06d}"


def remove_unlisted(folder: Path, manifest: dict) -> None:
    """Remove segment files and temporary manifests that killed writers left in ``folder``
    (only for a caller holding the writer lock: no live writer is writing them)."""
    listed = set(manifest.get("files", {}))
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if (is_segment_file(entry.name) and entry.name not in listed) or entry.name.startswith(MANIFEST_TMP):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def unchanged_since_read(reader: FolderReader, folder: Path, dest: Path, manifest: dict) -> bool:
    """Whether ``dest`` is ``folder`` (read with ``reader``, whose ``manifest`` this is), in a
    format that takes delta segments (2 or later), and unchanged on disk since it was read: then a
    save may write only a segment. The caller holds the writer lock."""
    if (manifest.get("format_version", 1) < 2 or writer_path(dest) != writer_path(folder)
            or reader.replaced()):
        return False
    try:
        on_disk = json.loads(reader.read(MANIFEST, None, verify=False, limit=MANIFEST_MAX_BYTES))
    except (IndexFormatError, OSError, ValueError):
        return False
    return isinstance(on_disk, dict) and on_disk.get(CHECKSUM) == manifest.get(CHECKSUM)


def _test_pause() -> None:
    """Test hook only (``SEMHASH_TEST_PAUSE_BEFORE_SWAP``, as for a folder swap): pause after a
    segment's files and the new manifest are written, before the manifest is renamed in."""
    pause = os.environ.get("SEMHASH_TEST_PAUSE_BEFORE_SWAP")
    if pause:
        time.sleep(float(pause))


def write_segment(folder: Path, manifest: dict, delta: Delta, documents: list[tuple]) -> dict:
    """Write the pending part of ``delta`` as a new segment of the index in ``folder`` and swap in
    ``manifest`` (the index's new manifest, without its segments and their files: they are added
    here); returns the manifest written. ``documents``: ``(row, id, path, title, text)`` of the
    pending rows. The caller holds the writer lock."""
    remove_unlisted(folder, manifest)
    name = next_name(manifest)
    arrays, documents_file = segment_files(name)
    start = delta.saved_rows
    tfidf = delta.tfidf()
    lo, hi = int(tfidf.indptr[start]), int(tfidf.indptr[-1])
    removed = np.array(sorted(delta.pending_dead), dtype=np.int64)
    with open(folder / arrays, "wb") as f:
        np.savez(f, codes=delta.codes[start:], removed=removed,
                 tfidf_indptr=np.asarray(tfidf.indptr[start:], np.int64) - lo,
                 tfidf_indices=np.asarray(tfidf.indices[lo:hi]), tfidf_data=np.asarray(tfidf.data[lo:hi], np.float32))
    conn = docstore.connect(folder / documents_file)
    try:
        docstore.write_documents(conn, documents, added=True)
    finally:
        conn.close()
    for written in (arrays, documents_file):
        _fsync(folder / written)
    entry = {"name": name, "first_row": delta.first_row + start, "rows": len(delta.codes) - start,
             "removed": len(removed)}
    files = {**manifest["files"], arrays: file_meta(folder / arrays)[0],
             documents_file: file_meta(folder / documents_file)[0]}
    new = {**manifest, "format_version": SEGMENT_FORMAT_VERSION, "files": files,
           "segments": [*(manifest.get("segments") or []), entry], "next_row": delta.n_rows}
    tmp = folder / f"{MANIFEST_TMP}{os.getpid()}-{time.time_ns()}"
    text = dump_manifest(new)
    tmp.write_text(text, encoding="utf-8")
    _fsync(tmp)
    _test_pause()
    os.replace(tmp, folder / MANIFEST)
    with contextlib.suppress(OSError):
        _fsync(folder)
    return json.loads(text)


__all__ = ["MAX_SEGMENTS", "MAX_SEGMENT_SHARE", "SEGMENT_FORMAT_VERSION", "Delta", "compaction_due",
           "is_segment_file", "read_segments", "remove_unlisted", "segment_files", "unchanged_since_read",
           "write_segment"]
