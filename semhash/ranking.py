"""The ranking maths of the query pipeline, as small pure functions over arrays: candidates merged
and selected by the query-weighted Hamming distance, re-ranked by TF-IDF cosine, ordered.

The **query-weighted Hamming distance** of a document is the sum, over the bits where it differs
from the query, of how sure the query is of that bit (the distance of its code-layer logit from
the bit's threshold, :func:`query_bit_weights`). Documents at the same Hamming distance are thus
told apart, and an unsure bit counts less than a sure one (an asymmetric distance, Gordo et al.
2014; ``benchmarks/WEIGHTED.md``). The index stores only bits; the weights come from the query.
They are rounded to fixed point (:func:`fixed_point_weights`) so the sums are exact: documents
with equal codes tie exactly and are ordered by row, whichever source, batch or thread.

NumPy only: the query path uses this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .bitflip import expand_ranges
from .codes import csr_arrays_for_rows

# bit weights are fixed point with this many fractional bits (see fixed_point_weights)
WEIGHT_FRACTION_BITS = 32


def query_bit_weights(logits: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How sure a query is of each of its bits: the distance (float64) of each code-layer logit
    from that bit's threshold."""
    return np.abs(np.asarray(logits, dtype=np.float64) - np.asarray(thresholds, dtype=np.float64))


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
    where it differs from the query (exact, so equal codes get equal distances).

    One table per code byte holds the weight of each of its 256 difference patterns, so a row
    costs a lookup per byte instead of a product per bit (the sums are exact either way)."""
    codes = np.asarray(codes, dtype=np.uint8)
    if len(codes) == 0:
        return np.zeros(0)
    n_bytes = codes.shape[1]
    weights = np.zeros(n_bytes * 8)
    weights[: len(bit_weights)] = fixed_point_weights(bit_weights)
    tables = weights.reshape(n_bytes, 8) @ _BYTE_BITS.T  # (n_bytes, 256): the weight of each pattern
    differ = np.bitwise_xor(codes, query).T  # byte-major: each byte's patterns are one gather
    out = tables[0][differ[0]]
    for b in range(1, n_bytes):
        out += tables[b][differ[b]]
    return out


_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float64)  # MSB first


def merge_candidates(ball_ids: np.ndarray, ball_dist: np.ndarray, knn_ids: np.ndarray, knn_dist: np.ndarray,
                     limit: int | None) -> tuple[np.ndarray, np.ndarray]:
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


def select_candidates(ids: np.ndarray, dist: np.ndarray, limit: int, rerank: bool, code: np.ndarray,
                      bit_weights: np.ndarray | None, codes_of: Callable[[np.ndarray], np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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
        # the limit-th smallest by a sort: a ball's weighted distances take few distinct values,
        # and np.partition slows down on so many ties (2.9 ms against 0.4 ms on a 30k ball)
        keep = np.flatnonzero(wdist <= np.sort(wdist)[limit - 1])
        ids, dist, wdist = ids[keep], dist[keep], wdist[keep]
    order = np.lexsort((ids, wdist))[:limit]
    return ids[order], dist[order], wdist[order]


def cosine_scores(tfidf: Any, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
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


def order_shortlist(ids: np.ndarray, dist: np.ndarray, scores: np.ndarray | None, k: int,
                    wdist: np.ndarray | None = None, bit_weights: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Top ``k`` with a score each.

    By ``scores`` (ties by distance, id) when given; else in the query-weighted order of
    :func:`select_candidates` when ``wdist`` is given (score ``1 - wdist / sum(bit_weights)``);
    else by (distance, id) (score ``None``: the caller gives ``1 - distance / n_bits``).
    """
    if scores is not None and len(ids):
        order = np.lexsort((ids, dist, -scores))[:k]
        return ids[order], dist[order], scores[order]
    if wdist is not None and bit_weights is not None:
        total = max(float(np.sum(fixed_point_weights(bit_weights))), 1e-12)
        return ids[:k], dist[:k], 1.0 - wdist[:k] / total
    order = np.lexsort((ids, dist))[:k]
    return ids[order], dist[order], None


__all__ = [
    "WEIGHT_FRACTION_BITS", "cosine_scores", "fixed_point_weights", "merge_candidates", "order_shortlist",
    "query_bit_weights", "select_candidates", "weighted_distances",
]
