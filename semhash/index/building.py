"""Building an index from documents: fit the vocabulary, train the model, encode every document.

Only :meth:`SemanticIndex.build` and :meth:`SemanticIndex.from_model` import this module: it
shows progress with tqdm and trains with TensorFlow, which a query never pays for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from ..codes import EncoderWeights, bit_balance, encode_packed, unpack_bits
from ..corpus import escape_surrogates
from ..errors import ConfigError
from ..hashtable import HammingTable
from ..train.config import ModelConfig
from ..vectorize import Vectorizer, l2_normalize
from .config import IndexConfig

if TYPE_CHECKING:
    import scipy.sparse as sp

    from ..train.trainer import TrainingResult

NO_WORDS = "no word of the vocabulary (too short or only stop words)"


class Parts(NamedTuple):
    """What encoding the documents gives a new index: its table, rows, documents and counts."""

    table: HammingTable
    tfidf: sp.csr_matrix
    new_docs: dict[int, tuple]
    manifest: dict[str, Any]


def skipped_records(skipped: Iterable) -> list[dict]:
    """Skipped files (``semhash.corpus.Skipped`` or dicts) as the dicts ``skipped.json`` holds
    (UTF-8: names that are not get escaped)."""
    records = [dict(path=s.path, reason=s.reason) if hasattr(s, "reason") else dict(s) for s in skipped]
    return [{k: escape_surrogates(v) if isinstance(v, str) else v for k, v in s.items()} for s in records]


def vectorize(vectorizer: Vectorizer, documents: list, skipped: Iterable) -> tuple[list, sp.csr_matrix, list[dict]]:
    """Weighted rows of the documents that have words of the vocabulary; the others skipped."""
    X = vectorizer.transform([d.text for d in documents])
    has_words = np.diff(X.indptr) > 0
    skipped = skipped_records(skipped)
    skipped += [{"path": d.id, "reason": NO_WORDS} for d, ok in zip(documents, has_words) if not ok]
    return [d for d, ok in zip(documents, has_words) if ok], X[has_words], skipped


def fit_vocabulary(config: IndexConfig, documents: list,
                   skipped: Iterable) -> tuple[Vectorizer, list, sp.csr_matrix, list[dict]]:
    """The vocabulary fitted on ``documents``, and :func:`vectorize` with it (at least 2 rows)."""
    if not documents:
        raise ConfigError("no documents to index")
    vectorizer = Vectorizer(config.vectorizer).fit([d.text for d in documents])
    documents, X, skipped = vectorize(vectorizer, documents, skipped)
    if len(documents) < 2:
        raise ConfigError(
            f"only {len(documents)} document(s) have words of the vocabulary; at least 2 are needed to train"
        )
    return vectorizer, documents, X, skipped


def train_model(X: sp.csr_matrix, model: ModelConfig, progress: bool) -> TrainingResult:
    """The autoencoder trained on ``X`` with ``model``."""
    from ..train.trainer import train  # TensorFlow: only training pays for it

    return train(X, model, progress=progress)


def encode_in_batches(encoder: EncoderWeights, X: sp.csr_matrix, progress: bool, batch: int = 4096) -> np.ndarray:
    """Packed codes of the rows of ``X``, ``batch`` rows at a time (with a progress bar)."""
    parts = []
    with tqdm(total=X.shape[0], desc="encode", disable=not progress, leave=False, unit="doc") as bar:
        for start in range(0, X.shape[0], batch):
            parts.append(encode_packed(encoder, X[start : start + batch]))
            bar.update(min(batch, X.shape[0] - start))
    return np.concatenate(parts) if parts else np.zeros((0, encoder.n_bits // 8), np.uint8)


def encode_documents(encoder: EncoderWeights, documents: list, X: sp.csr_matrix, progress: bool) -> Parts:
    """Rows ``0..n-1`` for ``documents``: their codes in a hash table, their L2-normalized rows,
    the documents (unsaved) and the manifest's counts and training statistics."""
    rows = np.arange(len(documents), dtype=np.int64)
    codes = encode_in_batches(encoder, X, progress)
    manifest = {
        "counts": {"added_since_training": 0, "replaced_since_training": 0, "removed_since_training": 0},
        "training": {"n_docs": len(documents),
                     "bit_balance": bit_balance(unpack_bits(codes, encoder.n_bits)).round(4).tolist()},
    }
    new_docs = {int(r): (int(r), d.id, d.path, d.title, d.text) for r, d in zip(rows, documents)}
    return Parts(HammingTable.build(codes, rows, encoder.n_bits), l2_normalize(X), new_docs, manifest)


__all__ = ["Parts", "encode_documents", "encode_in_batches", "fit_vocabulary", "skipped_records", "train_model",
           "vectorize"]
