"""Documents similar to an indexed document ("more like this"), without its text.

The query is the document as the index already holds it: its packed code (``index.table``)
for the Hamming-ball lookup and its L2-normalized TF-IDF row (``index.tfidf``) for the
re-ranking, so the answer is what :func:`semhash.search.search` gives for the document's
text, minus the document itself. No document store text is read; the one forward pass is of
the stored row, for the query-weighted order (:func:`semhash.search.query_bit_weights`; the
encoder scales every row to the same total weight, so the stored row gives the logits its text
gives).
"""

from __future__ import annotations

import numpy as np

from .codes import csr_arrays_for_rows
from .errors import SemhashError
from .search import Hit, check_lookup, check_query_args, encode_terms, shortlist


class UnknownDocumentError(SemhashError, LookupError):
    """A document id that is not in the index."""


def document_row(index, doc_id: str) -> int:
    """The row of ``doc_id``; :class:`UnknownDocumentError` when it is not indexed."""
    if not isinstance(doc_id, str) or not doc_id:
        raise UnknownDocumentError(f"a document id must be a non-empty string, got {doc_id!r}")
    rows = index.rows_for_ids([doc_id])
    if doc_id not in rows:
        raise UnknownDocumentError(f"unknown document id {doc_id!r} (see `semhash query` for ids)")
    return int(rows[doc_id])


def document_query(index, row: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """``(packed code, (columns, weights))`` of an indexed row, as the search path uses them."""
    table = index.table
    at = np.flatnonzero(np.asarray(table.ids_) == row)
    if len(at) == 0:
        raise UnknownDocumentError(f"row {row} has no code in the hash table; the index is inconsistent")
    code = np.asarray(table.codes_[int(at[0])], dtype=np.uint8)
    tfidf = index.tfidf if getattr(index.tfidf, "format", "csr") == "csr" else index.tfidf.tocsr()
    indptr, indices, data = csr_arrays_for_rows(tfidf, np.array([row]))  # checked where read lazily
    start, end = int(indptr[row]), int(indptr[row + 1])
    cols = np.asarray(indices[start:end], dtype=np.int64)
    weights = np.asarray(data[start:end], dtype=np.float32)
    order = np.argsort(cols)
    return code, (cols[order], weights[order])


def similar(index, doc_id: str, k: int = 10, radius: int | None = None, rerank: bool = True,
            lookup: str = "auto") -> list[Hit]:
    """The ``k`` documents most similar to the indexed document ``doc_id`` (itself left out).

    Same options and ranking as :func:`semhash.search.search`. Raises
    :class:`UnknownDocumentError` for an id that is not indexed, :class:`QueryError` for bad
    ``k``/``radius``/``lookup``.
    """
    radius = check_query_args(index.n_bits, k, radius)
    lookup = check_lookup(lookup)
    row = document_row(index, doc_id)
    code, query = document_query(index, row)
    n_others = len(index.table) - 1
    want = min(int(k) + 1, len(index.table))
    if n_others <= 0:
        return []
    _, bit_weights = encode_terms(index.encoder, *query)
    ids, dist, scores = shortlist(index, code, query, want, radius, rerank, lookup, bit_weights)
    keep = ids != row
    ids, dist, scores = ids[keep][:k], dist[keep][:k], np.asarray(scores)[keep][:k]
    docs = index.documents(ids)
    hits = []
    for r, d, s in zip(ids.tolist(), dist.tolist(), scores.tolist()):
        doc = docs.get(int(r))
        if doc is None:
            continue
        hits.append(Hit(rank=len(hits) + 1, id=doc.id, title=doc.title, snippet=doc.snippet, path=doc.path,
                        distance=int(d), score=round(float(s), 6), row=int(r)))
    return hits


__all__ = ["UnknownDocumentError", "document_query", "document_row", "similar"]
