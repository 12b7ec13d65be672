"""Sorted tables of integer keys and the bit-flipping lookup over them (the ``table`` method of
:mod:`semhash.hashtable`, and each substring table of :mod:`semhash.mih`).

A code of ``n_bits`` is read as a big-endian integer split into ``ceil(n_bits / 64)`` uint64
words (bit ``i`` of the code is bit ``n_bits - 1 - i`` of the key when ``n_bits <= 64``). A
table groups rows by key (:func:`build_buckets`). A lookup XORs the query key with the masks of
every bit pattern of popcount ``<= r`` (:func:`flip_masks`, cached per ``(n_bits, r)``), finds
all probes with one ``np.searchsorted`` and expands the hit buckets with a cumsum trick
(:func:`expand_ranges`); two-word keys are searched as 16-byte big-endian voids. When the ball
is large next to the number of distinct keys, the keys are scanned instead
(:func:`lookup_ball`), so no radius blows up memory. The PostgreSQL backend probes its btree
with the same keys and masks.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .hamming import word_hamming

# lookup_ball scans the distinct keys instead of probing when probes * KEYSCAN_RATIO > keys
KEYSCAN_RATIO = 32
# lookup_ball never enumerates more flip masks than this (memory bound), whatever the ratio
MAX_FLIP_MASKS = 2**22


def n_words(n_bits: int) -> int:
    """Number of uint64 words in the key of an ``n_bits`` code."""
    return max(1, -(-n_bits // 64))


def pack_keys(packed: np.ndarray) -> np.ndarray:
    """Integer keys ``(n, n_words)`` uint64 of packed codes ``(n, n_bytes)``.

    The bytes are read big-endian and left-padded with zeros to whole 64-bit words, so the
    first bit of the code is the most significant bit of the first word that holds it.
    """
    packed = np.asarray(packed, dtype=np.uint8)
    n, n_bytes = packed.shape
    width = 8 * n_words(8 * n_bytes)
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[:, width - n_bytes :] = packed
    return padded.view(">u8").astype(np.uint64)


def searchable(keys: np.ndarray) -> np.ndarray:
    """A 1-D view of keys ``(n, n_words)`` that sorts like the keys (lexicographic words).

    One word: the uint64 column itself (no copy). Two words: 16-byte big-endian voids, which
    NumPy compares with ``memcmp``, i.e. in numeric order.
    """
    if keys.shape[1] == 1:
        return keys.reshape(-1)
    return np.ascontiguousarray(keys.astype(">u8")).view(f"V{8 * keys.shape[1]}").reshape(-1)


def ball_size(n_bits: int, radius: int) -> int:
    """Number of bit patterns of ``n_bits`` with popcount ``<= radius``."""
    return sum(math.comb(n_bits, i) for i in range(min(radius, n_bits) + 1))


def expand_ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for each pair, without a Python loop."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths  # where each range starts in the output
    return np.arange(total, dtype=np.int64) + np.repeat(starts - before, lengths)


def bit_combinations(n: int, k: int) -> np.ndarray:
    """All ``k``-subsets of ``range(n)`` as a sorted ``(C(n, k), k)`` int64 array."""
    combos = np.zeros((1, 0), dtype=np.int64)
    for _ in range(k):
        last = combos[:, -1] if combos.shape[1] else np.full(len(combos), -1, dtype=np.int64)
        counts = n - 1 - last
        head = np.repeat(combos, counts, axis=0)
        tail = expand_ranges(last + 1, np.full(len(combos), n))
        combos = np.concatenate([head, tail[:, None]], axis=1)
    return combos


@lru_cache(maxsize=64)
def flip_masks(n_bits: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """XOR masks, as keys ``(n_masks, n_words)`` uint64, of all patterns of popcount ``<= radius``.

    Returns ``(masks, distances)``, ordered by popcount; ``distances`` (int32) is the popcount
    of each mask. Cached and read-only.
    """
    n_bytes = n_bits // 8
    blocks, dists = [], []
    for d in range(min(radius, n_bits) + 1):
        combos = bit_combinations(n_bits, d)
        mask_bytes = np.zeros((len(combos), n_bytes), dtype=np.uint8)
        rows = np.arange(len(combos))
        for j in range(d):  # one column at a time: no repeated (row, byte) pair per statement
            pos = combos[:, j]
            mask_bytes[rows, pos // 8] |= (1 << (7 - pos % 8)).astype(np.uint8)
        blocks.append(pack_keys(mask_bytes))
        dists.append(np.full(len(combos), d, dtype=np.int32))
    masks, distances = np.concatenate(blocks), np.concatenate(dists)
    masks.flags.writeable = False
    distances.flags.writeable = False
    return masks, distances


def build_buckets(
    keys: np.ndarray, tiebreak: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows by key: ``(unique_keys, offsets, order)``.

    ``order`` sorts the rows by key, then by ``tiebreak``; bucket ``u`` holds
    ``order[offsets[u]:offsets[u + 1]]`` and has key ``unique_keys[u]``.
    """
    n = len(keys)
    order = np.lexsort((tiebreak, *keys.T[::-1]))
    sorted_keys = keys[order]
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    starts = np.flatnonzero(new)
    offsets = np.append(starts, n).astype(np.int64)
    return np.ascontiguousarray(sorted_keys[starts]), offsets, order.astype(np.int64)


def lookup_ball(
    keys: np.ndarray,
    flat_keys: np.ndarray,
    offsets: np.ndarray,
    query_key: np.ndarray,
    n_bits: int,
    radius: int,
    keyscan_ratio: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Entries of a bucket table within ``radius`` of ``query_key`` (``(n_words,)`` uint64).

    ``flat_keys`` is ``searchable(keys)``, computed once by the caller. The distinct keys are
    scanned instead of probed when ``ball_size * keyscan_ratio > len(keys)`` (default
    ``KEYSCAN_RATIO``; ``0`` probes up to ``MAX_FLIP_MASKS`` masks, ``inf`` always scans).

    Returns ``(entries, distances)``: indices into the bucket-ordered rows (ascending by
    distance, then bucket) and the Hamming distance of each.
    """
    n_unique = len(keys)
    if n_unique == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    ratio = KEYSCAN_RATIO if keyscan_ratio is None else keyscan_ratio
    n_masks = ball_size(n_bits, radius)
    if n_masks * ratio > n_unique or n_masks > MAX_FLIP_MASKS:  # scan the keys instead
        dist = word_hamming(query_key[None, :], keys)[0]
        hit = np.flatnonzero(dist <= radius)
        hit_dist = dist[hit]
    else:
        masks, mask_dist = flip_masks(n_bits, radius)
        probes = searchable(masks ^ query_key)
        where = np.searchsorted(flat_keys, probes)
        np.minimum(where, n_unique - 1, out=where)
        found = flat_keys[where] == probes
        hit, hit_dist = where[found], mask_dist[found]
    starts, ends = offsets[hit], offsets[hit + 1]
    return expand_ranges(starts, ends), np.repeat(hit_dist, ends - starts)


__all__ = [
    "KEYSCAN_RATIO", "MAX_FLIP_MASKS", "ball_size", "bit_combinations", "build_buckets", "expand_ranges",
    "flip_masks", "lookup_ball", "n_words", "pack_keys", "searchable",
]
