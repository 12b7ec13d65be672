"""Commands that make an index or a corpus: ``semhash index``, ``semhash corpus`` and ``semhash demo``.

Training imports TensorFlow and scikit-learn, so every library import is inside the command
that needs it: ``semhash --help`` and the query commands never pay for them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS
from ..errors import SemhashError
from .app import fail, index_option
from .output import echo_hits

if TYPE_CHECKING:  # annotations only: the index loads when a command runs
    from ..index import IndexConfig, SemanticIndex

DEMO_QUERIES = ("compress a file", "parse command line arguments", "send an email", "read a csv file")


def _hidden_sizes(hidden: str) -> tuple[int, ...]:
    """``--hidden 500,500`` as layer sizes."""
    try:
        return tuple(int(h) for h in hidden.split(",") if h.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated sizes like 500,500, got {hidden!r}", param_hint="--hidden")


@click.command("index")
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
@click.option("--max-df", type=float, default=0.8, show_default=True,
              help="Ignore words in more than this share of documents.")
@click.option("--keep-stop-words", is_flag=True, help="Keep English stop words in the vocabulary.")
@click.option("--train-sample", type=click.IntRange(min=0), default=None,
              help="Train on a random sample of this many documents when the corpus has more (every "
                   "document is still encoded); 0 trains on all [default: 20000].")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same codes).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def index_cmd(directory: Path, index_name: str | None, bits: int, pretrain: str, epochs: int | None,
              pretrain_epochs: int | None, hidden: str, batch_size: int | None, weighting: str, max_features: int,
              min_df: int, max_df: float, keep_stop_words: bool, seed: int, quiet: bool, variant: str | None = None,
              neighbours: int = 0, graph_codes: float | None = None, graph_teacher: str | None = None,
              train_sample: int | None = None) -> None:
    """Read DIRECTORY, train the autoencoder and save a searchable index.

    Example: semhash index ../shared/datasets/20news-bydate/train --index ng20 --bits 32
    """
    from ..index import IndexConfig  # NumPy, scikit-learn and TensorFlow load when a command runs
    from ..train.config import ModelConfig  # (the same)
    from ..vectorize import VectorizerConfig  # (the same)

    started = time.time()
    sizes = _hidden_sizes(hidden)
    model_kw: dict[str, Any] = {"n_bits": bits, "pretrain": pretrain, "hidden": sizes, "seed": seed,
                                "neighbours": neighbours}
    for key, value in (("variant", variant), ("epochs", epochs), ("pretrain_epochs", pretrain_epochs),
                       ("batch_size", batch_size), ("graph_codes", graph_codes), ("graph_teacher", graph_teacher)):
        if value is not None:
            model_kw[key] = value
    if train_sample is not None:
        model_kw["train_sample"] = train_sample or None  # 0: every document
    try:
        model = ModelConfig(**model_kw)
        config = IndexConfig(
            vectorizer=VectorizerConfig(weighting=weighting, max_features=max_features, min_df=min_df,
                                        max_df=max_df, stop_words=not keep_stop_words),
            model=model,
        )
        config.vectorizer.validate()
        dest, idx = _build_and_save(directory, index_name, config, quiet)
    except SemhashError as exc:
        raise fail(exc)
    balance = idx.manifest["bit_balance"]
    click.echo(
        f"indexed {len(idx.table)} documents into {dest} ({len(idx.skipped or [])} skipped, {bits} bits, "
        f"bit balance {min(balance):.2f}-{max(balance):.2f}, {time.time() - started:.1f}s)"
    )
    if idx.skipped:
        click.echo(f"skipped files are listed in {dest / 'skipped.json'}", err=True)


def _build_and_save(directory: Path, index_name: str | None, config: IndexConfig,
                    quiet: bool) -> tuple[Path, SemanticIndex]:
    """Read the corpus (a file at a time: its texts are never all in memory), train and save the
    index; ``(folder, index)``."""
    from ..corpus import CorpusStream  # the library loads when a command runs, not for --help
    from ..index import SemanticIndex, resolve_index_path, writer_lock  # NumPy and the index: (the same)

    dest = resolve_index_path(index_name)
    corpus = CorpusStream(directory, progress=not quiet)
    # the writer lock from before training until the new index is saved: an add/remove of
    # this index meanwhile waits and applies to the new index instead of being overwritten
    with writer_lock(dest):
        idx = SemanticIndex.build(corpus, config, skipped=corpus.skipped, progress=not quiet, source=directory)
        if not quiet:
            click.echo(f"read {corpus.n_documents} documents from {directory} ({len(corpus.skipped)} skipped)",
                       err=True)
        idx.save_locked(dest)
    return dest, idx


@click.command("corpus")
@click.argument("dest", required=False, type=click.Path(path_type=Path), default=None)
@click.option("--max-docs", type=int, default=None, help="Write at most this many documents.")
def corpus_cmd(dest: Path | None, max_docs: int | None) -> None:
    """Write the built-in demo corpus (Python standard library docs) to DEST.

    Example: semhash corpus corpora/stdlib-docs
    """
    from ..demo import DEFAULT_DEMO_DIR, build_stdlib_corpus  # the library loads when a command runs

    dest = dest or DEFAULT_DEMO_DIR
    try:
        n = build_stdlib_corpus(dest, max_docs=max_docs)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"wrote {n} documents to {dest}")


@click.command("demo")
@click.option("--index", "index_name", default=None, metavar="NAME|PATH",
              help="Index to write (or reuse) [default: 'demo', under indexes/]; never your 'default' index.")
@click.option("--rebuild", is_flag=True, help="Train again even if the demo index is up to date.")
@click.option("--max-docs", type=click.IntRange(min=1), default=None,
              help="A quicker demo on the first N documents of the corpus.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def demo_cmd(index_name: str | None, rebuild: bool, max_docs: int | None, quiet: bool) -> None:
    """Build the stdlib demo corpus, index it and run a few example queries.

    The index (indexes/demo) is trained with the default model; a second run reuses it when
    the corpus and the parameters are unchanged (--rebuild trains again). An index of another
    corpus at --index is never replaced without --rebuild.

    Example: semhash demo && semhash query "read a zip archive" --index demo
    """
    from ..demo import DEFAULT_DEMO_DIR, DEMO_INDEX, build_stdlib_corpus, demo_index  # when a command runs
    from ..index import resolve_index_path  # NumPy and the index load when a command runs, not for --help
    from ..search import search_each  # (the same)

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
            echo_hits(hits, as_json=False)


__all__ = ["DEMO_QUERIES", "corpus_cmd", "demo_cmd", "index_cmd"]
