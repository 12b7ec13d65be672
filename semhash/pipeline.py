"""The query pipeline, written once for every place documents live: ball -> fill -> select ->
re-rank -> order -> hits.

A :class:`CandidateSource` says what a query needs from where the documents live (the local
index: :class:`semhash.local.LocalSource`; PostgreSQL: :class:`semhash.postgres.PostgresSearcher`):

1. the Hamming ball of the query's code within ``radius`` (bit flipping, multi-index hashing or a
   scan locally; key probes or a ``bit_count`` range query in PostgreSQL);
2. when the ball holds fewer documents than the shortlist needs, an exact k-nearest fill of the
   same codes (``k`` without re-ranking, ``max(k, MIN_SHORTLIST)`` with it);
3. the codes of candidates: the shortlist keeps at most ``MAX_SHORTLIST`` of them, the nearest by
   the query-weighted Hamming distance (:mod:`semhash.ranking`);
4. their TF-IDF rows: the shortlist is re-ranked by cosine similarity (default), or keeps the
   query-weighted order (``rerank=False``; the score is then ``1 - weighted distance / sum of
   the weights``);
5. the stored documents (id, title, snippet, path) of the hits: :func:`build_hits` makes every
   :class:`Hit`.

That is mode ``semantic``. The query modes are a registry (:data:`MODES`, named by
``QueryOptions.mode``): ``lexical`` asks the source for the documents with the best lexical
score instead (BM25 of the query's words, :mod:`semhash.lexical`), and ``hybrid`` merges the
semantic shortlist with those and ranks the union by one score of both signals
(:func:`hybrid_scores`). A hit's ``distance`` is always its Hamming distance to the query; its
``score`` is the mode's.

:func:`run_queries` runs a batch: each of the source's snapshots (one consistent read: the whole
batch locally, one query in PostgreSQL, each in its own read-only transaction) ranks its queries
(on threads, over contiguous chunks, when the source allows it), reads their documents once and
builds the hits, in input order. The first query of a snapshot runs alone: it builds the
source's lazy caches (multi-index tables, the searchable key view, the id index of the codes,
the lexical postings) before any thread could race to build them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from .bitflip import ball_size
from .hamming import hamming_distances
from .query import Query, QueryOptions, Terms
from .ranking import (
    cosine_scores,
    fixed_point_weights,
    merge_candidates,
    order_shortlist,
    select_candidates,
    weighted_distances,
)

MIN_SHORTLIST = 100
# a ball of at most this many bit patterns is looked up before a fill scans every code
FILL_BALL_PROBES = 10_000
NO_IDS, NO_DISTANCES = np.zeros(0, np.int64), np.zeros(0, np.int32)  # an empty fill
MAX_SHORTLIST = 1000
# mode hybrid: the best documents by BM25 merged with the semantic shortlist, ranked by
# cosine + HYBRID_GAMMA * lexical ** HYBRID_POWER + HYBRID_ALPHA * weighted Hamming similarity
# (chosen on the validation queries of both benchmarks: benchmarks/MODES.md)
LEXICAL_CANDIDATES = 100
HYBRID_ALPHA = 1.0
HYBRID_GAMMA = 16.0
HYBRID_POWER = 4
# batch search: at most this many threads, each given at least MIN_CHUNK queries
MAX_THREADS = 8
MIN_CHUNK = 16

T = TypeVar("T")
Ranked = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows, Hamming distances, scores, best first


@dataclass(frozen=True)
class Hit:
    """One search result: its 1-based ``rank``, the document's ``id``, ``title``, ``snippet`` and
    ``path``, its Hamming ``distance`` to the query, its ``score`` (cosine, or ``1 -`` the
    normalized distance without re-ranking; 6 decimals) and its ``row`` in the index."""

    rank: int
    id: str
    title: str
    snippet: str
    path: str
    distance: int
    score: float
    row: int

    def to_dict(self) -> dict:
        return asdict(self)


class StoredDocument(Protocol):
    """What a hit shows of a document."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def snippet(self) -> str: ...

    @property
    def path(self) -> str: ...


class CandidateSource(Protocol):
    """Where the documents live: what a query needs from them. Ids are the index's row numbers;
    every array of ids and distances is sorted by ``(distance, id)``."""

    @property
    def n_bits(self) -> int:
        """The code length."""

    @property
    def queries_per_snapshot(self) -> int | None:
        """Queries answered in one snapshot (None: a whole batch, on threads; 1: one at a time)."""

    def snapshot(self, threads: int) -> AbstractContextManager[Any]:
        """One consistent read of the documents, for the calls made inside it (by ``threads``
        threads when ``queries_per_snapshot`` is None)."""

    def size(self) -> int:
        """The number of documents."""

    def ball(self, code: np.ndarray, radius: int, lookup: str) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, distances)`` of every document within ``radius`` of the packed ``code``."""

    def knn(self, code: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest ``(ids, distances)`` by an exact scan (``k <= size()``)."""

    def codes_of(self, ids: np.ndarray) -> np.ndarray:
        """Packed codes of documents met in this snapshot's balls and fills."""

    def tfidf_rows(self, ids: np.ndarray) -> tuple[Any, np.ndarray]:
        """A CSR matrix (SciPy or :class:`semhash.codes.CsrArrays`) and the rows of it that hold
        the L2-normalized TF-IDF rows of ``ids``, in order."""

    def lexical(self, terms: Terms, n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(top, top_scores, scores)``: the ``n`` documents with the highest lexical score for
        the query's words (only the columns of ``terms`` count), best first, ties by id, leaving
        out those that share no word; and the lexical score of each of ``ids`` (0 for one that
        shares no word). The score is BM25 over the most the query could score (0 to 1, float64;
        :mod:`semhash.lexical`). A source without postings computes both from the stored rows
        with :func:`semhash.lexical.row_scores` and the index's :class:`semhash.lexical.LexicalStats`
        (bit-identical to the postings'). The codes of the ``top`` documents are then available to
        :meth:`codes_of` and their rows to :meth:`tfidf_rows`."""

    def documents(self, ids: np.ndarray) -> Mapping[int, StoredDocument]:
        """The stored documents of ``ids``, by id."""


def _want(query: Query, opts: QueryOptions) -> int:
    """The hits to rank: ``k``, one more when the query's own row is left out."""
    return opts.k + (query.exclude is not None)


def _leave_out(ids: np.ndarray, dist: np.ndarray, scores: np.ndarray, query: Query, k: int) -> Ranked:
    """The ranked hits without the query's own row (``similar``), at most ``k``."""
    if query.exclude is not None:
        keep = ids != query.exclude
        ids, dist, scores = ids[keep], dist[keep], np.asarray(scores)[keep]
    return ids[:k], dist[:k], np.asarray(scores)[:k]


def ball_and_fill(source: CandidateSource, query: Query, opts: QueryOptions,
                  need: int) -> tuple[np.ndarray, np.ndarray]:
    """The documents within ``opts.radius`` of the query's code, filled with the exact k nearest
    when there are fewer than ``need``, sorted by ``(distance, id)``.

    The fill first tries larger balls while one holds at most :data:`FILL_BALL_PROBES` bit
    patterns: a ball of ``need`` or more documents holds the ``need`` nearest (its head in
    ``(distance, id)`` order, exactly what the scan would give), at a fraction of a scan of a
    large index. Only when those balls stay short does the full k-nearest scan run.
    """
    ids, dist = source.ball(query.code, opts.radius, opts.lookup)
    radius = opts.radius
    while len(ids) < need and radius < source.n_bits and ball_size(source.n_bits, radius + 1) <= FILL_BALL_PROBES:
        radius += 1
        ids, dist = source.ball(query.code, radius, opts.lookup)
    if len(ids) >= need:  # a grown ball is cut to the need nearest, as the scan would have given
        return merge_candidates(ids, dist, NO_IDS, NO_DISTANCES, need if radius > opts.radius else None)
    kids, kdist = source.knn(query.code, min(need, source.size()))
    return merge_candidates(ids, dist, kids, kdist, None)


def rank_semantic(source: CandidateSource, query: Query, opts: QueryOptions) -> Ranked:
    """Mode ``semantic``: the Hamming ball (and fill), re-ranked by TF-IDF cosine (or, with
    ``rerank=False``, in query-weighted Hamming order)."""
    want = _want(query, opts)
    ids, dist = ball_and_fill(source, query, opts, max(want, MIN_SHORTLIST) if opts.rerank else want)
    ids, dist, wdist = select_candidates(ids, dist, max(MAX_SHORTLIST, want), opts.rerank, query.code,
                                         query.bit_weights, source.codes_of)
    scores = cosine_scores(*source.tfidf_rows(ids), *query.terms) if opts.rerank and len(ids) else None
    ids, dist, scores = order_shortlist(ids, dist, scores, want, wdist, query.bit_weights)
    if scores is None:
        scores = 1.0 - dist / source.n_bits
    return _leave_out(ids, dist, scores, query, opts.k)


def rank_lexical(source: CandidateSource, query: Query, opts: QueryOptions) -> Ranked:
    """Mode ``lexical``: the documents with the highest BM25 score for the query's words
    (:mod:`semhash.lexical`), in that order; the code is used only for the hits' distances."""
    ids, scores, _ = source.lexical(query.terms, _want(query, opts), np.zeros(0, np.int64))
    dist = hamming_distances(query.code, source.codes_of(ids)) if len(ids) else np.zeros(0, np.int32)
    return _leave_out(ids, dist, scores, query, opts.k)


def hybrid_scores(cosine: np.ndarray, lexical: np.ndarray, wdist: np.ndarray, total_weight: float) -> np.ndarray:
    """The one score of mode ``hybrid``: TF-IDF ``cosine`` + :data:`HYBRID_GAMMA` x the lexical
    score (the share of the query's best possible BM25, 0 to 1) to the power :data:`HYBRID_POWER` +
    :data:`HYBRID_ALPHA` x the query-weighted Hamming similarity (``1 - wdist / total_weight``).

    The power makes the lexical term count only for a document that holds nearly all of the
    query's words: for a short query the one with its exact words comes first, while a long query
    (a whole document) never gets near such a share and is ranked by cosine and code, as in mode
    ``semantic``.
    """
    lex = np.asarray(lexical, dtype=np.float64)
    return (np.asarray(cosine, dtype=np.float64) + HYBRID_GAMMA * lex**HYBRID_POWER
            + HYBRID_ALPHA * (1.0 - np.asarray(wdist) / total_weight))


def rank_hybrid(source: CandidateSource, query: Query, opts: QueryOptions) -> Ranked:
    """Mode ``hybrid``: the semantic shortlist (ball and fill, at most ``MAX_SHORTLIST`` by
    query-weighted distance) and the ``LEXICAL_CANDIDATES`` best documents by BM25, merged and
    ranked by :func:`hybrid_scores` (ties by Hamming distance, then row)."""
    want = _want(query, opts)
    weights = query.bit_weights if query.bit_weights is not None else np.ones(source.n_bits)
    ids, dist = ball_and_fill(source, query, opts, max(want, MIN_SHORTLIST))
    ids, dist, wdist = select_candidates(ids, dist, max(MAX_SHORTLIST, want), False, query.code, weights,
                                         source.codes_of)
    lex_ids, lex_scores, lexical = source.lexical(query.terms, max(want, LEXICAL_CANDIDATES), ids)
    new = ~np.isin(lex_ids, ids)  # found by their words only: their codes are read here
    codes = source.codes_of(lex_ids[new])
    cand = np.concatenate([ids, lex_ids[new]]).astype(np.int64)
    dist = np.concatenate([dist, hamming_distances(query.code, codes) if len(codes) else np.zeros(0, np.int32)])
    wdist = np.concatenate([np.asarray(wdist), weighted_distances(codes, query.code, weights)])
    lexical = np.concatenate([lexical, lex_scores[new]])
    cosine = cosine_scores(*source.tfidf_rows(cand), *query.terms) if len(cand) else np.zeros(0, np.float32)
    scores = hybrid_scores(cosine, lexical, wdist, max(float(np.sum(fixed_point_weights(weights))), 1e-12))
    order = np.lexsort((cand, dist, -scores))[:want]
    return _leave_out(cand[order], dist[order], scores[order], query, opts.k)


# the query modes: how one query's candidates are found and ranked (QueryOptions.mode names one)
MODES: dict[str, Callable[[CandidateSource, Query, QueryOptions], Ranked]] = {
    "hybrid": rank_hybrid,
    "semantic": rank_semantic,
    "lexical": rank_lexical,
}


def rank_query(source: CandidateSource, query: Query, opts: QueryOptions) -> Ranked:
    """The ranked ``(rows, distances, scores)`` of one query in the mode ``opts.mode`` (no
    document is read)."""
    return MODES[str(opts.mode)](source, query, opts)  # checked by QueryOptions: a name of MODES


def build_hits(ranked: Ranked, docs: Mapping[int, StoredDocument]) -> list[Hit]:
    """The hits of one ranked query, best first (a row with no stored document is skipped)."""
    hits: list[Hit] = []
    for r, d, s in zip(*(np.asarray(a).tolist() for a in ranked)):
        doc = docs.get(r)
        if doc is not None:
            hits.append(Hit(rank=len(hits) + 1, id=doc.id, title=doc.title, snippet=doc.snippet, path=doc.path,
                            distance=int(d), score=round(float(s), 6), row=int(r)))
    return hits


def map_chunks(fn: Callable[[int], T], n: int, threads: int) -> list[T]:
    """``[fn(i) for i in range(n)]``, over ``threads`` contiguous chunks, in input order (the
    first exception, in input order, is raised)."""
    if threads <= 1 or n < 2 * MIN_CHUNK:
        return [fn(i) for i in range(n)]
    n_chunks = min(threads, n // MIN_CHUNK)
    bounds = np.linspace(0, n, n_chunks + 1).astype(int).tolist()
    parts: list[Any] = [None] * n_chunks

    def work(c: int) -> None:
        try:
            parts[c] = [fn(i) for i in range(bounds[c], bounds[c + 1])]
        except BaseException as exc:
            parts[c] = exc

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in range(n_chunks)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for part in parts:
        if isinstance(part, BaseException):
            raise part
    return [r for part in parts for r in part]


def default_threads() -> int:
    """The threads of a batch search: the cores, at most :data:`MAX_THREADS`."""
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def _answer(source: CandidateSource, queries: Sequence[Query], opts: QueryOptions, threads: int) -> list[list[Hit]]:
    """The hits of queries inside one snapshot: ranked (the first alone), documents read once."""
    if not queries:
        return []
    ranked = [rank_query(source, queries[0], opts)]
    ranked += map_chunks(lambda i: rank_query(source, queries[i + 1], opts), len(queries) - 1, threads)
    docs = source.documents(np.unique(np.concatenate([r[0] for r in ranked])))
    return [build_hits(r, docs) for r in ranked]


def run_queries(source: CandidateSource, queries: Sequence[Query], opts: QueryOptions,
                threads: int = 1) -> list[list[Hit]]:
    """The hits of each query, in input order: every search, batch and ``similar`` comes here."""
    step = source.queries_per_snapshot or max(len(queries), 1)
    out: list[list[Hit]] = []
    for start in range(0, len(queries), step):
        with source.snapshot(threads):
            out += _answer(source, queries[start : start + step], opts, threads)
    return out


__all__ = [
    "FILL_BALL_PROBES", "HYBRID_ALPHA", "HYBRID_GAMMA", "HYBRID_POWER", "LEXICAL_CANDIDATES", "MAX_SHORTLIST", "MAX_THREADS",
    "MIN_CHUNK", "MIN_SHORTLIST", "MODES", "CandidateSource", "Hit", "StoredDocument", "ball_and_fill",
    "build_hits", "default_threads", "hybrid_scores", "map_chunks", "rank_hybrid", "rank_lexical", "rank_query",
    "rank_semantic", "run_queries",
]
