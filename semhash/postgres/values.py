"""How codes and documents become PostgreSQL values and back (pure functions, NumPy only).

A code is stored three ways: ``code_int`` / ``code_int2``, the signed 64-bit words of its key
(:func:`semhash.bitflip.pack_keys`, probed with the flip masks of the hash table), and
``code_bits``, a ``bit(n_bits)`` string, first bit first (``bit_count`` of an XOR).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..bitflip import flip_masks, pack_keys
from ..codes import gather_rows
from ..errors import PostgresConfigError


def code_keys(packed: np.ndarray) -> np.ndarray:
    """Signed 64-bit keys ``(n, n_words)`` of packed codes: :func:`semhash.bitflip.pack_keys`
    reinterpreted as PostgreSQL ``bigint`` (two's complement, the same bits)."""
    return np.ascontiguousarray(pack_keys(packed)).view(np.int64)


def code_bits(packed: np.ndarray, n_bits: int) -> list[str]:
    """``'0101...'`` strings of packed codes, first bit first: PostgreSQL ``bit(n)`` input."""
    bits = np.unpackbits(np.asarray(packed, dtype=np.uint8).reshape(len(packed), -1), axis=1)[:, :n_bits]
    return ["".join(row) for row in np.where(bits.astype(bool), "1", "0")]


def packed_from_bits(strings: list[str], n_bits: int) -> np.ndarray:
    """Packed codes ``(n, n_bits // 8)`` of ``'0101...'`` strings (the inverse of :func:`code_bits`)."""
    if not strings:
        return np.zeros((0, n_bits // 8), dtype=np.uint8)
    bits = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(len(strings), n_bits) - ord("0")
    return np.packbits(bits, axis=1)


def probe_keys(query: np.ndarray, n_bits: int, radius: int) -> np.ndarray:
    """Signed keys ``(n_masks, n_words)`` of every code within ``radius`` of ``query``."""
    masks, _ = flip_masks(n_bits, radius)
    qkey = np.ascontiguousarray(code_keys(query.reshape(1, -1))).view(np.uint64)
    return np.ascontiguousarray(masks ^ qkey).view(np.int64)


def rows_and_distances(found: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Rows (int64) and distances (int32) of ``(row, distance, ...)`` tuples."""
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    arr = np.asarray([f[:2] for f in found], dtype=np.int64)
    return arr[:, 0], arr[:, 1].astype(np.int32)


def query_model_fingerprint(index: Any) -> str:
    """SHA-256 of what turns a query into a code: vocabulary, idf and encoder weights."""
    h = hashlib.sha256()
    vec, enc = index.vectorizer, index.encoder
    h.update(json.dumps(sorted((str(w), int(j)) for w, j in vec.vocabulary_.items())).encode("utf-8"))
    idf = getattr(vec, "idf_", None)
    h.update(b"idf:none" if idf is None else np.ascontiguousarray(idf, dtype=np.float64).tobytes())
    for arr in [*enc.kernels, *enc.biases, enc.thresholds]:
        h.update(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
    h.update(json.dumps([list(enc.activations), float(enc.input_length)]).encode("utf-8"))
    return h.hexdigest()


def _check_text_fields(doc: Any) -> None:
    for field in ("id", "path", "title", "snippet"):
        if "\x00" in getattr(doc, field):
            raise PostgresConfigError(
                f"document {doc.id!r} has a NUL character in its {field}, which PostgreSQL text cannot hold; "
                "remove it from the corpus and rebuild the index"
            )


def _documents_in_batches(index: Any) -> Iterator[tuple[np.ndarray, np.ndarray, dict]]:
    """``(rows, codes, documents)`` of every indexed row in row order, :data:`ROW_BATCH` rows at
    a time; :class:`PostgresConfigError` for a row without a stored document, or a document
    PostgreSQL cannot store."""
    rows = np.asarray(index.table.ids_, dtype=np.int64)
    codes = np.asarray(index.table.codes_, dtype=np.uint8)
    order = np.argsort(rows, kind="stable")
    for start in range(0, len(order), ROW_BATCH):
        batch = order[start : start + ROW_BATCH]
        batch_rows = rows[batch]
        docs = index.documents(batch_rows)
        missing = [int(r) for r in batch_rows if int(r) not in docs]
        if missing:
            raise PostgresConfigError(
                f"{len(missing)} indexed row(s) have no stored document (first: row {missing[0]}); "
                "save and reopen the index first"
            )
        for d in docs.values():
            _check_text_fields(d)
        yield batch_rows, codes[batch], docs


def check_document_rows(index: Any) -> int:
    """Check every row :func:`document_rows` would give, without keeping them; returns how many."""
    return sum(len(rows) for rows, _codes, _docs in _documents_in_batches(index))


def document_rows(index: Any) -> Iterator[tuple]:
    """``(row, id, path, title, snippet, key, key2, bits, idx, val)`` for every indexed row, in
    row order (:data:`semhash.postgres.statements.COLUMNS`), read :data:`ROW_BATCH` rows at a
    time: an export of a million documents holds one batch, not the index."""
    for rows, codes, docs in _documents_in_batches(index):
        keys = code_keys(codes)
        bits = code_bits(codes, index.n_bits)
        batch = gather_rows(index.tfidf, rows)  # only this batch's rows: an index of segments is never joined whole
        indptr, indices, data = batch.indptr, batch.indices, batch.data
        for i, r in enumerate(rows.tolist()):
            d = docs[r]
            a, b = int(indptr[i]), int(indptr[i + 1])
            yield (
                r, d.id, d.path, d.title, d.snippet,
                int(keys[i, 0]), int(keys[i, 1]) if keys.shape[1] > 1 else None, bits[i],
                np.asarray(indices[a:b]).astype(np.int64).tolist(),
                np.asarray(data[a:b], dtype=np.float32).astype(np.float64).tolist(),
            )


ROW_BATCH = 20_000  # indexed rows an export reads from the store at a time
LEXICAL_CHUNK = 4096  # vocabulary columns scored at a time on export (bounds the memory of a large index)


def lexical_rows(index: Any) -> Iterator[tuple]:
    """``(term, idf, rows, scores)`` for every vocabulary column of ``index``: its BM25 idf and
    its postings with their BM25 terms, exactly as the local index sums them
    (:meth:`semhash.lexical.LexicalIndex.column_terms`; an empty posting list for a word no row
    holds, whose idf still counts in the most a query could score)."""
    lex = index.lexical
    n_terms = int(lex.postings.shape[0])
    for first in range(0, n_terms, LEXICAL_CHUNK):
        cols = np.arange(first, min(first + LEXICAL_CHUNK, n_terms), dtype=np.int64)
        rows, scores, sizes = lex.column_postings(cols)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        rows_list, scores_list = rows.tolist(), scores.tolist()
        for i, term in enumerate(cols.tolist()):
            a, b = bounds[i], bounds[i + 1]
            yield term, float(lex.stats.idf[term]), rows_list[a:b], scores_list[a:b]
