"""Writing an index's codes to a folder: which formats, and one writer per format.

:data:`FILE_WRITERS` is the registry behind ``semhash export --format``: adding a format is one
writer here and one name in :data:`semhash.choices.EXPORT_FORMATS`. Every file is written to a
temporary name and moved into place, so a crash never leaves half a file under its real name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..choices import EXPORT_FORMATS, MILVUS_VARCHAR_MAX
from ..errors import ConfigError
from .backends import (
    BIT_ORDER,
    PARQUET_HINT,
    CodeRecord,
    IndexRecords,
    batches,
    check_index_type,
    check_max_length,
    check_milvus_ids,
    es_bulk_lines,
    es_mapping,
    jsonl_lines,
    milvus_rows,
    milvus_schema,
    opensearch_bulk_lines,
    opensearch_mapping,
    parquet_available,
    parquet_table,
)

if TYPE_CHECKING:  # annotations only
    from ..index import SemanticIndex

FORMATS = EXPORT_FORMATS


@dataclass(frozen=True)
class MilvusOptions:
    """How the Milvus files are written: the index type and the VARCHAR ``max_length`` (bytes)
    of the ``id`` and ``title`` fields. Checked on construction (:class:`ConfigError`)."""

    index_type: str = "BIN_FLAT"
    max_length: int = MILVUS_VARCHAR_MAX

    def __post_init__(self) -> None:
        check_index_type(self.index_type)
        check_max_length(self.max_length)

    def validate(self) -> MilvusOptions:
        """The options themselves (they were checked when made; kept for older callers)."""
        return self


@dataclass(frozen=True)
class ExportJob:
    """What every writer gets: the folder, the records, the code length, the target name."""

    out: Path
    records: IndexRecords | list[CodeRecord]  # re-iterable: each format reads them once
    n_bits: int
    index_name: str
    milvus: MilvusOptions


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


def write_text(path: Path, lines: Iterable[str]) -> Path:
    """Write ``lines`` (each ended by ``\\n``) to ``path`` through a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
    os.replace(tmp, path)
    return path


def write_json(path: Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` through a temporary file."""
    return write_text(path, [json.dumps(obj, indent=2, ensure_ascii=False)])


# --------------------------------------------------------------------------- one writer per format


def _write_jsonl(job: ExportJob) -> list[Path]:
    return [write_text(job.out / "codes.jsonl", jsonl_lines(job.records, job.n_bits))]


def _write_parquet(job: ExportJob) -> list[Path]:
    import pyarrow.parquet as pq  # the optional extra, needed only for Parquet

    job.out.mkdir(parents=True, exist_ok=True)
    tmp = job.out / "codes.parquet.tmp"
    schema = parquet_table([], job.n_bits).schema
    with pq.ParquetWriter(tmp, schema) as writer:  # one row group per batch: bounded memory
        for batch in batches(job.records):
            writer.write_table(parquet_table(batch, job.n_bits))
    os.replace(tmp, job.out / "codes.parquet")
    return [job.out / "codes.parquet"]


def _write_elasticsearch(job: ExportJob) -> list[Path]:
    folder = job.out / "elasticsearch"
    return [write_json(folder / "mapping.json", es_mapping(job.n_bits)),
            write_text(folder / "bulk.ndjson", es_bulk_lines(job.records, job.index_name))]


def _write_opensearch(job: ExportJob) -> list[Path]:
    folder = job.out / "opensearch"
    return [write_json(folder / "mapping.json", opensearch_mapping(job.n_bits)),
            write_text(folder / "bulk.ndjson", opensearch_bulk_lines(job.records, job.index_name))]


def _write_milvus(job: ExportJob) -> list[Path]:
    milvus = job.milvus
    check_milvus_ids(job.records, milvus.max_length)
    schema = milvus_schema(job.n_bits, job.index_name, len(job.records), milvus.max_length, milvus.max_length,
                           index_type=milvus.index_type)
    return [write_json(job.out / "milvus" / "schema.json", schema),
            write_text(job.out / "milvus" / "rows.jsonl", milvus_rows(job.records, title_max_length=milvus.max_length))]


# export format (choices.EXPORT_FORMATS, in that order) -> the writer of its files
FILE_WRITERS: dict[str, Callable[[ExportJob], list[Path]]] = {
    "jsonl": _write_jsonl,
    "parquet": _write_parquet,
    "elasticsearch": _write_elasticsearch,
    "opensearch": _write_opensearch,
    "milvus": _write_milvus,
}


def export_index(index: SemanticIndex, out_dir: str | os.PathLike, formats: str | Iterable[str] | None = None,
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
    job = ExportJob(Path(out_dir), IndexRecords(index), int(index.n_bits), index_name,
                    (milvus or MilvusOptions()).validate())
    written: list[Path] = []
    for name in formats:  # parse_formats keeps the order of FORMATS
        written += FILE_WRITERS[name](job)
    summary = {
        "semhash_version": __version__, "n_bits": job.n_bits, "documents": len(job.records), "bit_order": BIT_ORDER,
        "index_name": index_name, "formats": formats,
        "files": [p.relative_to(job.out).as_posix() for p in written],
    }
    written.append(write_json(job.out / "export.json", summary))
    return written


__all__ = ["ExportJob", "FILE_WRITERS", "FORMATS", "MilvusOptions", "export_index", "parse_formats", "write_json",
           "write_text"]
