"""FAISS binary index over packed codes: exact kNN and range search by full scan.

Wraps ``faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(n_bits))``. FAISS stores a code of
``n_bits`` as ``n_bits / 8`` uint8 bytes and measures Hamming distance as the popcount of the
XOR of those bytes, so the packed codes of :mod:`semhash.codes` go in unchanged and the
distances equal :func:`semhash.codes.hamming_distances` (the bit order inside a byte does not
matter for a popcount; ``tests/test_faiss_index.py`` checks it).

Two FAISS behaviours are normalised here:

- ties: FAISS orders equal distances by insertion position, not by id, and keeps whichever
  tied codes it met first at the k-th place. :meth:`FaissBinaryIndex.knn` returns the exact
  ``k`` smallest ``(distance, id)`` pairs, like :meth:`semhash.hashtable.HammingTable.knn`:
  it asks FAISS for ``k + 1`` neighbours and, only when the k-th and (k+1)-th distances tie,
  re-reads the whole tie with a range search.
- radius: FAISS binary ``range_search`` keeps distances strictly below the radius;
  :meth:`FaissBinaryIndex.range_search` keeps distances ``<= radius`` (the Hamming ball).

Threads: FAISS parallelises with OpenMP. For one query at a time on a busy machine, the thread
wake-ups can cost tens of milliseconds; a caller serving single queries may want
``faiss.omp_set_num_threads(1)`` (this module leaves the global setting alone).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from .checks import check_fitted, check_radius
from .errors import IndexFormatError
from .hamming import check_neighbours, sort_hits, top_k
from .hashtable import as_ids, as_packed, check_code_length


def make_index(n_bits: int) -> faiss.IndexBinaryIDMap:
    """An empty exact binary index with external int64 ids."""
    return faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(n_bits))


def index_ids(index: faiss.IndexBinaryIDMap) -> np.ndarray:
    """The external ids held by an ``IndexBinaryIDMap``, in insertion order."""
    return faiss.vector_to_array(index.id_map).astype(np.int64)


def range_hits(
    index: faiss.IndexBinaryIDMap, query: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """All ``(ids, distances)`` with distance ``<= radius`` of one query, sorted."""
    _, dist, ids = index.range_search(query[None, :], radius + 1)  # FAISS keeps d < radius
    return sort_hits(ids.astype(np.int64), dist.astype(np.int32))


class FaissBinaryIndex:
    """Exact Hamming kNN / range search with FAISS; learned state in ``index_``."""

    def __init__(self, n_bits: int) -> None:
        self.n_bits = n_bits

    @classmethod
    def build(cls, packed: np.ndarray, ids: np.ndarray, n_bits: int) -> FaissBinaryIndex:
        """An index over ``packed`` codes ``(n, n_bits // 8)`` with document ids ``ids``."""
        self = cls(n_bits)
        check_code_length(n_bits)
        self.index_ = make_index(n_bits)
        self.add(packed, ids)
        return self

    @property
    def n_bytes(self) -> int:
        return self.n_bits // 8

    def _check_fitted(self) -> None:
        check_fitted(self, "index_", "call FaissBinaryIndex.build or .load first")

    def __len__(self) -> int:
        self._check_fitted()
        return int(self.index_.ntotal)

    # -- queries

    def knn(self, query_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``min(k, len(self))`` nearest ``(ids int64, distances int32)``, sorted by
        ``(distance, id)``."""
        query = as_packed(query_packed, self.n_bytes, 1, "query_packed")
        ids, dist = self.knn_batch(query[None, :], k)
        return ids[0], dist[0]

    def knn_batch(self, queries_packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """kNN for each row of ``queries_packed``: ``(ids, distances)`` of shape
        ``(n_queries, min(k, len(self)))``, each row sorted by ``(distance, id)``."""
        self._check_fitted()
        queries = as_packed(queries_packed, self.n_bytes, 2, "queries_packed")
        n = len(self)
        k = min(check_neighbours(k), n)
        out_ids = np.zeros((len(queries), k), dtype=np.int64)
        out_dist = np.zeros((len(queries), k), dtype=np.int32)
        if k == 0 or len(queries) == 0:
            return out_ids, out_dist
        dist, ids = self.index_.search(queries, min(k + 1, n))
        for row in range(len(queries)):
            d, i = dist[row].astype(np.int32), ids[row].astype(np.int64)
            if k < n and d[k - 1] == d[k]:  # the tie continues past k: read all of it
                i, d = range_hits(self.index_, queries[row], int(d[k - 1]))
            out_ids[row], out_dist[row] = top_k(i, d, k)
        return out_ids, out_dist

    def range_search(self, query_packed: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """All documents with Hamming distance ``<= radius``, sorted by ``(distance, id)``."""
        self._check_fitted()
        query = as_packed(query_packed, self.n_bytes, 1, "query_packed")
        radius = check_radius(radius, self.n_bits)
        return range_hits(self.index_, query, radius)

    # -- updates

    def add(self, packed: np.ndarray, ids: np.ndarray) -> FaissBinaryIndex:
        """Add codes with new, unused ids."""
        self._check_fitted()
        packed = as_packed(packed, self.n_bytes, 2)
        ids = as_ids(ids, len(packed))
        clash = np.intersect1d(ids, index_ids(self.index_))
        if len(clash):
            raise ValueError(f"ids already in the index: {clash[:10].tolist()}")
        if len(ids):
            self.index_.add_with_ids(packed, ids)
        return self

    def remove(self, ids: np.ndarray) -> FaissBinaryIndex:
        """Remove documents by id; every id must be in the index."""
        self._check_fitted()
        ids = as_ids(ids)
        present = np.isin(ids, index_ids(self.index_))
        if not present.all():
            raise ValueError(f"ids not in the index: {ids[~present][:10].tolist()}")
        if len(ids):
            self.index_.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))
        return self

    # -- persistence

    def save(self, path: Path) -> None:
        """Write the index to one FAISS binary-index file."""
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index_binary(self.index_, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, n_bits: int, path: Path) -> FaissBinaryIndex:
        """An index from the bytes of a file written by :meth:`save` (``path`` names it in errors)."""
        self = cls(n_bits)
        check_code_length(n_bits)
        try:
            index = faiss.deserialize_index_binary(np.frombuffer(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise IndexFormatError(f"cannot read FAISS index {path}: {exc}; rebuild the index") from exc
        return self._adopt(index, path)

    @classmethod
    def load(cls, path: Path, n_bits: int) -> FaissBinaryIndex:
        """Read an index written by :meth:`save`; checks its width against ``n_bits``."""
        self = cls(n_bits)
        check_code_length(n_bits)
        path = Path(path)
        if not path.is_file():
            raise IndexFormatError(f"FAISS index file missing: {path}")
        try:
            index = faiss.read_index_binary(str(path))
        except RuntimeError as exc:
            raise IndexFormatError(f"cannot read FAISS index {path}: {exc}") from exc
        return self._adopt(index, path)

    def _adopt(self, index: faiss.IndexBinary, path: Path) -> FaissBinaryIndex:
        if not isinstance(index, faiss.IndexBinaryIDMap):
            raise IndexFormatError(f"{path} is a {type(index).__name__}, not an IndexBinaryIDMap; rebuild the index")
        if index.d != self.n_bits:
            raise IndexFormatError(f"{path} holds {index.d}-bit codes, expected {self.n_bits}; rebuild the index")
        self.index_ = index
        return self
