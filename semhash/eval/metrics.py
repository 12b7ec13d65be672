"""Retrieval metrics over codes or scores: small pure functions over arrays.

Every query ranks the whole database, by Hamming distance (codes) or by score (the references);
ties are broken at random with a fixed seed, and a hit is a database document that shares a label
with the query (:mod:`.labels`: label ids, or bitsets for multi-label corpora). Precision@k and
the mean average precision (MAP) come from the same ranking. Hamming distances come from
:func:`semhash.codes.hamming_matrix`, the product's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..codes import bit_balance, hamming_matrix, pack_bits
from .labels import check_labels, relevance_matrix, relevant_counts, shares_label


def _check_ks(ks: Iterable[int], n_db: int) -> np.ndarray:
    ks_arr = np.array(sorted({int(k) for k in ks}), dtype=np.int64)
    if ks_arr.size == 0 or ks_arr[0] < 1:
        raise ValueError(f"ks must be positive integers, got {list(ks)}")
    if ks_arr[-1] > n_db:
        raise ValueError(f"k={ks_arr[-1]} exceeds the database size {n_db}")
    return ks_arr


def rank_with_random_ties(costs: np.ndarray, n_keep: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``n_keep`` lowest costs of each row, ties in random order.

    Each row's columns are shuffled by an independent random permutation and then sorted
    stably, so equal costs come out in a uniformly random order.
    """
    n_q, n_db = costs.shape
    perm = rng.permuted(np.broadcast_to(np.arange(n_db, dtype=np.int64), (n_q, n_db)), axis=1)
    shuffled = np.take_along_axis(costs, perm, axis=1)
    order = np.argsort(shuffled, axis=1, kind="stable")[:, :n_keep]
    return np.take_along_axis(perm, order, axis=1)


def _small_int(distances: np.ndarray, n_bits: int) -> np.ndarray:
    # the smallest integer type sorts fastest (NumPy radix-sorts 8- and 16-bit integers)
    return distances.astype(np.uint8 if n_bits < 256 else np.uint16 if n_bits < 65536 else np.int32)


def average_precisions(relevant: np.ndarray) -> np.ndarray:
    """Average precision of each row of a full ranking's relevance ``(m, n_db)``: the mean of the
    precision at the rank of each relevant document; NaN for a query with none."""
    hits = np.cumsum(relevant, axis=1)
    ranks = np.arange(1, relevant.shape[1] + 1, dtype=np.float64)
    n_relevant = hits[:, -1] if relevant.shape[1] else np.zeros(relevant.shape[0], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(relevant, hits / ranks, 0.0).sum(axis=1) / np.where(n_relevant > 0, n_relevant, np.nan)


def _rank_metrics(
    cost_chunks: Iterable[tuple[slice, np.ndarray]],
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: np.ndarray,
    seed: int,
) -> tuple[dict[int, float], float]:
    """Precision@k for each k and the MAP, from one ranking of the whole database per query.

    The tie-breaking draws do not depend on how many ranks are kept, so precision@k is the same
    number it was when only the top ``max(ks)`` were ranked. MAP averages over the queries with
    at least one relevant database document (NaN when none has).
    """
    rng = np.random.default_rng(seed)
    totals = np.zeros(ks.size, dtype=np.float64)
    ap_sum, ap_count = 0.0, 0
    for rows, costs in cost_chunks:
        ranking = rank_with_random_ties(costs, costs.shape[1], rng)
        relevant = shares_label(db_labels[ranking], query_labels[rows])
        hits = np.cumsum(relevant[:, : int(ks[-1])], axis=1)
        totals += hits[:, ks - 1].sum(axis=0) / ks
        ap = average_precisions(relevant)
        ap_sum += float(np.nansum(ap))
        ap_count += int(np.count_nonzero(~np.isnan(ap)))
    n_q = query_labels.shape[0]
    p_at_k = {int(k): float(t / n_q) if n_q else float("nan") for k, t in zip(ks, totals)}
    return p_at_k, ap_sum / ap_count if ap_count else float("nan")


def _hamming_chunks(
    query_codes_packed: np.ndarray, db_codes_packed: np.ndarray, chunk_size: int
) -> Iterator[tuple[slice, np.ndarray]]:
    n_bits = db_codes_packed.shape[1] * 8
    for start in range(0, query_codes_packed.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        yield rows, _small_int(hamming_matrix(query_codes_packed[rows], db_codes_packed), n_bits)


def _score_chunks(scores: np.ndarray, chunk_size: int) -> Iterator[tuple[slice, np.ndarray]]:
    for start in range(0, scores.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        yield rows, -np.asarray(scores[rows], dtype=np.float32)


def hamming_ranking_metrics(
    db_codes_packed: np.ndarray,
    db_labels: np.ndarray,
    query_codes_packed: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> tuple[dict[int, float], float]:
    """``(precision@k by k, MAP)`` over queries, ranking the database by Hamming distance.

    Ties in distance are broken at random (``seed``); a hit is a database document that shares a
    label with the query. Queries are processed ``chunk_size`` at a time to bound memory.
    """
    db_codes_packed = np.asarray(db_codes_packed, dtype=np.uint8)
    query_codes_packed = np.asarray(query_codes_packed, dtype=np.uint8)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    if db_codes_packed.ndim != 2 or query_codes_packed.shape[1:] != db_codes_packed.shape[1:]:
        raise ValueError(
            f"packed codes must be 2-D of equal width, got {db_codes_packed.shape} and {query_codes_packed.shape}"
        )
    n_db = db_codes_packed.shape[0]
    check_labels(db_labels, query_labels, n_db, query_codes_packed.shape[0])
    ks_arr = _check_ks(ks, n_db)
    chunks = _hamming_chunks(query_codes_packed, db_codes_packed, chunk_size)
    return _rank_metrics(chunks, db_labels, query_labels, ks_arr, seed)


def precision_at_k(
    db_codes_packed: np.ndarray,
    db_labels: np.ndarray,
    query_codes_packed: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[int, float]:
    """Mean precision@k over queries, ranking the database by Hamming distance
    (:func:`hamming_ranking_metrics` without the MAP)."""
    return hamming_ranking_metrics(db_codes_packed, db_labels, query_codes_packed, query_labels, ks, seed,
                                   chunk_size)[0]


def score_ranking_metrics(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> tuple[dict[int, float], float]:
    """``(precision@k by k, MAP)`` for real-valued scores ``(n_queries, n_db)``, higher is better.

    Equal scores (e.g. documents sharing no word with the query) are ordered at random.
    """
    scores = np.asarray(scores)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_queries, n_db), got shape {scores.shape}")
    check_labels(db_labels, query_labels, scores.shape[1], scores.shape[0])
    ks_arr = _check_ks(ks, scores.shape[1])
    return _rank_metrics(_score_chunks(scores, chunk_size), db_labels, query_labels, ks_arr, seed)


def precision_at_k_scores(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[int, float]:
    """Mean precision@k for real-valued scores (:func:`score_ranking_metrics` without the MAP)."""
    return score_ranking_metrics(scores, db_labels, query_labels, ks, seed, chunk_size)[0]


def _pr_summary(hits: np.ndarray, retrieved: np.ndarray, relevant: np.ndarray) -> dict[str, list]:
    """Per-query hits/retrieved ``(n_q, n_points)`` to macro precision and recall per point.

    Precision averages over the queries that retrieve something at that point (``None`` when
    none does); recall averages over the queries with at least one relevant document.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(retrieved > 0, hits / np.maximum(retrieved, 1), np.nan)
        answered = retrieved > 0
        n_answered = answered.sum(axis=0)
        precision = np.where(n_answered > 0, np.nansum(prec, axis=0) / np.maximum(n_answered, 1), np.nan)
        has_rel = relevant > 0
        recall = (hits[has_rel] / relevant[has_rel, None]).mean(axis=0) if has_rel.any() else np.full(hits.shape[1], np.nan)
    return {
        "precision": [None if np.isnan(p) else float(p) for p in precision],
        "recall": [None if np.isnan(r) else float(r) for r in recall],
        "answered": [float(a) for a in answered.mean(axis=0)],
        "retrieved": [float(r) for r in retrieved.mean(axis=0)],
    }


def precision_recall_by_radius(
    db_codes_packed: np.ndarray,
    db_labels: np.ndarray,
    query_codes_packed: np.ndarray,
    query_labels: np.ndarray,
    n_bits: int | None = None,
    chunk_size: int = 500,
) -> dict[str, list]:
    """Precision and recall of Hamming-ball retrieval for every radius ``0..n_bits``.

    At radius r a query retrieves every database code within distance r. Returns lists indexed
    by radius: ``radius``, ``precision`` (mean over queries that retrieve at least one document;
    ``None`` where no query does), ``recall`` (mean over queries), ``answered`` (fraction of
    queries retrieving something) and ``retrieved`` (mean number of documents retrieved).
    No randomness: a ball holds all its ties.
    """
    db_codes_packed = np.asarray(db_codes_packed, dtype=np.uint8)
    query_codes_packed = np.asarray(query_codes_packed, dtype=np.uint8)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    n_db, n_q = db_codes_packed.shape[0], query_codes_packed.shape[0]
    check_labels(db_labels, query_labels, n_db, n_q)
    n_bits = db_codes_packed.shape[1] * 8 if n_bits is None else int(n_bits)
    width = n_bits + 1
    hits = np.zeros((n_q, width), dtype=np.int64)
    retrieved = np.zeros((n_q, width), dtype=np.int64)
    for start in range(0, n_q, chunk_size):
        rows = slice(start, start + chunk_size)
        dist = hamming_matrix(query_codes_packed[rows], db_codes_packed)
        m = dist.shape[0]
        flat = (dist + (np.arange(m)[:, None] * width)).ravel()
        same = relevance_matrix(query_labels[rows], db_labels).ravel()
        retrieved[rows] = np.bincount(flat, minlength=m * width).reshape(m, width)
        hits[rows] = np.bincount(flat, weights=same, minlength=m * width).reshape(m, width).astype(np.int64)
    hits = np.cumsum(hits, axis=1)
    retrieved = np.cumsum(retrieved, axis=1)
    relevant = relevant_counts(db_labels, query_labels, chunk_size)
    return {"radius": list(range(width)), **_pr_summary(hits, retrieved, relevant)}


def rank_cutoffs(n_db: int, n_points: int = 40) -> list[int]:
    """Log-spaced ranks ``1..n_db`` (always including ``n_db``), for rank-based PR curves."""
    pts = np.unique(np.round(np.logspace(0, np.log10(max(n_db, 1)), n_points)).astype(np.int64))
    return sorted(set(pts.tolist()) | {n_db})


def precision_recall_by_rank(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    cutoffs: Iterable[int],
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[str, list]:
    """Precision and recall of the top-c documents by score for each cutoff c (higher is better).

    The rank analogue of :func:`precision_recall_by_radius` for methods without codes; ties are
    ordered at random with ``seed``. Returns ``rank`` plus the same keys.
    """
    scores = np.asarray(scores)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    n_q, n_db = scores.shape
    check_labels(db_labels, query_labels, n_db, n_q)
    cut = _check_ks(cutoffs, n_db)
    rng = np.random.default_rng(seed)
    hits = np.zeros((n_q, cut.size), dtype=np.int64)
    for rows, costs in _score_chunks(scores, chunk_size):
        top = rank_with_random_ties(costs, int(cut[-1]), rng)
        hits[rows] = np.cumsum(shares_label(db_labels[top], query_labels[rows]), axis=1)[:, cut - 1]
    retrieved = np.broadcast_to(cut, hits.shape)
    return {"rank": cut.tolist(), **_pr_summary(hits, retrieved, relevant_counts(db_labels, query_labels, chunk_size))}



def code_metrics(
    train_bits: np.ndarray,
    query_bits: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int],
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[str, Any]:
    """A hashing run's numbers: precision@k, MAP, precision-recall by radius and the bit balance."""
    db_packed, q_packed = pack_bits(train_bits), pack_bits(query_bits)
    pak, mean_ap = hamming_ranking_metrics(db_packed, db_labels, q_packed, query_labels, ks, seed, chunk_size)
    pr = precision_recall_by_radius(db_packed, db_labels, q_packed, query_labels, train_bits.shape[1], chunk_size)
    return {"p_at_k": pak, "map": mean_ap, "pr": pr, "bit_balance": [float(x) for x in bit_balance(train_bits)]}


def score_metrics(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int],
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[str, Any]:
    """A reference run's numbers: precision@k, MAP and precision-recall by rank."""
    pak, mean_ap = score_ranking_metrics(scores, db_labels, query_labels, ks, seed, chunk_size)
    cut = rank_cutoffs(scores.shape[1])
    pr = precision_recall_by_rank(scores, db_labels, query_labels, cut, seed, chunk_size)
    return {"p_at_k": pak, "map": mean_ap, "pr": pr}
