"""Reading an index folder: its manifest, then each file the query path needs, every byte
checked against the manifest's checksums before it is used (see :meth:`SemanticIndex.load`).

NumPy and the standard library only: this is the query path.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from .. import store as docstore
from ..codes import CsrArrays, EncoderWeights, LazyCsr, check_csr
from ..errors import REBUILD, IndexFormatError
from ..hashtable import FILES as TABLE_FILES
from ..hashtable import HammingTable
from ..integrity import DIGEST_BYTES, ArrayCheck, FolderReader, lazy_npy, npy_array
from ..lexical import LENGTHS_FILE, POSTINGS_FILES, POSTINGS_PREFIX
from ..manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from ..manifest import parse as parse_manifest
from ..vectorize import DF_FILE, VOCAB_FILE, Vectorizer
from .layout import (
    BLOCKS_FILE,
    ENCODER_FILE,
    FAISS_FILE,
    KNOWN_FILES,
    LEXICAL_FILES,
    MANIFEST,
    NOT_ON_QUERY_PATH,
    READ_ERRORS,
    REQUIRED_FILES,
    ROW_DIGESTS_FILE,
    SKIPPED_FILE,
    STORE_FILE,
    TFIDF_FILES,
    TFIDF_PREFIX,
    reading,
)
from .segments import Delta, read_segments
from .views import count_present


def read_manifest(reader: FolderReader) -> dict:
    """The folder's manifest, checked (:func:`semhash.manifest.parse`)."""
    path = reader.path(MANIFEST)
    if not reader.exists(MANIFEST):
        raise IndexFormatError(f"{path} is missing: this is not a semhash index ({REBUILD})")
    return parse_manifest(reader.read(MANIFEST, None, limit=MANIFEST_MAX_BYTES), path, REQUIRED_FILES.__getitem__,
                          KNOWN_FILES)


class Files:
    """The files of one folder as a load reads them: whole or mapped (``mmap``), each checked
    whole now, or block by block when first read (``lazy``: ``verify=True`` with ``mmap``)."""

    def __init__(self, reader: FolderReader, manifest: dict, mmap: bool, verify: bool | str):
        self.reader, self.manifest, self.mmap = reader, manifest, mmap
        self.files: dict[str, dict] = manifest["files"]
        self.verify, self.full = bool(verify), verify == "full"
        self.lazy = self.verify and not self.full and mmap and "blocks" in manifest
        self.checks: dict[str, ArrayCheck] = {}  # the block checks of the lazily checked files
        self.digests = self._block_digests() if BLOCKS_FILE in self.files else None

    def _block_digests(self) -> np.ndarray:
        """``block_checksums.npy``: small (16 bytes per 8 KiB), checked whenever it is listed."""
        path = self.reader.path(BLOCKS_FILE)
        digests = npy_array(path, self.reader.read(BLOCKS_FILE, self.files[BLOCKS_FILE], verify=self.verify))
        if digests.ndim != 2 or digests.dtype != np.uint8 or digests.shape[1] != DIGEST_BYTES:
            raise IndexFormatError(f"index file {path} is not a table of digests; {REBUILD}")
        return digests

    def whole(self, name: str) -> Any:
        """The bytes (or the map) of ``name``, checked whole when verifying."""
        if self.mmap:
            return self.reader.map(name, self.files[name], verify=self.verify)
        return self.reader.read(name, self.files[name], verify=self.verify)

    def array(self, name: str) -> np.ndarray:
        return npy_array(self.reader.path(name), self.whole(name))

    def block_checked(self, name: str) -> np.ndarray:
        """The 1-D array of ``name``: checked whole now, or (``lazy``) block by block as it is read."""
        if not self.lazy or self.digests is None:
            return self.array(name)
        meta, at, size = self.files[name], self.manifest["blocks"]["first"].get(name), self.manifest["blocks"]["bytes"]
        n = -(-meta["bytes"] // size)
        if at is None or at + n > len(self.digests):
            raise IndexFormatError(f"{self.reader.path(MANIFEST)} has no block checksums for {name}; {REBUILD}")
        arr, self.checks[name] = lazy_npy(self.reader.path(name), self.reader.map(name, meta, verify=False),
                                          self.digests[at : at + n], size)
        return arr


def load_csr(read: Callable[[str], np.ndarray], checks: dict, prefix: str, n_cols: int) -> CsrArrays:
    """The CSR arrays ``<prefix>_{data,indices,indptr}.npy`` (:class:`LazyCsr` when they are
    checked block by block)."""
    files = CsrArrays.files(prefix)
    data, indices, indptr = (read(name) for name in files)
    lazy = {part: checks[name] for part, name in zip(CsrArrays.PARTS, files) if name in checks}
    if lazy:
        if indptr.ndim == 1 and len(indptr):
            lazy["indptr"].items([0, len(indptr) - 1])
        check_csr(data, indices, indptr, prefix)
        return LazyCsr(data, indices, indptr, (len(indptr) - 1, n_cols), lazy)
    check_csr(data, indices, indptr, prefix)
    return CsrArrays(data, indices, indptr, (len(indptr) - 1, n_cols))


def load_tfidf(read: Callable[[str], np.ndarray], checks: dict, n_cols: int) -> CsrArrays:
    """The TF-IDF rows as plain CSR arrays (:class:`LazyCsr` when they are checked block by block)."""
    return load_csr(read, checks, TFIDF_PREFIX, n_cols)


class StoredPostings(NamedTuple):
    """The lexical postings as read from the folder (:class:`semhash.lexical.LexicalIndex` is
    made of them on first use): term-major counts, each row's length and its checks."""

    postings: CsrArrays
    lengths: np.ndarray
    lengths_check: ArrayCheck | None


def load_postings(f: Files, n_terms: int, n_rows: int) -> StoredPostings | None:
    """The stored postings when the manifest lists them (``None``: an index saved before them);
    :class:`IndexFormatError` naming the file when they do not fit the index."""
    listed = [name for name in LEXICAL_FILES if name in f.files]
    if not listed:
        return None
    path = f.reader.path
    if len(listed) != len(LEXICAL_FILES):
        missing = ", ".join(n for n in LEXICAL_FILES if n not in listed)
        raise IndexFormatError(f"{path(MANIFEST)} lists only some of the postings (not {missing}); {REBUILD}")
    with reading(path(POSTINGS_FILES[0])):
        postings = load_csr(f.block_checked, f.checks, POSTINGS_PREFIX, n_rows)
        if postings.shape[0] != n_terms:
            raise ValueError(f"the postings have {postings.shape[0]} terms, the vocabulary {n_terms}")
    with reading(path(LENGTHS_FILE)):
        lengths = f.block_checked(LENGTHS_FILE)
        if lengths.shape != (n_rows,) or lengths.dtype != np.float32:
            raise ValueError(f"not {n_rows} float32 row lengths")
    return StoredPostings(postings, lengths, f.checks.get(LENGTHS_FILE))


@dataclass
class Loaded:
    """The parts of a loaded index, and the files it keeps open (the store and FAISS)."""

    manifest: dict
    vectorizer: Vectorizer
    encoder: EncoderWeights
    table: HammingTable
    tfidf: CsrArrays
    row_digests: np.ndarray | None
    digest_check: ArrayCheck | None
    faiss_file: IO[bytes] | None = None
    conn: sqlite3.Connection | None = None
    postings: StoredPostings | None = None
    delta: Delta | None = None  # the delta segments (semhash.index.segments)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.faiss_file is not None:
            self.faiss_file.close()
        if self.delta is not None:
            self.delta.close()

    def live_documents(self) -> int:
        """How many documents the index holds: the base table's and the added rows', less the removed."""
        if self.delta is None or self.delta.empty:
            return len(self.table)
        dead = self.delta.dead()
        removed = count_present(self.table, dead[dead < self.delta.first_row])
        return len(self.table) - removed + len(self.delta.live_added()[0])


def read_parts(f: Files) -> Loaded:
    """The vocabulary, encoder, hash table, TF-IDF rows and row digests, each read and checked."""
    reader, folder = f.reader, f.reader.folder
    with reading(reader.path(VOCAB_FILE)):
        vectorizer = Vectorizer.from_saved(f.whole(VOCAB_FILE), f.array(DF_FILE))
    with reading(reader.path(ENCODER_FILE)):
        # BytesIO shares the bytes read: the file is read once, then np.load copies the arrays out
        encoder = EncoderWeights.load(io.BytesIO(reader.read(ENCODER_FILE, f.files[ENCODER_FILE], verify=f.verify)))
    with reading(folder / "hashtable_*.npy"):
        table = HammingTable.from_arrays({k: f.array(name) for k, name in TABLE_FILES.items()},
                                         f.manifest["n_bits"], folder)
    with reading(reader.path(TFIDF_FILES[0])):
        tfidf = load_tfidf(f.block_checked, f.checks, len(vectorizer.vocabulary_))
    row_digests = None
    if ROW_DIGESTS_FILE in f.files:
        with reading(reader.path(ROW_DIGESTS_FILE)):
            row_digests = f.block_checked(ROW_DIGESTS_FILE)
            if row_digests.dtype != np.dtype("<u8"):
                raise ValueError("not an array of 64-bit digests")
    postings = load_postings(f, len(vectorizer.vocabulary_), tfidf.shape[0])
    return Loaded(f.manifest, vectorizer, encoder, table, tfidf, row_digests, f.checks.get(ROW_DIGESTS_FILE),
                  postings=postings)


def check_fit(parts: Loaded, folder: Path) -> None:
    """The files agree with each other and with the manifest."""
    manifest, n_bits, table = parts.manifest, parts.manifest["n_bits"], parts.table
    if parts.encoder.n_bits != n_bits or parts.encoder.n_inputs != len(parts.vectorizer.vocabulary_):
        raise IndexFormatError(f"{folder / ENCODER_FILE} does not fit the vocabulary or code length; rebuild the index")
    expected, found = manifest["counts"]["documents"], parts.live_documents()
    if found != expected:
        raise IndexFormatError(
            f"{folder / 'hashtable_codes.npy'} holds {found} codes{' with its segments' if parts.delta is not None and not parts.delta.empty else ''}, "
            f"the manifest says {expected}; "
            "rebuild the index"
        )
    n_rows = parts.tfidf.shape[0] if parts.delta is None else parts.delta.n_rows
    if manifest.get("next_row", n_rows) != n_rows:
        raise IndexFormatError(f"{folder / MANIFEST} is damaged (next_row {manifest['next_row']} is not the "
                               f"number of TF-IDF rows in {TFIDF_FILES[2]}, {n_rows}); {REBUILD}")
    if len(table) and int(np.max(table.ids_)) >= n_rows:
        raise IndexFormatError(f"{folder / 'hashtable_ids.npy'} names rows beyond the {n_rows} TF-IDF rows; {REBUILD}")
    if parts.row_digests is not None and len(parts.row_digests) < parts.tfidf.shape[0]:  # the base segment's rows
        raise IndexFormatError(f"{folder / ROW_DIGESTS_FILE} has fewer rows than the index; {REBUILD}")


def open_rest(f: Files, parts: Loaded) -> None:
    """Check (or at least open) the files read later or by SQLite, then open FAISS and the store.

    Each is checked whole now when nothing finer protects it: all of them with ``verify="full"``,
    the store when the index has no row digests (format 1).
    """
    reader = f.reader
    for name in (STORE_FILE, FAISS_FILE, *sorted(NOT_ON_QUERY_PATH & set(f.files))):
        if f.full or (name == STORE_FILE and f.verify and parts.row_digests is None):
            reader.check(name, f.files[name])
        elif name not in NOT_ON_QUERY_PATH:
            os.close(reader.open(name, f.files[name]["bytes"]))
    parts.faiss_file = os.fdopen(reader.open(FAISS_FILE, f.files[FAISS_FILE]["bytes"]), "rb")
    parts.conn = docstore.connect(reader.path(STORE_FILE), readonly=True)


def load_parts(reader: FolderReader, mmap: bool, verify: bool | str) -> Loaded:
    """Everything a query reads from the folder of ``reader``, checked as ``verify`` says
    (see :meth:`SemanticIndex.load`); on failure nothing is left open but ``reader``."""
    f = Files(reader, read_manifest(reader), mmap, verify)
    parts = read_parts(f)
    try:
        parts.delta = read_segments(reader, f.manifest, parts.tfidf.shape[0], parts.table.n_bytes,
                                    len(parts.vectorizer.vocabulary_), f.verify)
        check_fit(parts, reader.folder)
        open_rest(f, parts)
    except BaseException:
        parts.close()
        raise
    return parts


def read_skipped(reader: FolderReader | None, manifest: dict) -> list:
    """``skipped.json`` of a saved index (``[]`` when the index has none), checked."""
    meta = (manifest or {}).get("files", {}).get(SKIPPED_FILE)
    if reader is None or meta is None:
        return []
    path = reader.path(SKIPPED_FILE)
    try:
        skipped = json.loads(reader.read(SKIPPED_FILE, meta).decode("utf-8"))
        if not isinstance(skipped, list) or not all(
                isinstance(s, dict) and isinstance(s.get("path"), str) and isinstance(s.get("reason"), str)
                for s in skipped):
            raise ValueError("not a list of skipped files")
    except IndexFormatError:
        raise
    except READ_ERRORS as exc:  # UnicodeDecodeError is a ValueError
        raise IndexFormatError(f"index file {path} is corrupted ({exc}); {REBUILD}") from exc
    return skipped


__all__ = ["Files", "Loaded", "StoredPostings", "check_fit", "load_csr", "load_parts", "load_postings", "load_tfidf",
           "read_manifest", "read_skipped"]
