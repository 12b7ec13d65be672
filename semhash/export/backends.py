"""What each search backend ingests: records of codes, and the JSONL, Parquet, Elasticsearch,
OpenSearch and Milvus bodies built from them (pure functions of records; nothing is written here).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np

from ..checks import check_n_bits, is_whole
from ..choices import MILVUS_VARCHAR_MAX
from ..codes import to_hex
from ..errors import ConfigError
from .code_formats import as_packed, to_base64, to_int8_bytes, to_uint8_lists

if TYPE_CHECKING:  # annotations only (pyarrow is an optional extra)
    import pyarrow as pa

    from ..index import SemanticIndex

BIT_ORDER = "msb-first: bit i is in byte i // 8 at position 7 - i % 8 (numpy.packbits order)"
PARQUET_HINT = "Parquet export needs pyarrow, which is not installed: pip install pyarrow"
VECTOR_FIELD = "code"
MILVUS_METRIC = "HAMMING"
RECORD_BATCH = 20_000  # documents an export reads from the store (and writes to Parquet) at a time


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class CodeRecord:
    """One document's code and what a backend shows for it."""

    row: int
    id: str
    title: str
    path: str
    code: np.ndarray  # packed uint8, (n_bits // 8,)


class IndexRecords:
    """Every live document of an index with its stored code, in row order, read from the store
    :data:`RECORD_BATCH` rows at a time: an export of a million documents never holds them all.
    Each iteration reads the store again; ``len`` is known after one whole iteration (it counts
    the codes with a stored document; a code without one has nothing to show and is left out)."""

    def __init__(self, index: SemanticIndex) -> None:
        rows = np.asarray(index.table.ids_, dtype=np.int64)
        self._order = np.argsort(rows, kind="stable")
        self._rows, self._index = rows[self._order], index
        self._codes = np.asarray(index.table.codes_, dtype=np.uint8)
        self._len: int | None = None

    def __iter__(self) -> Iterator[CodeRecord]:
        n = 0
        for start in range(0, len(self._rows), RECORD_BATCH):
            rows, order = self._rows[start : start + RECORD_BATCH], self._order[start : start + RECORD_BATCH]
            docs = self._index.documents(rows.tolist())
            for r, j in zip(rows.tolist(), order.tolist()):
                d = docs.get(r)
                if d is not None:
                    n += 1
                    yield CodeRecord(r, d.id, d.title, d.path, self._codes[j].copy())
        self._len = n

    def __len__(self) -> int:
        if self._len is None:
            for _ in self:
                pass
        assert self._len is not None
        return self._len


def index_records(index: SemanticIndex) -> list[CodeRecord]:
    """Every live document of ``index`` with its stored code, in row order (all in memory:
    :class:`IndexRecords` reads them a batch at a time)."""
    return list(IndexRecords(index))


def batches(records: Iterable[CodeRecord], size: int | None = None) -> Iterator[list[CodeRecord]]:
    """``records`` in lists of ``size`` (default :data:`RECORD_BATCH`)."""
    it = iter(records)
    while batch := list(islice(it, size or RECORD_BATCH)):
        yield batch


# --------------------------------------------------------------------------- JSONL / Parquet


def jsonl_lines(records: Iterable[CodeRecord], n_bits: int) -> Iterator[str]:
    """``codes.jsonl``: one object per document with the code as hex, base64 and a byte list."""
    for rec in records:
        yield json.dumps({
            "row": rec.row, "id": rec.id, "title": rec.title, "path": rec.path, "n_bits": int(n_bits),
            "hex": to_hex(as_packed(rec.code))[0], "base64": to_base64(rec.code)[0],
            "bytes": to_uint8_lists(rec.code)[0],
        }, ensure_ascii=False)


def parquet_available() -> bool:
    """Whether pyarrow (an optional extra) can be imported."""
    try:
        import pyarrow  # the optional extra: only asked whether it is there
        import pyarrow.parquet  # noqa: F401  (the same)
    except ImportError:
        return False
    return True


def parquet_table(records: list[CodeRecord], n_bits: int) -> pa.Table:
    """A ``pyarrow.Table`` of the codes (``code`` is a binary column of the packed bytes)."""
    try:
        import pyarrow as pa  # the optional extra, needed only for Parquet
    except ImportError as exc:
        raise ConfigError(PARQUET_HINT) from exc
    schema = pa.schema(
        [("row", pa.int64()), ("id", pa.string()), ("title", pa.string()), ("path", pa.string()),
         ("hex", pa.string()), ("code", pa.binary())],
        metadata={"semhash.n_bits": str(int(n_bits)), "semhash.bit_order": BIT_ORDER},
    )
    return pa.table({
        "row": [r.row for r in records], "id": [r.id for r in records], "title": [r.title for r in records],
        "path": [r.path for r in records], "hex": [to_hex(as_packed(r.code))[0] for r in records],
        "code": [bytes(r.code) for r in records],
    }, schema=schema)


# --------------------------------------------------------------------------- Elasticsearch


def es_mapping(n_bits: int, field: str = VECTOR_FIELD) -> dict:
    """Index body for ``PUT /<index>``: a ``dense_vector`` bit field (Hamming via ``l2_norm``)."""
    return {
        "mappings": {
            "properties": {
                "id": {"type": "keyword"},
                "title": {"type": "text"},
                "path": {"type": "keyword"},
                field: {"type": "dense_vector", "element_type": "bit", "dims": check_n_bits(n_bits),
                        "index": True, "similarity": "l2_norm"},
            }
        }
    }


def es_bulk_lines(records: Iterable[CodeRecord], index_name: str, field: str = VECTOR_FIELD) -> Iterator[str]:
    """``_bulk`` NDJSON for Elasticsearch: an ``index`` action, then the source with the hex code."""
    for rec in records:
        yield json.dumps({"index": {"_index": index_name, "_id": rec.id}}, ensure_ascii=False)
        yield json.dumps({"id": rec.id, "title": rec.title, "path": rec.path, field: to_hex(as_packed(rec.code))[0]},
                         ensure_ascii=False)


# --------------------------------------------------------------------------- OpenSearch


def opensearch_mapping(n_bits: int, field: str = VECTOR_FIELD) -> dict:
    """Index body for ``PUT /<index>``: a binary ``knn_vector`` (faiss HNSW, Hamming space)."""
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "properties": {
                "id": {"type": "keyword"},
                "title": {"type": "text"},
                "path": {"type": "keyword"},
                field: {"type": "knn_vector", "dimension": check_n_bits(n_bits), "data_type": "binary",
                        "method": {"name": "hnsw", "space_type": "hamming", "engine": "faiss"}},
            }
        },
    }


def opensearch_bulk_lines(records: Iterable[CodeRecord], index_name: str, field: str = VECTOR_FIELD) -> Iterator[str]:
    """``_bulk`` NDJSON for OpenSearch: an ``index`` action, then the source with int8 bytes."""
    for rec in records:
        yield json.dumps({"index": {"_index": index_name, "_id": rec.id}}, ensure_ascii=False)
        yield json.dumps({"id": rec.id, "title": rec.title, "path": rec.path, field: to_int8_bytes(rec.code)[0]},
                         ensure_ascii=False)


# --------------------------------------------------------------------------- Milvus


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _clip_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _bin_flat(n_docs: int) -> tuple[dict, dict]:
    return {}, {}


def _bin_ivf_flat(n_docs: int) -> tuple[dict, dict]:
    # about 4 * sqrt(n) clusters (Milvus allows 1..65536); a search scans an eighth of them
    nlist = int(min(65536, max(1, min(n_docs, 4 * math.isqrt(max(n_docs, 1))))))
    return {"nlist": nlist}, {"nprobe": max(1, -(-nlist // 8))}


# Milvus binary index type (choices.MILVUS_INDEX_TYPES, in that order) -> (build params, search
# params) for a collection of n codes
MILVUS_INDEXES = {"BIN_FLAT": _bin_flat, "BIN_IVF_FLAT": _bin_ivf_flat}


def check_index_type(index_type: str) -> str:
    """A Milvus binary index type of :data:`MILVUS_INDEXES`."""
    if index_type not in MILVUS_INDEXES:
        raise ConfigError(f"unknown Milvus index type {index_type!r}; choose from {', '.join(MILVUS_INDEXES)}")
    return index_type


def check_max_length(max_length: int) -> int:
    """A VARCHAR ``max_length`` Milvus accepts: 1 to :data:`~semhash.choices.MILVUS_VARCHAR_MAX`."""
    if not is_whole(max_length) or not 1 <= max_length <= MILVUS_VARCHAR_MAX:
        raise ConfigError(f"the Milvus VARCHAR max_length must be a whole number from 1 to {MILVUS_VARCHAR_MAX} "
                          f"(Milvus's limit), got {max_length!r}")
    return int(max_length)


def milvus_schema(n_bits: int, collection: str, n_docs: int, id_max_length: int = MILVUS_VARCHAR_MAX,
                  title_max_length: int = MILVUS_VARCHAR_MAX, field: str = VECTOR_FIELD,
                  index_type: str = "BIN_FLAT") -> dict:
    """Create-collection body (Milvus REST v2 shape): id VARCHAR key, BINARY_VECTOR code, title,
    a ``HAMMING`` index of ``index_type`` (:data:`MILVUS_INDEXES`), plus ``searchParams``: the
    metric and parameters a search of that index needs (``nprobe`` for ``BIN_IVF_FLAT``)."""
    n_bits = check_n_bits(n_bits)
    id_max_length, title_max_length = check_max_length(id_max_length), check_max_length(title_max_length)
    build, search = MILVUS_INDEXES[check_index_type(index_type)](int(n_docs))
    return {
        "collectionName": collection,
        "schema": {
            "autoID": False,
            "enableDynamicField": False,
            "fields": [
                {"fieldName": "id", "dataType": "VarChar", "isPrimary": True,
                 "elementTypeParams": {"max_length": id_max_length}},
                {"fieldName": field, "dataType": "BinaryVector", "elementTypeParams": {"dim": n_bits}},
                {"fieldName": "title", "dataType": "VarChar", "elementTypeParams": {"max_length": title_max_length}},
            ],
        },
        "indexParams": [{"fieldName": field, "indexName": f"{field}_hamming", "metricType": MILVUS_METRIC,
                         "indexType": index_type, "params": build}],
        "searchParams": {"annsField": field, "metricType": MILVUS_METRIC, "params": search},
    }


def check_milvus_ids(records: Iterable[CodeRecord], max_length: int = MILVUS_VARCHAR_MAX) -> None:
    """Refuse a document id longer than the ``id`` field's ``max_length`` (bytes): a Milvus key
    cannot be clipped. Titles are clipped to their field instead (:func:`milvus_rows`)."""
    longest = max(records, key=lambda r: _utf8_len(r.id), default=None)
    if longest is not None and _utf8_len(longest.id) > max_length:
        fix = (f"raise --milvus-max-length (at most {MILVUS_VARCHAR_MAX})" if max_length < MILVUS_VARCHAR_MAX
               else "Milvus keys can be no longer: give the document a shorter id")
        raise ConfigError(f"document id {longest.id[:40]!r}... is {_utf8_len(longest.id)} bytes long, more than the "
                          f"Milvus id field's max_length of {max_length} bytes; {fix}")


def milvus_rows(records: Iterable[CodeRecord], field: str = VECTOR_FIELD,
                title_max_length: int = MILVUS_VARCHAR_MAX) -> Iterator[str]:
    """Insert-ready rows as JSON lines; the vector is a list of uint8 (``bytes(row[field])``)."""
    for rec in records:
        yield json.dumps({"id": rec.id, field: to_uint8_lists(rec.code)[0],
                          "title": _clip_utf8(rec.title, title_max_length)}, ensure_ascii=False)


__all__ = [
    "BIT_ORDER", "RECORD_BATCH", "CodeRecord", "IndexRecords", "MILVUS_INDEXES", "batches", "MILVUS_METRIC", "PARQUET_HINT", "VECTOR_FIELD", "check_index_type",
    "check_max_length", "check_milvus_ids", "es_bulk_lines", "es_mapping", "index_records", "jsonl_lines",
    "milvus_rows", "milvus_schema", "opensearch_bulk_lines", "opensearch_mapping", "parquet_available",
    "parquet_table",
]
