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
@click.option("--pretrain", type=click.Choice(["rbm", "autoencoder", "none"]), default="rbm", show_default=True,
              help="Greedy layer-wise pretraining before fine-tuning.")
@click.option("--epochs", type=int, default=None, help="Fine-tuning epochs [default: 20].")
@click.option("--pretrain-epochs", type=int, default=None, help="Epochs per pretrained layer [default: 5].")
@click.option("--hidden", default="500,500", show_default=True, help="Hidden layer sizes, comma-separated.")
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
              max_features, min_df, max_df, keep_stop_words, seed, quiet):
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
    model_kw = {"n_bits": bits, "pretrain": pretrain, "hidden": sizes, "seed": seed}
    for key, value in (("epochs", epochs), ("pretrain_epochs", pretrain_epochs), ("batch_size", batch_size)):
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
        idx = SemanticIndex.build(report.documents, config, skipped=report.skipped, progress=not quiet)
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


def _print_hits(hits, as_json: bool) -> None:
    if as_json:
        return
    for h in hits:
        click.echo(f"{h.rank:>3}. [d={h.distance:>2} s={h.score:.3f}] {h.id} — {h.title}")
        if h.snippet:
            click.echo(f"     {h.snippet[:160]}")


@cli.command("query")
@click.argument("text", required=False)
@index_option
@click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results.")
@click.option("--radius", type=int, default=None, help="Hamming radius of the lookup [default: 1-3 by code length].")
@click.option("--no-rerank", is_flag=True, help="Rank by Hamming distance instead of TF-IDF cosine.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--file", "query_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one query per line from a file ('-' for standard input).")
def query_cmd(text, index_name, k, radius, no_rerank, as_json, query_file):
    """Search an index for TEXT and print the best documents.

    Example: semhash query "space shuttle launch orbit" --index ng20 -k 5
    """
    from .index import open_index

    if (text is None) == (query_file is None):
        raise click.UsageError("give a query TEXT or --file, not both or neither")
    texts = [text] if query_file is None else [line.rstrip("\n") for line in query_file if line.strip()]
    try:
        idx = open_index(index_name, mmap=True)
        results = idx.search_batch(texts, k=k, radius=radius, rerank=not no_rerank)
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
        _print_hits(hits, as_json)


# --------------------------------------------------------------------------- info


@cli.command("info")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info_cmd(index_name, as_json):
    """Show an index's parameters and statistics.

    Example: semhash info --index ng20
    """
    from .index import open_index

    try:
        info = open_index(index_name, mmap=True, verify=False).info()
    except SemhashError as exc:
        raise fail(exc)
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
        f"pretrain {model.get('pretrain')}, code units {model.get('code_mode')}",
        f"bit balance:  mean {bal['mean']:.3f}, min {bal['min']:.3f}, max {bal['max']:.3f} (share of documents with the bit set)",
        f"buckets:      {buckets.get('n_buckets')} distinct codes, largest {buckets.get('max_bucket')}, "
        f"mean {buckets.get('mean_bucket', 0):.2f} docs, {100 * buckets.get('singleton_fraction', 0):.1f}% singletons",
        f"training:     {info['training_seconds']} s",
    ]
    click.echo("\n".join(lines))
    for s in info["skipped_files"][:10]:
        click.echo(f"  skipped {s['path']}: {s['reason']}")
    if info["skipped"] > 10:
        click.echo(f"  ... and {info['skipped'] - 10} more (see skipped.json in the index folder)")


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
               min_df=2, max_df=0.8, keep_stop_words=False, seed=0, quiet=quiet)
    for q in DEMO_QUERIES:
        click.echo(f'\n$ semhash query "{q}" -k 5')
        ctx.invoke(query_cmd, text=q, index_name=index_name, k=5, radius=None, no_rerank=False, as_json=False,
                   query_file=None)


def main() -> None:
    cli(prog_name="semhash")


if __name__ == "__main__":
    sys.exit(main())
