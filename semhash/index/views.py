"""What a query reads of an index made of segments: the base segment's hash table and TF-IDF
rows, seen together with the rows added after it and without the rows removed since.

An index folder is a *base segment* (the files a build writes) plus small *delta segments*
(:mod:`semhash.index.segments`): rows added after the base, numbered on from its last row, and
*tombstones*, the rows removed. Nothing of the base is copied to change it:

- :class:`SegmentedTable` answers a ball or kNN lookup from the base table (tombstones left out)
  and a small table of the added codes, merged in ``(distance, id)`` order: the same hits, in
  the same order, as one table of the live codes.
- :class:`SegmentedRows` holds the base TF-IDF rows (memory-mapped) and the added rows; a query
  gathers the rows of its shortlist (:meth:`SegmentedRows.gather`), a whole-index reader (an
  export, a compaction) reads the concatenation, with removed rows emptied.

NumPy only: this is the query path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codes import CsrArrays, gather_rows, stack_rows
from ..hamming import sort_hits
from ..hashtable import HammingTable
from ..lexical import LexicalIndex, build_postings
from ..vectorize import Vectorizer
from .segments import Delta


def live_mask(dead: np.ndarray, n_rows: int) -> np.ndarray:
    """A boolean per row, ``False`` for the rows of ``dead`` (sorted int64 row numbers)."""
    alive = np.ones(n_rows, dtype=bool)
    alive[dead[dead < n_rows]] = False
    return alive


def count_present(table: HammingTable, rows: np.ndarray) -> int:
    """How many of ``rows`` (distinct) have a code in ``table``: all of them for the tombstones of
    an intact index, found with the table's id index (which queries build anyway)."""
    if not len(rows):
        return 0
    try:
        table.codes_of(rows)
        return len(rows)
    except ValueError:  # some are not in the table (damage): count them one by one
        return int(np.count_nonzero(np.isin(rows, np.asarray(table.ids_))))


def merge_hits(ids: np.ndarray, dist: np.ndarray, more: np.ndarray, more_dist: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two lists of hits, each sorted by ``(distance, id)``, as one: the few added hits are put
    in place in the base's (a ball holds thousands of base hits and a handful of added ones)."""
    if not len(more):
        return ids, dist
    if not len(ids) or len(more) * 8 > len(ids) or max(int(ids.max()), int(more.max())) >= 2**48:
        return sort_hits(np.concatenate([ids, more]), np.concatenate([dist, more_dist]))
    key = (dist.astype(np.int64) << 48) | ids  # (distance, id) order, as semhash.hamming.sort_hits
    at = np.searchsorted(key, (more_dist.astype(np.int64) << 48) | more)
    return np.insert(ids, at, more), np.insert(dist, at, more_dist)


class SegmentedTable:
    """The base hash table without the rows of ``dead``, plus the ``added`` table, as one table.

    Offers what the query path and the writers read of a :class:`HammingTable`: ``ball``,
    ``ball_batch``, ``knn``, ``codes_of``, ``method_for``, ``ids_``/``codes_`` (the live codes,
    base first) and ``len``. The added table holds only live rows (its owner builds it so).
    """

    def __init__(self, base: HammingTable, added: HammingTable, dead: np.ndarray, first_added: int) -> None:
        self.base, self.added, self.first_added = base, added, int(first_added)
        self.n_bits = base.n_bits
        self.dead = np.asarray(dead, dtype=np.int64)
        dead_base = self.dead[self.dead < self.first_added]
        self._alive = live_mask(dead_base, self.first_added) if len(dead_base) else None
        self._n_dead_base = count_present(base, dead_base)
        self._n = len(base) - self._n_dead_base + len(added)
        self._flat: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_bytes(self) -> int:
        return self.n_bits // 8

    def __len__(self) -> int:
        return self._n

    def _live(self, ids: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._alive is None or not len(ids):
            return ids, dist
        keep = self._alive[ids]
        return ids[keep], dist[keep]

    def ball(self, query_packed: np.ndarray, radius: int, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """:meth:`HammingTable.ball` of the live codes: ``(ids, distances)`` by ``(distance, id)``."""
        ids, dist = self._live(*self.base.ball(query_packed, radius, method))
        if not len(self.added):
            return ids, dist
        more, more_dist = self.added.ball(query_packed, radius, "auto" if method == "mih" else method)
        return merge_hits(ids, dist, more, more_dist)

    def ball_batch(self, queries_packed: np.ndarray, radius: int, method: str = "auto"
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.ball(q, radius, method) for q in np.asarray(queries_packed)]

    def knn(self, query_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`HammingTable.knn` of the live codes."""
        ids, dist = self._live(*self.base.knn(query_packed, k + self._n_dead_base))
        if len(self.added):
            more, more_dist = self.added.knn(query_packed, k)
            ids, dist = sort_hits(np.concatenate([ids, more]), np.concatenate([dist, more_dist]))
        return ids[:k], dist[:k]

    def codes_of(self, ids: np.ndarray) -> np.ndarray:
        """Packed codes of live documents by row (:meth:`HammingTable.codes_of`)."""
        ids = np.asarray(ids, dtype=np.int64)
        new = ids >= self.first_added
        if not new.any() and (self._alive is None or self._alive[ids].all()):
            return self.base.codes_of(ids)  # the usual shortlist: base rows only
        out = np.empty((len(ids), self.n_bytes), dtype=np.uint8)
        if self._alive is not None and not np.all(self._alive[ids[~new]]):
            raise ValueError(f"ids not in the table: {ids[~new][~self._alive[ids[~new]]][:10].tolist()}")
        out[~new] = self.base.codes_of(ids[~new])
        out[new] = self.added.codes_of(ids[new])
        return out

    def method_for(self, radius: int) -> str:
        return self.base.method_for(radius)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._flat is None:
            ids, codes = np.asarray(self.base.ids_), np.asarray(self.base.codes_)
            if self._alive is not None:
                keep = self._alive[ids]
                ids, codes = ids[keep], codes[keep]
            self._flat = (np.concatenate([ids, np.asarray(self.added.ids_)]),
                          np.concatenate([codes, np.asarray(self.added.codes_)]))
        return self._flat

    @property
    def ids_(self) -> np.ndarray:
        """The row of each live code (base rows first, in the base table's order)."""
        return self._arrays()[0]

    @property
    def codes_(self) -> np.ndarray:
        """The live codes, in the order of :attr:`ids_`."""
        return self._arrays()[1]

    def merged(self) -> HammingTable:
        """One :class:`HammingTable` of the live codes (what a compaction saves)."""
        return HammingTable.build(self.codes_, self.ids_, self.n_bits)

    def bucket_stats(self) -> dict:
        return self.merged().bucket_stats()


def clear_dead(matrix: CsrArrays, dead: np.ndarray) -> CsrArrays:
    """``matrix`` with the rows of ``dead`` emptied (row numbers stay)."""
    if not len(dead):
        return matrix
    alive = live_mask(dead, matrix.shape[0])
    indptr = np.asarray(matrix.indptr, np.int64)
    lengths = np.diff(indptr) * alive
    keep = np.repeat(alive, np.diff(indptr))
    return CsrArrays(np.asarray(matrix.data)[keep], np.asarray(matrix.indices)[keep],
                     np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), matrix.shape)


class SegmentedRows:
    """The base TF-IDF rows followed by the ``added`` rows, the rows of ``dead`` removed.

    A query reads the rows of its shortlist with :meth:`gather`; ``indptr``/``indices``/``data``
    (and :meth:`tocsr`) are the whole concatenation with the removed rows emptied, built on first
    use for the readers that need every row (exports, ``semhash outliers``, a compaction).
    """

    format = "segments"  # not "csr": the pipeline gathers the rows it needs (semhash.local)

    def __init__(self, base: Any, added: CsrArrays, dead: np.ndarray) -> None:
        self.base, self.added, self.dead = base, added, np.asarray(dead, dtype=np.int64)
        self.first_added = int(base.shape[0])
        self.shape = (self.first_added + added.shape[0], int(base.shape[1]))
        self._whole: CsrArrays | None = None

    def gather(self, rows: np.ndarray) -> CsrArrays:
        """The rows ``rows`` (each live, base or added) as a small :class:`CsrArrays`, in order."""
        rows = np.asarray(rows, dtype=np.int64)
        new = rows >= self.first_added
        if not new.any():
            return gather_rows(self.base, rows)
        if new.all():
            return gather_rows(self.added, rows - self.first_added)
        old_part, new_part = gather_rows(self.base, rows[~new]), gather_rows(self.added, rows[new] - self.first_added)
        order = np.concatenate([np.flatnonzero(~new), np.flatnonzero(new)])
        both = stack_rows([old_part, new_part], self.shape[1])
        return gather_rows(both, np.argsort(order, kind="stable"))

    def whole(self) -> CsrArrays:
        """Every row as one :class:`CsrArrays`, removed rows emptied."""
        if self._whole is None:
            base = self.base if isinstance(self.base, CsrArrays) else CsrArrays.from_matrix(self.base)
            base = CsrArrays(np.asarray(base.data), np.asarray(base.indices), np.asarray(base.indptr), base.shape)
            self._whole = clear_dead(stack_rows([base, self.added], self.shape[1]), self.dead)
        return self._whole

    indptr = property(lambda self: self.whole().indptr)
    indices = property(lambda self: self.whole().indices)
    data = property(lambda self: self.whole().data)

    def arrays_for_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        whole = self.whole()
        return whole.indptr, whole.indices, whole.data

    def tocsr(self) -> Any:
        return self.whole().tocsr()


def segmented(table: HammingTable, tfidf: Any, delta: Delta) -> tuple[SegmentedTable, SegmentedRows]:
    """The base segment's ``table`` and ``tfidf`` seen with the rows ``delta`` adds and removes."""
    rows, codes = delta.live_added()
    dead = delta.dead()
    added = HammingTable.build(codes, rows, table.n_bits)
    return SegmentedTable(table, added, dead, delta.first_row), SegmentedRows(tfidf, delta.tfidf(), dead)


def merged(table: Any, tfidf: Any) -> tuple[HammingTable, CsrArrays]:
    """One hash table and one CSR matrix of the live rows (what a whole folder write saves)."""
    if isinstance(table, SegmentedTable):
        table = table.merged()
    if isinstance(tfidf, SegmentedRows):
        tfidf = tfidf.whole()  # the added rows after the base's, the removed ones emptied
    elif not isinstance(tfidf, CsrArrays):
        tfidf = CsrArrays.from_matrix(tfidf)
    return table, tfidf


def base_lexical(stored: Any, tfidf: Any, vectorizer: Vectorizer) -> LexicalIndex:
    """The base segment's postings: as stored (``stored``: :class:`semhash.index.loading.StoredPostings`),
    or (an index saved before them: ``None``) built from its TF-IDF rows."""
    if stored is None:
        return LexicalIndex.from_rows(tfidf, vectorizer)
    return LexicalIndex(stored.postings, stored.lengths, vectorizer.df_, vectorizer.n_docs_, stored.lengths_check)


def lexical_with_delta(base: LexicalIndex, delta: Delta, vectorizer: Vectorizer) -> LexicalIndex:
    """``base`` (the base segment's postings) with the postings of the rows ``delta`` adds and
    without the rows it removes: the BM25 statistics (mean length) are those of the live rows."""
    added, added_lengths = build_postings(delta.tfidf(), vectorizer.idf_)
    extra = CsrArrays(added.data, np.asarray(added.indices, np.int64) + delta.first_row, added.indptr,
                      (added.shape[0], delta.n_rows))
    dead = delta.dead()
    lengths = np.concatenate([base.lengths, added_lengths])
    lengths[dead] = 0.0
    return LexicalIndex(base.postings, lengths, vectorizer.df_, vectorizer.n_docs_, extra=extra,
                        dead=dead)


__all__ = ["SegmentedRows", "SegmentedTable", "base_lexical", "clear_dead", "count_present", "lexical_with_delta", "live_mask", "merged",
           "segmented"]
