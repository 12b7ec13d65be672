"""Exact Hamming-ball and kNN lookup over packed binary codes: :class:`HammingTable`.

Three ways to answer "every document within Hamming distance ``r`` of a query", all exact and
all returning the same answer, sorted by ``(distance, id)`` (:data:`HammingTable.BALL_METHODS`):

``table``
    Bit flipping over one sorted table of integer keys (:mod:`semhash.bitflip`): the query key
    XORed with every mask of popcount ``<= r``, or a scan of the distinct keys when the ball is
    large (``KEYSCAN_RATIO``).
``mih``
    Multi-index hashing over byte-aligned substrings (:mod:`semhash.mih`), candidates verified
    with the full Hamming distance.
``scan``
    A full scan of the stored codes (:mod:`semhash.hamming`), kept for small databases and as
    the reference answer.

``auto`` picks by an estimated cost (:mod:`semhash.lookup_cost`), corrected for how
clustered the codes are (:func:`semhash.mih.collision_factors`, measured once on a sample).

Storage: ``keys`` (``(n_unique, n_words)`` uint64, sorted), ``offsets`` (int64,
``n_unique + 1``), ``ids`` (int64 document ids grouped by key, ascending inside a bucket)
and ``codes`` (packed uint8 codes, row ``j`` is the code of ``ids[j]``). The multi-index
tables are derived from ``codes`` on first use and are not saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

# KEYSCAN_RATIO is read from this module at each lookup (tests set it here)
from .bitflip import (
    KEYSCAN_RATIO,
    MAX_FLIP_MASKS,
    ball_size,
    bit_combinations,
    build_buckets,
    expand_ranges,
    flip_masks,
    lookup_ball,
    n_words,
    pack_keys,
    searchable,
)
from .checks import check_fitted, check_n_bits, check_radius
from .errors import ConfigError, IndexFormatError
from .hamming import check_neighbours, hamming_distances, popcount, sort_hits, top_k
from .lookup_cost import MAX_TABLE_PROBES, SCAN_BELOW, choose_method, estimate_costs
from .mih import SubTable, build_subtables, collision_factors, mih_ball, mih_radii, substring_slices

FILES = {
    "keys": "hashtable_keys.npy",
    "offsets": "hashtable_offsets.npy",
    "ids": "hashtable_ids.npy",
    "codes": "hashtable_codes.npy",
}


# ----------------------------------------------------------------------------- validation


def check_code_length(n_bits: Any) -> int:
    """:func:`semhash.checks.check_n_bits`, naming the ``n_bits`` argument in its message."""
    try:
        return check_n_bits(n_bits)
    except ConfigError as exc:
        raise ConfigError(f"n_bits: {exc}") from None


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
    """Validate document ids: a 1-D array of unique integers (``n`` of them when given), as int64."""
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


def scan_ball(
    codes: np.ndarray, ids: np.ndarray, query: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ball lookup by full scan: ``(ids, distances)`` within ``radius``, sorted."""
    dist = hamming_distances(query, codes)
    hit = np.flatnonzero(dist <= radius)
    return sort_hits(ids[hit], dist[hit])


class CodeTable(Protocol):
    """What the query path reads of a table of codes: a :class:`HammingTable`, or one seen with
    the delta segments of its index (:class:`semhash.index.views.SegmentedTable`)."""

    n_bits: int

    def __len__(self) -> int: ...

    def ball(self, query_packed: np.ndarray, radius: int, method: str = "auto") -> tuple[np.ndarray, np.ndarray]: ...

    def ball_batch(self, queries_packed: np.ndarray, radius: int, method: str = "auto"
                   ) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def knn(self, query_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def codes_of(self, ids: np.ndarray) -> np.ndarray: ...

    def method_for(self, radius: int) -> str: ...

    @property
    def ids_(self) -> np.ndarray: ...

    @property
    def codes_(self) -> np.ndarray: ...

    def bucket_stats(self) -> dict: ...


# ----------------------------------------------------------------------------- the class


class HammingTable:
    """Exact Hamming-ball and kNN lookup over packed codes; see the module docstring.

    Learned state (after :meth:`build` or :meth:`load`): ``keys_``, ``offsets_``, ``ids_``,
    ``codes_`` (``codes_[j]`` is the code of ``ids_[j]``). Caches derived from them on first
    use, reset when they change: ``_flat`` (searchable keys), ``_mih`` (substring tables),
    ``_by_id`` (the id index of :meth:`codes_of`), ``_auto`` (the method per radius).
    """

    def __init__(self, n_bits: int) -> None:
        self.n_bits = n_bits

    # -- construction

    @classmethod
    def build(cls, packed: np.ndarray, ids: np.ndarray, n_bits: int) -> HammingTable:
        """A table over ``packed`` codes ``(n, n_bits // 8)`` with document ids ``ids``."""
        table = cls(n_bits)
        n_bits = check_code_length(n_bits)
        packed = as_packed(packed, n_bits // 8, 2)
        ids = as_ids(ids, len(packed))
        return table._index(packed, ids)

    def _index(self, packed: np.ndarray, ids: np.ndarray) -> HammingTable:
        keys = pack_keys(packed) if len(packed) else np.zeros((0, n_words(self.n_bits)), np.uint64)
        self.keys_, self.offsets_, order = build_buckets(keys, ids)
        self.ids_ = ids[order]
        self.codes_ = np.ascontiguousarray(packed[order])
        self._reset_caches()
        return self

    def _reset_caches(self) -> None:
        self._mih: list[SubTable] | None = None
        self._flat: np.ndarray | None = None
        self._by_id: tuple[np.ndarray | None, np.ndarray] | None = None
        self._auto: dict = {}

    def _check_fitted(self) -> None:
        check_fitted(self, "ids_", "call HammingTable.build or .load first")

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
        return self.BALL_METHODS[self._resolve(method, radius)](self, query, radius)

    def ball_batch(
        self, queries_packed: np.ndarray, radius: int, method: str = "auto"
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`ball` for each row of ``queries_packed`` ``(n_queries, n_bytes)``."""
        self._check_fitted()
        queries = as_packed(queries_packed, self.n_bytes, 2, "queries_packed")
        radius = check_radius(radius, self.n_bits)
        lookup = self.BALL_METHODS[self._resolve(method, radius)]
        return [lookup(self, q, radius) for q in queries]

    def knn(self, query_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``min(k, len(self))`` nearest documents (exact, full scan), sorted by
        ``(distance, id)``; ``k = 0`` gives empty arrays."""
        self._check_fitted()
        query = as_packed(query_packed, self.n_bytes, 1, "query_packed")
        k = check_neighbours(k)
        if len(self.ids_) == 0 or k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        return top_k(self.ids_, hamming_distances(query, self.codes_), k)

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
        sorted_ids, positions = self._by_id
        ids = np.asarray(ids, dtype=np.int64)
        if sorted_ids is None:  # dense: the position of each id value, -1 where absent
            inside = (ids >= 0) & (ids < len(positions))
            at = positions[np.where(inside, ids, 0)] if len(positions) else np.zeros(len(ids), np.int64)
            bad = ~inside | (at < 0)
        else:
            k = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
            bad = sorted_ids[k] != ids
            at = positions[k]
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
        if method not in LOOKUPS:
            raise ConfigError(f"method must be one of {LOOKUPS}, got {method!r}")
        if method != "auto":
            return method
        if radius not in self._auto:  # cached per radius; reset when the table changes
            slices = substring_slices(self.n_bytes, len(self.ids_))
            if "collisions" not in self._auto and len(self.ids_) >= SCAN_BELOW:
                self._auto["collisions"] = collision_factors(self.codes_, slices)
            self._auto[radius] = choose_method(len(self.ids_), self.n_bits, radius, slices,
                                               self._auto.get("collisions"))
        return self._auto[radius]

    # -- the ball methods (BALL_METHODS); KEYSCAN_RATIO is read at each call

    def _scan_ball(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        return scan_ball(self.codes_, self.ids_, query, radius)

    def _table_ball(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        if self._flat is None:
            self._flat = searchable(self.keys_)
        qkey = pack_keys(query[None, :])[0]
        entries, dist = lookup_ball(self.keys_, self._flat, self.offsets_, qkey, self.n_bits, radius, KEYSCAN_RATIO)
        return sort_hits(self.ids_[entries], dist)

    def _mih_ball(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        if self._mih is None:
            self._mih = build_subtables(self.codes_)
        return mih_ball(self._mih, self.codes_, self.ids_, query, radius, KEYSCAN_RATIO)

    # the registry of ball methods: a new method is one method above and one line here
    BALL_METHODS: ClassVar[dict[str, Any]] = {"table": _table_ball, "mih": _mih_ball, "scan": _scan_ball}

    # -- updates

    def add(self, packed: np.ndarray, ids: np.ndarray) -> HammingTable:
        """Add codes with new, unused ids (rebuilds the sorted arrays)."""
        self._check_fitted()
        packed = as_packed(packed, self.n_bytes, 2)
        ids = as_ids(ids, len(packed))
        clash = np.intersect1d(ids, self.ids_)
        if len(clash):
            raise ValueError(f"ids already in the table: {clash[:10].tolist()}")
        return self._index(np.concatenate([self.codes_, packed]), np.concatenate([self.ids_, ids]))

    def remove(self, ids: np.ndarray) -> HammingTable:
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
    def load(cls, folder: Path, n_bits: int, mmap: bool = False) -> HammingTable:
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
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_bits: int, folder: Path) -> HammingTable:
        """A table over saved arrays (``keys``, ``offsets``, ``ids``, ``codes``), after checking
        their shapes; :class:`IndexFormatError` naming ``folder`` otherwise."""
        table = cls(n_bits)
        n_bits = check_code_length(n_bits)
        keys, offsets, ids, codes = (arrays[k] for k in ("keys", "offsets", "ids", "codes"))
        problems = saved_array_problems(keys, offsets, ids, codes, n_bits)
        if problems:
            raise IndexFormatError(f"bad hash table in {folder}: " + "; ".join(problems)
                                   + "; rebuild the index with `semhash index`")
        table.keys_, table.offsets_, table.ids_, table.codes_ = keys, offsets, ids, codes
        table._reset_caches()
        return table

    # -- diagnostics

    def bucket_stats(self) -> dict:
        """Bucket occupancy: ``n_docs``, ``n_buckets``, ``max_bucket``, ``mean_bucket``,
        ``singleton_fraction`` (fraction of buckets holding exactly one document)."""
        self._check_fitted()
        sizes = np.diff(self.offsets_)
        n = len(sizes)
        return {
            "n_docs": len(self.ids_),
            "n_buckets": int(n),
            "max_bucket": int(sizes.max()) if n else 0,
            "mean_bucket": float(sizes.mean()) if n else 0.0,
            "singleton_fraction": float((sizes == 1).mean()) if n else 0.0,
        }


# the lookup methods a query may ask for: "auto" (by estimated cost) and each ball method
LOOKUPS = ("auto", *HammingTable.BALL_METHODS)
METHODS = LOOKUPS  # the name before LOOKUPS


def saved_array_problems(keys: np.ndarray, offsets: np.ndarray, ids: np.ndarray, codes: np.ndarray,
                         n_bits: int) -> list[str]:
    """What is wrong with the saved arrays of a table of ``n_bits`` codes (empty when nothing)."""
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
    return problems


__all__ = [
    "CodeTable",
    "FILES", "KEYSCAN_RATIO", "LOOKUPS", "MAX_FLIP_MASKS", "MAX_TABLE_PROBES", "METHODS", "SCAN_BELOW",
    "HammingTable", "as_ids", "as_packed", "ball_size", "bit_combinations", "build_buckets", "check_code_length",
    "choose_method", "collision_factors", "estimate_costs", "expand_ranges", "flip_masks", "lookup_ball", "mih_radii",
    "n_words", "pack_keys", "popcount", "saved_array_problems", "scan_ball", "searchable", "sort_hits",
    "substring_slices", "top_k",
]
