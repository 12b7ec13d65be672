"""Commands that hand an index to other systems: ``semhash export`` (files for search backends, or a
PostgreSQL table) and ``semhash serve`` (HTTP). pyarrow, psycopg, FastAPI and uvicorn are
imported only when the command (or the option) that needs them runs."""

from __future__ import annotations

from pathlib import Path

import click

from ..choices import EXPORT_FORMATS, MILVUS_INDEX_TYPES, MILVUS_VARCHAR_MAX
from ..errors import SemhashError
from .app import fail, given_options, index_option, needs_postgres, postgres_option, table_option


@click.command("export")
@index_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Folder to write the files to (created if missing).")
@click.option("--format", "formats", default="all", show_default=True, metavar="LIST",
              help=f"Comma-separated: {', '.join(EXPORT_FORMATS)}; or all "
                   "(all available: parquet needs pyarrow).")
@click.option("--index-name", "target_name", default="semhash", show_default=True, metavar="NAME",
              help="Name of the Elasticsearch/OpenSearch index and the Milvus collection in the files.")
@click.option("--milvus-index", type=click.Choice(MILVUS_INDEX_TYPES), default="BIN_FLAT", show_default=True,
              help="Milvus index: BIN_FLAT (exact; every Milvus, Milvus Lite too) or BIN_IVF_FLAT (clustered, "
                   "approximate, for large collections on a Milvus server).")
@click.option("--milvus-max-length", type=click.IntRange(1, MILVUS_VARCHAR_MAX), default=MILVUS_VARCHAR_MAX,
              show_default=True,
              metavar="BYTES", help="VARCHAR max_length of the Milvus id and title fields (longer titles are cut).")
@postgres_option
@table_option
def export_cmd(index_name: str | None, out_dir: Path | None, formats: str, target_name: str,
               postgres_dsn: str | None = None, pg_table: str | None = None, milvus_index: str = "BIN_FLAT",
               milvus_max_length: int = MILVUS_VARCHAR_MAX) -> None:
    """Write every document's code in the formats search backends ingest.

    JSONL (hex, base64 and byte list), Parquet, Elasticsearch bit dense_vector and OpenSearch
    binary knn_vector (mapping.json + bulk.ndjson), Milvus BINARY_VECTOR (schema.json, with the
    index of --milvus-index and its search parameters, + rows.jsonl).

    With --postgres DSN, load the documents, codes and TF-IDF rows into a PostgreSQL table
    (--table, default semhash_docs) that `semhash query --postgres DSN` searches.

    Example: semhash export --index ng20 --out exports/ng20 --format elasticsearch,milvus

    Example: semhash export --index ng20 --postgres postgresql://me:pw@localhost/search
    """
    if out_dir is None and postgres_dsn is None:
        raise click.UsageError("give --out DIR, the folder to write the exported codes to (or --postgres DSN)")
    needs_postgres(pg_table, postgres_dsn)
    ctx = click.get_current_context()
    file_only = given_options(ctx, "formats", "target_name", "milvus_index", "milvus_max_length")
    if out_dir is None and file_only:
        raise click.UsageError(f"{', '.join(file_only)} describe the files written with --out DIR; "
                               "--postgres alone writes no files (add --out DIR, or leave them out)")
    if postgres_dsn is not None:
        _load_postgres(index_name, postgres_dsn, pg_table)
    if out_dir is not None:  # (without --postgres, --out was required above)
        _export_files(ctx, index_name, out_dir, formats, target_name, milvus_index, milvus_max_length)


def _load_postgres(index_name: str | None, dsn: str, pg_table: str | None) -> None:
    """``export --postgres``: load the index into the table and say so."""
    from ..index import open_index  # NumPy and the index load when a command runs, not for --help
    from ..postgres import DEFAULT_TABLE, load_index  # psycopg: the optional extra, for --postgres only

    table = pg_table or DEFAULT_TABLE
    try:
        idx = open_index(index_name, mmap=True)
        n_loaded = load_index(idx, dsn, table=table)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"loaded {n_loaded} documents ({idx.n_bits} bits) into PostgreSQL table {table!r}")


def _export_files(ctx: click.Context, index_name: str | None, out_dir: Path, formats: str, target_name: str,
                  milvus_index: str, milvus_max_length: int) -> None:
    """``export --out DIR``: write the files of ``formats`` and list them."""
    from ..export import MilvusOptions, export_index, parse_formats  # NumPy (pyarrow for parquet) when run
    from ..index import open_index  # NumPy and the index load when a command runs, not for --help

    try:
        chosen, skipped = parse_formats(formats)
        milvus_given = given_options(ctx, "milvus_index", "milvus_max_length")
        if milvus_given and "milvus" not in chosen:
            raise click.UsageError(f"{', '.join(milvus_given)} apply to the milvus format, which --format leaves out")
        idx = open_index(index_name, mmap=True)
        files = export_index(idx, out_dir, chosen, index_name=target_name,
                             milvus=MilvusOptions(milvus_index, milvus_max_length))
    except SemhashError as exc:
        raise fail(exc)
    if skipped:
        click.echo(f"skipped {', '.join(skipped)}: pyarrow is not installed (pip install pyarrow)", err=True)
    click.echo(f"exported {len(idx.table)} codes ({idx.n_bits} bits) as {', '.join(chosen)} to {out_dir}:")
    for f in files:
        click.echo(f"  {f}")


@click.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 exposes the service to the network; it has no authentication).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--max-body", type=click.IntRange(min=1), default=1_000_000, show_default=True, metavar="BYTES",
              help="Largest request body accepted; larger ones get 413.")
@click.option("--max-hits", type=click.IntRange(min=1), default=100_000, show_default=True, metavar="N",
              help="Most hits one search request may ask for (texts x k); more get 422.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True, help="uvicorn log level.")
def serve_cmd(index_name: str | None, host: str, port: int, max_body: int, max_hits: int, log_level: str) -> None:
    """Serve an index over HTTP: search, similar documents, codes, add and remove.

    JSON endpoints: POST /search, POST /search/batch, POST /similar,
    GET /documents/{id}/similar, POST /encode, POST /documents, DELETE /documents,
    GET /info, GET /health (GET endpoints answer HEAD too); the OpenAPI description is at
    /openapi.json (there is no /docs page: it would load Swagger UI from the internet).

    Example: semhash serve --index ng20 --port 8000
    """
    from ..server import IndexService, create_app  # FastAPI loads only to serve

    try:
        import uvicorn  # the HTTP server, loaded only to serve
    except ImportError:
        raise click.ClickException("semhash serve needs uvicorn and fastapi: pip install fastapi uvicorn")
    try:
        service = IndexService(index_name).start()
        app = create_app(service, max_body, max_hits)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"serving {service.folder} ({len(service.current().index.table)} documents) "
               f"on http://{host}:{port} (OpenAPI: /openapi.json)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = ["export_cmd", "serve_cmd"]
