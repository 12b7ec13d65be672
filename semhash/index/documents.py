"""The documents of an index: stored in the base segment's SQLite store, in each delta
segment's, or (added since the last save) in memory. :class:`StoredDocuments` is the part of
:class:`~semhash.index.SemanticIndex` that finds them by row, by id and by path, leaving out
removed rows, and checks each row read from the base store against its digest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .. import store as docstore
from ..errors import REBUILD, IndexFormatError
from ..integrity import ArrayCheck
from .layout import STORE_FILE
from .segments import Delta


class StoredDocuments:
    """Documents by row, id and path across the segments (a part of ``SemanticIndex``)."""

    folder: Path | None
    conn: sqlite3.Connection | None  # the base segment's store (or, built and unsaved, the staged one)
    _delta: Delta | None
    _new_docs: dict[int, tuple]
    _row_digests: np.ndarray | None
    _digest_check: ArrayCheck | None

    def _store_path(self) -> Path:
        return (self.folder or Path()) / STORE_FILE

    def _check_stored(self, rows: list[int], found: dict) -> None:
        """Each row read from the store matches its digest, and none that was stored is missing."""
        digests = self._row_digests
        if digests is None:
            return
        at = np.asarray(rows, dtype=np.int64)
        inside = at < len(digests)
        if self._digest_check is not None:
            self._digest_check.items(at[inside])
        expected = np.zeros(len(at), dtype=np.uint64)
        expected[inside] = digests[at[inside]]
        for r, want in zip(rows, expected.tolist()):
            doc = found.get(r)
            got = 0 if doc is None else docstore.row_digest(doc.row, doc.id, doc.path, doc.title, doc.snippet)
            if got != want:
                raise IndexFormatError(f"index file {self._store_path()} does not match its "
                                       f"checksum (row {r}, corrupted); {REBUILD}")

    def documents(self, rows: Iterable[int]) -> dict[int, docstore.StoredDoc]:
        """Stored documents by row: unsaved additions first, then the delta segments' stores,
        then the base segment's (removed rows are left out)."""
        out, rest = {}, []
        delta = self._delta
        by_store: dict[int, tuple[sqlite3.Connection, list[int]]] = {}
        for r in (int(r) for r in rows):
            if r in self._new_docs:
                _, i, p, t, x = self._new_docs[r]
                out[r] = docstore.StoredDoc(r, i, p, t, docstore.make_snippet(x, t))
            elif delta is not None and (delta.is_dead(r) or r >= delta.first_row):
                conn = None if delta.is_dead(r) else delta.store_for(r)
                if conn is not None:
                    by_store.setdefault(id(conn), (conn, []))[1].append(r)
            elif self.conn is not None:
                rest.append(r)
        try:
            for conn, wanted in by_store.values():  # checked whole when the index was opened
                out.update(docstore.fetch(conn, wanted))
            if rest and self.conn is not None:
                found = docstore.fetch(self.conn, rest)
                self._check_stored(rest, found)
                out.update(found)
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"cannot read {self._store_path()} ({exc}); {REBUILD}") from exc
        return out

    def _stores(self) -> list[sqlite3.Connection]:
        """The document stores of the saved segments: the base's, then each delta's."""
        delta_stores = [conn for _, _, conn in self._delta.stores] if self._delta is not None else []
        return [c for c in [self.conn, *delta_stores] if c is not None]

    def _saved_live(self, found: dict[str, int]) -> dict[str, int]:
        """``found`` (id -> row, from the saved stores) without removed rows nor rows changed since."""
        delta = self._delta
        return {i: r for i, r in found.items()
                if r not in self._new_docs and (delta is None or not delta.is_dead(r))}

    def rows_for_ids(self, ids: Iterable[str]) -> dict[str, int]:
        """Row of each of ``ids`` that is in the index (unsaved changes included)."""
        ids = list(ids)
        wanted = set(ids)
        found: dict[str, int] = {}
        for conn in self._stores():
            found.update(self._saved_live(docstore.rows_for_ids(conn, ids)))
        found.update({d[1]: r for r, d in self._new_docs.items() if d[1] in wanted})
        return found

    def ids_with_path(self, path: str, folder: bool = False) -> list[str]:
        """Ids of the documents stored with ``path`` (with ``folder``: under ``path/``), unsaved ones included."""
        found: dict[str, int] = {}
        for conn in self._stores():
            found.update(self._saved_live(docstore.ids_for_path(conn, path, folder)))
        prefix = path + "/"
        found.update({d[1]: r for r, d in self._new_docs.items() if (d[2].startswith(prefix) if folder else d[2] == path)})
        return sorted(found, key=lambda doc_id: found[doc_id])


__all__ = ["StoredDocuments"]
