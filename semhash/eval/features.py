"""The protocol's features: a vocabulary fitted by scikit-learn, the product's TF-IDF weighting.

The vocabulary is the literature's ``CountVectorizer(stop_words="english", max_features=10000,
max_df=0.8, min_df=3)`` fitted on the database documents (``semhash.vectorize.Vectorizer``
adapts ``min_df``/``max_df`` to tiny corpora and counts in float32, so the protocol keeps its own
vectorizer). The weighting ``log(1 + tf) * log(1 + N / df)`` is the product's own
(:func:`semhash.vectorize.idf_weights`, :func:`semhash.vectorize.weight_counts`), computed in
float64 as the protocol always was, then stored as float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..checks import check_list
from ..errors import CorpusError
from ..vectorize import idf_weights, weight_counts


@dataclass(frozen=True)
class FeatureConfig:
    """Vocabulary of the protocol: scikit-learn ``CountVectorizer`` options."""

    max_features: int = 10000
    min_df: int | float = 3
    max_df: int | float = 0.8
    stop_words: str | None = "english"


class ProtocolFeatures(NamedTuple):
    """TF-IDF of the kept documents; masks say which input documents were kept (non-empty)."""

    X_train: sp.csr_matrix
    X_query: sp.csr_matrix
    vocabulary: list[str]
    train_kept: np.ndarray
    query_kept: np.ndarray


def tfidf_weights(counts: sp.spmatrix, df: np.ndarray, n_docs: int) -> sp.csr_matrix:
    """``log(1 + tf) * log(1 + N / df)`` as float32 CSR; ``df`` and ``N`` come from training."""
    idf = idf_weights(np.asarray(df), n_docs, dtype=np.float64)
    out = weight_counts(sp.csr_matrix(counts, dtype=np.float64), idf, dtype=np.float64)
    out.eliminate_zeros()
    out.sort_indices()
    return out.astype(np.float32)


def protocol_features(
    train_texts: Sequence[str],
    query_texts: Sequence[str],
    config: FeatureConfig = FeatureConfig(),
) -> ProtocolFeatures:
    """Fit the vocabulary on ``train_texts``, drop empty documents, weight both sides by TF-IDF.

    Returns ``(X_train, X_query, vocabulary, train_kept, query_kept)``: the matrices hold only the
    kept rows, and the boolean masks map them back to the inputs.
    """
    from sklearn.feature_extraction.text import CountVectorizer  # scikit-learn only when features are built

    train_texts = check_list(train_texts, "documents", "protocol_features")
    query_texts = check_list(query_texts, "documents", "protocol_features")
    vectorizer = CountVectorizer(
        stop_words=config.stop_words,
        max_features=config.max_features,
        max_df=config.max_df,
        min_df=config.min_df,
        dtype=np.float64,
    )
    try:
        counts_train = vectorizer.fit_transform(train_texts).tocsr()
    except ValueError as e:  # empty vocabulary, or min_df/max_df that leave nothing
        raise CorpusError(f"cannot build a vocabulary from the database documents: {e}") from e
    counts_query = vectorizer.transform(query_texts).tocsr()
    train_kept = np.diff(counts_train.indptr) > 0
    query_kept = np.diff(counts_query.indptr) > 0
    counts_train = counts_train[train_kept]
    counts_query = counts_query[query_kept]
    if counts_train.shape[0] == 0:
        raise CorpusError("every database document is empty after preprocessing")
    df = np.bincount(counts_train.indices, minlength=counts_train.shape[1])
    n = counts_train.shape[0]
    vocabulary = list(vectorizer.get_feature_names_out())
    return ProtocolFeatures(
        tfidf_weights(counts_train, df, n),
        tfidf_weights(counts_query, df, n),
        vocabulary,
        train_kept,
        query_kept,
    )
