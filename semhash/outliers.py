"""Unusual documents: those the autoencoder reconstructs worst.

A document's reconstruction error is the KL divergence from its word distribution ``p`` to the
autoencoder's reconstruction ``q`` (the trained model at inference): the cross-entropy
``H(p, q)`` minus the document's own entropy ``H(p)``. The cross-entropy alone mostly measures
``H(p)`` -- long documents with many distinct words score high whatever the model does -- so it
is reported but not ranked by; on 150 hockey posts mixed with 5 medical ones (a tiny model) the
KL ranked 4 of the 5 in the top 15, the cross-entropy 2. Documents unlike the rest of the corpus
-- another subject, another language, boilerplate -- get the highest.

The model's input is the length-normalized TF-IDF row, exactly as in training. The index keeps
only L2-normalized rows, but those differ from the raw rows by one positive factor per row, and
:func:`semhash.codes.length_normalize` rescales each row to sum to ``input_length`` whatever its
scale, so normalizing the stored rows gives the training input (up to float rounding). Documents
added after training are scored the same way.

The reconstruction is computed with NumPy: the encoder's code logits (``encoder.npz``), what the
code layer hands the decoder at inference (``sigmoid`` of them; the variational model's means
as they are), and the decoder's layers (``decoder.npz``, :class:`semhash.codes.DecoderWeights`),
the same model ``model.keras`` holds. Indexes written before ``decoder.npz`` existed are scored
by loading ``model.keras`` with TensorFlow (:func:`keras_cross_entropies`, slow to start).
"""

from __future__ import annotations

import zipfile
from dataclasses import asdict, dataclass

import numpy as np

from .codes import DecoderWeights, decode_logits, encode_logits, gather_rows, length_normalize
from .errors import IndexFormatError, SemhashError
from .index import DECODER_FILE, KERAS_FILE
from .train.arrays import row_distributions


@dataclass(frozen=True)
class Outlier:
    """One unusual document: its rank (1 = worst reconstructed) and reconstruction error."""

    rank: int
    row: int
    id: str
    path: str
    title: str
    error: float  # KL(p || q) in nats
    cross_entropy: float  # H(p, q) = error + H(p)
    snippet: str

    def to_dict(self) -> dict:
        return asdict(self)


def keras_model(index):
    """The index's trained autoencoder: in memory after :meth:`SemanticIndex.build`, else
    ``model.keras`` from the index folder (checked against the manifest's checksum)."""
    from .train.autoencoder import load_keras_model  # TensorFlow: only an index without decoder.npz needs it

    training = getattr(index, "training_", None)
    if training is not None:
        return training.keras_model
    if index.folder is None or KERAS_FILE not in index.manifest.get("files", {}):
        raise SemhashError("this index has no trained model (model.keras); rebuild it with `semhash index`")
    path = index.checked_path(KERAS_FILE)  # a regular file (no symlink) that matches its checksum
    try:
        return load_keras_model(path)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors ... for bad files
        raise IndexFormatError(f"cannot read {path} ({exc}); rebuild the index with `semhash index`") from exc


def model_inputs(index, rows: np.ndarray):
    """The autoencoder's input for ``rows``: their TF-IDF rows rescaled to ``input_length``."""
    return length_normalize(gather_rows(index.tfidf, rows).tocsr(), index.encoder.input_length)


def entropies(X) -> np.ndarray:
    """Entropy (nats) of each row's word distribution (rows of nonnegative weights)."""
    P = row_distributions(X)
    return -(P * np.log(np.where(P > 0, P, 1.0))).sum(axis=1)


def numpy_decoder(index) -> DecoderWeights | None:
    """The index's decoder as NumPy arrays: in memory after :meth:`SemanticIndex.build`, else
    ``decoder.npz`` (checked against the manifest's checksum); ``None`` when the index has none
    (built before semhash saved it)."""
    training = getattr(index, "training_", None)
    if training is not None and getattr(training, "decoder", None) is not None:
        return training.decoder
    meta = (index.manifest.get("files") or {}).get(DECODER_FILE) if index.folder is not None else None
    if meta is None:  # only a file the manifest lists is trusted
        return None
    path = index.checked_path(DECODER_FILE)  # a regular file (no symlink) that matches its checksum
    try:
        decoder = DecoderWeights.load(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise IndexFormatError(f"cannot read {path} ({exc}); rebuild the index with `semhash index`") from exc
    if decoder.n_bits != index.n_bits or decoder.n_outputs != len(index.vectorizer.vocabulary_):
        raise IndexFormatError(f"{path} does not fit the code length or the vocabulary; rebuild the index")
    return decoder


def numpy_cross_entropies(index, decoder: DecoderWeights, rows: np.ndarray,
                          batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(cross_entropy, entropy)`` of ``rows`` with the NumPy encoder and ``decoder``."""
    ce = np.empty(len(rows), np.float64)
    h = np.empty(len(rows), np.float64)
    for start in range(0, len(rows), batch_size):
        X = gather_rows(index.tfidf, rows[start : start + batch_size])
        logits = decode_logits(decoder, encode_logits(index.encoder, X)).astype(np.float64)
        top = logits.max(axis=1)
        log_z = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        sums = X.row_sums()
        sums[sums == 0] = 1.0
        lengths = np.diff(X.indptr)
        p = np.asarray(X.data, np.float64) / np.repeat(sums, lengths)
        which = np.repeat(np.arange(X.shape[0]), lengths)
        ce[start : start + len(sums)] = log_z - np.bincount(which, p * logits[which, X.indices], len(sums))
        h[start : start + len(sums)] = -np.bincount(which, p * np.log(np.where(p > 0, p, 1.0)), len(sums))
    return ce, h


def keras_cross_entropies(index, rows: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(cross_entropy, entropy)`` of ``rows`` with the Keras model (TensorFlow)."""
    from .train.autoencoder import reconstruction_errors as errors_of  # TensorFlow: the Keras model's errors

    X = model_inputs(index, rows)
    return errors_of(keras_model(index), X, batch_size=batch_size), entropies(X)


def cross_entropies(index, batch_size: int = 256, decoder: DecoderWeights | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cross_entropy, entropy)`` of every indexed document, rows in increasing order.

    NumPy with ``decoder`` (default: :func:`numpy_decoder`); TensorFlow and ``model.keras`` for
    an index without one.
    """
    rows = np.sort(np.asarray(index.table.ids_, dtype=np.int64))
    if rows.size == 0:
        return rows, np.zeros(0, np.float32), np.zeros(0, np.float32)
    decoder = decoder if decoder is not None else numpy_decoder(index)
    if decoder is None:
        return rows, *keras_cross_entropies(index, rows, batch_size)
    return rows, *numpy_cross_entropies(index, decoder, rows, batch_size)


def reconstruction_errors(index, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, errors)``: every indexed document's row and its reconstruction error.

    Rows are in increasing order; the error is ``KL(p || q)`` in nats, ``p`` the document's
    word distribution and ``q`` its reconstruction (cross-entropy minus ``H(p)``).
    """
    rows, ce, h = cross_entropies(index, batch_size)
    return rows, np.maximum(ce - h, 0.0).astype(np.float32)


def find_outliers(index, n: int = 20, decoder: DecoderWeights | None = None) -> list[Outlier]:
    """The ``n`` documents with the highest reconstruction error, worst first (``decoder``:
    as :func:`cross_entropies`)."""
    if n < 1:
        raise SemhashError(f"n must be at least 1, got {n}")
    rows, ce, h = cross_entropies(index, decoder=decoder)
    errors = np.maximum(ce - h, 0.0)
    order = np.argsort(-errors, kind="stable")[:n]
    docs = index.documents(rows[order])
    out = []
    for rank, i in enumerate(order, start=1):
        d = docs.get(int(rows[i]))
        out.append(Outlier(rank, int(rows[i]), d.id if d else "", d.path if d else "", d.title if d else "",
                           round(float(errors[i]), 6), round(float(ce[i]), 6), d.snippet if d else ""))
    return out
