"""Writing the files of an index folder (into the temporary folder a transaction swaps in):
the training's files, the document store and its row digests, ``skipped.json``, the checksums
and the manifest that lists them all (:mod:`semhash.index.layout` names the files)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .. import store as docstore
from ..codes import bit_balance, unpack_bits
from ..hashtable import HammingTable
from ..integrity import BLOCK_BYTES, FolderReader, file_meta
from ..manifest import BASE_FORMAT_VERSION, FORMAT
from ..manifest import dumps as dump_manifest
from ..vectorize import Vectorizer
from .layout import (
    BLOCK_FILES,
    BLOCKS_FILE,
    DECODER_FILE,
    KERAS_FILE,
    MANIFEST,
    ROW_DIGESTS_FILE,
    SKIPPED_FILE,
    TRAINING_FILE,
)

if TYPE_CHECKING:
    from ..train.trainer import TrainingResult

STAMP = "%Y-%m-%dT%H:%M:%S%z"
COPY_BATCH = 20_000  # stored rows copied at a time


def write_training(tmp: Path, training: TrainingResult) -> list[str]:
    """The trained Keras model, its loss curves and its NumPy decoder (when it has one)."""
    training.save_keras(tmp / KERAS_FILE)
    (tmp / TRAINING_FILE).write_text(json.dumps({
        "pretrain_losses": training.pretrain_losses,
        "finetune_losses": training.finetune_losses,
        "validation_losses": training.validation_losses,
    }))
    files = [KERAS_FILE, TRAINING_FILE]
    if training.decoder is not None:
        training.decoder.save(tmp / DECODER_FILE)
        files.append(DECODER_FILE)
    return files


def copy_listed(reader: FolderReader, listed: dict, names: tuple[str, ...], tmp: Path) -> list[str]:
    """Copy the files of ``names`` that the manifest lists (``listed``), checked on the way."""
    copied = []
    for name in names:
        meta = listed.get(name)
        if meta is not None:
            reader.copy(name, meta, tmp / name)
            copied.append(name)
    return copied


def write_store(path: Path, saved: list[sqlite3.Connection], new_docs: dict[int, tuple], dead: set[int]) -> None:
    """The current store: the rows of the ``saved`` stores (the base's and each delta
    segment's) not removed (``dead``) nor replaced, then the unsaved documents ``new_docs``
    (``(row, id, path, title, text)``, added after training)."""
    conn = docstore.connect(path)
    try:
        skip = dead | set(new_docs)
        for source in saved:
            cursor = source.execute("SELECT row, id, path, title, snippet, chars, added FROM documents")
            while batch := cursor.fetchmany(COPY_BATCH):  # a batch at a time: a million rows never in memory
                conn.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?)",
                                 [r for r in batch if r[0] not in skip])
        conn.commit()
        docstore.write_documents(conn, [d for r, d in new_docs.items() if r not in dead], added=True)
    finally:
        conn.close()


def write_row_digests(tmp: Path, n_rows: int) -> np.ndarray:
    """``documents_digest.npy``: the digest of each stored row, so a query checks the rows it
    shows without reading the whole store."""
    conn = sqlite3.connect(tmp / docstore.STORE_FILE)
    try:
        digests = docstore.row_digests(conn, int(n_rows))
    finally:
        conn.close()
    np.save(tmp / ROW_DIGESTS_FILE, digests, allow_pickle=False)
    return digests


def write_skipped(tmp: Path, skipped: list) -> str:
    """``skipped.json``: every file skipped while reading the corpus, with the reason."""
    (tmp / SKIPPED_FILE).write_text(json.dumps(skipped, ensure_ascii=False, indent=1), encoding="utf-8")
    return SKIPPED_FILE


def checksums(tmp: Path, files: list[str]) -> dict:
    """The manifest's ``files`` (size and sha256 of each) and ``blocks`` (where each
    block-checked file's block digests start in ``block_checksums.npy``, written here)."""
    metas: dict[str, dict] = {}
    first: dict[str, int] = {}
    digests: list[np.ndarray] = []
    for name in files:
        metas[name], blocks = file_meta(tmp / name, blocks=name in BLOCK_FILES)
        if blocks is not None:
            first[name] = sum(len(d) for d in digests)
            digests.append(blocks)
    np.save(tmp / BLOCKS_FILE, np.concatenate(digests), allow_pickle=False)
    metas[BLOCKS_FILE] = file_meta(tmp / BLOCKS_FILE)[0]
    return {"files": metas, "blocks": {"bytes": BLOCK_BYTES, "first": first}}


def manifest_for(previous: dict, vectorizer: Vectorizer, model_params: dict, table: HammingTable, n_rows: int,
                 n_skipped: int) -> dict[str, Any]:
    """The manifest of an index (all but its checksums): its parameters, counts and code
    statistics, carrying over what ``previous`` (the manifest so far) keeps across saves."""
    n_bits = table.n_bits
    return {
        "format": FORMAT,
        "format_version": BASE_FORMAT_VERSION,
        "semhash_version": __version__,
        "created": previous.get("created") or time.strftime(STAMP),
        "updated": time.strftime(STAMP),
        "params": {"vectorizer": asdict(vectorizer.config), "model": model_params},
        "n_bits": n_bits,
        "counts": {
            **previous.get("counts", {}),
            "documents": len(table),
            "skipped": n_skipped,
            "vocabulary": len(vectorizer.vocabulary_),
        },
        "training": previous.get("training", {}),
        "bit_balance": bit_balance(unpack_bits(np.asarray(table.codes_), n_bits)).round(4).tolist(),
        "buckets": table.bucket_stats(),
        "corpus_root": previous.get("corpus_root"),
        "added_bit_sum": previous.get("added_bit_sum"),
        "next_row": previous.get("next_row", int(n_rows)),
    }


def write_manifest(tmp: Path, manifest: dict) -> dict:
    """``manifest.json`` (sealed with its own checksum); returns the manifest as written."""
    text = dump_manifest(manifest)
    (tmp / MANIFEST).write_text(text, encoding="utf-8")
    return json.loads(text)


__all__ = ["checksums", "copy_listed", "manifest_for", "write_manifest", "write_row_digests", "write_skipped",
           "write_store", "write_training"]
