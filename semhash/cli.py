"""Command line: thin click commands over the library.

Library errors (:class:`semhash.errors.SemhashError`) become one-line messages and exit code 1;
usage errors exit with 2. Heavy modules (TensorFlow, scikit-learn, the evaluation harness) are
imported inside the commands that need them, so ``semhash query`` starts fast.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import click

from .choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS
from .errors import SemhashError

LAZY_COMMANDS = {"evaluate": "semhash.cli_evaluate:evaluate"}
DEMO_QUERIES = ("compress a file", "parse command line arguments", "send an email", "read a csv file")


class LazyGroup(click.Group):
    """A group whose heavier commands are imported only when they are run (or listed)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            module, attr = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


def fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


index_option = click.option(
    "--index", "index_name", default=None, metavar="NAME|PATH",
    help="Index name under indexes/ (default: 'default') or a path to an index folder.",
)
postgres_option = click.option(
    "--postgres", "postgres_dsn", default=None, metavar="DSN",
    help="PostgreSQL database, e.g. postgresql://USER:PASSWORD@HOST:5432/DBNAME (see the README).",
)
table_option = click.option(
    "--table", "pg_table", default=None, metavar="NAME",
    help="PostgreSQL table of the documents (with --postgres) [default: semhash_docs].",
)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="semhash")
def cli():
    """semhash: semantic hashing document retrieval.

    Index a folder, then query it:

        semhash index corpora/stdlib-docs && semhash query "compress a file"
    """


# --------------------------------------------------------------------------- index


@cli.command("index")
@click.argument("directory", type=click.Path(path_type=Path))
@index_option
@click.option("--bits", type=int, default=32, show_default=True, help="Code length: a multiple of 8 from 8 to 128.")
@click.option("--pretrain", type=click.Choice(PRETRAIN_KINDS), default="rbm", show_default=True,
              help="Greedy layer-wise pretraining before fine-tuning.")
@click.option("--epochs", type=int, default=None, help="Fine-tuning epochs [default: 20].")
@click.option("--pretrain-epochs", type=int, default=None, help="Epochs per pretrained layer [default: 5].")
@click.option("--hidden", default="500,500", show_default=True, help="Hidden layer sizes, comma-separated.")
@click.option("--variant", type=click.Choice(VARIANTS),
              default=None,
              help="Regularised autoencoder: none, input corruption, sparse code, contractive penalty, or a VAE "
                   "[default: denoising].")
@click.option("--neighbours", type=int, default=0, show_default=True,
              help="Reconstruct each document blended with its K TF-IDF nearest neighbours (0: off).")
@click.option("--graph-codes", type=click.FloatRange(min=0), default=None,
              help="Weight of the code loss towards bits of the TF-IDF neighbour graph; 0 turns it off "
                   "[default: 1].")
@click.option("--graph-teacher", type=click.Choice(GRAPH_TEACHERS), default=None,
              help="How the neighbour graph becomes target bits: its spectral embedding, or the TF-IDF "
                   "smoothed over it (needs memory for a dense matrix) [default: spectral].")
@click.option("--batch-size", type=int, default=None, help="Training batch size [default: 64].")
@click.option("--weighting", type=click.Choice(["tfidf", "counts"]), default="tfidf", show_default=True,
              help="Input weighting: log(1+tf)*log(1+N/df), or raw counts.")
@click.option("--max-features", type=int, default=10000, show_default=True, help="Vocabulary size.")
@click.option("--min-df", type=int, default=2, show_default=True, help="Ignore words in fewer documents.")
@click.option("--max-df", type=float, default=0.8, show_default=True, help="Ignore words in more than this share of documents.")
@click.option("--keep-stop-words", is_flag=True, help="Keep English stop words in the vocabulary.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same codes).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def index_cmd(directory, index_name, bits, pretrain, epochs, pretrain_epochs, hidden, batch_size, weighting,
              max_features, min_df, max_df, keep_stop_words, seed, quiet, variant=None, neighbours=0, graph_codes=None,
              graph_teacher=None):
    """Read DIRECTORY, train the autoencoder and save a searchable index.

    Example: semhash index ../shared/datasets/20news-bydate/train --index ng20 --bits 32
    """
    from .corpus import read_corpus
    from .index import IndexConfig, SemanticIndex, resolve_index_path
    from .model import ModelConfig
    from .vectorize import VectorizerConfig

    started = time.time()
    try:
        sizes = tuple(int(h) for h in hidden.split(",") if h.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated sizes like 500,500, got {hidden!r}", param_hint="--hidden")
    model_kw = {"n_bits": bits, "pretrain": pretrain, "hidden": sizes, "seed": seed, "neighbours": neighbours}
    for key, value in (("variant", variant), ("epochs", epochs), ("pretrain_epochs", pretrain_epochs),
                       ("batch_size", batch_size), ("graph_codes", graph_codes), ("graph_teacher", graph_teacher)):
        if value is not None:
            model_kw[key] = value
    try:
        config = IndexConfig(
            vectorizer=VectorizerConfig(weighting=weighting, max_features=max_features, min_df=min_df,
                                        max_df=max_df, stop_words=not keep_stop_words),
            model=ModelConfig(**model_kw),
        )
        config.vectorizer.validate()
        config.model.validate()
        dest = resolve_index_path(index_name)
        report = read_corpus(directory, progress=not quiet)
        if not quiet:
            click.echo(f"read {len(report.documents)} documents from {directory} ({len(report.skipped)} skipped)", err=True)
        idx = SemanticIndex.build(report.documents, config, skipped=report.skipped, progress=not quiet,
                                  source=directory)
        idx.save(dest)
    except SemhashError as exc:
        raise fail(exc)
    n_docs = len(idx.table)
    balance = idx.manifest["bit_balance"]
    click.echo(
        f"indexed {n_docs} documents into {dest} ({len(idx.skipped)} skipped, {bits} bits, "
        f"bit balance {min(balance):.2f}-{max(balance):.2f}, {time.time() - started:.1f}s)"
    )
    if idx.skipped:
        click.echo(f"skipped files are listed in {dest / 'skipped.json'}", err=True)


# --------------------------------------------------------------------------- query


def _print_row(rank: int, tag: str, doc_id: str, title: str, snippet: str) -> None:
    """One ranked document as users see it: rank, a bracketed measure, id, title, snippet."""
    click.echo(f"{rank:>3}. [{tag}] {doc_id} — {title}")
    if snippet:
        click.echo(f"     {snippet[:160]}")


def _print_hits(hits) -> None:
    for h in hits:
        _print_row(h.rank, f"d={h.distance:>2} s={h.score:.3f}", h.id, h.title, h.snippet)


@cli.command("query")
@click.argument("text", required=False)
@index_option
@click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results.")
@click.option("--radius", type=int, default=None, help="Hamming radius of the lookup [default: 1-3 by code length].")
@click.option("--no-rerank", is_flag=True,
              help="Rank by the code alone (query-weighted Hamming distance) instead of TF-IDF cosine.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--file", "query_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one query per line from a file ('-' for standard input).")
@click.option("--lookup", type=click.Choice(["auto", "table", "mih", "scan"]), default="auto", show_default=True,
              help="Hamming-ball method: by estimated cost, bit flipping, multi-index hashing, or a full scan.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for a --file batch [default: the number of cores, at most 8].")
@postgres_option
@table_option
def query_cmd(text, index_name, k, radius, no_rerank, as_json, query_file, lookup, threads, postgres_dsn=None,
              pg_table=None):
    """Search an index for TEXT and print the best documents.

    With --postgres, search the table `semhash export --postgres` loaded instead; the query is
    encoded with --index (the index the table was loaded from) and the hits are the same.

    Example: semhash query "space shuttle launch orbit" --index ng20 -k 5
    """
    from .index import open_index

    if (text is None) == (query_file is None):
        raise click.UsageError("give a query TEXT or --file, not both or neither")
    if pg_table is not None and postgres_dsn is None:
        raise click.UsageError("--table needs --postgres DSN")
    texts = [text] if query_file is None else [line.rstrip("\n") for line in query_file if line.strip()]
    try:
        idx = open_index(index_name, mmap=True)
        if postgres_dsn is not None:
            from .postgres import DEFAULT_TABLE, PostgresSearcher

            with PostgresSearcher(postgres_dsn, pg_table or DEFAULT_TABLE, idx) as searcher:
                results = searcher.search_batch(texts, k=k, radius=radius, rerank=not no_rerank)
        else:
            results = idx.search_batch(texts, k=k, radius=radius, rerank=not no_rerank, lookup=lookup,
                                       threads=threads)
    except SemhashError as exc:
        raise fail(exc)
    if as_json:
        payload = [[h.to_dict() for h in hits] for hits in results]
        click.echo(json.dumps(payload[0] if query_file is None else payload, ensure_ascii=False, indent=1))
        return
    for q, hits in zip(texts, results):
        if query_file is not None:
            click.echo(f"# {q}")
        if not hits:
            click.echo("no documents found")
        _print_hits(hits)


# --------------------------------------------------------------------------- info


@cli.command("info")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--verify", is_flag=True,
              help="Check every file of the index against its checksum (model.keras and documents.sqlite "
                   "included); exit 1 naming the first damaged file.")
def info_cmd(index_name, as_json, verify=False):
    """Show an index's parameters and statistics.

    Example: semhash info --index ng20 --verify
    """
    from .index import open_index

    try:
        idx = open_index(index_name, mmap=True, verify="full" if verify else True)
        info = idx.info()
    except SemhashError as exc:
        raise fail(exc)
    if verify:
        info["verified_files"] = len(idx.manifest["files"]) + 1  # and the manifest itself
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=1))
        return
    bal, buckets, model = info["bit_balance"], info["buckets"] or {}, info["params"]["model"]
    lines = [
        f"index:        {info['path']}",
        f"format:       v{info['format_version']} (semhash {info['semhash_version']}, created {info['created']})",
        f"documents:    {info['documents']}",
        f"skipped:      {info['skipped']}",
        f"vocabulary:   {info['vocabulary']} words ({info['params']['vectorizer']['weighting']})",
        f"code:         {info['n_bits']} bits, layers {model.get('hidden')} -> {info['n_bits']}, "
        f"pretrain {model.get('pretrain')}, code units {model.get('code_mode')}, variant {model.get('variant', 'plain')}",
        f"bit balance:  mean {bal['mean']:.3f}, min {bal['min']:.3f}, max {bal['max']:.3f} (share of documents with the bit set)",
        f"buckets:      {buckets.get('n_buckets')} distinct codes, largest {buckets.get('max_bucket')}, "
        f"mean {buckets.get('mean_bucket', 0):.2f} docs, {100 * buckets.get('singleton_fraction', 0):.1f}% singletons",
        f"training:     {info['training_seconds']} s",
    ]
    upd = info["updates"]
    if upd["added_since_training"] or upd["removed_since_training"]:
        line = f"updates:      {upd['added_since_training']} added, {upd['removed_since_training']} removed since training"
        if upd["mean_abs"] is not None:
            line += (f"; bit balance of added documents drifted by {upd['mean_abs']:.3f} on average "
                     f"(max {upd['max_abs']:.3f}){' - consider retraining' if upd['max_abs'] > 0.1 else ''}")
        lines.append(line)
    click.echo("\n".join(lines))
    for s in info["skipped_files"][:10]:
        click.echo(f"  skipped {s['path']}: {s['reason']}")
    if info["skipped"] > 10:
        click.echo(f"  ... and {info['skipped'] - 10} more (see skipped.json in the index folder)")
    if verify:
        click.echo(f"verified:     all {info['verified_files']} files match their checksums")


# --------------------------------------------------------------------------- outliers


@cli.command("outliers")
@index_option
@click.option("-n", "n", type=click.IntRange(min=1), default=20, show_default=True, help="Number of documents.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def outliers_cmd(index_name, n, as_json):
    """List the documents the autoencoder reconstructs worst (unusual documents).

    The error is the KL divergence from a document's word distribution to its reconstruction
    by the index's model.keras (the cross-entropy minus the document's own entropy; loads
    TensorFlow). Documents unlike the rest of the corpus rank first.

    Example: semhash outliers --index ng20 -n 10
    """
    from .index import open_index
    from .outliers import find_outliers

    try:
        idx = open_index(index_name, mmap=True)
        found = find_outliers(idx, n)
    except SemhashError as exc:
        raise fail(exc)
    if as_json:
        click.echo(json.dumps([o.to_dict() for o in found], ensure_ascii=False, indent=1))
        return
    for o in found:
        _print_row(o.rank, f"error {o.error:.3f}", o.id, o.title, o.snippet)


# --------------------------------------------------------------------------- demo corpus


@cli.command("corpus")
@click.argument("dest", required=False, type=click.Path(path_type=Path), default=None)
@click.option("--max-docs", type=int, default=None, help="Write at most this many documents.")
def corpus_cmd(dest, max_docs):
    """Write the built-in demo corpus (Python standard library docs) to DEST.

    Example: semhash corpus corpora/stdlib-docs
    """
    from .demo import DEFAULT_DEMO_DIR, build_stdlib_corpus

    dest = dest or DEFAULT_DEMO_DIR
    try:
        n = build_stdlib_corpus(dest, max_docs=max_docs)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"wrote {n} documents to {dest}")


@cli.command("demo")
@index_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.pass_context
def demo_cmd(ctx, index_name, quiet):
    """Build the stdlib demo corpus, index it and run a few example queries.

    Example: semhash demo
    """
    from .demo import DEFAULT_DEMO_DIR

    ctx.invoke(corpus_cmd, dest=DEFAULT_DEMO_DIR, max_docs=None)
    ctx.invoke(index_cmd, directory=DEFAULT_DEMO_DIR, index_name=index_name, bits=32, pretrain="rbm", epochs=None,
               pretrain_epochs=None, hidden="500,500", batch_size=None, weighting="tfidf", max_features=10000,
               min_df=2, max_df=0.8, keep_stop_words=False, seed=0, quiet=quiet, variant="plain")
    for q in DEMO_QUERIES:
        click.echo(f'\n$ semhash query "{q}" -k 5')
        ctx.invoke(query_cmd, text=q, index_name=index_name, k=5, radius=None, no_rerank=False, as_json=False,
                   query_file=None, lookup="auto", threads=None)


# --------------------------------------------------------------------------- live updates


def _documents_for_paths(paths, corpus_root: str | None):
    """Documents of files and folders, with ids relative to the indexed corpus where possible."""
    import dataclasses

    from .corpus import read_corpus, read_file

    root = Path(corpus_root) if corpus_root else None
    documents, skipped = [], []
    for raw in paths:
        p = Path(raw).resolve()
        under_root = root is not None and (p == root or root in p.parents)
        if p.is_dir():
            report = read_corpus(p)
            prefix = "" if not under_root or p == root else p.relative_to(root).as_posix() + "/"

            def moved(d, prefix=prefix):
                same = d.id == d.path or d.id.startswith(d.path + "#")
                return dataclasses.replace(d, path=prefix + d.path, id=prefix + d.id if same else d.id)

            documents += [moved(d) for d in report.documents]
            skipped += [dataclasses.replace(s, path=prefix + s.path) for s in report.skipped]
        elif p.is_file():
            rel = p.relative_to(root).as_posix() if under_root else p.name
            docs, skips = read_file(p, rel)
            documents += docs
            skipped += skips
        else:
            raise SemhashError(f"no such file or folder: {raw}")
    return documents, skipped


@cli.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
def add_cmd(paths, index_name):
    """Add (or replace) documents in an index without retraining.

    Files and folders are read like `semhash index` reads a corpus; a document whose id is
    already indexed is replaced. Example: semhash add corpus/new-note.txt --index notes
    """
    from .index import open_index, update_index

    try:
        root = open_index(index_name, verify=False).manifest.get("corpus_root")
        documents, skipped = _documents_for_paths(paths, root)
        result = update_index(index_name, lambda idx: idx.add(documents))
    except SemhashError as exc:
        raise fail(exc)
    n_skipped = len(skipped) + len(result["skipped"])
    click.echo(f"added {result['added']}, replaced {result['replaced']} documents ({n_skipped} skipped)")
    for s in skipped:
        click.echo(f"  skipped {s.path}: {s.reason}", err=True)
    for s in result["skipped"]:
        click.echo(f"  skipped {s['path']}: {s['reason']}", err=True)


@cli.command("remove")
@click.argument("ids", nargs=-1, required=True)
@index_option
def remove_cmd(ids, index_name):
    """Remove documents by id from an index.

    Example: semhash remove notes/old.txt --index notes
    """
    from .index import update_index

    try:
        n = update_index(index_name, lambda idx: idx.remove(list(ids)))
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"removed {n} documents")


# --------------------------------------------------------------------------- export / encode


@cli.command("export")
@index_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Folder to write the files to (created if missing).")
@click.option("--format", "formats", default="all", show_default=True, metavar="LIST",
              help="Comma-separated: jsonl, parquet, elasticsearch, opensearch, milvus; or all "
                   "(all available: parquet needs pyarrow).")
@click.option("--index-name", "target_name", default="semhash", show_default=True, metavar="NAME",
              help="Name of the Elasticsearch/OpenSearch index and the Milvus collection in the files.")
@postgres_option
@table_option
def export_cmd(index_name, out_dir, formats, target_name, postgres_dsn=None, pg_table=None):
    """Write every document's code in the formats search backends ingest.

    JSONL (hex, base64 and byte list), Parquet, Elasticsearch bit dense_vector and OpenSearch
    binary knn_vector (mapping.json + bulk.ndjson), Milvus BINARY_VECTOR (schema.json + rows.jsonl).

    With --postgres DSN, load the documents, codes and TF-IDF rows into a PostgreSQL table
    (--table, default semhash_docs) that `semhash query --postgres DSN` searches.

    Example: semhash export --index ng20 --out exports/ng20 --format elasticsearch,milvus

    Example: semhash export --index ng20 --postgres postgresql://me:pw@localhost/search
    """
    from .export import export_index, parse_formats
    from .index import open_index

    if out_dir is None and postgres_dsn is None:
        raise click.UsageError("give --out DIR, the folder to write the exported codes to (or --postgres DSN)")
    if pg_table is not None and postgres_dsn is None:
        raise click.UsageError("--table needs --postgres DSN")
    if postgres_dsn is not None:
        from .postgres import DEFAULT_TABLE, load_index

        table = pg_table or DEFAULT_TABLE
        try:
            idx = open_index(index_name, mmap=True)
            n_loaded = load_index(idx, postgres_dsn, table=table)
        except SemhashError as exc:
            raise fail(exc)
        click.echo(f"loaded {n_loaded} documents ({idx.n_bits} bits) into PostgreSQL table {table!r}")
        if out_dir is None:
            return
    try:
        chosen, skipped = parse_formats(formats)
        idx = open_index(index_name, mmap=True)
        files = export_index(idx, out_dir, chosen, index_name=target_name)
    except SemhashError as exc:
        raise fail(exc)
    if skipped:
        click.echo(f"skipped {', '.join(skipped)}: pyarrow is not installed (pip install pyarrow)", err=True)
    n_docs = len(idx.table)
    click.echo(f"exported {n_docs} codes ({idx.n_bits} bits) as {', '.join(chosen)} to {out_dir}:")
    for f in files:
        click.echo(f"  {f}")


@cli.command("encode")
@click.argument("texts", nargs=-1)
@index_option
@click.option("--format", "fmt", type=click.Choice(["hex", "bits", "int8", "uint8", "json"]), default="hex",
              show_default=True,
              help="hex (Elasticsearch), bits (0/1, bit 0 first), int8 (OpenSearch/Elasticsearch byte "
                   "array), uint8 (Milvus: bytes(...)), json (all of them, one object per line).")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one text per line from a file ('-' for standard input).")
def encode_cmd(texts, index_name, fmt, text_file):
    """Print the code of each TEXT, one line each, as the exported files write them.

    Use it to query a backend loaded with `semhash export` with the same codes.

    Example: semhash encode "space shuttle launch" --index ng20 --format int8
    """
    from .export import encode_texts, format_codes
    from .index import open_index

    if bool(texts) == (text_file is not None):
        raise click.UsageError("give one or more TEXTs or --file, not both or neither")
    items = list(texts) if text_file is None else [line.rstrip("\n") for line in text_file if line.strip()]
    try:
        idx = open_index(index_name, mmap=True)
        lines = format_codes(encode_texts(idx, items), idx.n_bits, fmt)
    except SemhashError as exc:
        raise fail(exc)
    for line in lines:
        click.echo(line)


# --------------------------------------------------------------------------- HTTP service


@cli.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 exposes the service to the network; it has no authentication).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--max-body", type=click.IntRange(min=1), default=1_000_000, show_default=True, metavar="BYTES",
              help="Largest request body accepted; larger ones get 413.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True, help="uvicorn log level.")
def serve_cmd(index_name, host, port, max_body, log_level):
    """Serve an index over HTTP: search, similar documents, codes, add and remove.

    JSON endpoints: POST /search, POST /search/batch, POST /similar,
    GET /documents/{id}/similar, POST /encode, POST /documents, DELETE /documents,
    GET /info, GET /health; the OpenAPI description is at /openapi.json (/docs renders it).

    Example: semhash serve --index ng20 --port 8000
    """
    from .server import IndexService, create_app

    try:
        import uvicorn
    except ImportError:
        raise click.ClickException("semhash serve needs uvicorn and fastapi: pip install fastapi uvicorn")
    try:
        service = IndexService(index_name).start()
        app = create_app(service, max_body)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"serving {service.folder} ({len(service.current().index.table)} documents) "
               f"on http://{host}:{port} (OpenAPI: /openapi.json)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def main() -> None:
    cli(prog_name="semhash")


if __name__ == "__main__":
    sys.exit(main())
