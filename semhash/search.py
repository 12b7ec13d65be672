"""The query path: text -> code -> Hamming ball -> shortlist -> re-rank -> hits.

Nothing here imports TensorFlow or scikit-learn: the query is vectorized with the saved
vocabulary and idf and encoded with the NumPy forward pass.

1. Vectorize the query; a query with no word of the vocabulary raises :class:`QueryError`.
2. Encode it to a packed binary code.
3. Look up every document within ``radius`` bits (bit flipping over the hash table, or
   multi-index hashing for long codes; see :mod:`semhash.hashtable`). The shortlist keeps at
   most ``MAX_SHORTLIST`` of them, the nearest first.
4. When the ball holds fewer documents than the shortlist needs, FAISS k-nearest-neighbour
   search over the same codes fills it (``k`` without re-ranking, ``max(k, MIN_SHORTLIST)``
   with it).
5. Re-rank the shortlist by TF-IDF cosine similarity (default), or rank by Hamming distance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .codes import encode_packed
from .errors import QueryError
from .vectorize import l2_normalize

MAX_K = 10_000
MIN_SHORTLIST = 100
MAX_SHORTLIST = 1000
MAX_QUERY_CHARS = 1_000_000


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


def merge_candidates(ball_ids, ball_dist, knn_ids, knn_dist, limit: int):
    """Union of the ball and the kNN fill, nearest first, at most ``limit`` documents."""
    ids = np.concatenate([ball_ids, knn_ids]).astype(np.int64)
    dist = np.concatenate([ball_dist, knn_dist]).astype(np.int32)
    ids, first = np.unique(ids, return_index=True)
    dist = dist[first]
    order = np.lexsort((ids, dist))[:limit]
    return ids[order], dist[order]


def rank_shortlist(ids, dist, qvec, tfidf, rerank: bool, k: int):
    """Top ``k`` of the shortlist: by cosine (ties by distance, id) or by (distance, id)."""
    if rerank and len(ids):
        scores = np.asarray((tfidf[ids] @ qvec.T).todense()).ravel().astype(np.float32)
        order = np.lexsort((ids, dist, -scores))[:k]
        return ids[order], dist[order], scores[order]
    order = np.lexsort((ids, dist))[:k]
    return ids[order], dist[order], None


def _search_vectors(index, qvecs, codes, k: int, radius: int, rerank: bool) -> list[list[Hit]]:
    n_bits = index.n_bits
    need = max(k, MIN_SHORTLIST) if rerank else k
    results = []
    for qvec, code in zip(qvecs, codes):
        ids, dist = index.table.ball(code, radius)
        if len(ids) < need:
            kids, kdist = index.faiss.knn(code, min(need, len(index.table)))
        else:
            kids, kdist = np.zeros(0, np.int64), np.zeros(0, np.int32)
        ids, dist = merge_candidates(ids, dist, kids, kdist, max(MAX_SHORTLIST, k))
        ids, dist, scores = rank_shortlist(ids, dist, qvec, index.tfidf, rerank, k)
        if scores is None:
            scores = 1.0 - dist / n_bits
        docs = index.documents(ids)
        results.append([
            Hit(rank=i + 1, id=docs[r].id, title=docs[r].title, snippet=docs[r].snippet, path=docs[r].path,
                distance=int(d), score=round(float(s), 6), row=int(r))
            for i, (r, d, s) in enumerate(zip(ids, dist, scores)) if int(r) in docs
        ])
    return results


def search_batch(index, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True) -> list[list[Hit]]:
    """Hits for each text, in input order. Raises :class:`QueryError` naming a bad query."""
    if isinstance(texts, str):
        raise QueryError("search_batch expects a list of queries, not a single string")
    texts = [check_text(t) for t in texts]
    radius = check_query_args(index.n_bits, k, radius)
    X = index.vectorizer.transform(texts)
    empty = np.flatnonzero(np.diff(X.indptr) == 0)
    if len(empty):
        bad = texts[empty[0]]
        shown = bad if len(bad) <= 60 else bad[:57] + "..."
        raise QueryError(
            f"no word of the query {shown!r} is in the index vocabulary; try other words "
            "(stop words and words seen in fewer than min_df documents are not indexed)"
        )
    codes = encode_packed(index.encoder, X)
    qvecs = l2_normalize(X)
    return _search_vectors(index, [qvecs[i] for i in range(len(texts))], codes, int(k), radius, rerank)


def search(index, text: str, k: int = 10, radius: int | None = None, rerank: bool = True) -> list[Hit]:
    """The ``k`` best documents for ``text``."""
    return search_batch(index, [text], k=k, radius=radius, rerank=rerank)[0]
