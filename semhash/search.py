"""The query path: text -> code -> Hamming ball -> shortlist -> re-rank -> hits.

Nothing here imports TensorFlow or scikit-learn: the query is vectorized with the saved
vocabulary and idf and encoded with the NumPy forward pass.

1. Vectorize the query; a query with no word of the vocabulary raises :class:`QueryError`.
2. Encode it to a packed binary code.
3. Look up every document within ``radius`` bits (bit flipping over the hash table, or
   multi-index hashing for long codes, or a scan; ``lookup=`` forces one, see
   :mod:`semhash.hashtable`).
4. When the ball holds fewer documents than the shortlist needs, an exact k-nearest-neighbour
   scan of the same codes (NumPy, or FAISS for large databases) fills it (``k`` without
   re-ranking, ``max(k, MIN_SHORTLIST)`` with it).
5. The shortlist keeps at most ``MAX_SHORTLIST`` of these candidates, the nearest by the
   **query-weighted Hamming distance**: the sum, over the bits where a document differs from
   the query, of how sure the query is of that bit (the distance of its code-layer logit from
   the bit's threshold, :func:`query_bit_weights`). Documents at the same Hamming distance are
   thus told apart, and an unsure bit counts less than a sure one (an asymmetric distance,
   Gordo et al. 2014; ``benchmarks/WEIGHTED.md``). The index stores only bits; the weights
   come from the query. The weights are rounded to fixed point (:func:`fixed_point_weights`)
   so the sums are exact: documents with equal codes tie exactly and are ordered by row, in a
   single search, a batch and the PostgreSQL searcher alike.
6. Re-rank the shortlist by TF-IDF cosine similarity (default), or keep the query-weighted
   order (``rerank=False``; the score is then ``1 - weighted distance / sum of the weights``).

Each query is vectorized with the saved vocabulary and idf directly (:func:`query_terms`)
and re-ranked straight from the CSR arrays of the TF-IDF rows (:func:`cosine_scores`), so a
single query pays no SciPy matrix construction for those steps. In a batch, steps 3-5 run on
a few threads over contiguous chunks of queries (NumPy releases the GIL in its loops), and
the document store is read once for the whole batch; the hits are identical to single
searches, in input order.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from .codes import CsrArrays, binarize, csr_arrays_for_rows, encode_logits, pack_bits
from .errors import QueryError
from .hashtable import expand_ranges
from .vectorize import term_counts

MAX_K = 10_000
MIN_SHORTLIST = 100
MAX_SHORTLIST = 1000
MAX_QUERY_CHARS = 1_000_000
# Hamming-ball methods of semhash.hashtable ("auto" picks by estimated cost)
LOOKUPS = ("auto", "table", "mih", "scan")
# the kNN fill uses FAISS from this many documents on (below, the NumPy scan is as fast)
FAISS_FILL_ABOVE = 200_000
# batch search: at most this many threads, each given at least MIN_CHUNK queries
MAX_THREADS = 8
MIN_CHUNK = 16
# bit weights are fixed point with this many fractional bits (see fixed_point_weights)
WEIGHT_FRACTION_BITS = 32


@dataclass(frozen=True)
class Hit:
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


def default_radius(n_bits: int) -> int:
    """A radius whose ball is cheap to enumerate and usually non-empty."""
    return 1 if n_bits <= 16 else 2 if n_bits <= 64 else 3


def check_query_args(n_bits: int, k, radius) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise QueryError(f"k must be a positive whole number, got {k!r}")
    if k > MAX_K:
        raise QueryError(f"k must be at most {MAX_K}, got {k}")
    if radius is None:
        return default_radius(n_bits)
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or not 0 <= radius <= n_bits:
        raise QueryError(f"radius must be a whole number from 0 to {n_bits} (the code length), got {radius!r}")
    return int(radius)


def check_text(text) -> str:
    if not isinstance(text, str):
        raise QueryError(f"a query must be a string, got {type(text).__name__}")
    if not text.strip():
        raise QueryError("the query is empty; give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query has {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    return text


def merge_candidates(ball_ids, ball_dist, knn_ids, knn_dist, limit: int | None):
    """Union of the ball and the kNN fill, nearest first, at most ``limit`` documents (all
    with ``None``).

    Both inputs are sorted by ``(distance, id)`` without duplicates (as the lookups return
    them), so with no fill the ball's head is the answer.
    """
    if len(knn_ids) == 0:
        return np.asarray(ball_ids, np.int64)[:limit], np.asarray(ball_dist, np.int32)[:limit]
    ids = np.concatenate([ball_ids, knn_ids]).astype(np.int64)
    dist = np.concatenate([ball_dist, knn_dist]).astype(np.int32)
    ids, first = np.unique(ids, return_index=True)
    dist = dist[first]
    order = np.lexsort((ids, dist))[:limit]
    return ids[order], dist[order]


def query_terms(vocabulary: dict, idf, text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, weights)`` of one text, columns ascending: the saved vocabulary and idf
    applied directly (the same weights as :meth:`Vectorizer.transform`, without SciPy)."""
    counts = term_counts(text, vocabulary)
    cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    order = np.argsort(cols)
    cols, tf = cols[order], tf[order]
    if idf is None:
        return cols, tf
    return cols, np.log1p(tf) * idf[cols]


def query_idf(vectorizer):
    """``vectorizer.idf_``, computed once per fitted vectorizer (``None`` for counts)."""
    cached = getattr(vectorizer, "_query_idf", None)
    key = (id(vectorizer.df_), vectorizer.n_docs_, vectorizer.config.weighting)
    if cached is None or cached[0] != key:
        cached = (key, vectorizer.idf_)
        vectorizer._query_idf = cached
    return cached[1]


def query_bit_weights(logits: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How sure a query is of each of its bits: the distance (float64) of each code-layer logit
    from that bit's threshold."""
    return np.abs(np.asarray(logits, dtype=np.float64) - np.asarray(thresholds, dtype=np.float64))


def encode_terms(encoder, cols: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed code ``(n_bytes,)`` and bit weights ``(n_bits,)`` of one sparse row (:func:`encode_rows`)."""
    codes, bit_weights = encode_rows(encoder, [(cols, weights)])
    return codes[0], bit_weights[0]


def encode_rows(encoder, terms: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`codes_and_weights` of several ``(columns, weights)`` rows in one forward pass
    (the float64 pass of :mod:`semhash.codes` gives each row the bits it gets alone)."""
    return codes_and_weights(encoder, CsrArrays.from_rows(terms, encoder.n_inputs))


def codes_and_weights(encoder, X) -> tuple[np.ndarray, np.ndarray]:
    """Packed codes ``(n, n_bytes)`` of the rows of ``X`` (the bits of
    :func:`semhash.codes.encode_packed`) and their bit weights (:func:`query_bit_weights`)."""
    logits = encode_logits(encoder, X)
    return pack_bits(binarize(logits, encoder.thresholds)), query_bit_weights(logits, encoder.thresholds)


def fixed_point_weights(bit_weights: np.ndarray) -> np.ndarray:
    """``bit_weights`` (float64) rounded to multiples of ``2**-WEIGHT_FRACTION_BITS`` and capped so
    that the weights of all bits sum to less than ``2**(53 - WEIGHT_FRACTION_BITS)``.

    Every sum of such weights is then exact in float64, whatever order it is added in: two
    documents with the same code get exactly the same weighted distance wherever they sit in a
    BLAS product, a batch or a thread, so ties always fall to the row number.
    """
    w = np.asarray(bit_weights, dtype=np.float64)
    cap = 2.0 ** (52 - WEIGHT_FRACTION_BITS) / max(len(w), 1)
    return np.ldexp(np.round(np.ldexp(np.clip(w, 0.0, cap), WEIGHT_FRACTION_BITS)), -WEIGHT_FRACTION_BITS)


def weighted_distances(codes: np.ndarray, query: np.ndarray, bit_weights: np.ndarray) -> np.ndarray:
    """Query-weighted Hamming distances (float64) from one packed ``query`` to packed ``codes``:
    for each row, the sum of the :func:`fixed_point_weights` of ``bit_weights`` over the bits
    where it differs from the query (exact, so equal codes get equal distances)."""
    if len(codes) == 0:
        return np.zeros(0)
    differ = np.unpackbits(np.bitwise_xor(np.asarray(codes, dtype=np.uint8), query), axis=1, count=len(bit_weights))
    return differ @ fixed_point_weights(bit_weights)


def select_candidates(ids, dist, limit: int, rerank: bool, code, bit_weights, codes_of):
    """At most ``limit`` candidates (``ids``, ``dist`` sorted by ``(distance, id)``) and their
    query-weighted distances (``None`` where they were not needed).

    The weighted distance orders them when there are more than ``limit`` (which to re-rank) or
    no re-ranking follows (the hits' order); otherwise the cosine re-ranking sees them all and
    the order does not matter. ``codes_of(ids)`` gives the candidates' packed codes.
    """
    if bit_weights is None or (rerank and len(ids) <= limit):
        return ids[:limit], dist[:limit], None
    wdist = weighted_distances(codes_of(ids), code, bit_weights)
    if len(ids) > limit:  # only those up to the limit-th distance (all of its ties) need sorting
        keep = np.flatnonzero(wdist <= np.partition(wdist, limit - 1)[limit - 1])
        ids, dist, wdist = ids[keep], dist[keep], wdist[keep]
    order = np.lexsort((ids, wdist))[:limit]
    return ids[order], dist[order], wdist[order]


def cosine_scores(tfidf, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Dot products (float32) of the CSR rows ``rows`` of ``tfidf`` with one sparse query,
    straight from the CSR arrays (no SciPy call)."""
    indptr, indices, data = csr_arrays_for_rows(tfidf, rows)  # checked where they are read lazily
    starts, ends = indptr[rows], indptr[rows + 1]
    pos = expand_ranges(starts, ends)
    q = np.zeros(tfidf.shape[1], dtype=np.float32)
    q[cols] = weights
    qw = q[indices[pos]]
    # only the stored words the query shares count: a query has a few words, so this keeps a
    # small share of the positions (a quarter less time than summing them all, on 20NG rows)
    shared = np.flatnonzero(qw)
    seg = np.searchsorted(np.cumsum(ends - starts), shared, side="right")  # the row of each position
    return np.bincount(seg, weights=data[pos[shared]] * qw[shared], minlength=len(rows)).astype(np.float32)


def order_shortlist(ids, dist, scores, k: int, wdist=None, bit_weights=None):
    """Top ``k`` with a score each.

    By ``scores`` (ties by distance, id) when given; else in the query-weighted order of
    :func:`select_candidates` when ``wdist`` is given (score ``1 - wdist / sum(bit_weights)``);
    else by (distance, id) (score ``1 - distance / n_bits``, filled in by the caller).
    """
    if scores is not None and len(ids):
        order = np.lexsort((ids, dist, -scores))[:k]
        return ids[order], dist[order], scores[order]
    if wdist is not None:
        total = max(float(np.sum(fixed_point_weights(bit_weights))), 1e-12)
        return ids[:k], dist[:k], 1.0 - wdist[:k] / total
    order = np.lexsort((ids, dist))[:k]
    return ids[order], dist[order], None


def rank_shortlist(ids, dist, query, tfidf, rerank: bool, k: int, wdist=None, bit_weights=None):
    """Top ``k`` of the shortlist: by cosine (ties by distance, id) or as :func:`order_shortlist`.

    ``query`` is ``(columns, weights)`` of the L2-normalized query row.
    """
    scores = cosine_scores(tfidf, ids, *query) if rerank and len(ids) else None
    return order_shortlist(ids, dist, scores, k, wdist, bit_weights)


def check_lookup(lookup: str) -> str:
    if lookup not in LOOKUPS:
        raise QueryError(f"lookup must be one of {', '.join(LOOKUPS)}, got {lookup!r}")
    return lookup


def knn_fill(index, code, k: int):
    """The ``k`` nearest documents by a full scan, sorted by ``(distance, id)``.

    FAISS when it is already loaded or the database is large (its scan is compiled and
    multi-threaded); otherwise the NumPy scan of the hash table, which answers the same and
    spares a cold process the FAISS import.
    """
    if index._faiss is not None or len(index.table) >= FAISS_FILL_ABOVE:
        return index.faiss.knn(code, k)
    return index.table.knn(code, k)


def shortlist(index, code, query, k: int, radius: int, rerank: bool, lookup: str, bit_weights=None):
    """Ranked ``(rows, distances, scores)`` of one encoded query (no document store access).

    ``bit_weights`` (from :func:`encode_rows`) turn on the query-weighted order; without them
    candidates are taken and ranked by ``(distance, id)``.
    """
    need = max(k, MIN_SHORTLIST) if rerank else k
    ids, dist = index.table.ball(code, radius, method=lookup)
    if len(ids) < need:
        kids, kdist = knn_fill(index, code, min(need, len(index.table)))
    else:
        kids, kdist = np.zeros(0, np.int64), np.zeros(0, np.int32)
    ids, dist = merge_candidates(ids, dist, kids, kdist, None)
    ids, dist, wdist = select_candidates(ids, dist, max(MAX_SHORTLIST, k), rerank, code, bit_weights,
                                         index.table.codes_of)
    ids, dist, scores = rank_shortlist(ids, dist, query, index.tfidf, rerank, k, wdist, bit_weights)
    if scores is None:
        scores = 1.0 - dist / index.n_bits
    return ids, dist, scores


def _map_chunks(fn, n: int, threads: int) -> list:
    """``[fn(i) for i in range(n)]``, over ``threads`` contiguous chunks, in input order."""
    if threads <= 1 or n < 2 * MIN_CHUNK:
        return [fn(i) for i in range(n)]
    from concurrent.futures import ThreadPoolExecutor

    n_chunks = min(threads, n // MIN_CHUNK)
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        parts = pool.map(lambda ab: [fn(i) for i in range(ab[0], ab[1])], zip(bounds[:-1], bounds[1:]))
        return [r for part in parts for r in part]


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def _search_vectors(index, queries, codes, bit_weights, k: int, radius: int, rerank: bool,
                    lookup: str = "auto", threads: int = 1) -> list[list[Hit]]:
    if index._faiss is None and len(index.table) >= FAISS_FILL_ABOVE and threads > 1:
        index.faiss  # load once here, not from several threads at the same time
    def one(i):
        return shortlist(index, codes[i], queries[i], k, radius, rerank, lookup, bit_weights[i])

    # the first query runs alone: it builds the table's lazy caches (multi-index tables,
    # the searchable key view) once, before any thread could race to build them (the id index
    # of codes_of is built when a query first needs it; two threads building it at once
    # would build the same arrays)
    ranked = [one(0)] + _map_chunks(lambda i: one(i + 1), len(codes) - 1, threads) if len(codes) else []
    wanted = np.unique(np.concatenate([r[0] for r in ranked])) if ranked else []
    docs = index.documents(wanted)  # one store read for the whole batch, in this thread
    return [
        [
            Hit(rank=i + 1, id=docs[r].id, title=docs[r].title, snippet=docs[r].snippet, path=docs[r].path,
                distance=int(d), score=round(float(s), 6), row=int(r))
            for i, (r, d, s) in enumerate(zip(ids, dist, scores)) if int(r) in docs
        ]
        for ids, dist, scores in ranked
    ]


def no_words_error(text: str) -> QueryError:
    """The error for a text with no word of the index vocabulary."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    return QueryError(
        f"no word of the query {shown!r} is in the index vocabulary; try other words "
        "(stop words and words seen in fewer than min_df documents are not indexed)"
    )


def text_terms(index, text) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, weights)`` of one query text (:func:`query_terms`), after the checks every
    text gets (:func:`check_text`, at least one word of the vocabulary); :class:`QueryError`
    otherwise."""
    check_text(text)
    vec = index.vectorizer
    vec._check_fitted()
    cols, weights = query_terms(vec.vocabulary_, query_idf(vec), text)
    if len(cols) == 0:
        raise no_words_error(text)
    return cols, weights


def check_texts(index, texts: list[str]) -> list:
    """For each text, its ``(columns, weights)`` (:func:`text_terms`) or the :class:`QueryError`
    that says why it cannot be searched."""
    if isinstance(texts, str):
        raise QueryError("expected a list of queries, not a single string")
    out = []
    for text in texts:
        try:
            out.append(text_terms(index, text))
        except QueryError as exc:
            out.append(exc)
    return out


def _search_terms(index, terms: list, k: int, radius: int, rerank: bool, lookup: str,
                  threads: int) -> list[list[Hit]]:
    """Hits of already vectorized queries (``(columns, weights)`` each), in input order."""
    if not terms:
        return []
    codes, bit_weights = encode_rows(index.encoder, terms)
    queries = [(cols, w / np.float32(np.sqrt(np.sum(w * w)))) for cols, w in terms]
    return _search_vectors(index, queries, codes, bit_weights, int(k), radius, rerank, lookup, threads)


def search_batch(index, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                 lookup: str = "auto", threads: int | None = None) -> list[list[Hit]]:
    """Hits for each text, in input order. Raises :class:`QueryError` naming a bad query
    (:func:`search_each` answers the other texts instead).

    Each text is vectorized and encoded on its own; the lookups and re-ranking run on
    ``threads`` threads over contiguous chunks of queries (default: the cores, at most
    ``MAX_THREADS``). Results are identical to calling :func:`search` on each text.
    """
    if isinstance(texts, str):
        raise QueryError("search_batch expects a list of queries, not a single string")
    texts = [check_text(t) for t in texts]
    radius = check_query_args(index.n_bits, k, radius)
    lookup = check_lookup(lookup)
    threads = default_threads() if threads is None else max(1, int(threads))
    # one query at a time: a single search and a batch compute exactly the same floats
    terms = check_texts(index, texts)
    bad = next((t for t in terms if isinstance(t, QueryError)), None)
    if bad is not None:
        raise bad
    return _search_terms(index, terms, k, radius, rerank, lookup, threads)


def search_each(index, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                lookup: str = "auto", threads: int | None = None) -> list:
    """:func:`search_batch` that answers every text: its hits, or the :class:`QueryError` saying
    why it cannot be searched (empty, too long, no word of the vocabulary), in input order.

    Bad ``k``, ``radius`` or ``lookup`` still raise (they concern every text). The texts that
    can be searched get exactly the hits :func:`search_batch` gives them.
    """
    if isinstance(texts, str):
        raise QueryError("search_each expects a list of queries, not a single string")
    radius = check_query_args(index.n_bits, k, radius)
    lookup = check_lookup(lookup)
    threads = default_threads() if threads is None else max(1, int(threads))
    checked = check_texts(index, texts)
    good = [i for i, t in enumerate(checked) if not isinstance(t, QueryError)]
    hits = _search_terms(index, [checked[i] for i in good], k, radius, rerank, lookup, threads)
    out = list(checked)
    for i, h in zip(good, hits):
        out[i] = h
    return out


def search(index, text: str, k: int = 10, radius: int | None = None, rerank: bool = True,
           lookup: str = "auto") -> list[Hit]:
    """The ``k`` best documents for ``text``."""
    return search_batch(index, [text], k=k, radius=radius, rerank=rerank, lookup=lookup, threads=1)[0]
