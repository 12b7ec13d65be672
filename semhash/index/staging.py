"""The documents of an index being built, written to a temporary document store as they are read.

A build never holds the corpus's texts: :func:`stage_documents` reads the documents a chunk at a
time, checks each (:class:`semhash.store.DocumentCheck`), writes what a hit shows of it (id,
path, title, snippet) to a :class:`StagedStore` and keeps only its word counts. The store lives
in a temporary folder (``$TMPDIR``) until the index is saved, when its rows are copied into the
index folder; it is removed when the index is saved or garbage-collected.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import store as docstore

if TYPE_CHECKING:
    from ..corpus import Document

CHUNK_DOCS = 10_000  # documents read, counted and stored at a time


def chunked(items: Iterable, size: int | None = None) -> Iterator[list]:
    """``items`` in lists of ``size`` (default :data:`CHUNK_DOCS`; the last one shorter)."""
    size = size or CHUNK_DOCS
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class StagedStore:
    """A document store in a temporary folder, written a chunk at a time (rows ``0, 1, ...``)."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="semhash-build-")
        self.path = Path(self._folder.name) / docstore.STORE_FILE
        self.conn: sqlite3.Connection | None = docstore.connect(self.path)
        self.conn.execute("PRAGMA journal_mode=OFF")  # a temporary file: a crash loses nothing kept
        self.conn.execute("PRAGMA synchronous=OFF")
        self.n_rows = 0

    def write(self, documents: list[Document]) -> None:
        """Store ``documents`` as the next rows (one transaction)."""
        assert self.conn is not None
        start = self.n_rows
        docstore.write_documents(self.conn, ((start + k, d.id, d.path, d.title, d.text) for k, d in enumerate(documents)))
        self.n_rows += len(documents)

    def ids(self, rows: np.ndarray) -> list[str]:
        """The ids of ``rows``, in that order."""
        found = docstore.fetch(self.conn, rows.tolist()) if self.conn is not None else {}
        return [found[int(r)].id for r in rows]

    def keep(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (ascending), renumbered ``0..len(rows)-1`` in their order."""
        assert self.conn is not None
        if len(rows) == self.n_rows:
            return
        conn = self.conn
        conn.execute("CREATE TEMP TABLE keep(old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        conn.executemany("INSERT INTO temp.keep VALUES (?, ?)", ((r, k) for k, r in enumerate(rows.tolist())))
        conn.execute("DELETE FROM documents WHERE row NOT IN (SELECT old FROM temp.keep)")
        # through negative rows, so no renumbered row meets one not renumbered yet
        conn.execute("UPDATE documents SET row = -1 - (SELECT new FROM temp.keep WHERE old = documents.row)")
        conn.execute("UPDATE documents SET row = -1 - row")
        conn.execute("DROP TABLE temp.keep")
        conn.commit()
        self.n_rows = len(rows)

    def close(self) -> None:
        """Close the store and remove its folder."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._folder.cleanup()


__all__ = ["CHUNK_DOCS", "StagedStore", "chunked"]
