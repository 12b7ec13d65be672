"""Commands that look after an index: ``semhash info``, ``semhash add``, ``semhash remove`` and
``semhash outliers``. The library is imported inside each command (``semhash --help`` loads none)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import SemhashError
from .app import fail, index_option, json_option
from .output import echo_json, print_row

if TYPE_CHECKING:  # annotations only: the index loads when a command runs
    from ..index import SemanticIndex


@click.command("info")
@index_option
@json_option
@click.option("--verify", is_flag=True,
              help="Check every file of the index against its checksum (model.keras and documents.sqlite "
                   "included); exit 1 naming the first damaged file.")
def info_cmd(index_name: str | None, as_json: bool, verify: bool = False) -> None:
    """Show an index's parameters and statistics.

    Example: semhash info --index ng20 --verify
    """
    from ..index import open_index  # NumPy and the index load when a command runs, not for --help

    try:
        idx = open_index(index_name, mmap=True, verify="full" if verify else True)
        info = idx.info()
    except SemhashError as exc:
        raise fail(exc)
    if verify:
        info["verified_files"] = len(idx.manifest["files"]) + 1  # and the manifest itself
    if as_json:
        echo_json(info)
        return
    click.echo("\n".join(_info_lines(info) + _update_lines(info)))
    for s in info["skipped_files"][:10]:
        click.echo(f"  skipped {s['path']}: {s['reason']}")
    if info["skipped"] > 10:
        click.echo(f"  ... and {info['skipped'] - 10} more (see skipped.json in the index folder)")
    if verify:
        click.echo(f"verified:     all {info['verified_files']} files match their checksums")


def _info_lines(info: dict) -> list[str]:
    """The parameters and statistics of ``semhash info``, one aligned line each."""
    bal, buckets, model = info["bit_balance"], info["buckets"] or {}, info["params"]["model"]
    return [
        f"index:        {info['path']}",
        f"format:       v{info['format_version']} (semhash {info['semhash_version']}, created {info['created']})",
        f"documents:    {info['documents']}",
        f"skipped:      {info['skipped']}",
        f"vocabulary:   {info['vocabulary']} words ({info['params']['vectorizer']['weighting']})",
        f"code:         {info['n_bits']} bits, layers {model.get('hidden')} -> {info['n_bits']}, "
        f"pretrain {model.get('pretrain')}, code units {model.get('code_mode')}, "
        f"variant {model.get('variant', 'plain')}",
        f"bit balance:  mean {bal['mean']:.3f}, min {bal['min']:.3f}, max {bal['max']:.3f} "
        "(share of documents with the bit set)",
        f"buckets:      {buckets.get('n_buckets')} distinct codes, largest {buckets.get('max_bucket')}, "
        f"mean {buckets.get('mean_bucket', 0):.2f} docs, {100 * buckets.get('singleton_fraction', 0):.1f}% singletons",
        f"training:     {info['training_seconds']} s",
    ]


def _update_lines(info: dict) -> list[str]:
    """The documents changed since training and whether the codes drifted (none if unchanged)."""
    upd = info["updates"]
    if not (upd["added_since_training"] or upd["replaced_since_training"] or upd["removed_since_training"]):
        return []
    lines = [f"updates:      {upd['added_since_training']} added, {upd['replaced_since_training']} replaced, "
             f"{upd['removed_since_training']} removed since training"]
    seg = info.get("segments") or {}
    if seg.get("segments"):
        lines.append(f"segments:     {seg['segments']} delta segment(s) on the base ({seg['added_rows']} rows added, "
                     f"{seg['removed_rows']} removed); merged automatically past {seg['max_segments']}, "
                     "or by `semhash compact`")
    if upd["drifted_bits"] is None and upd["mean_abs"] is not None:
        lines.append(f"drift:        judged once {upd['drift_min_docs']} documents are added or replaced")
    elif upd["drifted_bits"] is not None:
        shift = f"mean shift {upd['mean_abs']:.3f}, max {upd['max_abs']:.3f}"
        lines.append(f"drift:        {upd['drifted_bits']} of {info['n_bits']} bits differ from training beyond "
                     f"sampling noise ({shift}) - consider retraining" if upd["retrain_advised"] else
                     f"drift:        bit balance of added documents within sampling noise of training ({shift})")
    return lines


# --------------------------------------------------------------------------- live updates


def documents_for_paths(paths: Iterable[str | Path], corpus_root: str | None) -> tuple[list, list]:
    """Documents of files and folders, named as :func:`semhash.corpus.document_path` says.

    Under the indexed corpus folder ids are relative to it (as `semhash index` made them),
    elsewhere absolute paths. Two different documents with one id are refused (ConfigError).
    """
    from ..corpus import document_path, read_corpus, read_file  # the library loads when a command runs
    from ..store import check_documents  # (the same)

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


def ids_to_remove(idx: SemanticIndex, args: Iterable[str], corpus_root: str | None) -> list[str]:
    """The document ids that ``semhash remove ARGS`` means, each ARG a path or an id.

    A path names what `semhash add` of it added: the documents whose stored path is the one
    :func:`semhash.corpus.document_path` gives it (every record of a .jsonl/.csv file; the file
    need not exist any more), and for an existing folder every document under it. An ARG that
    matches no path is taken as a document id. An ARG that is both the path of some documents
    and the id of another is refused as ambiguous; unknown ARGs are left for ``idx.remove`` to
    refuse, so nothing is removed.
    """
    from ..corpus import document_path, escape_surrogates  # the library loads when a command runs

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


@click.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
def add_cmd(paths: tuple[Path, ...], index_name: str | None) -> None:
    """Add (or replace) documents in an index without retraining.

    Files and folders are read like `semhash index` reads a corpus. Files under the indexed
    corpus folder get ids relative to it, other files their absolute path; a document whose id
    is already indexed is replaced. Example: semhash add corpus/new-note.txt --index notes
    """
    from ..index import update_index  # NumPy and the index load when a command runs

    skipped: list = []

    def change(idx: SemanticIndex) -> dict:
        documents, unread = documents_for_paths(paths, idx.manifest.get("corpus_root"))
        skipped.extend(unread)
        return idx.add(documents)

    try:
        result = update_index(index_name, change)  # one delta segment: the index is never copied
    except SemhashError as exc:
        raise fail(exc)
    n_skipped = len(skipped) + len(result["skipped"])
    click.echo(f"added {result['added']}, replaced {result['replaced']} documents ({n_skipped} skipped)")
    for s in skipped:
        click.echo(f"  skipped {s.path}: {s.reason}", err=True)
    for s in result["skipped"]:
        click.echo(f"  skipped {s['path']}: {s['reason']}", err=True)


@click.command("remove")
@click.argument("ids", nargs=-1, required=True)
@index_option
def remove_cmd(ids: tuple[str, ...], index_name: str | None) -> None:
    """Remove documents by the path they were added from, or by id.

    A file path removes what `semhash add` of it added (all records of a .jsonl/.csv file), a
    folder every document under it; anything else is taken as a document id.

    Example: semhash remove notes/old.txt --index notes
    """
    from ..index import update_index  # NumPy and the index load when a command runs, not for --help

    def change(idx: SemanticIndex) -> int:
        return idx.remove(ids_to_remove(idx, ids, idx.manifest.get("corpus_root")))

    try:
        n = update_index(index_name, change)
    except SemhashError as exc:
        raise fail(exc)
    click.echo(f"removed {n} documents")


@click.command("compact")
@index_option
def compact_cmd(index_name: str | None) -> None:
    """Merge an index's delta segments into one base segment.

    `semhash add` and `semhash remove` write only what changed, as a small delta segment beside
    the index; queries read every segment. Past a limit (10 segments, or changes above half the
    base's rows) the next update merges them automatically; this does it now. The whole index
    is written anew and swapped in atomically.

    Example: semhash compact --index notes
    """
    from ..index import compact_index  # NumPy and the index load when a command runs, not for --help

    try:
        merged = compact_index(index_name)
    except SemhashError as exc:
        raise fail(exc)
    if not merged["segments"]:
        click.echo("nothing to compact: the index is one base segment")
        return
    click.echo(f"compacted {merged['segments']} delta segment(s) ({merged['added_rows']} rows added, "
               f"{merged['removed_rows']} removed) into the base segment")


@click.command("outliers")
@index_option
@click.option("-n", "n", type=click.IntRange(min=1), default=20, show_default=True, help="Number of documents.")
@json_option
def outliers_cmd(index_name: str | None, n: int, as_json: bool) -> None:
    """List the documents the autoencoder reconstructs worst (unusual documents).

    The error is the KL divergence from a document's word distribution to its reconstruction
    by the index's model (the cross-entropy minus the document's own entropy), computed with
    NumPy from encoder.npz and decoder.npz. Documents unlike the rest of the corpus rank first.
    An index built before decoder.npz existed is scored with model.keras (loads TensorFlow).

    Example: semhash outliers --index ng20 -n 10
    """
    from ..index import open_index  # NumPy and the index load when a command runs, not for --help
    from ..outliers import find_outliers, numpy_decoder  # (the same; TensorFlow only for an old index)

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
        echo_json([o.to_dict() for o in found])
        return
    for o in found:
        print_row(o.rank, f"error {o.error:.3f}", o.id, o.title, o.snippet)


__all__ = ["add_cmd", "compact_cmd", "documents_for_paths", "ids_to_remove", "info_cmd", "outliers_cmd", "remove_cmd"]
