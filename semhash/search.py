"""Searching a local index: text -> code -> Hamming ball (and BM25 candidates) -> shortlist ->
re-rank -> hits.

Nothing here imports TensorFlow, scikit-learn, SciPy or (below :data:`FAISS_FILL_ABOVE`
documents) FAISS: a query is vectorized with the saved vocabulary and idf, encoded with the
NumPy forward pass (:mod:`semhash.query`) and answered by the query pipeline
(:mod:`semhash.pipeline`) over the index (:class:`semhash.local.LocalSource`):

1. Vectorize the query; a query with no word of the vocabulary raises :class:`QueryError`.
2. Encode it to a packed binary code and the weight of each bit.
3. Look up every document within ``radius`` bits (bit flipping over the hash table, or
   multi-index hashing for long codes, or a scan; ``lookup=`` forces one, see
   :mod:`semhash.hashtable`), filled with the k nearest when the ball is small.
4. Keep a shortlist by the query-weighted Hamming distance and re-rank it by TF-IDF cosine
   (:mod:`semhash.ranking`): mode ``semantic``. Mode ``lexical`` ranks the documents with the
   query's words by BM25 instead (:mod:`semhash.lexical`), and mode ``hybrid`` merges both
   candidate lists and ranks them by one score of both signals (:mod:`semhash.pipeline`).

In a batch, the lookups and re-ranking run on a few threads over contiguous chunks of queries
(NumPy releases the GIL in its loops), and the document store is read once for the whole
batch; the hits are identical to single searches, in input order.
"""

from __future__ import annotations

from typing import Any

from .checks import MAX_K, MAX_QUERY_CHARS, check_list, check_text
from .errors import QueryError
from .hashtable import LOOKUPS
from .local import FAISS_FILL_ABOVE, LocalIndex, LocalSource, knn_fill
from .pipeline import MAX_SHORTLIST, MAX_THREADS, MIN_CHUNK, MIN_SHORTLIST, Hit, default_threads, run_queries
from .query import (
    QueryOptions,
    Terms,
    check_lookup,
    codes_and_weights,
    default_radius,
    encode_queries,
    encode_rows,
    encode_terms,
    no_words_error,
    terms_of,
    terms_or_errors,
)
from .ranking import (
    WEIGHT_FRACTION_BITS,
    cosine_scores,
    fixed_point_weights,
    merge_candidates,
    order_shortlist,
    query_bit_weights,
    select_candidates,
    weighted_distances,
)
from .vectorize import query_terms


def query_idf(vectorizer: Any) -> Any:
    """``vectorizer.idf_`` (computed once per fitted vectorizer; ``None`` for counts)."""
    return vectorizer.idf_


def text_terms(index: LocalIndex, text: Any) -> Terms:
    """``(columns, weights)`` of one query text for ``index`` (:func:`semhash.query.terms_of`):
    :class:`QueryError` for an empty or too long text, or one with no word of the vocabulary."""
    return terms_of(index.vectorizer, text)


def check_texts(index: LocalIndex, texts: list[str]) -> list:
    """For each text, its ``(columns, weights)`` (:func:`text_terms`) or the :class:`QueryError`
    that says why it cannot be searched."""
    return terms_or_errors(index.vectorizer, check_list(texts, "queries", error=QueryError))


def search_terms(index: LocalIndex, terms: list[Terms], opts: QueryOptions, threads: int = 1) -> list[list[Hit]]:
    """Hits of already vectorized queries (``(columns, weights)`` each) on ``index``, in input order."""
    return run_queries(LocalSource(index), encode_queries(index.encoder, terms), opts, threads)


def _threads(threads: int | None) -> int:
    return default_threads() if threads is None else max(1, int(threads))


def search_batch(index: LocalIndex, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                 lookup: str = "auto", threads: int | None = None, mode: str | None = None) -> list[list[Hit]]:
    """Hits for each text, in input order. Raises :class:`QueryError` naming a bad query
    (:func:`search_each` answers the other texts instead).

    ``mode`` is how candidates are found and ranked (:data:`semhash.choices.QUERY_MODES`;
    ``None``: :data:`semhash.choices.DEFAULT_MODE`, or ``semantic`` with ``rerank=False``).

    Each text is vectorized and encoded on its own; the lookups and re-ranking run on
    ``threads`` threads over contiguous chunks of queries (default: the cores, at most
    ``MAX_THREADS``). Results are identical to calling :func:`search` on each text.
    """
    texts = [check_text(t) for t in check_list(texts, "queries", "search_batch", QueryError)]
    opts = QueryOptions.make(index.n_bits, k, radius, rerank, lookup, mode)
    threads = _threads(threads)
    terms = terms_or_errors(index.vectorizer, texts)
    bad = next((t for t in terms if isinstance(t, QueryError)), None)
    if bad is not None:
        raise bad
    return search_terms(index, terms, opts, threads)


def search_each(index: LocalIndex, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                lookup: str = "auto", threads: int | None = None, mode: str | None = None) -> list:
    """:func:`search_batch` that answers every text: its hits, or the :class:`QueryError` saying
    why it cannot be searched (empty, too long, no word of the vocabulary), in input order.

    Bad ``k``, ``radius``, ``lookup`` or ``mode`` still raise (they concern every text). The texts that
    can be searched get exactly the hits :func:`search_batch` gives them.
    """
    texts = check_list(texts, "queries", "search_each", QueryError)
    opts = QueryOptions.make(index.n_bits, k, radius, rerank, lookup, mode)
    threads = _threads(threads)
    checked = terms_or_errors(index.vectorizer, texts)
    good = [i for i, t in enumerate(checked) if not isinstance(t, QueryError)]
    hits = search_terms(index, [checked[i] for i in good], opts, threads)
    out = list(checked)
    for i, h in zip(good, hits):
        out[i] = h
    return out


def search(index: LocalIndex, text: str, k: int = 10, radius: int | None = None, rerank: bool = True,
           lookup: str = "auto", mode: str | None = None) -> list[Hit]:
    """The ``k`` best documents for ``text`` (``mode``: see :func:`search_batch`)."""
    return search_batch(index, [text], k=k, radius=radius, rerank=rerank, lookup=lookup, threads=1, mode=mode)[0]


__all__ = [
    "FAISS_FILL_ABOVE", "LOOKUPS", "MAX_K", "MAX_QUERY_CHARS", "MAX_SHORTLIST", "MAX_THREADS", "MIN_CHUNK",
    "MIN_SHORTLIST", "WEIGHT_FRACTION_BITS", "Hit", "check_lookup", "check_text", "check_texts", "codes_and_weights",
    "cosine_scores", "default_radius", "default_threads", "encode_rows", "encode_terms", "fixed_point_weights",
    "knn_fill", "merge_candidates", "no_words_error", "order_shortlist", "query_bit_weights", "query_idf",
    "query_terms", "search", "search_batch", "search_each", "search_terms", "select_candidates", "text_terms",
    "weighted_distances",
]
