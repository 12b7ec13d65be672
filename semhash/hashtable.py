"""Exact Hamming-ball lookup over packed binary codes.

Three ways to answer "every document within Hamming distance ``r`` of a query", all exact and
all returning the same answer, sorted by ``(distance, id)``:

``table``
    One sorted table of integer keys. A code of ``n_bits`` is read as a big-endian integer
    split into ``ceil(n_bits / 64)`` uint64 words (bit ``i`` of the code is bit
    ``n_bits - 1 - i`` of the key when ``n_bits <= 64``). A lookup XORs the query key with
    the precomputed masks of every bit pattern of popcount ``<= r`` (cached per
    ``(n_bits, r)``), finds all probes with one ``np.searchsorted`` and expands the hit
    buckets with a cumsum trick (two-word keys, ``n_bits > 64``, are searched as 16-byte
    big-endian voids). When ``ball_size * KEYSCAN_RATIO`` exceeds the number of distinct keys
    (or the ball exceeds ``MAX_FLIP_MASKS``), the distinct keys are scanned instead, so no
    radius blows up memory.
``mih``
    Multi-index hashing (Norouzi, Punjani & Fleet, 2012). The code is split into ``m``
    disjoint byte-aligned substrings, each with its own sorted table of positions. With
    ``r = a*m + b`` (``0 <= b < m``) any code within ``r`` matches one of the first ``b + 1``
    substrings within ``a`` or one of the others within ``a - 1`` (pigeonhole); the union
    of those candidates is verified with the full Hamming distance. The substring length
    aims at ``log2(n_docs)`` bits (Norouzi's choice: buckets hold about one code each),
    rounded to whole bytes and kept between 8 and 32 bits, so ``m = ceil(n_bytes / s)``.
``scan``
    A full scan of the stored codes (popcount of XOR), kept for small databases and as the
    reference answer.

``auto`` picks by an estimated cost (see :func:`choose_method`), corrected for how
clustered the codes are (:func:`collision_factors`, measured once on a sample).

Storage: ``keys`` (``(n_unique, n_words)`` uint64, sorted), ``offsets`` (int64,
``n_unique + 1``), ``ids`` (int64 document ids grouped by key, ascending inside a bucket)
and ``codes`` (packed uint8 codes, row ``j`` is the code of ``ids[j]``). The multi-index
tables are derived from ``codes`` on first use and are not saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from semhash.codes import POPCOUNT8
from semhash.errors import ConfigError, IndexFormatError, NotFittedError

METHODS = ("auto", "table", "mih", "scan")
FILES = {
    "keys": "hashtable_keys.npy",
    "offsets": "hashtable_offsets.npy",
    "ids": "hashtable_ids.npy",
    "codes": "hashtable_codes.npy",
}

# "auto": below this many codes a scan is cheaper than any bookkeeping
SCAN_BELOW = 4096
# "auto": never enumerate more flip masks than this for the single table
MAX_TABLE_PROBES = 2**17
# lookup_ball scans the distinct keys instead of probing when probes * KEYSCAN_RATIO > keys
KEYSCAN_RATIO = 32
# lookup_ball never enumerates more flip masks than this (memory bound), whatever the ratio
MAX_FLIP_MASKS = 2**22
# rough costs in microseconds per query, measured with NumPy 2.4 on one x86 core (1M codes);
# only their ratios matter
COST_CALL = 12.0  # fixed overhead of one lookup
COST_PROBE = 0.05  # one flip-mask probe into a one-word (uint64) table
COST_PROBE_WIDE = 0.09  # one probe into a two-word (void) table, n_bits > 64
COST_CANDIDATE = 0.1  # verifying one multi-index candidate (unique, gather, popcount)
COST_SCAN_WORD = 0.0007  # one 64-bit word of one code in a full scan


# ----------------------------------------------------------------------------- pure functions


def n_words(n_bits: int) -> int:
    """Number of uint64 words in the key of an ``n_bits`` code."""
    return max(1, -(-n_bits // 64))


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each element of an unsigned integer array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    x = np.ascontiguousarray(x)
    return POPCOUNT8[x.view(np.uint8).reshape(*x.shape, x.itemsize)].sum(axis=-1, dtype=np.uint8)


def word_distances(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance (int32) from ``query`` ``(w,)`` to each row of ``words`` ``(n, w)``.

    Works on any unsigned word size; loops over the ``w`` columns, not over rows (a column
    loop is several times faster than ``popcount(...).sum(axis=1)`` for narrow rows).
    """
    out = np.zeros(len(words), dtype=np.int32)
    for j in range(words.shape[1]):
        out += popcount(words[:, j] ^ query[j])
    return out


def hamming_to(query: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Hamming distance (int32) from one packed code ``(n_bytes,)`` to each row of ``codes``.

    Same result as :func:`semhash.codes.hamming_distances`, but XORs whole machine words.
    """
    n_bytes = codes.shape[1]
    width = next(w for w in (8, 4, 2, 1) if n_bytes % w == 0)
    dtype = np.dtype(f"u{width}")
    words = np.ascontiguousarray(codes).view(dtype)
    q = np.ascontiguousarray(query, dtype=np.uint8).view(dtype)
    return word_distances(words, q)


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
        dist = word_distances(keys, query_key)
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


ID_BITS = 48  # sort_hits packs (distance, id) into one int64 when 0 <= id < 2**ID_BITS


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


def scan_ball(
    codes: np.ndarray, ids: np.ndarray, query: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ball lookup by full scan: ``(ids, distances)`` within ``radius``, sorted."""
    dist = hamming_to(query, codes)
    hit = np.flatnonzero(dist <= radius)
    return sort_hits(ids[hit], dist[hit])


def top_k(ids: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest ``(distance, id)`` pairs, sorted."""
    if k < len(ids):
        kth = np.partition(distances, k - 1)[k - 1]
        keep = np.flatnonzero(distances <= kth)  # all ties at the k-th distance
        ids, distances = ids[keep], distances[keep]
    ids, distances = sort_hits(ids, distances)
    return ids[:k], distances[:k]


def substring_slices(n_bytes: int, n_codes: int) -> list[tuple[int, int]]:
    """Byte ranges of the multi-index substrings for ``n_codes`` codes of ``n_bytes`` bytes.

    Target substring length is ``log2(n_codes)`` bits rounded to whole bytes, clipped to
    1..4 bytes; the bytes are then split into ``m = ceil(n_bytes / target)`` near-equal parts.
    """
    target = int(np.clip(round(math.log2(max(n_codes, 2)) / 8), 1, 4))
    m = -(-n_bytes // target)
    bounds = [len(part) for part in np.array_split(np.arange(n_bytes), m)]
    edges = np.concatenate([[0], np.cumsum(bounds)]).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def mih_radii(radius: int, m: int) -> list[int]:
    """Per-substring search radius for multi-index hashing (``-1``: skip that substring).

    With ``radius = a*m + b``, the first ``b + 1`` substrings use ``a`` and the rest ``a - 1``.
    """
    a, b = divmod(radius, m)
    return [a if j <= b else a - 1 for j in range(m)]


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


def estimate_costs(n_codes: int, n_bits: int, radius: int, slices: list[tuple[int, int]],
                   collisions: list[float] | None = None) -> dict:
    """Rough cost (microseconds) of each method for one query.

    Codes are taken as uniform unless ``collisions`` (see :func:`collision_factors`) says how
    much fuller than uniform each multi-index substring's buckets are. ``table`` is ``inf``
    beyond ``MAX_TABLE_PROBES`` flip masks.
    """
    words = n_words(n_bits)
    scan = COST_CALL + n_codes * words * COST_SCAN_WORD
    probes = ball_size(n_bits, radius)
    probe_cost = COST_PROBE_WIDE if words > 1 else COST_PROBE
    table = COST_CALL + min(probes * probe_cost, n_codes * words * COST_SCAN_WORD)
    if probes > MAX_TABLE_PROBES:
        table = math.inf
    mih = COST_CALL
    collisions = collisions or [1.0] * len(slices)
    for (a, b), r, c in zip(slices, mih_radii(radius, len(slices)), collisions):
        if r < 0:
            continue
        bits = 8 * (b - a)
        sub_probes = ball_size(bits, r)
        candidates = n_codes * min(1.0, c * sub_probes / 2.0**bits)
        lookup = min(sub_probes * COST_PROBE, n_codes * COST_SCAN_WORD)
        mih += COST_CALL + lookup + candidates * COST_CANDIDATE
    return {"table": table, "mih": mih, "scan": scan}


def choose_method(n_codes: int, n_bits: int, radius: int, slices: list[tuple[int, int]],
                  collisions: list[float] | None = None) -> str:
    """The method ``auto`` uses: a scan for small databases, else the cheapest estimate."""
    if n_codes < SCAN_BELOW:
        return "scan"
    costs = estimate_costs(n_codes, n_bits, radius, slices, collisions)
    return min(costs, key=costs.get)


# ----------------------------------------------------------------------------- validation


def check_n_bits(n_bits: int) -> int:
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise ConfigError(f"n_bits must be an integer, got {n_bits!r}")
    if n_bits % 8 or not 8 <= n_bits <= 128:
        raise ConfigError(f"n_bits must be a multiple of 8 between 8 and 128, got {n_bits}")
    return int(n_bits)


def as_packed(codes: np.ndarray, n_bytes: int, ndim: int, name: str = "codes") -> np.ndarray:
    """Validate packed codes: uint8-compatible, ``ndim`` dims, last axis ``n_bytes``."""
    arr = np.asarray(codes)
    if arr.ndim != ndim or arr.shape[-1] != n_bytes:
        want = "(n_bytes,)" if ndim == 1 else "(n, n_bytes)"
        raise ValueError(f"{name} must have shape {want} with n_bytes={n_bytes}, got {arr.shape}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer) or (
            arr.size and (arr.min() < 0 or arr.max() > 255)
        ):
            raise ValueError(f"{name} must be packed uint8 codes, got dtype {arr.dtype}")
        arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr)


def as_ids(ids: np.ndarray, n: int | None = None) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(
            f"ids must be a 1-D integer array, got shape {arr.shape} dtype {arr.dtype}"
        )
    if n is not None and len(arr) != n:
        raise ValueError(f"got {len(arr)} ids for {n} codes")
    arr = arr.astype(np.int64)
    uniq = np.unique(arr)
    if len(uniq) != len(arr):
        raise ValueError("ids must be unique")
    return arr


def check_radius(radius: int, n_bits: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)):
        raise ValueError(f"radius must be an integer, got {radius!r}")
    if not 0 <= radius <= n_bits:
        raise ValueError(f"radius must be between 0 and n_bits={n_bits}, got {radius}")
    return int(radius)


# ----------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class _SubTable:
    """One multi-index substring table: bytes ``[start, stop)`` of the code."""

    start: int
    stop: int
    keys: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray  # rows of HammingTable.ids_/codes_, grouped by substring key


class HammingTable:
    """Exact Hamming-ball and kNN lookup over packed codes; see the module docstring.

    Learned state (after :meth:`build` or :meth:`load`): ``keys_``, ``offsets_``, ``ids_``,
    ``codes_`` (``codes_[j]`` is the code of ``ids_[j]``).
    """

    def __init__(self, n_bits: int):
        self.n_bits = n_bits

    # -- construction

    @classmethod
    def build(cls, packed: np.ndarray, ids: np.ndarray, n_bits: int) -> "HammingTable":
        """A table over ``packed`` codes ``(n, n_bits // 8)`` with document ids ``ids``."""
        table = cls(n_bits)
        n_bits = check_n_bits(n_bits)
        packed = as_packed(packed, n_bits // 8, 2)
        ids = as_ids(ids, len(packed))
        return table._index(packed, ids)

    def _index(self, packed: np.ndarray, ids: np.ndarray) -> "HammingTable":
        keys = pack_keys(packed) if len(packed) else np.zeros((0, n_words(self.n_bits)), np.uint64)
        self.keys_, self.offsets_, order = build_buckets(keys, ids)
        self.ids_ = ids[order]
        self.codes_ = np.ascontiguousarray(packed[order])
        self._mih = self._flat = self._by_id = None
        self._auto = {}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "ids_"):
            raise NotFittedError("HammingTable is empty: call HammingTable.build or .load first")

    @property
    def n_bytes(self) -> int:
        return self.n_bits // 8

    def __len__(self) -> int:
        self._check_fitted()
        return len(self.ids_)

    # -- queries

    def ball(
        self, query_packed: np.ndarray, radius: int, method: str = "auto"
    ) -> tuple[np.ndarray, np.ndarray]:
        """All documents within ``radius`` of one packed query ``(n_bytes,)``.

        Returns ``(ids int64, distances int32)`` sorted by ``(distance, id)``.
        """
        self._check_fitted()
        query = as_packed(query_packed, self.n_bytes, 1, "query_packed")
        radius = check_radius(radius, self.n_bits)
        return self._ball(query, radius, self._resolve(method, radius))

    def ball_batch(
        self, queries_packed: np.ndarray, radius: int, method: str = "auto"
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`ball` for each row of ``queries_packed`` ``(n_queries, n_bytes)``."""
        self._check_fitted()
        queries = as_packed(queries_packed, self.n_bytes, 2, "queries_packed")
        radius = check_radius(radius, self.n_bits)
        method = self._resolve(method, radius)
        return [self._ball(q, radius, method) for q in queries]

    def knn(self, query_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``min(k, len(self))`` nearest documents (exact, full scan), sorted by
        ``(distance, id)``; ``k = 0`` gives empty arrays."""
        self._check_fitted()
        query = as_packed(query_packed, self.n_bytes, 1, "query_packed")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        if len(self.ids_) == 0 or k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        return top_k(self.ids_, hamming_to(query, self.codes_), int(k))

    def codes_of(self, ids: np.ndarray) -> np.ndarray:
        """Packed codes ``(len(ids), n_bytes)`` of documents by id; every id must be in the table.

        The first call builds an id index, kept until the table changes: where the ids are
        dense (document rows: all in ``[0, 2n)``), the table position of every id value
        (4 bytes each), read with one gather; otherwise the sorted ids and their positions,
        read with a binary search.
        """
        self._check_fitted()
        if self._by_id is None:
            self._by_id = self._id_index()
        ids = np.asarray(ids, dtype=np.int64)
        if self._by_id[0] is None:  # dense: the position of each id value, -1 where absent
            pos = self._by_id[1]
            inside = (ids >= 0) & (ids < len(pos))
            at = pos[np.where(inside, ids, 0)] if len(pos) else np.zeros(len(ids), np.int64)
            bad = ~inside | (at < 0)
        else:
            sorted_ids, order = self._by_id
            k = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
            bad = sorted_ids[k] != ids
            at = order[k]
        if bad.any():
            raise ValueError(f"ids not in the table: {ids[bad][:10].tolist()}")
        return np.asarray(self.codes_)[at]

    def _id_index(self) -> tuple[np.ndarray | None, np.ndarray]:
        ids = np.asarray(self.ids_)
        n = len(ids)
        small = np.int32 if n < 2**31 else np.int64
        if n == 0 or (ids.min() >= 0 and ids.max() < 2 * n):
            pos = np.full(int(ids.max()) + 1 if n else 0, -1, dtype=small)
            pos[ids] = np.arange(n, dtype=small)
            return None, pos
        order = np.argsort(ids, kind="stable").astype(small)
        return ids[order], order

    def method_for(self, radius: int) -> str:
        """The method ``auto`` would use for ``radius`` on this table."""
        self._check_fitted()
        return self._resolve("auto", check_radius(radius, self.n_bits))

    def _resolve(self, method: str, radius: int) -> str:
        if method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
        if method != "auto":
            return method
        if radius not in self._auto:  # cached per radius; reset when the table changes
            slices = substring_slices(self.n_bytes, len(self.ids_))
            if "collisions" not in self._auto and len(self.ids_) >= SCAN_BELOW:
                self._auto["collisions"] = collision_factors(self.codes_, slices)
            self._auto[radius] = choose_method(len(self.ids_), self.n_bits, radius, slices,
                                               self._auto.get("collisions"))
        return self._auto[radius]

    def _ball(self, query: np.ndarray, radius: int, method: str) -> tuple[np.ndarray, np.ndarray]:
        if method == "scan":
            return scan_ball(self.codes_, self.ids_, query, radius)
        if method == "table":
            qkey = pack_keys(query[None, :])[0]
            if self._flat is None:
                self._flat = searchable(self.keys_)
            entries, dist = lookup_ball(
                self.keys_, self._flat, self.offsets_, qkey, self.n_bits, radius
            )
            return sort_hits(self.ids_[entries], dist)
        return self._mih_ball(query, radius)

    def _mih_tables(self) -> list[_SubTable]:
        if self._mih is None:
            slices = substring_slices(self.n_bytes, len(self.ids_))
            rows = np.arange(len(self.ids_), dtype=np.int64)
            tables = []
            for start, stop in slices:
                keys, offsets, order = build_buckets(pack_keys(self.codes_[:, start:stop]), rows)
                if len(order) < 2**31:  # half the memory: 4 bytes a row, not 8
                    order = order.astype(np.int32)
                tables.append(_SubTable(start, stop, keys, offsets, order))
            self._mih = tables
        return self._mih

    def _mih_ball(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        tables = self._mih_tables()
        found = []
        for sub, r in zip(tables, mih_radii(radius, len(tables))):
            if r < 0:
                continue
            qkey = pack_keys(query[None, sub.start : sub.stop])[0]
            entries, _ = lookup_ball(
                sub.keys, sub.keys.reshape(-1), sub.offsets, qkey, 8 * (sub.stop - sub.start), r
            )
            found.append(sub.rows[entries])
        rows = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        dist = hamming_to(query, self.codes_[rows])
        keep = dist <= radius
        return sort_hits(self.ids_[rows[keep]], dist[keep])

    # -- updates

    def add(self, packed: np.ndarray, ids: np.ndarray) -> "HammingTable":
        """Add codes with new, unused ids (rebuilds the sorted arrays)."""
        self._check_fitted()
        packed = as_packed(packed, self.n_bytes, 2)
        ids = as_ids(ids, len(packed))
        clash = np.intersect1d(ids, self.ids_)
        if len(clash):
            raise ValueError(f"ids already in the table: {clash[:10].tolist()}")
        return self._index(np.concatenate([self.codes_, packed]), np.concatenate([self.ids_, ids]))

    def remove(self, ids: np.ndarray) -> "HammingTable":
        """Remove documents by id; every id must be in the table."""
        self._check_fitted()
        ids = as_ids(ids)
        present = np.isin(ids, self.ids_)
        if not present.all():
            raise ValueError(f"ids not in the table: {ids[~present][:10].tolist()}")
        keep = ~np.isin(self.ids_, ids)
        return self._index(self.codes_[keep], self.ids_[keep])

    # -- persistence

    def save(self, folder: Path) -> list[str]:
        """Write the table as plain ``.npy`` files into ``folder``; returns the file names."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "keys": self.keys_,
            "offsets": self.offsets_,
            "ids": self.ids_,
            "codes": self.codes_,
        }
        for name, arr in arrays.items():
            np.save(folder / FILES[name], np.ascontiguousarray(arr), allow_pickle=False)
        return [FILES[name] for name in arrays]

    @classmethod
    def load(cls, folder: Path, n_bits: int, mmap: bool = False) -> "HammingTable":
        """Read a table written by :meth:`save` (memory-mapped when ``mmap``)."""
        folder = Path(folder)
        arrays = {}
        for name, file in FILES.items():
            path = folder / file
            if not path.is_file():
                raise IndexFormatError(f"hash table file missing: {path}")
            try:
                arrays[name] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise IndexFormatError(f"cannot read hash table file {path}: {exc}") from exc
        return cls.from_arrays(arrays, n_bits, folder)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_bits: int, folder: Path) -> "HammingTable":
        """A table over saved arrays (``keys``, ``offsets``, ``ids``, ``codes``), after checking
        their shapes; :class:`IndexFormatError` naming ``folder`` otherwise."""
        table = cls(n_bits)
        n_bits = check_n_bits(n_bits)
        keys, offsets, ids, codes = (arrays[k] for k in ("keys", "offsets", "ids", "codes"))
        problems = []
        if keys.dtype != np.uint64 or keys.ndim != 2 or keys.shape[1] != n_words(n_bits):
            problems.append(f"{FILES['keys']}: expected (n, {n_words(n_bits)}) uint64")
        if offsets.dtype != np.int64 or offsets.shape != (len(keys) + 1,):
            problems.append(f"{FILES['offsets']}: expected {len(keys) + 1} int64 offsets")
        elif offsets[0] != 0 or offsets[-1] != len(ids):
            problems.append(f"{FILES['offsets']}: offsets do not span {len(ids)} ids")
        if ids.dtype != np.int64 or ids.ndim != 1:
            problems.append(f"{FILES['ids']}: expected 1-D int64")
        elif len(ids) and int(ids.min()) < 0:
            problems.append(f"{FILES['ids']}: negative ids")
        if codes.dtype != np.uint8 or codes.shape != (len(ids), n_bits // 8):
            problems.append(f"{FILES['codes']}: expected ({len(ids)}, {n_bits // 8}) uint8")
        if problems:
            raise IndexFormatError(f"bad hash table in {folder}: " + "; ".join(problems)
                                   + "; rebuild the index with `semhash index`")
        table.keys_, table.offsets_, table.ids_, table.codes_ = keys, offsets, ids, codes
        table._mih = table._flat = table._by_id = None
        table._auto = {}
        return table

    # -- diagnostics

    def bucket_stats(self) -> dict:
        """Bucket occupancy: ``n_docs``, ``n_buckets``, ``max_bucket``, ``mean_bucket``,
        ``singleton_fraction`` (fraction of buckets holding exactly one document)."""
        self._check_fitted()
        sizes = np.diff(self.offsets_)
        n = len(sizes)
        return {
            "n_docs": int(len(self.ids_)),
            "n_buckets": int(n),
            "max_bucket": int(sizes.max()) if n else 0,
            "mean_bucket": float(sizes.mean()) if n else 0.0,
            "singleton_fraction": float((sizes == 1).mean()) if n else 0.0,
        }
