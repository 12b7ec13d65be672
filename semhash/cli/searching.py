"""Commands that ask an index: ``semhash query``, ``semhash similar`` and ``semhash encode``.

These are the commands that must start fast: the library (NumPy, the index) is imported inside
each command, and nothing here imports scikit-learn, SciPy, TensorFlow or FAISS.
"""

from __future__ import annotations

import json
from typing import TextIO

import click

from ..choices import CODE_FORMATS, DEFAULT_MODE, LOOKUP_METHODS, QUERY_MODES
from ..errors import SemhashError
from .app import (
    fail,
    given_options,
    index_option,
    needs_postgres,
    postgres_option,
    search_options,
    table_option,
)
from .output import each_checked, echo_hits, echo_json, file_lines, raise_if_lines_failed


@click.command("query")
@click.argument("text", required=False)
@index_option
@search_options
@click.option("--file", "query_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one query per line from a file ('-' for standard input); every line gets a result.")
@click.option("--mode", type=click.Choice(QUERY_MODES), default=None,
              help="How documents are found and ranked: hybrid (the Hamming ball and the best documents by "
                   "BM25, one score of both), semantic (the Hamming ball re-ranked by TF-IDF cosine) or lexical "
                   f"(BM25 alone: the documents with the query's words) [default: {DEFAULT_MODE}; semantic with "
                   "--no-rerank].")
@click.option("--lookup", type=click.Choice(LOOKUP_METHODS), default="auto", show_default=True,
              help="Hamming-ball method: by estimated cost, bit flipping, multi-index hashing, or a full scan.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads for a --file batch [default: the number of cores, at most 8].")
@postgres_option
@table_option
def query_cmd(text: str | None, index_name: str | None, k: int, radius: int | None, no_rerank: bool, as_json: bool,
              query_file: TextIO | None, mode: str | None, lookup: str, threads: int | None,
              postgres_dsn: str | None = None, pg_table: str | None = None) -> None:
    """Search an index for TEXT and print the best documents.

    With --file, every line of the file is a query and gets exactly one result, in order:
    its hits, or the reason it cannot be searched (a blank line, or no word of the
    vocabulary). --json then prints a list of {"line", "query", "hits"} or {"line", "query",
    "error"} objects. The exit status is 1 when any line failed.

    --mode says how documents are found: hybrid (the default) merges the Hamming ball of the
    query's code with the documents that have the query's words (BM25) and ranks them by one
    score of both; semantic is the Hamming ball re-ranked by TF-IDF cosine; lexical is BM25 alone.

    With --postgres, search the table `semhash export --postgres` loaded instead; the query is
    encoded with --index (the index the table was loaded from) and the hits are the same, in
    every --mode.

    Example: semhash query "space shuttle launch orbit" --index ng20 -k 5
    """
    if (text is None) == (query_file is None):
        raise click.UsageError("give a query TEXT or --file, not both or neither")
    needs_postgres(pg_table, postgres_dsn)
    local_only = given_options(click.get_current_context(), "lookup", "threads") if postgres_dsn else []
    if local_only:
        raise click.UsageError(f"{' and '.join(local_only)} apply to the local index, not to --postgres "
                               "(PostgreSQL finds the ball with its btree index and answers one query at a time)")
    texts = file_lines(query_file) if query_file is not None else [text or ""]  # TEXT is given without --file
    search = dict(k=k, radius=radius, rerank=not no_rerank, mode=mode)
    try:
        if postgres_dsn is not None:
            results = _query_postgres(index_name, texts, query_file is not None, postgres_dsn, pg_table, search)
        else:
            results = _query_local(index_name, texts, query_file is not None, search, lookup, threads)
    except SemhashError as exc:
        raise fail(exc)
    if query_file is None:
        echo_hits(results[0], as_json)
    else:
        _echo_file_results(texts, results, as_json)
        raise_if_lines_failed(results)


def _query_local(index_name: str | None, texts: list[str], each: bool, search: dict, lookup: str,
                 threads: int | None) -> list:
    """The hits of each text in the local index; with ``each``, an error in place of a text's hits."""
    from ..index import open_index  # the index and NumPy load when a command runs, not for --help
    from ..search import search_each  # (the same)

    idx = open_index(index_name, mmap=True)
    if each:
        return search_each(idx, texts, lookup=lookup, threads=threads, **search)
    return idx.search_batch(texts, lookup=lookup, threads=threads, **search)


def _query_postgres(index_name: str | None, texts: list[str], each: bool, dsn: str, table: str | None,
                    search: dict) -> list:
    """The hits of each text in the PostgreSQL table, encoded with the local index."""
    from ..index import open_index  # the index and NumPy load when a command runs, not for --help
    from ..postgres import DEFAULT_TABLE, PostgresSearcher  # psycopg: the optional extra, for --postgres only
    from ..search import check_texts  # the index and NumPy load when a command runs, not for --help

    idx = open_index(index_name, mmap=True)
    with PostgresSearcher(dsn, table or DEFAULT_TABLE, idx) as searcher:
        def run(batch: list[str]) -> list:
            return searcher.search_batch(batch, **search)

        return each_checked(texts, check_texts(idx, texts), run) if each else run(texts)


def _echo_file_results(texts: list[str], results: list, as_json: bool) -> None:
    """Every line's result in order: its hits, or ``error: ...`` in their place."""
    if as_json:
        echo_json([{"line": n, "query": q, **({"error": str(r)} if isinstance(r, SemhashError)
                                              else {"hits": [h.to_dict() for h in r]})}
                   for n, (q, r) in enumerate(zip(texts, results), start=1)])
        return
    for n, (q, r) in enumerate(zip(texts, results), start=1):
        click.echo(f"# line {n}: {q}")
        if isinstance(r, SemhashError):
            click.echo(f"error: {r}")
        else:
            echo_hits(r, as_json=False)


@click.command("similar")
@click.argument("doc_id")
@index_option
@search_options
def similar_cmd(doc_id: str, index_name: str | None, k: int, radius: int | None, no_rerank: bool,
                as_json: bool) -> None:
    """Print the indexed documents most like the document DOC_ID (itself left out).

    DOC_ID is an id as `semhash query` prints it. The document's stored code and TF-IDF row
    are the query, so the hits are those `semhash query` gives for its text, ranked the same
    way; the output is the same as `semhash query`'s.

    Example: semhash similar modules/gzip.txt --index demo -k 5
    """
    from ..index import open_index  # the index and NumPy load when a command runs, not for --help
    from ..similar import similar  # (the same)

    try:
        idx = open_index(index_name, mmap=True)
        hits = similar(idx, doc_id, k=k, radius=radius, rerank=not no_rerank)
    except SemhashError as exc:
        raise fail(exc)
    echo_hits(hits, as_json)


@click.command("encode")
@click.argument("texts", nargs=-1)
@index_option
@click.option("--format", "fmt", type=click.Choice(CODE_FORMATS), default="hex",
              show_default=True,
              help="hex (Elasticsearch), bits (0/1, bit 0 first), int8 (OpenSearch/Elasticsearch byte "
                   "array), uint8 (Milvus: bytes(...)), json (all of them, one object per line).")
@click.option("--file", "text_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one text per line from a file ('-' for standard input); every line gets an output line.")
def encode_cmd(texts: tuple[str, ...], index_name: str | None, fmt: str, text_file: TextIO | None) -> None:
    """Print the code of each TEXT, one line each, as the exported files write them.

    Use it to query a backend loaded with `semhash export` with the same codes. A text is
    checked as a query is (not empty, some word of the vocabulary).

    With --file, every line of the file gets one output line, in order: a line that cannot be
    encoded (blank, or no word of the vocabulary) gets an empty line (--format json: an object
    with "line", "text" and "error"; the others carry "line" and "text" too), its reason goes to
    standard error, and the exit status is 1.

    Example: semhash encode "space shuttle launch" --index ng20 --format int8
    """
    from ..export import encode_texts, format_codes  # NumPy loads when a command runs, not for --help
    from ..index import open_index  # (the same)
    from ..search import check_texts  # (the same)

    if bool(texts) == (text_file is not None):
        raise click.UsageError("give one or more TEXTs or --file, not both or neither")
    items = list(texts) if text_file is None else file_lines(text_file)
    try:
        idx = open_index(index_name, mmap=True)
        if text_file is None:
            for line in format_codes(encode_texts(idx, items), idx.n_bits, fmt):
                click.echo(line)
            return
        results = each_checked(items, check_texts(idx, items), lambda good: encode_texts(idx, good) if good else [])
    except SemhashError as exc:
        raise fail(exc)
    for n, (text, r) in enumerate(zip(items, results), start=1):
        _echo_code_line(n, text, r, idx.n_bits, fmt)
    raise_if_lines_failed(results)


def _echo_code_line(n: int, text: str, result, n_bits: int, fmt: str) -> None:
    """Line ``n`` of ``encode --file``: its code in ``fmt``, or an empty line (json: an object
    with the error) and the reason on standard error."""
    from ..export import code_dict, format_codes  # NumPy loads when a command runs, not for --help

    if isinstance(result, SemhashError):
        click.echo(f"line {n}: {result}", err=True)
        click.echo(json.dumps({"line": n, "text": text, "error": str(result)}, ensure_ascii=False)
                   if fmt == "json" else "")
    elif fmt == "json":
        click.echo(json.dumps({"line": n, "text": text, **code_dict(result, n_bits)}, ensure_ascii=False))
    else:
        click.echo(format_codes(result, n_bits, fmt)[0])


__all__ = ["encode_cmd", "query_cmd", "similar_cmd"]
