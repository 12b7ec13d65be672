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

The package: :mod:`.code_formats` (one code as hex, bits, bytes; the ``--format`` registry of
``semhash encode``), :mod:`.backends` (records and each backend's bodies, pure functions) and
:mod:`.files` (the ``--format`` registry of ``semhash export`` and :func:`export_index`).
"""

from ..choices import CODE_FORMATS, MILVUS_INDEX_TYPES, MILVUS_VARCHAR_MAX
from ..errors import ConfigError, QueryError
from .backends import (
    BIT_ORDER,
    MILVUS_INDEXES,
    MILVUS_METRIC,
    PARQUET_HINT,
    VECTOR_FIELD,
    CodeRecord,
    IndexRecords,
    check_milvus_ids,
    es_bulk_lines,
    es_mapping,
    index_records,
    jsonl_lines,
    milvus_rows,
    milvus_schema,
    opensearch_bulk_lines,
    opensearch_mapping,
    parquet_available,
    parquet_table,
)
from .code_formats import (
    CODE_FORMATTERS,
    code_dict,
    code_values,
    encode_texts,
    format_codes,
    from_int8_bytes,
    to_base64,
    to_bit_strings,
    to_int8_bytes,
    to_uint8_lists,
)
from .files import FILE_WRITERS, FORMATS, MilvusOptions, export_index, parse_formats

ENCODE_FORMATS = CODE_FORMATS  # the name this module gave the code formats before semhash.choices held them

__all__ = [
    "BIT_ORDER", "CODE_FORMATTERS", "CodeRecord", "ConfigError", "ENCODE_FORMATS", "FILE_WRITERS", "FORMATS",
    "MILVUS_INDEXES", "MILVUS_INDEX_TYPES", "MILVUS_METRIC", "MILVUS_VARCHAR_MAX", "MilvusOptions", "PARQUET_HINT",
    "QueryError", "VECTOR_FIELD", "check_milvus_ids", "code_dict", "code_values", "encode_texts", "es_bulk_lines",
    "IndexRecords", "es_mapping", "export_index", "format_codes", "from_int8_bytes", "index_records", "jsonl_lines", "milvus_rows",
    "milvus_schema", "opensearch_bulk_lines", "opensearch_mapping", "parquet_available", "parquet_table",
    "parse_formats", "to_base64", "to_bit_strings", "to_int8_bytes", "to_uint8_lists",
]
