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

from .choices import GRAPH_TEACHERS, MILVUS_INDEX_TYPES, MILVUS_VARCHAR_MAX, PRETRAIN_KINDS, VARIANTS
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
    message = str(exc)
    skipped = getattr(exc, "skipped", None)
    if skipped:  # a corpus with no readable document: the full list goes to a file the message names
        listed = _write_skipped_list(skipped)
        if listed is not None:
            message += f"; every skipped file is listed in {listed}"
    return click.ClickException(message)


def _write_skipped_list(skipped) -> str | None:
    """Write ``[{"path", "reason"}, ...]`` to a new JSON file in the temporary folder; its path."""
    import tempfile

    try:
        fd, path = tempfile.mkstemp(prefix="semhash-skipped-", suffix=".json")
        with open(fd, "w", encoding="utf-8") as f:
            json.dump([{"path": s.path, "reason": s.reason} for s in skipped], f, indent=1)  # ASCII: any name
    except OSError:
        return None
    return path


def given_options(ctx: click.Context, *names: str) -> list[str]:
    """The flags (``--name``) of those of the parameters ``names`` the user gave, not defaulted."""
    from click.core import ParameterSource

    given = {ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT}
    return [p.opts[-1] for p in ctx.command.params if p.name in names and ctx.get_parameter_source(p.name) in given]


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
    from .index import IndexConfig, SemanticIndex, resolve_index_path, writer_lock
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
        # the writer lock from before training until the new index is saved: an add/remove of
        # this index meanwhile waits and applies to the new index instead of being overwritten
        with writer_lock(dest):
            if not quiet:
                click.echo(f"read {len(report.documents)} documents from {directory} "
                           f"({len(report.skipped)} skipped)", err=True)
            idx = SemanticIndex.build(report.documents, config, skipped=report.skipped, progress=not quiet,
                                      source=directory)
            idx.save_locked(dest)
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


def _file_lines(stream) -> list[str]:
    """Every line of a ``--file`` (blank ones too: each line gets one result), without its end."""
    return [line.rstrip("\r\n") for line in stream]


def _failed_lines(results) -> list[int]:
    """Line numbers (from 1) of the results that are errors."""
    return [n for n, r in enumerate(results, start=1) if isinstance(r, SemhashError)]


def _lines_failed(failed: list[int], total: int) -> click.ClickException:
    shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
    return click.ClickException(f"{len(failed)} of {total} lines failed (line {shown}); "
                                "each has its error in place of its result")


def _search_each(idx, texts: list[str], run) -> list:
    """Hits or the error of each text: ``run(texts)`` searches the texts that pass the checks."""
    from .search import check_texts

    checked = check_texts(idx, texts)
    hits = iter(run([t for t, c in zip(texts, checked) if not isinstance(c, SemhashError)]))
    return [c if isinstance(c, SemhashError) else next(hits) for c in checked]


def _echo_hits(hits, as_json: bool) -> None:
    """The hits of one query or document: JSON, or ranked lines."""
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        click.echo("no documents found")
    _print_hits(hits)


def _search_options(fn):
    """The options every ranked search takes: -k, --radius, --no-rerank, --json."""
    for option in reversed((
        click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results."),
        click.option("--radius", type=int, default=None,
                     help="Hamming radius of the lookup [default: 1-3 by code length]."),
        click.option("--no-rerank", is_flag=True,
                     help="Rank by the code alone (query-weighted Hamming distance) instead of TF-IDF cosine."),
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON."),
    )):
        fn = option(fn)
    return fn


@cli.command("query")
@click.argument("text", required=False)
@index_option
@_search_options
@click.option("--file", "query_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one query per line from a file ('-' for standard input); every line gets a result.")
@click.option("--lookup", type=click.Choice(["auto", "table", "mih", "scan"]), default="auto", show_default=True,
              help="Hamming-ball method: by estimated cost, bit flipping, multi-index hashing, or a full scan.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for a --file batch [default: the number of cores, at most 8].")
@postgres_option
@table_option
def query_cmd(text, index_name, k, radius, no_rerank, as_json, query_file, lookup, threads, postgres_dsn=None,
              pg_table=None):
    """Search an index for TEXT and print the best documents.

    With --file, every line of the file is a query and gets exactly one result, in order:
    its hits, or the reason it cannot be searched (a blank line, or no word of the
    vocabulary). --json then prints a list of {"line", "query", "hits"} or {"line", "query",
    "error"} objects. The exit status is 1 when any line failed.

    With --postgres, search the table `semhash export --postgres` loaded instead; the query is
    encoded with --index (the index the table was loaded from) and the hits are the same.

    Example: semhash query "space shuttle launch orbit" --index ng20 -k 5
    """
    from .index import open_index
    from .search import search_each

    if (text is None) == (query_file is None):
        raise click.UsageError("give a query TEXT or --file, not both or neither")
    if pg_table is not None and postgres_dsn is None:
        raise click.UsageError("--table needs --postgres DSN")
    local_only = given_options(click.get_current_context(), "lookup", "threads") if postgres_dsn else []
    if local_only:
        raise click.UsageError(f"{' and '.join(local_only)} apply to the local index, not to --postgres "
                               "(PostgreSQL finds the ball with its btree index and answers one query at a time)")
    texts = [text] if query_file is None else _file_lines(query_file)
    try:
        idx = open_index(index_name, mmap=True)
        if postgres_dsn is not None:
            from .postgres import DEFAULT_TABLE, PostgresSearcher

            with PostgresSearcher(postgres_dsn, pg_table or DEFAULT_TABLE, idx) as searcher:
                def run(batch):
                    return searcher.search_batch(batch, k=k, radius=radius, rerank=not no_rerank)

                results = run(texts) if query_file is None else _search_each(idx, texts, run)
        elif query_file is None:
            results = idx.search_batch(texts, k=k, radius=radius, rerank=not no_rerank, lookup=lookup, threads=threads)
        else:
            results = search_each(idx, texts, k=k, radius=radius, rerank=not no_rerank, lookup=lookup,
                                  threads=threads)
    except SemhashError as exc:
        raise fail(exc)
    if query_file is None:
        _echo_hits(results[0], as_json)
        return
    if as_json:
        payload = [{"line": n, "query": q, **({"error": str(r)} if isinstance(r, SemhashError)
                                               else {"hits": [h.to_dict() for h in r]})}
                   for n, (q, r) in enumerate(zip(texts, results), start=1)]
        click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        for n, (q, r) in enumerate(zip(texts, results), start=1):
            click.echo(f"# line {n}: {q}")
            if isinstance(r, SemhashError):
                click.echo(f"error: {r}")
            else:
                _echo_hits(r, as_json=False)
    failed = _failed_lines(results)
    if failed:
        raise _lines_failed(failed, len(texts))


# --------------------------------------------------------------------------- similar


@cli.command("similar")
@click.argument("doc_id")
@index_option
@_search_options
def similar_cmd(doc_id, index_name, k, radius, no_rerank, as_json):
    """Print the indexed documents most like the document DOC_ID (itself left out).

    DOC_ID is an id as `semhash query` prints it. The document's stored code and TF-IDF row
    are the query, so the hits are those `semhash query` gives for its text, ranked the same
    way; the output is the same as `semhash query`'s.

    Example: semhash similar modules/gzip.txt --index demo -k 5
    """
    from .index import open_index
    from .similar import similar

    try:
        idx = open_index(index_name, mmap=True)
        hits = similar(idx, doc_id, k=k, radius=radius, rerank=not no_rerank)
    except SemhashError as exc:
        raise fail(exc)
    _echo_hits(hits, as_json)


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
    if upd["added_since_training"] or upd["replaced_since_training"] or upd["removed_since_training"]:
        lines.append(f"updates:      {upd['added_since_training']} added, {upd['replaced_since_training']} replaced, "
                     f"{upd['removed_since_training']} removed since training")
        if upd["drifted_bits"] is None and upd["mean_abs"] is not None:
            lines.append(f"drift:        judged once {upd['drift_min_docs']} documents are added or replaced")
        elif upd["drifted_bits"] is not None:
            shift = f"mean shift {upd['mean_abs']:.3f}, max {upd['max_abs']:.3f}"
            lines.append(f"drift:        {upd['drifted_bits']} of {info['n_bits']} bits differ from training beyond "
                         f"sampling noise ({shift}) - consider retraining" if upd["retrain_advised"] else
                         f"drift:        bit balance of added documents within sampling noise of training ({shift})")
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
    by the index's model (the cross-entropy minus the document's own entropy), computed with
    NumPy from encoder.npz and decoder.npz. Documents unlike the rest of the corpus rank first.
    An index built before decoder.npz existed is scored with model.keras (loads TensorFlow).

    Example: semhash outliers --index ng20 -n 10
    """
    from .index import open_index
    from .outliers import find_outliers, numpy_decoder

    try:
        idx = open_index(index_name, mmap=True)
        decoder = numpy_decoder(idx)
        if decoder is None:
            click.echo("note: this index has no decoder.npz (built by an older semhash): loading model.keras "
                       "with TensorFlow, which takes a while; rebuild the index to skip it", err=True)
        found = find_outliers(idx, n, decoder=decoder)
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
@click.option("--index", "index_name", default=None, metavar="NAME|PATH",
              help="Index to write (or reuse) [default: 'demo', under indexes/]; never your 'default' index.")
@click.option("--rebuild", is_flag=True, help="Train again even if the demo index is up to date.")
@click.option("--max-docs", type=click.IntRange(min=1), default=None,
              help="A quicker demo on the first N documents of the corpus.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def demo_cmd(index_name, rebuild, max_docs, quiet):
    """Build the stdlib demo corpus, index it and run a few example queries.

    The index (indexes/demo) is trained with the default model; a second run reuses it when
    the corpus and the parameters are unchanged (--rebuild trains again). An index of another
    corpus at --index is never replaced without --rebuild.

    Example: semhash demo && semhash query "read a zip archive" --index demo
    """
    from .demo import DEFAULT_DEMO_DIR, DEMO_INDEX, build_stdlib_corpus, demo_index
    from .index import resolve_index_path
    from .search import search_each

    started = time.time()
    try:
        n = build_stdlib_corpus(DEFAULT_DEMO_DIR, max_docs=max_docs)
        click.echo(f"wrote {n} documents to {DEFAULT_DEMO_DIR}")
        dest = resolve_index_path(index_name or DEMO_INDEX)
        idx, trained = demo_index(DEFAULT_DEMO_DIR, dest, rebuild=rebuild, progress=not quiet)
        results = search_each(idx, list(DEMO_QUERIES), k=5)
    except SemhashError as exc:
        raise fail(exc)
    if trained:
        click.echo(f"indexed {len(idx.table)} documents into {dest} ({idx.n_bits} bits, "
                   f"{time.time() - started:.1f}s)")
    else:
        click.echo(f"{dest} is up to date (same documents and parameters): not retrained (--rebuild retrains)")
    for q, hits in zip(DEMO_QUERIES, results):
        click.echo(f'\n$ semhash query "{q}" -k 5 --index {index_name or DEMO_INDEX}')
        if isinstance(hits, SemhashError):
            click.echo(f"error: {hits}")
        else:
            _echo_hits(hits, as_json=False)


# --------------------------------------------------------------------------- live updates


def _documents_for_paths(paths, corpus_root: str | None):
    """Documents of files and folders, named as :func:`semhash.corpus.document_path` says.

    Under the indexed corpus folder ids are relative to it (as `semhash index` made them),
    elsewhere absolute paths. Two different documents with one id are refused (ConfigError).
    """
    import dataclasses

    from .corpus import document_path, read_corpus, read_file
    from .store import check_documents

    documents, skipped = [], []
    for raw in paths:
        p = Path(raw)
        key = document_path(p, corpus_root)
        if p.is_dir():
            report = read_corpus(p)
            prefix = key + "/" if key else ""

            def moved(d, prefix=prefix):
                same = d.id == d.path or d.id.startswith(d.path + "#")
                return dataclasses.replace(d, path=prefix + d.path, id=prefix + d.id if same else d.id)

            documents += [moved(d) for d in report.documents]
            skipped += [dataclasses.replace(s, path=prefix + s.path) for s in report.skipped]
        elif p.is_file():
            docs, skips = read_file(p, key)
            documents += docs
            skipped += skips
        else:
            raise SemhashError(f"no such file or folder: {raw}")
    return check_documents(documents), skipped


def _ids_to_remove(idx, args, corpus_root: str | None) -> list[str]:
    """The document ids that ``semhash remove ARGS`` means, each ARG a path or an id.

    A path names what `semhash add` of it added: the documents whose stored path is the one
    :func:`semhash.corpus.document_path` gives it (every record of a .jsonl/.csv file; the file
    need not exist any more), and for an existing folder every document under it. An ARG that
    matches no path is taken as a document id. An ARG that is both the path of some documents
    and the id of another is refused as ambiguous; unknown ARGs are left for ``idx.remove`` to
    refuse, so nothing is removed.
    """
    from .corpus import document_path, escape_surrogates

    ids: list[str] = []
    for arg in args:
        key = document_path(arg, corpus_root)
        folder = Path(arg).is_dir()
        if folder and not key:
            raise SemhashError(f"{arg} is the indexed corpus folder: removing it would empty the index "
                               "(rebuild it with `semhash index` instead); nothing was removed")
        by_path = idx.ids_with_path(key, folder=folder)
        bare = escape_surrogates(arg)
        if by_path and bare not in by_path and idx.rows_for_ids([bare]):
            raise SemhashError(f"{arg!r} is ambiguous: a document id, and the path of {by_path[0]!r}; nothing "
                               "was removed (give the path as an absolute path, or the id from another folder)")
        ids += by_path or [bare]
    return ids


@cli.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
def add_cmd(paths, index_name):
    """Add (or replace) documents in an index without retraining.

    Files and folders are read like `semhash index` reads a corpus. Files under the indexed
    corpus folder get ids relative to it, other files their absolute path; a document whose id
    is already indexed is replaced. Example: semhash add corpus/new-note.txt --index notes
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
    """Remove documents by the path they were added from, or by id.

    A file path removes what `semhash add` of it added (all records of a .jsonl/.csv file), a
    folder every document under it; anything else is taken as a document id.

    Example: semhash remove notes/old.txt --index notes
    """
    from .index import update_index

    def change(idx):
        return idx.remove(_ids_to_remove(idx, ids, idx.manifest.get("corpus_root")))

    try:
        n = update_index(index_name, change)
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
@click.option("--milvus-index", type=click.Choice(MILVUS_INDEX_TYPES), default="BIN_FLAT", show_default=True,
              help="Milvus index: BIN_FLAT (exact; every Milvus, Milvus Lite too) or BIN_IVF_FLAT (clustered, "
                   "approximate, for large collections on a Milvus server).")
@click.option("--milvus-max-length", type=click.IntRange(1, MILVUS_VARCHAR_MAX), default=MILVUS_VARCHAR_MAX,
              show_default=True,
              metavar="BYTES", help="VARCHAR max_length of the Milvus id and title fields (longer titles are cut).")
@postgres_option
@table_option
def export_cmd(index_name, out_dir, formats, target_name, postgres_dsn=None, pg_table=None, milvus_index="BIN_FLAT",
               milvus_max_length=MILVUS_VARCHAR_MAX):
    """Write every document's code in the formats search backends ingest.

    JSONL (hex, base64 and byte list), Parquet, Elasticsearch bit dense_vector and OpenSearch
    binary knn_vector (mapping.json + bulk.ndjson), Milvus BINARY_VECTOR (schema.json, with the
    index of --milvus-index and its search parameters, + rows.jsonl).

    With --postgres DSN, load the documents, codes and TF-IDF rows into a PostgreSQL table
    (--table, default semhash_docs) that `semhash query --postgres DSN` searches.

    Example: semhash export --index ng20 --out exports/ng20 --format elasticsearch,milvus

    Example: semhash export --index ng20 --postgres postgresql://me:pw@localhost/search
    """
    from .export import MilvusOptions, export_index, parse_formats
    from .index import open_index

    if out_dir is None and postgres_dsn is None:
        raise click.UsageError("give --out DIR, the folder to write the exported codes to (or --postgres DSN)")
    if pg_table is not None and postgres_dsn is None:
        raise click.UsageError("--table needs --postgres DSN")
    ctx = click.get_current_context()
    file_only = given_options(ctx, "formats", "target_name", "milvus_index", "milvus_max_length")
    if out_dir is None and file_only:
        raise click.UsageError(f"{', '.join(file_only)} describe the files written with --out DIR; "
                               "--postgres alone writes no files (add --out DIR, or leave them out)")
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
              help="Read one text per line from a file ('-' for standard input); every line gets an output line.")
def encode_cmd(texts, index_name, fmt, text_file):
    """Print the code of each TEXT, one line each, as the exported files write them.

    Use it to query a backend loaded with `semhash export` with the same codes. A text is
    checked as a query is (not empty, some word of the vocabulary).

    With --file, every line of the file gets one output line, in order: a line that cannot be
    encoded (blank, or no word of the vocabulary) gets an empty line (--format json: an object
    with "line", "text" and "error"; the others carry "line" and "text" too), its reason goes to
    standard error, and the exit status is 1.

    Example: semhash encode "space shuttle launch" --index ng20 --format int8
    """
    from .export import code_dict, encode_texts, format_codes
    from .index import open_index
    from .search import check_texts

    if bool(texts) == (text_file is not None):
        raise click.UsageError("give one or more TEXTs or --file, not both or neither")
    items = list(texts) if text_file is None else _file_lines(text_file)
    try:
        idx = open_index(index_name, mmap=True)
        if text_file is None:
            for line in format_codes(encode_texts(idx, items), idx.n_bits, fmt):
                click.echo(line)
            return
        checked = check_texts(idx, items)
        good = [t for t, c in zip(items, checked) if not isinstance(c, SemhashError)]
        codes = iter(encode_texts(idx, good) if good else [])
    except SemhashError as exc:
        raise fail(exc)
    results = [c if isinstance(c, SemhashError) else next(codes) for c in checked]
    for n, (text, r) in enumerate(zip(items, results), start=1):
        if isinstance(r, SemhashError):
            click.echo(f"line {n}: {r}", err=True)
            click.echo(json.dumps({"line": n, "text": text, "error": str(r)}, ensure_ascii=False)
                       if fmt == "json" else "")
        elif fmt == "json":
            click.echo(json.dumps({"line": n, "text": text, **code_dict(r, idx.n_bits)}, ensure_ascii=False))
        else:
            click.echo(format_codes(r, idx.n_bits, fmt)[0])
    failed = _failed_lines(results)
    if failed:
        raise _lines_failed(failed, len(items))


# --------------------------------------------------------------------------- HTTP service


@cli.command("serve")
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
def serve_cmd(index_name, host, port, max_body, max_hits, log_level):
    """Serve an index over HTTP: search, similar documents, codes, add and remove.

    JSON endpoints: POST /search, POST /search/batch, POST /similar,
    GET /documents/{id}/similar, POST /encode, POST /documents, DELETE /documents,
    GET /info, GET /health (GET endpoints answer HEAD too); the OpenAPI description is at
    /openapi.json (there is no /docs page: it would load Swagger UI from the internet).

    Example: semhash serve --index ng20 --port 8000
    """
    from .server import IndexService, create_app

    try:
        import uvicorn
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


def main() -> None:
    cli(prog_name="semhash")


if __name__ == "__main__":
    sys.exit(main())
