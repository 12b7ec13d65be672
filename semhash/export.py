"""Codes as a portable artifact: every document's code in the formats search backends ingest.

All formats carry the same packed bytes semhash stores (``index.table.codes_``): bit ``i`` of a
code is in byte ``i // 8`` at position ``7 - i % 8`` (most significant bit first, NumPy's
``packbits`` order; see :mod:`semhash.codes`). Only the way the bytes are written changes:

- ``codes.jsonl``: one JSON object per document: ``row``, ``id``, ``title``, ``path``, ``n_bits``,
  ``hex`` (two lowercase hex digits per byte, first byte first), ``base64`` (standard base64 of
  the bytes) and ``bytes`` (the bytes as a list of ints 0..255).
- ``codes.parquet`` (only when ``pyarrow`` is installed): columns ``row``, ``id``, ``title``,
  ``path``, ``hex`` and ``code`` (``binary``, the packed bytes); ``n_bits`` and the bit order are
  in the schema metadata.
- Elasticsearch, ``dense_vector`` with ``element_type: "bit"``: ``dims`` is the number of *bits*
  (a multiple of 8); a vector is given "as a hexidecimal string" or as an array of bytes, each a
  signed int8 in -128..127 holding 8 dimensions, most significant bit first -- the docs' example
  ``[127, -127, 0, 1, 42]`` is "in bits ``0111111110000001000000000000000100101010``". ``bit``
  vectors only support ``similarity: "l2_norm"``, which for them is the Hamming distance (score
  ``(numBits - hamming) / numBits``). We write the hex string (the same as ``semhash encode``).
  https://www.elastic.co/docs/reference/elasticsearch/mapping-reference/dense-vector
  (section "Indexing and searching bit vectors").
- OpenSearch, ``knn_vector`` with ``data_type: "binary"``: ``dimension`` is the number of bits (a
  multiple of 8), ``space_type`` must be ``hamming`` (engine ``faiss``), and vectors are arrays of
  "8-bit signed integers (int8) in the [-128, 127] range", most significant bit first: the bits
  ``0, 1, 1, 0, 0, 0, 1, 1`` are the byte ``99``; ``[0,1,1,0,1,1,0,0, 1,0,0,0,1,1,0,0]`` is
  ``[108, -116]`` (``np.packbits(bits).astype(np.int8)``).
  https://docs.opensearch.org/latest/mappings/supported-field-types/knn-memory-optimized/#binary-vectors
  (2.x: https://opensearch.org/docs/latest/field-types/supported-field-types/knn-vector#binary-vectors)
- Milvus, ``BINARY_VECTOR`` with metric ``HAMMING``: ``dim`` is the number of bits (a multiple of
  8) and pymilvus takes each vector as a ``bytes`` object of ``dim / 8`` bytes; ``rows.jsonl``
  holds the bytes as a list of ints 0..255, so ``bytes(row["code"])`` is the vector.
  The index is the user's choice (:data:`MILVUS_INDEXES`): ``BIN_FLAT`` (the default: exact,
  and accepted by every Milvus, Milvus Lite included) or ``BIN_IVF_FLAT`` (``nlist`` clusters,
  approximate: a search scans ``nprobe`` of them). ``schema.json`` carries the matching search
  parameters (``searchParams``), since Milvus's own default ``nprobe`` is small. VARCHAR
  fields are sized to Milvus's maximum (65,535 bytes) unless told otherwise, so documents added
  later with longer ids or titles still fit.
  https://milvus.io/docs/binary-vector.md and https://milvus.io/docs/bin-ivf-flat.md.
  Milvus's own example packs a bool list least significant bit first; Hamming distance (XOR +
  popcount over the bytes) does not depend on the order of bits within a byte, so distances are
  the same as semhash's as long as queries use the same bytes (``semhash encode --format uint8``).

Everything but :func:`export_index` is a pure function of arrays and records.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .choices import MILVUS_INDEX_TYPES, MILVUS_VARCHAR_MAX
from .codes import to_hex, unpack_bits
from .errors import ConfigError, QueryError

FORMATS = ("jsonl", "parquet", "elasticsearch", "opensearch", "milvus")
ENCODE_FORMATS = ("hex", "bits", "int8", "uint8", "json")
BIT_ORDER = "msb-first: bit i is in byte i // 8 at position 7 - i % 8 (numpy.packbits order)"
PARQUET_HINT = "Parquet export needs pyarrow, which is not installed: pip install pyarrow"
VECTOR_FIELD = "code"
MILVUS_METRIC = "HAMMING"


# --------------------------------------------------------------------------- byte conversions


def _packed(packed) -> np.ndarray:
    packed = np.asarray(packed, dtype=np.uint8)
    return packed[None, :] if packed.ndim == 1 else packed


def to_uint8_lists(packed) -> list[list[int]]:
    """Each packed code as a list of its bytes, ints 0..255 (Milvus: ``bytes(lst)``)."""
    return _packed(packed).tolist()


def to_int8_bytes(packed) -> list[list[int]]:
    """Each packed code as signed bytes, ints -128..127 (two's complement of the same byte).

    The form Elasticsearch ``bit`` and OpenSearch ``binary`` vectors take as a JSON array.
    """
    return _packed(packed).view(np.int8).tolist()


def from_int8_bytes(values) -> np.ndarray:
    """Packed uint8 codes from :func:`to_int8_bytes` lists (or any ints -128..255)."""
    arr = np.atleast_2d(np.asarray(values, dtype=np.int16))
    if arr.size and (arr.min() < -128 or arr.max() > 255):
        raise ValueError("byte values must lie in -128..255")
    return (arr & 0xFF).astype(np.uint8)


def to_base64(packed) -> list[str]:
    """Standard base64 of each packed code's bytes."""
    return [base64.b64encode(bytes(row)).decode("ascii") for row in _packed(packed)]


def to_bit_strings(packed, n_bits: int | None = None) -> list[str]:
    """Each code as a string of ``0``/``1``, bit 0 first (the order of ES/OpenSearch dimensions)."""
    bits = unpack_bits(_packed(packed), n_bits)
    return ["".join("1" if b else "0" for b in row) for row in bits]


def code_dict(packed_row, n_bits: int) -> dict:
    """Every representation of one code (what ``semhash encode --format json`` prints)."""
    row = _packed(packed_row)
    return {
        "n_bits": int(n_bits),
        "hex": to_hex(row)[0],
        "bits": to_bit_strings(row, n_bits)[0],
        "int8": to_int8_bytes(row)[0],
        "uint8": to_uint8_lists(row)[0],
        "base64": to_base64(row)[0],
    }


def format_codes(packed, n_bits: int, fmt: str) -> list[str]:
    """One printable line per code in ``fmt`` (one of :data:`ENCODE_FORMATS`)."""
    packed = _packed(packed)
    if fmt == "hex":
        return to_hex(packed)
    if fmt == "bits":
        return to_bit_strings(packed, n_bits)
    if fmt == "int8":
        return [json.dumps(v) for v in to_int8_bytes(packed)]
    if fmt == "uint8":
        return [json.dumps(v) for v in to_uint8_lists(packed)]
    if fmt == "json":
        return [json.dumps(code_dict(row, n_bits)) for row in packed]
    raise ConfigError(f"unknown code format {fmt!r}; choose from {', '.join(ENCODE_FORMATS)}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class CodeRecord:
    """One document's code and what a backend shows for it."""

    row: int
    id: str
    title: str
    path: str
    code: np.ndarray  # packed uint8, (n_bits // 8,)


def index_records(index) -> list[CodeRecord]:
    """Every live document of ``index`` with its stored code, in row order."""
    rows = np.asarray(index.table.ids_, dtype=np.int64)
    codes = np.asarray(index.table.codes_, dtype=np.uint8)
    order = np.argsort(rows, kind="stable")
    docs = index.documents(rows[order].tolist())
    out = []
    for j in order:
        r = int(rows[j])
        d = docs.get(r)
        if d is None:  # a code without a stored document: nothing to show for it
            continue
        out.append(CodeRecord(r, d.id, d.title, d.path, codes[j].copy()))
    return out


def _check_bits(n_bits: int) -> int:
    n_bits = int(n_bits)
    if n_bits <= 0 or n_bits % 8:
        raise ConfigError(f"n_bits must be a positive multiple of 8, got {n_bits}")
    return n_bits


# --------------------------------------------------------------------------- JSONL / Parquet


def jsonl_lines(records: Iterable[CodeRecord], n_bits: int) -> Iterator[str]:
    """``codes.jsonl``: one object per document with the code as hex, base64 and a byte list."""
    for rec in records:
        yield json.dumps({
            "row": rec.row, "id": rec.id, "title": rec.title, "path": rec.path, "n_bits": int(n_bits),
            "hex": to_hex(_packed(rec.code))[0], "base64": to_base64(rec.code)[0], "bytes": to_uint8_lists(rec.code)[0],
        }, ensure_ascii=False)


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def parquet_table(records: list[CodeRecord], n_bits: int):
    """A ``pyarrow.Table`` of the codes (``code`` is a binary column of the packed bytes)."""
    try:
        import pyarrow as pa
    except ImportError as exc:
        raise ConfigError(PARQUET_HINT) from exc
    schema = pa.schema(
        [("row", pa.int64()), ("id", pa.string()), ("title", pa.string()), ("path", pa.string()),
         ("hex", pa.string()), ("code", pa.binary())],
        metadata={"semhash.n_bits": str(int(n_bits)), "semhash.bit_order": BIT_ORDER},
    )
    return pa.table({
        "row": [r.row for r in records], "id": [r.id for r in records], "title": [r.title for r in records],
        "path": [r.path for r in records], "hex": [to_hex(_packed(r.code))[0] for r in records],
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
                field: {"type": "dense_vector", "element_type": "bit", "dims": _check_bits(n_bits),
                        "index": True, "similarity": "l2_norm"},
            }
        }
    }


def es_bulk_lines(records: Iterable[CodeRecord], index_name: str, field: str = VECTOR_FIELD) -> Iterator[str]:
    """``_bulk`` NDJSON for Elasticsearch: an ``index`` action, then the source with the hex code."""
    for rec in records:
        yield json.dumps({"index": {"_index": index_name, "_id": rec.id}}, ensure_ascii=False)
        yield json.dumps({"id": rec.id, "title": rec.title, "path": rec.path, field: to_hex(_packed(rec.code))[0]},
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
                field: {"type": "knn_vector", "dimension": _check_bits(n_bits), "data_type": "binary",
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


@dataclass(frozen=True)
class MilvusOptions:
    """How the Milvus files are written: the index type and the VARCHAR ``max_length`` (bytes)
    of the ``id`` and ``title`` fields."""

    index_type: str = "BIN_FLAT"
    max_length: int = MILVUS_VARCHAR_MAX

    def validate(self) -> "MilvusOptions":
        _check_index_type(self.index_type)
        _check_max_length(self.max_length)
        return self


def _check_index_type(index_type: str) -> str:
    if index_type not in MILVUS_INDEXES:
        raise ConfigError(f"unknown Milvus index type {index_type!r}; choose from {', '.join(MILVUS_INDEXES)}")
    return index_type


def _check_max_length(max_length: int) -> int:
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) \
            or not 1 <= max_length <= MILVUS_VARCHAR_MAX:
        raise ConfigError(f"the Milvus VARCHAR max_length must be a whole number from 1 to {MILVUS_VARCHAR_MAX} "
                          f"(Milvus's limit), got {max_length!r}")
    return int(max_length)


def milvus_schema(n_bits: int, collection: str, n_docs: int, id_max_length: int = MILVUS_VARCHAR_MAX,
                  title_max_length: int = MILVUS_VARCHAR_MAX, field: str = VECTOR_FIELD,
                  index_type: str = "BIN_FLAT") -> dict:
    """Create-collection body (Milvus REST v2 shape): id VARCHAR key, BINARY_VECTOR code, title,
    a ``HAMMING`` index of ``index_type`` (:data:`MILVUS_INDEXES`), plus ``searchParams``: the
    metric and parameters a search of that index needs (``nprobe`` for ``BIN_IVF_FLAT``)."""
    n_bits = _check_bits(n_bits)
    id_max_length, title_max_length = _check_max_length(id_max_length), _check_max_length(title_max_length)
    build, search = MILVUS_INDEXES[_check_index_type(index_type)](int(n_docs))
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


def check_milvus_ids(records: list[CodeRecord], max_length: int = MILVUS_VARCHAR_MAX) -> None:
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


# --------------------------------------------------------------------------- writing files


def parse_formats(spec: str | Iterable[str] | None) -> tuple[list[str], list[str]]:
    """``(formats, skipped)`` from ``"jsonl,milvus"``, ``"all"`` or ``None`` (= all available).

    ``all`` leaves out Parquet when pyarrow is missing (listed in ``skipped``); naming
    ``parquet`` explicitly without pyarrow is an error that says how to install it.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        skipped = [] if parquet_available() else ["parquet"]
        return [f for f in FORMATS if f not in skipped], skipped
    names = [s.strip().lower() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    unknown = [n for n in names if n not in FORMATS and n != "all"]
    if unknown:
        raise ConfigError(f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)} or all")
    if "all" in names:
        return parse_formats(None)
    if "parquet" in names and not parquet_available():
        raise ConfigError(PARQUET_HINT)
    return [f for f in FORMATS if f in names], []


def _write_text(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
    os.replace(tmp, path)
    return path


def _write_json(path: Path, obj) -> Path:
    return _write_text(path, [json.dumps(obj, indent=2, ensure_ascii=False)])


def export_index(index, out_dir: str | os.PathLike, formats: str | Iterable[str] | None = None,
                 index_name: str = "semhash", milvus: MilvusOptions | None = None) -> list[Path]:
    """Write every document's code to ``out_dir`` in ``formats``; returns the files written.

    ``index_name`` names the Elasticsearch/OpenSearch index and the Milvus collection;
    ``milvus`` chooses the Milvus index type and VARCHAR size (default: ``BIN_FLAT``, 65,535). Files:
    ``codes.jsonl``, ``codes.parquet``, ``elasticsearch/{mapping.json,bulk.ndjson}``,
    ``opensearch/{mapping.json,bulk.ndjson}``, ``milvus/{schema.json,rows.jsonl}`` and
    ``export.json`` (bit count, bit order, document count, files).
    """
    formats, _skipped = parse_formats(formats)
    if not index_name or not str(index_name).strip():
        raise ConfigError("the target index name must not be empty")
    milvus = (milvus or MilvusOptions()).validate()
    out = Path(out_dir)
    n_bits = int(index.n_bits)
    records = index_records(index)
    written: list[Path] = []
    if "jsonl" in formats:
        written.append(_write_text(out / "codes.jsonl", jsonl_lines(records, n_bits)))
    if "parquet" in formats:
        import pyarrow.parquet as pq

        table = parquet_table(records, n_bits)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "codes.parquet.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, out / "codes.parquet")
        written.append(out / "codes.parquet")
    if "elasticsearch" in formats:
        written.append(_write_json(out / "elasticsearch" / "mapping.json", es_mapping(n_bits)))
        written.append(_write_text(out / "elasticsearch" / "bulk.ndjson", es_bulk_lines(records, index_name)))
    if "opensearch" in formats:
        written.append(_write_json(out / "opensearch" / "mapping.json", opensearch_mapping(n_bits)))
        written.append(_write_text(out / "opensearch" / "bulk.ndjson", opensearch_bulk_lines(records, index_name)))
    if "milvus" in formats:
        check_milvus_ids(records, milvus.max_length)
        schema = milvus_schema(n_bits, index_name, len(records), milvus.max_length, milvus.max_length,
                               index_type=milvus.index_type)
        written.append(_write_json(out / "milvus" / "schema.json", schema))
        written.append(_write_text(out / "milvus" / "rows.jsonl",
                                   milvus_rows(records, title_max_length=milvus.max_length)))
    from . import __version__

    summary = {
        "semhash_version": __version__, "n_bits": n_bits, "documents": len(records), "bit_order": BIT_ORDER,
        "index_name": index_name, "formats": formats,
        "files": [p.relative_to(out).as_posix() for p in written],
    }
    written.append(_write_json(out / "export.json", summary))
    return written


# --------------------------------------------------------------------------- query codes


def encode_texts(index, texts: list[str]) -> np.ndarray:
    """Packed codes of ``texts`` (as ``index.encode``), refusing a text a query would refuse
    (empty, too long, no word of the vocabulary: :func:`semhash.search.text_terms`)."""
    from .search import text_terms

    if isinstance(texts, str):
        raise ConfigError("encode_texts expects a list of texts, not a single string; wrap it in a list")
    texts = list(texts)
    if not texts:
        raise QueryError("no text to encode")
    for text in texts:
        text_terms(index, text)
    return np.asarray(index.encode(texts), dtype=np.uint8)


__all__ = [
    "CodeRecord", "ENCODE_FORMATS", "FORMATS", "MILVUS_INDEXES", "MilvusOptions", "check_milvus_ids", "code_dict", "encode_texts", "es_bulk_lines", "es_mapping",
    "export_index", "format_codes", "from_int8_bytes", "index_records", "jsonl_lines", "milvus_rows",
    "milvus_schema", "opensearch_bulk_lines", "opensearch_mapping", "parquet_available", "parse_formats",
    "to_base64", "to_bit_strings", "to_int8_bytes", "to_uint8_lists",
]
