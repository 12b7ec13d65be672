"""Lexical candidates: an inverted index over the index's own TF-IDF rows, scored by BM25.

The Hamming ball around a short query's code holds documents of the right topic, but the one
document that contains the query's words is often not among them. This module finds that
document by its words, from what every index already stores:

- **Term counts from the stored rows.** A stored row is ``log(1 + tf) * idf`` (or ``tf`` for
  ``counts`` weighting), L2-normalized. Divided by the idf, the smallest entry of a row belongs to
  its rarest-used word; taking that word's count as 1 (then 2, 3, ... until every entry comes out
  a whole number) gives back every count of the row (:func:`recover_counts`). When all words of a
  document occur equally often, the row cannot tell 1 from 2 and each count is taken as 1.
- **Postings**, term-major: for vocabulary column ``j``, the rows holding it (ascending) and the
  word's count in each, as a CSR matrix of shape ``(n_terms, n_rows)`` (``postings_indptr``,
  ``postings_indices`` = rows, ``postings_data`` = counts), and each row's length (the sum of its
  counts, ``postings_lengths``). Written at index time as plain ``.npy`` files, memory-mapped and
  checked block by block like the TF-IDF rows; an index saved before them builds them in memory
  from its TF-IDF rows on first use.
- **The score** of a document for a query is Okapi BM25 over the query's distinct vocabulary
  words, ``sum idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen))`` with ``k1 = 1.2``,
  ``b = 0.75``, ``idf(t) = log(1 + (N - df + 0.5) / (df + 0.5))`` from the vocabulary's document
  frequencies and ``avglen`` the mean length of the live rows, divided by the most any document
  could score for that query, ``sum idf(t) (k1 + 1)``: a share from 0 to 1 that says how much of
  the query a document holds (the order is BM25's). BM25 beat the TF-IDF dot product the stored
  rows give directly on the validation queries of ``benchmarks/precise_queries.jsonl`` (see
  ``benchmarks/PRECISE.md``). Each word's term is rounded to a multiple of
  ``2**-LEXICAL_FRACTION_BITS`` so a sum is exact in any order: the postings and the stored rows
  (:func:`row_scores`, what a source without postings uses) give bit-identical scores.

NumPy only: the query path uses this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .bitflip import expand_ranges
from .codes import CsrArrays, csr_arrays_for_rows

K1 = 1.2
B = 0.75
LEXICAL_FRACTION_BITS = 24  # each word's BM25 term is a multiple of 2**-24: sums are exact
POSTINGS_PREFIX = "postings"
POSTINGS_FILES = tuple(CsrArrays.files(POSTINGS_PREFIX))  # data (counts), indices (rows), indptr
LENGTHS_FILE = "postings_lengths.npy"
# a row's counts are tried with its rarest word counted 1, 2, ... up to this many times
RECOVER_CHUNK_ROWS = 100_000  # rows whose counts are recovered at a time
MAX_LOWEST_COUNT = 8


class LexicalStats(NamedTuple):
    """The index-wide numbers of the BM25 score: the idf of each vocabulary column (float64) and
    the mean length of the live rows."""

    idf: np.ndarray
    avg_length: float


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """``log(1 + (N - df + 0.5) / (df + 0.5))`` (float64), never negative."""
    df = np.asarray(df, dtype=np.float64)
    return np.log1p(np.maximum(n_docs - df + 0.5, 0.0) / (df + 0.5))


def _row_starts(indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(row of each stored entry, the non-empty rows)`` of a CSR ``indptr``."""
    lengths: np.ndarray = np.diff(np.asarray(indptr, dtype=np.int64))
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths), np.flatnonzero(lengths)


def recover_counts(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, idf: np.ndarray | None,
                   chunk_rows: int | None = None) -> np.ndarray:
    """The term count (float32, whole numbers) of every stored entry of L2-normalized rows of
    ``log(1 + tf) * idf`` (``idf=None``: of ``tf``), in the rows' order (see the module's docstring).

    Each row's counts depend on that row alone, so the rows are taken :data:`RECOVER_CHUNK_ROWS`
    at a time: the float64 temporaries of a million rows are never all in memory at once."""
    indptr = np.asarray(indptr, dtype=np.int64)
    n_rows, chunk_rows = len(indptr) - 1, chunk_rows or RECOVER_CHUNK_ROWS
    if n_rows <= chunk_rows:
        return _recover_counts(indptr, indices, data, idf)
    out = np.empty(int(indptr[-1]), dtype=np.float32)
    for start in range(0, n_rows, chunk_rows):
        end = min(start + chunk_rows, n_rows)
        a, b = int(indptr[start]), int(indptr[end])
        out[a:b] = _recover_counts(indptr[start : end + 1] - a, indices[a:b], data[a:b], idf)
    return out


def _recover_counts(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, idf: np.ndarray | None) -> np.ndarray:
    """:func:`recover_counts` of rows taken together."""
    x = np.asarray(data, dtype=np.float64)
    if idf is not None:
        x = x / np.asarray(idf, dtype=np.float64)[np.asarray(indices)]
    indptr = np.asarray(indptr, dtype=np.int64)
    counts = np.ones(len(x), dtype=np.float32)
    row_of, left = _row_starts(indptr)
    if not len(x):
        return counts
    lowest = np.zeros(len(indptr) - 1)
    lowest[left] = np.minimum.reduceat(x, indptr[left])
    ratio = x / lowest[row_of]  # >= 1: each word's weight over the rarest-used word's
    for h in range(1, MAX_LOWEST_COUNT + 2):
        at = expand_ranges(indptr[left], indptr[left + 1])  # the entries of the rows left
        if h > MAX_LOWEST_COUNT:  # no count makes them whole (rows semhash did not write): the rarest at 1
            tf = np.expm1(ratio[at] * np.log(2.0)) if idf is not None else ratio[at]
            counts[at] = np.maximum(np.round(tf), 1.0)
            break
        tf = np.expm1(ratio[at] * np.log1p(h)) if idf is not None else ratio[at] * h
        whole = np.round(tf)
        sizes = indptr[left + 1] - indptr[left]
        fits = np.logical_and.reduceat(np.abs(tf - whole) <= 1e-2 + 1e-5 * tf, np.cumsum(sizes) - sizes)
        done = np.repeat(fits, sizes)
        counts[at[done]] = np.maximum(whole[done], 1.0)
        left = left[~fits]
        if not len(left):
            break
    return counts


def build_postings(tfidf: Any, idf: np.ndarray | None) -> tuple[CsrArrays, np.ndarray]:
    """The term-major postings (counts by vocabulary column, rows ascending) and the length of
    each row, from the L2-normalized TF-IDF rows ``tfidf`` (SciPy CSR or :class:`CsrArrays`)."""
    n_rows, n_cols = tfidf.shape
    indptr, indices, data = (np.asarray(a) for a in (tfidf.indptr, tfidf.indices, tfidf.data))
    counts = recover_counts(indptr, indices, data, idf)
    row_type = np.int32 if n_rows < 2**31 else np.int64
    row_lengths: np.ndarray = np.diff(np.asarray(indptr, dtype=np.int64))
    row_of = np.repeat(np.arange(n_rows, dtype=row_type), row_lengths)
    lengths = np.bincount(row_of, weights=counts, minlength=n_rows).astype(np.float32)
    order = np.argsort(indices, kind="stable")  # stable: within a column, rows stay ascending
    rows = row_of[order]
    del row_of  # at a million rows each of these arrays is hundreds of MB: one at a time
    by_column = counts[order]
    del counts, order
    col_indptr = np.concatenate([[0], np.cumsum(np.bincount(indices, minlength=n_cols))]).astype(np.int64)
    return CsrArrays(by_column, rows, col_indptr, (n_cols, n_rows)), lengths


def stats_for(df: np.ndarray, n_docs: int, lengths: np.ndarray) -> LexicalStats:
    """:class:`LexicalStats` from the vocabulary's document frequencies and the rows' lengths."""
    lengths = np.asarray(lengths, dtype=np.float64)
    live = int(np.count_nonzero(lengths))
    return LexicalStats(bm25_idf(df, n_docs), float(lengths.sum() / live) if live else 1.0)


def bm25_norm(lengths: np.ndarray, avg_length: float) -> np.ndarray:
    """``k1 (1 - b + b len / avglen)`` (float64) of documents of ``lengths``: the part of each
    word's BM25 term that depends on its document alone."""
    return K1 * (1.0 - B + B * np.asarray(lengths, dtype=np.float64) / avg_length)


def normed_term_scores(counts: np.ndarray, norm: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """:func:`term_scores` from the documents' :func:`bm25_norm` (the one definition of the term,
    computed in place: a long query's postings are tens of thousands)."""
    tf = np.array(counts, dtype=np.float64)  # a copy: it becomes the denominator
    raw = np.multiply(np.asarray(idf, dtype=np.float64), tf)
    raw *= K1 + 1.0
    tf += norm
    raw /= tf
    raw *= 2.0**LEXICAL_FRACTION_BITS  # exact (a power of two), as is the scaling back
    np.rint(raw, out=raw)
    raw *= 2.0**-LEXICAL_FRACTION_BITS
    return raw


def term_scores(counts: np.ndarray, lengths: np.ndarray, idf: np.ndarray, avg_length: float) -> np.ndarray:
    """Each word's BM25 term (float64, a multiple of ``2**-LEXICAL_FRACTION_BITS``) for its
    ``counts`` in documents of ``lengths``, with its ``idf``."""
    return normed_term_scores(counts, bm25_norm(lengths, avg_length), idf)


def best_possible(stats: LexicalStats, cols: np.ndarray) -> float:
    """The BM25 score no document reaches for the query columns ``cols``: ``sum idf (k1 + 1)``."""
    return best_of(stats.idf[np.asarray(cols, dtype=np.int64)])


def best_of(query_idf: np.ndarray) -> float:
    """:func:`best_possible` from the idf of the query's columns, in their order."""
    return max(float(np.sum(np.asarray(query_idf, dtype=np.float64))) * (K1 + 1.0), 1e-12)


def top_n(ids: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best ``(ids, scores)`` by score, ties by id; scores of 0 are left out."""
    keep = scores > 0
    if n <= 0:
        keep[:] = False
    ids, scores = np.asarray(ids, np.int64)[keep], scores[keep]
    if len(ids) > n:  # only those up to the n-th score (all of its ties) need sorting
        at = np.flatnonzero(scores >= np.partition(scores, len(scores) - n)[len(scores) - n])
        ids, scores = ids[at], scores[at]
    order = np.lexsort((ids, -scores))[:n]
    return ids[order], scores[order]


def top_dense(sums: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_n` of every row, ``sums`` holding each row's score (0: not met)."""
    sums = np.asarray(sums, dtype=np.float64)
    kth = np.partition(sums, len(sums) - n)[len(sums) - n] if 0 < n < len(sums) else 0.0
    at = np.flatnonzero(sums >= kth) if kth > 0 else np.flatnonzero(sums > 0) if n > 0 else np.zeros(0, np.int64)
    order = np.lexsort((at, -sums[at]))[:n]
    return at[order].astype(np.int64), sums[at[order]]


def sums_at(met: np.ndarray, sums: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The sum of each of ``rows`` among the ``sums`` of the rows ``met`` (ascending); 0 for a row not met."""
    if not len(met):
        return np.zeros(len(rows))
    at = np.minimum(np.searchsorted(met, rows), len(met) - 1)
    return np.where(met[at] == rows, sums[at], 0.0)


def row_scores(matrix: Any, rows: np.ndarray, cols: np.ndarray, idf: np.ndarray | None,
               stats: LexicalStats) -> np.ndarray:
    """The lexical score of each of ``rows`` of the L2-normalized TF-IDF ``matrix`` (SciPy CSR or
    :class:`CsrArrays`) for the query columns ``cols``: from the stored rows alone, equal to what
    the postings give (``idf``: the vectorizer's TF-IDF idf, ``None`` for counts)."""
    rows = np.asarray(rows, dtype=np.int64)
    indptr, indices, data = csr_arrays_for_rows(matrix, rows)
    starts, ends = indptr[rows], indptr[rows + 1]
    pos = expand_ranges(starts, ends)
    sub_indptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    sub_indices = np.asarray(indices[pos], dtype=np.int64)
    counts = recover_counts(sub_indptr, sub_indices, data[pos], idf)
    row_of, _ = _row_starts(sub_indptr)
    lengths = np.bincount(row_of, weights=counts, minlength=len(rows)).astype(np.float32)
    wanted = np.zeros(len(stats.idf), dtype=bool)
    wanted[np.asarray(cols, dtype=np.int64)] = True
    shared = np.flatnonzero(wanted[sub_indices])
    terms = term_scores(counts[shared], lengths[row_of[shared]], stats.idf[sub_indices[shared]], stats.avg_length)
    return np.bincount(row_of[shared], weights=terms, minlength=len(rows)) / best_possible(stats, cols)


class LexicalIndex:
    """Postings, row lengths and BM25 statistics of an index: the top documents for a query's words.

    ``postings`` is term-major (a :class:`CsrArrays` or :class:`semhash.codes.LazyCsr` of shape
    ``(n_terms, n_rows)``: indices are rows, data counts); ``lengths`` may be checked on read
    (``lengths_check``: an :class:`semhash.integrity.ArrayCheck`).
    """

    def __init__(self, postings: CsrArrays, lengths: np.ndarray, df: np.ndarray, n_docs: int,
                 lengths_check: Any = None, extra: CsrArrays | None = None, dead: np.ndarray | None = None) -> None:
        if lengths_check is not None:
            lengths_check.all()  # the mean length reads every row's
        if postings.shape[1] > len(lengths) or postings.shape[0] != len(df) or (
                extra is not None and extra.shape != (len(df), len(lengths))):
            raise ValueError(f"postings of shape {postings.shape} do not fit {len(lengths)} rows and "
                             f"{len(df)} terms")
        self.postings, self.lengths = postings, np.asarray(lengths)  # asarray: no memmap indexing overhead
        # an index of segments (semhash.index.views): the postings of the rows added after the
        # base (rows numbered on from it), and the rows removed (sorted; their lengths are 0)
        self.extra = extra
        self.dead = None if dead is None or not len(dead) else np.asarray(dead, dtype=np.int64)
        self.stats = stats_for(df, n_docs, lengths)
        self._norm = bm25_norm(self.lengths, self.stats.avg_length)  # each row's, read by every posting

    @classmethod
    def from_rows(cls, tfidf: Any, vectorizer: Any) -> LexicalIndex:
        """Built in memory from the TF-IDF rows (``vectorizer``: the index's, for the idf and df)."""
        postings, lengths = build_postings(tfidf, vectorizer.idf_)
        return cls(postings, lengths, vectorizer.df_, vectorizer.n_docs_)

    @property
    def n_rows(self) -> int:
        return len(self.lengths)

    def column_terms(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, BM25 terms)`` of every posting of the columns ``cols``, column by column (rows
        ascending within each): what a query's score sums, and what a PostgreSQL table stores."""
        at, terms, _ = self.column_postings(cols)
        return at, terms

    def column_postings(self, cols: np.ndarray, live_only: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`column_terms` and how many postings each column has (``live_only``: the removed
        rows' postings left out; :meth:`top` leaves them in and zeroes the rows' sums instead)."""
        cols = np.asarray(cols, dtype=np.int64)
        if not len(cols):
            return np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int64)
        parts = [self.postings] if self.extra is None else [self.postings, self.extra]
        pieces, sizes = [], np.zeros(len(cols), dtype=np.int64)
        for postings in parts:
            indptr, rows, counts = postings.arrays_for_rows(cols)
            starts, ends = indptr[cols], indptr[cols + 1]
            # each column's postings are one slice: copied whole
            pieces.append([(rows[a:b], counts[a:b]) for a, b in zip(starts.tolist(), ends.tolist())])
            sizes += ends - starts
        # base rows come before added rows: column by column, base then added keeps rows ascending
        ordered = [piece for column in zip(*pieces) for piece in column]
        at = np.concatenate([r for r, _ in ordered]).astype(np.int64)
        tf = np.concatenate([c for _, c in ordered])
        col_of = np.repeat(np.arange(len(cols)), sizes)
        if live_only and self.dead is not None:
            keep = ~np.isin(at, self.dead)
            at, tf, col_of = at[keep], tf[keep], col_of[keep]
            sizes = np.bincount(col_of, minlength=len(cols)).astype(np.int64)
        return at, normed_term_scores(tf, self._norm[at], self.stats.idf[cols][col_of]), sizes

    def top(self, cols: np.ndarray, n: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """The ``n`` rows with the highest lexical score for the columns ``cols`` (BM25 over its
        :func:`best_possible`, float64), best first, ties by row; rows sharing no word are left
        out. With ``rows``, also the score of each of them (0 for a row sharing no word), from
        the same pass over the postings: ``(top rows, their scores, scores of rows)``.

        The sums are exact in any order (fixed-point terms): a long query's many postings are
        summed into one array over all rows, a short query's by sorting the few rows met."""
        at, terms, _ = self.column_postings(cols, live_only=False)  # removed rows: their sums zeroed below
        best = best_possible(self.stats, cols)
        rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        if len(at) * 8 >= self.n_rows:  # dense: cheaper than sorting when the postings are many
            sums = np.bincount(at, weights=terms, minlength=self.n_rows)
            if self.dead is not None:
                sums[self.dead] = 0.0
            ids, scores = top_dense(sums, n)
            found = None if rows is None else sums[rows]
        else:
            met, inv = np.unique(at, return_inverse=True)
            sums = np.bincount(inv, weights=terms, minlength=len(met))
            if self.dead is not None:
                sums[np.isin(met, self.dead)] = 0.0
            ids, scores = top_n(met, sums, n)
            found = None if rows is None else sums_at(met, sums, rows)
        if found is None:
            return ids, scores / best
        return ids, scores / best, found / best

    def scores(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The lexical score of each of ``rows`` (0 for a row sharing no word)."""
        return self.top(cols, 0, rows)[2]

    def save(self, folder: Any) -> list[str]:
        """Write the postings and lengths as ``.npy`` files into ``folder``; returns their names."""
        if self.extra is not None or self.dead is not None:
            raise ValueError("the postings of an index of segments are saved by building them from its rows")
        names = self.postings.save(folder, POSTINGS_PREFIX)
        np.save(Path(folder) / LENGTHS_FILE, np.ascontiguousarray(self.lengths), allow_pickle=False)
        return [*names, LENGTHS_FILE]


__all__ = [
    "B", "K1", "LENGTHS_FILE", "LEXICAL_FRACTION_BITS", "MAX_LOWEST_COUNT", "POSTINGS_FILES", "POSTINGS_PREFIX",
    "LexicalIndex", "LexicalStats", "best_of", "best_possible", "bm25_idf", "bm25_norm", "build_postings",
    "normed_term_scores", "recover_counts", "row_scores", "stats_for", "sums_at", "term_scores", "top_dense", "top_n",
]
