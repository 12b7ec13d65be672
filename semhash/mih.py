"""Multi-index hashing (Norouzi, Punjani & Fleet, 2012): the ``mih`` method of
:mod:`semhash.hashtable`.

The code is split into ``m`` disjoint byte-aligned substrings, each with its own bucket table
(:mod:`semhash.bitflip`). With ``r = a*m + b`` (``0 <= b < m``) any code within ``r`` matches
one of the first ``b + 1`` substrings within ``a`` or one of the others within ``a - 1``
(pigeonhole); the union of those candidates is verified with the full Hamming distance. The
substring length aims at ``log2(n_docs)`` bits (Norouzi's choice: buckets hold about one code
each), rounded to whole bytes and kept between 8 and 32 bits, so ``m = ceil(n_bytes / s)``.
The tables are derived from the codes on first use and are not saved.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from .bitflip import build_buckets, lookup_ball, pack_keys
from .hamming import hamming_distances, sort_hits


class SubTable(NamedTuple):
    """One multi-index substring table: bytes ``[start, stop)`` of the code."""

    start: int
    stop: int
    keys: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray  # rows of the codes, grouped by substring key


def substring_slices(n_bytes: int, n_codes: int) -> list[tuple[int, int]]:
    """Byte ranges of the multi-index substrings for ``n_codes`` codes of ``n_bytes`` bytes.

    Target substring length is ``log2(n_codes)`` bits rounded to whole bytes, clipped to
    1..4 bytes; the bytes are then split into ``m = ceil(n_bytes / target)`` near-equal parts.
    """
    target = int(np.clip(round(math.log2(max(n_codes, 2)) / 8), 1, 4))
    m = -(-n_bytes // target)
    bounds = [len(part) for part in np.array_split(np.arange(n_bytes), m)]
    edges = np.concatenate([[0], np.cumsum(bounds)]).astype(int)
    return [(int(a), int(b)) for a, b in pairwise(edges)]


def mih_radii(radius: int, m: int) -> list[int]:
    """Per-substring search radius for multi-index hashing (``-1``: skip that substring).

    With ``radius = a*m + b``, the first ``b + 1`` substrings use ``a`` and the rest ``a - 1``.
    """
    a, b = divmod(radius, m)
    return [a if j <= b else a - 1 for j in range(m)]


def build_subtables(codes: np.ndarray) -> list[SubTable]:
    """The substring tables of packed ``codes`` ``(n, n_bytes)``; rows are positions in ``codes``."""
    slices = substring_slices(codes.shape[1], len(codes))
    rows = np.arange(len(codes), dtype=np.int64)
    tables = []
    for start, stop in slices:
        keys, offsets, order = build_buckets(pack_keys(codes[:, start:stop]), rows)
        if len(order) < 2**31:  # half the memory: 4 bytes a row, not 8
            order = order.astype(np.int32)
        tables.append(SubTable(start, stop, keys, offsets, order))
    return tables


def mih_ball(tables: list[SubTable], codes: np.ndarray, ids: np.ndarray, query: np.ndarray, radius: int,
             keyscan_ratio: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, distances)`` of the codes within ``radius`` of ``query``, sorted by ``(distance, id)``:
    the candidates of every substring table within its :func:`mih_radii`, verified in full
    (``ids[j]`` is the id of ``codes[j]``; ``keyscan_ratio`` as in :func:`lookup_ball`)."""
    found = []
    for sub, r in zip(tables, mih_radii(radius, len(tables))):
        if r < 0:
            continue
        qkey = pack_keys(query[None, sub.start : sub.stop])[0]
        entries, _ = lookup_ball(sub.keys, sub.keys.reshape(-1), sub.offsets, qkey, 8 * (sub.stop - sub.start), r,
                                 keyscan_ratio)
        found.append(sub.rows[entries])
    rows = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    dist = hamming_distances(query, codes[rows])
    keep = dist <= radius
    return sort_hits(ids[rows[keep]], dist[keep])


def collision_factors(codes: np.ndarray, slices: list[tuple[int, int]], sample: int = 65536,
                      seed: int = 0) -> list[float]:
    """How much fuller than uniform the multi-index buckets are, per substring (``>= 1``).

    For each substring: the expected number of other codes sharing a query's bucket, the query
    drawn from the data (``(n - 1) * P(two codes collide)``, estimated on a sample), over the
    uniform expectation ``(n - 1) / 2**bits``. Real codes cluster, so this is often 10-1000.
    """
    n = len(codes)
    if n < 2:
        return [1.0] * len(slices)
    rows = np.random.default_rng(seed).choice(n, sample, replace=False) if n > sample else np.arange(n)
    m = len(rows)
    out = []
    for a, b in slices:
        _, counts = np.unique(pack_keys(np.asarray(codes[rows, a:b]))[:, 0], return_counts=True)
        p_collide = float((counts * (counts - 1.0)).sum()) / (m * (m - 1.0))
        out.append(max(1.0, p_collide * 2.0 ** (8 * (b - a))))
    return out


__all__ = ["SubTable", "build_subtables", "collision_factors", "mih_ball", "mih_radii", "substring_slices"]
