"""Hamming distance over packed codes: the one popcount-of-XOR implementation, and hits sorted by
``(distance, id)``.

Every Hamming distance semhash computes on the CPU (the hash table's scans and key scans,
multi-index verification, kNN, the evaluation's distance matrices) goes through
:func:`word_hamming`: packed codes are read as the widest unsigned machine words that divide
their length, XORed a word column at a time and counted with ``np.bitwise_count`` (a byte
lookup table on NumPy < 2). A word column at a time keeps the temporaries to one word per
pair; :func:`hamming_matrix` also works in blocks of database codes so they stay small.

NumPy only: the query path uses this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import is_whole

# popcount of every byte value (the fallback of popcount on NumPy < 2)
POPCOUNT8 = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)
# hamming_matrix computes at most about this many distances at once (bounds its temporaries)
BLOCK_CELLS = 2**18
ID_BITS = 48  # sort_hits packs (distance, id) into one int64 when 0 <= id < 2**ID_BITS


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits (uint8) of each element of an unsigned integer array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    x = np.ascontiguousarray(x)
    return POPCOUNT8[x.view(np.uint8).reshape(*x.shape, x.itemsize)].sum(axis=-1, dtype=np.uint8)


def as_words(packed: np.ndarray) -> np.ndarray:
    """Packed codes ``(..., n_bytes)`` viewed as the widest unsigned words (8, 4, 2 or 1 bytes)
    that divide ``n_bytes`` (no copy when they are contiguous uint8)."""
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    n_bytes = packed.shape[-1]
    width = next(w for w in (8, 4, 2, 1) if n_bytes % w == 0) if n_bytes else 1
    return packed.view(np.dtype(f"u{width}"))


def word_hamming(query_words: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Hamming distances (int32) ``(n_queries, n)`` between rows of unsigned words
    ``(n_queries, w)`` and ``(n, w)``: a loop over the ``w`` word columns, not over rows."""
    out = np.zeros((len(query_words), len(words)), dtype=np.int32)
    for j in range(words.shape[1]):
        out += popcount(query_words[:, j : j + 1] ^ words[:, j])
    return out


def hamming_matrix(queries: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """All Hamming distances (int32) ``(n_queries, n_db)`` between two sets of packed codes."""
    qw, dw = as_words(np.asarray(queries).reshape(-1, np.shape(packed)[-1])), as_words(packed)
    block = max(1024, BLOCK_CELLS // max(len(qw), 1))
    if len(dw) <= block:
        return word_hamming(qw, dw)
    out = np.empty((len(qw), len(dw)), dtype=np.int32)
    for start in range(0, len(dw), block):
        out[:, start : start + block] = word_hamming(qw, dw[start : start + block])
    return out


def hamming_distances(query: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """Hamming distance (int32) from one packed code ``(n_bytes,)`` to each row of ``packed``."""
    return hamming_matrix(np.asarray(query).reshape(1, -1), packed)[0]


def sort_hits(ids: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hits sorted by ``(distance, id)``, as int64 ids and int32 distances.

    Ids in ``[0, 2**48)`` and distances up to 128 are packed into one int64 key
    ``distance << 48 | id`` and sorted with one ``np.sort`` (several times faster than
    ``np.lexsort`` on large balls); other ids fall back to ``np.lexsort``.
    """
    ids = np.asarray(ids)
    distances = np.asarray(distances)
    if len(ids) and ids.min() >= 0 and ids.max() < 2**ID_BITS:
        key = (distances.astype(np.int64) << ID_BITS) | ids.astype(np.int64, copy=False)
        key.sort()
        return key & (2**ID_BITS - 1), (key >> ID_BITS).astype(np.int32)
    order = np.lexsort((ids, distances))
    return ids[order].astype(np.int64, copy=False), distances[order].astype(np.int32, copy=False)


def top_k(ids: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest ``(distance, id)`` pairs, sorted."""
    if k < len(ids):
        kth = np.partition(distances, k - 1)[k - 1]
        keep = np.flatnonzero(distances <= kth)  # all ties at the k-th distance
        ids, distances = ids[keep], distances[keep]
    ids, distances = sort_hits(ids, distances)
    return ids[:k], distances[:k]


def check_neighbours(k: Any) -> int:
    """A number of nearest neighbours for a full scan: a whole number ``>= 0`` (``0``: none)."""
    if not is_whole(k) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return int(k)


__all__ = [
    "POPCOUNT8", "as_words", "check_neighbours", "hamming_distances", "hamming_matrix", "popcount", "sort_hits",
    "top_k", "word_hamming",
]
