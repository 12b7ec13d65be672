"""The local index as a candidate source of the query pipeline (:mod:`semhash.pipeline`).

Reads only the public state of a :class:`semhash.index.SemanticIndex`: its hash table (ball,
codes), its TF-IDF rows, the inverted index of those rows (lexical candidates), its document
store and, for the k-nearest fill of a large database, its FAISS index. A whole batch is one
snapshot (the index does not change under a search), so the pipeline may rank its queries on
threads and reads the document store once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np

from .codes import EncoderWeights
from .hashtable import CodeTable
from .lexical import LexicalIndex
from .pipeline import StoredDocument
from .query import Terms
from .vectorize import Vectorizer

# the kNN fill uses FAISS from this many documents on (below, the NumPy scan is as fast)
FAISS_FILL_ABOVE = 200_000


class LocalIndex(Protocol):
    """What the query path reads of a :class:`semhash.index.SemanticIndex`."""

    @property
    def n_bits(self) -> int: ...

    @property
    def table(self) -> CodeTable: ...

    @property
    def tfidf(self) -> Any: ...  # CSR rows: a SciPy matrix or semhash.codes.CsrArrays

    @property
    def encoder(self) -> EncoderWeights: ...

    @property
    def vectorizer(self) -> Vectorizer: ...

    @property
    def faiss(self) -> Any: ...  # semhash.faiss_index.FaissBinaryIndex, loaded on first use

    @property
    def faiss_loaded(self) -> bool: ...

    @property
    def lexical(self) -> LexicalIndex: ...

    def documents(self, rows: Any) -> Mapping[int, StoredDocument]: ...

    def rows_for_ids(self, ids: Iterable[str]) -> Mapping[str, int]: ...


def knn_fill(index: LocalIndex, code: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest documents by a full scan, sorted by ``(distance, id)``.

    FAISS when it is already loaded or the database is large (its scan is compiled and
    multi-threaded); otherwise the NumPy scan of the hash table, which answers the same and
    spares a cold process the FAISS import.
    """
    if index.faiss_loaded or len(index.table) >= FAISS_FILL_ABOVE:
        return index.faiss.knn(code, k)
    return index.table.knn(code, k)


class LocalSource:
    """A :class:`semhash.pipeline.CandidateSource` over a local index."""

    queries_per_snapshot: int | None = None  # a whole batch: the index does not change under it

    def __init__(self, index: LocalIndex) -> None:
        self.index = index
        self.n_bits = index.n_bits

    @contextmanager
    def snapshot(self, threads: int) -> Iterator[None]:
        if threads > 1 and not self.index.faiss_loaded and self.size() >= FAISS_FILL_ABOVE:
            _ = self.index.faiss  # load once here, not from several threads at the same time
        yield

    def size(self) -> int:
        return len(self.index.table)

    def ball(self, code: np.ndarray, radius: int, lookup: str) -> tuple[np.ndarray, np.ndarray]:
        return self.index.table.ball(code, radius, method=lookup)

    def knn(self, code: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return knn_fill(self.index, code, k)

    def codes_of(self, ids: np.ndarray) -> np.ndarray:
        return self.index.table.codes_of(ids)

    def tfidf_rows(self, ids: np.ndarray) -> tuple[Any, np.ndarray]:
        tfidf = self.index.tfidf
        ids = np.asarray(ids, np.int64)
        gather = getattr(tfidf, "gather", None)
        if gather is not None:  # an index of segments: the shortlist's rows, never the whole matrix
            return gather(ids), np.arange(len(ids), dtype=np.int64)
        return (tfidf if getattr(tfidf, "format", "csr") == "csr" else tfidf.tocsr()), ids

    def lexical(self, terms: Terms, n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        top, top_scores, scores = self.index.lexical.top(terms[0], n, ids)
        return top, top_scores, scores

    def documents(self, ids: np.ndarray) -> Mapping[int, StoredDocument]:
        return self.index.documents(ids)


__all__ = ["FAISS_FILL_ABOVE", "LocalIndex", "LocalSource", "knn_fill"]
