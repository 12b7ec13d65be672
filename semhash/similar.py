"""Documents similar to an indexed document ("more like this"), without its text.

The query pipeline (:mod:`semhash.pipeline`) with a stored query: the document as the index
already holds it, its packed code for the Hamming-ball lookup and its L2-normalized TF-IDF row
for the re-ranking, so the answer is what :func:`semhash.search.search` gives for the
document's text, minus the document itself. No document store text is read; the one forward
pass is of the stored row, for the query-weighted order (:func:`semhash.ranking.query_bit_weights`;
the encoder scales every row to the same total weight, so the stored row gives the logits its
text gives).
"""

from __future__ import annotations

import numpy as np

from .codes import csr_arrays_for_rows
from .errors import UnknownDocumentError
from .local import LocalIndex, LocalSource
from .pipeline import CandidateSource, Hit, run_queries
from .query import Query, QueryOptions, Terms, encode_terms


def document_row(index: LocalIndex, doc_id: str) -> int:
    """The row of ``doc_id``; :class:`UnknownDocumentError` when it is not indexed."""
    if not isinstance(doc_id, str) or not doc_id:
        raise UnknownDocumentError(f"a document id must be a non-empty string, got {doc_id!r}")
    rows = index.rows_for_ids([doc_id])
    if doc_id not in rows:
        raise UnknownDocumentError(f"unknown document id {doc_id!r} (see `semhash query` for ids)")
    return int(rows[doc_id])


def stored_query(source: CandidateSource, row: int) -> tuple[np.ndarray, Terms]:
    """``(packed code, (columns, weights))`` of an indexed row, as the search path uses them."""
    at = np.array([row], dtype=np.int64)
    try:
        code = np.asarray(source.codes_of(at)[0], dtype=np.uint8)
    except ValueError:
        raise UnknownDocumentError(f"row {row} has no code in the hash table; the index is inconsistent") from None
    matrix, rows = source.tfidf_rows(at)
    indptr, indices, data = csr_arrays_for_rows(matrix, rows)  # checked where read lazily
    start, end = int(indptr[rows[0]]), int(indptr[rows[0] + 1])
    cols = np.asarray(indices[start:end], dtype=np.int64)
    weights = np.asarray(data[start:end], dtype=np.float32)
    order = np.argsort(cols)
    return code, (cols[order], weights[order])


def document_query(index: LocalIndex, row: int) -> tuple[np.ndarray, Terms]:
    """:func:`stored_query` of a row of a local index."""
    return stored_query(LocalSource(index), row)


def similar(index: LocalIndex, doc_id: str, k: int = 10, radius: int | None = None, rerank: bool = True,
            lookup: str = "auto", mode: str | None = "semantic") -> list[Hit]:
    """The ``k`` documents most similar to the indexed document ``doc_id`` (itself left out).

    Same options and ranking as :func:`semhash.search.search`, in mode ``semantic`` unless
    ``mode`` says otherwise (a whole document's words are a long query: its code and TF-IDF row
    describe its topic, which is what "more like this" asks). Raises
    :class:`UnknownDocumentError` for an id that is not indexed, :class:`QueryError` for bad
    ``k``/``radius``/``lookup``/``mode``.
    """
    opts = QueryOptions.make(index.n_bits, k, radius, rerank, lookup, mode)
    source = LocalSource(index)
    row = document_row(index, doc_id)
    code, terms = stored_query(source, row)
    if source.size() <= 1:
        return []
    _, bit_weights = encode_terms(index.encoder, *terms)
    return run_queries(source, [Query(code, terms, bit_weights, exclude=row)], opts)[0]


__all__ = ["UnknownDocumentError", "document_query", "document_row", "similar", "stored_query"]
