"""Building an index from documents: read them a chunk at a time (stored, counted), fit the
vocabulary, train the model, encode every document.

Only :meth:`SemanticIndex.build` and :meth:`SemanticIndex.from_model` import this module: it
shows progress with tqdm and trains with TensorFlow, which a query never pays for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from .. import store as docstore
from ..codes import EncoderWeights, bit_balance, encode_packed, unpack_bits
from ..corpus import escape_surrogates
from ..errors import ConfigError
from ..hashtable import HammingTable
from ..train.config import ModelConfig
from ..vectorize import Vectorizer, l2_normalize_in_place, weight_counts
from .staging import StagedStore, chunked

if TYPE_CHECKING:
    import scipy.sparse as sp

    from ..corpus import Document
    from ..train.trainer import TrainingResult

NO_WORDS = "no word of the vocabulary (too short or only stop words)"


class Parts(NamedTuple):
    """What encoding the documents gives a new index: its table, rows, documents and counts."""

    table: HammingTable
    tfidf: sp.csr_matrix
    store: StagedStore
    manifest: dict[str, Any]


class Staged(NamedTuple):
    """The documents read by :func:`stage_documents`: stored, and counted over the vocabulary."""

    store: StagedStore  # rows 0..n-1: the documents with words of the vocabulary
    counts: sp.csr_matrix  # their word counts, one row each
    skipped: list[dict]  # the files skipped while reading, then the documents without words


def skipped_records(skipped: Iterable) -> list[dict]:
    """Skipped files (``semhash.corpus.Skipped`` or dicts) as the dicts ``skipped.json`` holds
    (UTF-8: names that are not get escaped)."""
    records = [dict(path=s.path, reason=s.reason) if hasattr(s, "reason") else dict(s) for s in skipped]
    return [{k: escape_surrogates(v) if isinstance(v, str) else v for k, v in s.items()} for s in records]


def stage_documents(documents: Iterable[Document], vectorizer: Vectorizer, fit: bool, skipped: Iterable,
                    progress: bool) -> Staged:
    """Read ``documents`` a chunk at a time: check each, store it, count its words; then fit the
    vocabulary on the counts (``fit``; else ``vectorizer`` is fitted) and drop the documents
    without words of it (skipped, :data:`NO_WORDS`). The texts are never all in memory.

    ``skipped`` (the files skipped while reading) is read after ``documents``, so it may be a
    list the reader of ``documents`` fills as it goes.
    """
    check = docstore.DocumentCheck()  # before any training: bad ids fail now
    store = StagedStore()
    try:
        counter = vectorizer.word_counts() if fit else None
        parts = []
        with tqdm(desc="read", disable=not progress, leave=False, unit="doc") as bar:
            for chunk in chunked(documents):
                chunk = [d for d in chunk if check(d)]
                texts = [d.text for d in chunk]
                if counter is not None:
                    counter.feed(texts)
                else:
                    parts.append(vectorizer.counts(texts))
                store.write(chunk)
                bar.update(len(chunk))
        if counter is not None:
            if not counter.n_texts:
                raise ConfigError("no documents to index")
            counts = vectorizer.fit_counts(counter)
        else:
            counts = stack_rows(parts, len(vectorizer.vocabulary_))
        has_words = np.diff(counts.indptr) > 0
        skipped = skipped_records(skipped)
        skipped += [{"path": i, "reason": NO_WORDS} for i in store.ids(np.flatnonzero(~has_words))]
        store.keep(np.flatnonzero(has_words))
    except BaseException:
        store.close()
        raise
    return Staged(store, counts if has_words.all() else counts[has_words], skipped)


def stack_rows(parts: list, n_cols: int) -> sp.csr_matrix:
    """The rows of ``parts`` (CSR matrices) one below the other (no rows: an empty matrix)."""
    import scipy.sparse as sp  # building only

    return sp.vstack(parts).tocsr() if parts else sp.csr_matrix((0, n_cols), dtype=np.float32)


def train_model(X: sp.csr_matrix, model: ModelConfig, progress: bool) -> TrainingResult:
    """The autoencoder trained on ``X`` with ``model``."""
    from ..train.trainer import train  # TensorFlow: only training pays for it

    return train(X, model, progress=progress)


def build_parts(documents: Iterable[Document], vectorizer: Vectorizer, model: ModelConfig, skipped: Iterable,
                progress: bool) -> tuple[TrainingResult, Parts, list[dict]]:
    """Read and store ``documents``, fit ``vectorizer``, train ``model`` and encode every
    document: the training, the parts of the new index and the skipped files. The manifest's
    ``training`` records the seconds of each phase."""
    started = time.time()
    staged = stage_documents(documents, vectorizer, True, skipped, progress)
    try:
        if staged.counts.shape[0] < 2:
            raise ConfigError(f"only {staged.counts.shape[0]} document(s) have words of the vocabulary; "
                              "at least 2 are needed to train")
        X = weight_counts(staged.counts, vectorizer.idf_, in_place=True)  # the counts are not needed after
        read = time.time()
        result = train_model(X, model, progress)
        trained = time.time()
        parts = encode_documents(result.encoder, staged, X, progress)
    except BaseException:
        staged.store.close()
        raise
    training = parts.manifest["training"]
    training["seconds"] = round(time.time() - started, 2)
    training["phases"] = {"read": round(read - started, 2), "train": round(trained - read, 2),
                          "encode": round(time.time() - trained, 2)}
    if result.sample_rows is not None:
        training["trained_on"] = len(result.sample_rows)
    return result, parts, staged.skipped


def encode_in_batches(encoder: EncoderWeights, X: sp.csr_matrix, progress: bool, batch: int = 4096) -> np.ndarray:
    """Packed codes of the rows of ``X``, ``batch`` rows at a time (with a progress bar)."""
    parts = []
    with tqdm(total=X.shape[0], desc="encode", disable=not progress, leave=False, unit="doc") as bar:
        for start in range(0, X.shape[0], batch):
            parts.append(encode_packed(encoder, X[start : start + batch]))
            bar.update(min(batch, X.shape[0] - start))
    return np.concatenate(parts) if parts else np.zeros((0, encoder.n_bits // 8), np.uint8)


def encode_documents(encoder: EncoderWeights, staged: Staged, X: sp.csr_matrix, progress: bool) -> Parts:
    """Rows ``0..n-1`` of the ``staged`` documents: their codes in a hash table, their
    L2-normalized rows (``X`` itself, normalized in place once encoded), their store and the
    manifest's counts and training statistics."""
    rows = np.arange(X.shape[0], dtype=np.int64)
    codes = encode_in_batches(encoder, X, progress)
    tfidf = l2_normalize_in_place(X)  # X is not needed after: the rows are normalized in its arrays
    manifest = {
        "counts": {"added_since_training": 0, "replaced_since_training": 0, "removed_since_training": 0},
        "training": {"n_docs": X.shape[0],
                     "bit_balance": bit_balance(unpack_bits(codes, encoder.n_bits)).round(4).tolist()},
    }
    return Parts(HammingTable.build(codes, rows, encoder.n_bits), tfidf, staged.store, manifest)


__all__ = ["Parts", "Staged", "encode_documents", "encode_in_batches", "skipped_records", "stack_rows",
           "stage_documents", "train_model", "build_parts"]
