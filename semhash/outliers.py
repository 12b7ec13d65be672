"""Unusual documents: those the autoencoder reconstructs worst.

A document's reconstruction error is the KL divergence from its word distribution ``p`` to the
autoencoder's reconstruction ``q`` (the saved ``model.keras``, run deterministically): the
cross-entropy ``H(p, q)`` minus the document's own entropy ``H(p)``. The cross-entropy alone
mostly measures ``H(p)`` -- long documents with many distinct words score high whatever the
model does -- so it is reported but not ranked by; on 150 hockey posts mixed with 5 medical ones
(a tiny model) the KL ranked 4 of the 5 in the top 15, the cross-entropy 2. Documents unlike the
rest of the corpus -- another subject, another language, boilerplate -- get the highest.

The model's input is the length-normalized TF-IDF row, exactly as in training. The index keeps
only L2-normalized rows, but those differ from the raw rows by one positive factor per row, and
:func:`semhash.codes.length_normalize` rescales each row to sum to ``input_length`` whatever its
scale, so normalizing the stored rows gives the training input (up to float rounding). Documents
added after training are scored the same way. This module imports TensorFlow: never on the
query path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import IndexFormatError, SemhashError


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
    from .index import KERAS_FILE
    from .model import load_keras_model

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
    from .codes import CsrArrays, length_normalize

    tfidf = index.tfidf.tocsr() if isinstance(index.tfidf, CsrArrays) else index.tfidf
    return length_normalize(tfidf[rows], index.encoder.input_length)


def entropies(X) -> np.ndarray:
    """Entropy (nats) of each row's word distribution (rows of nonnegative weights)."""
    from .model import row_distributions

    P = row_distributions(X)
    return -(P * np.log(np.where(P > 0, P, 1.0))).sum(axis=1)


def cross_entropies(index, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cross_entropy, entropy)`` of every indexed document, rows in increasing order."""
    from .model import reconstruction_errors as errors_of

    rows = np.sort(np.asarray(index.table.ids_, dtype=np.int64))
    if rows.size == 0:
        return rows, np.zeros(0, np.float32), np.zeros(0, np.float32)
    X = model_inputs(index, rows)
    return rows, errors_of(keras_model(index), X, batch_size=batch_size), entropies(X)


def reconstruction_errors(index, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, errors)``: every indexed document's row and its reconstruction error.

    Rows are in increasing order; the error is ``KL(p || q)`` in nats, ``p`` the document's
    word distribution and ``q`` its reconstruction (cross-entropy minus ``H(p)``).
    """
    rows, ce, h = cross_entropies(index, batch_size)
    return rows, np.maximum(ce - h, 0.0).astype(np.float32)


def find_outliers(index, n: int = 20) -> list[Outlier]:
    """The ``n`` documents with the highest reconstruction error, worst first."""
    if n < 1:
        raise SemhashError(f"n must be at least 1, got {n}")
    rows, ce, h = cross_entropies(index)
    errors = np.maximum(ce - h, 0.0)
    order = np.argsort(-errors, kind="stable")[:n]
    docs = index.documents(rows[order])
    out = []
    for rank, i in enumerate(order, start=1):
        d = docs.get(int(rows[i]))
        out.append(Outlier(rank, int(rows[i]), d.id if d else "", d.path if d else "", d.title if d else "",
                           round(float(errors[i]), 6), round(float(ce[i]), 6), d.snippet if d else ""))
    return out
