"""Bag-of-words features: the vocabulary chosen in one pass over the texts, NumPy applies it.

Fitting counts every word once (:mod:`semhash.vocabulary`) and keeps the words scikit-learn's
``CountVectorizer`` would keep (stop words, ``min_df``, ``max_df``, ``max_features``), so a
corpus can be read a chunk at a time. Everything learned is kept as plain arrays -- the vocabulary as a JSON list
of terms in column order and the document frequencies as ``.npy`` -- and transforming text
needs only the standard library and NumPy/SciPy, so the query path never imports
scikit-learn. The tokenizer below reproduces scikit-learn's default exactly
(lower-casing, then ``(?u)\\b\\w\\w+\\b``); a test checks the two agree.

Weighting (``tfidf``, the default) is ``log(1 + tf) * log(1 + N / df)``, the weighting of the
semantic-hashing literature; ``counts`` keeps raw term counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .checks import check_fitted, check_list
from .errors import ConfigError
from .vocabulary import WordCounts, english_stop_words, tokenize

if TYPE_CHECKING:  # SciPy is imported inside the functions that build matrices
    import scipy.sparse as sp

WEIGHTINGS = ("tfidf", "counts")
VOCAB_FILE = "vocabulary.json"
DF_FILE = "document_frequency.npy"


@dataclass(frozen=True)
class VectorizerConfig:
    """Options of the vocabulary; the defaults follow the 20 Newsgroups hashing protocol."""

    weighting: str = "tfidf"
    max_features: int = 10000
    min_df: int | float = 2
    max_df: float = 0.8
    stop_words: bool = True

    def validate(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ConfigError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {self.weighting!r}")
        if self.max_features < 1:
            raise ConfigError(f"max_features must be at least 1, got {self.max_features}")
        if not 0.0 < self.max_df <= 1.0:
            raise ConfigError(f"max_df must be in (0, 1], got {self.max_df}")
        if isinstance(self.min_df, float) and not 0.0 <= self.min_df < 1.0:
            raise ConfigError(f"a fractional min_df must be in [0, 1), got {self.min_df}")
        if isinstance(self.min_df, int) and self.min_df < 1:
            raise ConfigError(f"min_df must be at least 1, got {self.min_df}")


def term_counts(text: str, vocabulary: dict[str, int]) -> dict[int, int]:
    """Column -> count of the vocabulary words in ``text`` (unknown words ignored)."""
    counts: dict[int, int] = {}
    for token in tokenize(text):
        j = vocabulary.get(token)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    return counts


def count_matrix(texts: list[str], vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Term counts ``(n_texts, len(vocabulary))`` for the known words of each text."""
    import scipy.sparse as sp  # matrices are for building and training: the query path never loads SciPy

    indptr = [0]
    indices: list[int] = []
    data: list[int] = []
    for text in texts:
        counts = term_counts(text, vocabulary)
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), len(vocabulary)),
    )
    matrix.sort_indices()
    return matrix


def idf_weights(df: np.ndarray, n_docs: int, dtype: type = np.float32) -> np.ndarray:
    """Inverse document frequency ``log(1 + N / df)`` (``dtype``: the evaluation protocol keeps float64)."""
    return np.log1p(n_docs / np.maximum(df, 1)).astype(dtype)


def log_tfidf(tf: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """The TF-IDF weight of each word, ``log(1 + tf) * idf``, from its count in the text and its
    :func:`idf_weights`: the one definition, used for the matrices of :meth:`Vectorizer.transform`
    (and the evaluation's) and for each query (:func:`query_terms`)."""
    return np.log1p(tf) * idf


def query_terms(vocabulary: dict, idf: np.ndarray | None, text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, weights)`` of one text, columns ascending: the saved vocabulary and idf
    applied directly (the weights of :meth:`Vectorizer.transform`, with NumPy only)."""
    counts = term_counts(text, vocabulary)
    cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    order = np.argsort(cols)
    cols, tf = cols[order], tf[order]
    if idf is None:
        return cols, tf
    return cols, log_tfidf(tf, idf[cols])


def reverse_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` (CSR, changed in place) with the stored entries of each row in reverse order."""
    lengths = np.diff(matrix.indptr)
    row = np.repeat(np.arange(len(lengths)), lengths)
    at = matrix.indptr[row] + matrix.indptr[row + 1] - 1 - np.arange(len(row))
    matrix.indices, matrix.data = matrix.indices[at], matrix.data[at]
    matrix.has_sorted_indices = False
    return matrix


def weight_counts(counts: sp.spmatrix, idf: np.ndarray | None, dtype: type = np.float32,
                  in_place: bool = False) -> sp.csr_matrix:
    """:func:`log_tfidf` of a count matrix (CSR, ``dtype``: the evaluation protocol keeps float64);
    the counts unchanged when ``idf`` is None. ``in_place``: a CSR ``counts`` of ``dtype`` is
    weighted in its own arrays (a build's counts, not needed after: no copy of them).

    Each row keeps its words in the reverse of the counts' order: the layout the product by
    ``diag(idf)`` that computed this before gave, which every index stores (sums over a row
    follow it, so the same corpus still gives the same floats).
    """
    if idf is None:
        return counts.astype(dtype, copy=not in_place)
    weighted = counts.tocsr().astype(dtype, copy=not in_place)
    weighted.data = log_tfidf(weighted.data, idf[weighted.indices]).astype(dtype, copy=False)
    weighted.eliminate_zeros()
    return reverse_rows(weighted)


def l2_normalize(matrix: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    import scipy.sparse as sp  # matrices are for building and training: the query path never loads SciPy

    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags(1.0 / norms) @ matrix).tocsr().astype(np.float32)


def l2_normalize_in_place(matrix: sp.csr_matrix, chunk: int = 50_000) -> sp.csr_matrix:
    """:func:`l2_normalize` of a float32 CSR matrix without a copy of it: the same floats (each
    row's norm computed as :func:`l2_normalize` computes it, ``chunk`` rows at a time), written
    over ``matrix``'s own values, each row's columns then sorted in place as :func:`l2_normalize`
    returns them; returns ``matrix``."""
    if matrix.dtype != np.float32:
        raise TypeError(f"l2_normalize_in_place needs float32 rows, got {matrix.dtype}")
    lengths = np.diff(matrix.indptr)
    for start in range(0, matrix.shape[0], chunk):
        part = matrix[start : start + chunk]
        norms = np.sqrt(np.asarray(part.multiply(part).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        a, b = matrix.indptr[start], matrix.indptr[min(start + chunk, matrix.shape[0])]
        matrix.data[a:b] *= np.repeat(1.0 / norms, lengths[start : start + chunk])
    matrix.has_sorted_indices = False
    matrix.sort_indices()
    return matrix


class Vectorizer:
    """Text to weighted bag-of-words rows, with a vocabulary chosen as scikit-learn's ``CountVectorizer`` chooses it."""

    def __init__(self, config: VectorizerConfig | None = None) -> None:
        self.config = config or VectorizerConfig()

    def fit(self, texts: list[str]) -> Vectorizer:
        """Learn the vocabulary and document frequencies from ``texts``."""
        texts = check_list(texts, "documents", "fit")
        self.fit_counts(self.word_counts([texts]))
        return self

    def word_counts(self, chunks: Iterable[list[str]] = ()) -> WordCounts:
        """A :class:`semhash.vocabulary.WordCounts` with this vectorizer's tokenizer, fed ``chunks``
        (more can be fed before :meth:`fit_counts`)."""
        self.config.validate()
        counts = WordCounts(english_stop_words() if self.config.stop_words else frozenset())
        for chunk in chunks:
            counts.feed(chunk)
        return counts

    def fit_counts(self, counts: WordCounts) -> sp.csr_matrix:
        """Learn the vocabulary from texts counted in one pass (:meth:`word_counts`), as
        scikit-learn's ``CountVectorizer`` would from the same texts; returns their counts over it
        (what :meth:`counts` gives for them, without reading them again)."""
        if not counts.n_texts:
            raise ConfigError("cannot fit a vocabulary on zero documents")
        selected = counts.select(self.config)
        self.vocabulary_ = {term: j for j, term in enumerate(selected.terms)}
        self.df_ = selected.df
        self.n_docs_ = counts.n_texts
        return selected.counts

    def _check_fitted(self) -> None:
        check_fitted(self, "vocabulary_", "call fit(texts) or load() first")

    @property
    def idf_(self) -> np.ndarray | None:
        """:func:`idf_weights` of the fitted document frequencies (``None`` for counts); computed
        once per fitted state (every query reads it)."""
        self._check_fitted()
        if self.config.weighting == "counts":
            return None
        cached = self.__dict__.get("_idf")  # (df_, n_docs_, idf): holding df_ keeps its identity unique
        if cached is None or cached[0] is not self.df_ or cached[1] != self.n_docs_:
            cached = (self.df_, self.n_docs_, idf_weights(self.df_, self.n_docs_))
            self.__dict__["_idf"] = cached
        return cached[2]

    @property
    def terms_(self) -> list[str]:
        self._check_fitted()
        return sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """Raw term counts over the fitted vocabulary."""
        self._check_fitted()
        return count_matrix(check_list(texts, "texts"), self.vocabulary_)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """Weighted rows (TF-IDF or counts), not normalized: the model's input."""
        return weight_counts(self.counts(texts), self.idf_)

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        return self.fit(texts).transform(texts)

    def save(self, folder: str | Path) -> list[str]:
        """Write the vocabulary (JSON) and document frequencies (.npy); return the file names."""
        self._check_fitted()
        folder = Path(folder)
        payload = {"config": asdict(self.config), "n_docs": self.n_docs_, "terms": self.terms_}
        (folder / VOCAB_FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        np.save(folder / DF_FILE, self.df_)
        return [VOCAB_FILE, DF_FILE]

    @classmethod
    def load(cls, folder: str | Path) -> Vectorizer:
        folder = Path(folder)
        return cls.from_saved((folder / VOCAB_FILE).read_bytes(), np.load(folder / DF_FILE, allow_pickle=False))

    @classmethod
    def from_saved(cls, vocabulary: bytes, df: np.ndarray) -> Vectorizer:
        """A fitted vectorizer from the bytes of ``vocabulary.json`` and the document frequencies
        (``ValueError``, ``KeyError`` or ``TypeError`` when they do not fit together)."""
        payload = json.loads(bytes(vocabulary).decode("utf-8"))
        terms = payload["terms"]
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise ValueError(f"{VOCAB_FILE}: terms must be a list of words")
        vec = cls(VectorizerConfig(**payload["config"]))
        vec.vocabulary_ = {term: j for j, term in enumerate(terms)}
        vec.n_docs_ = int(payload["n_docs"])
        vec.df_ = df
        if len(vec.vocabulary_) != len(terms):
            raise ValueError(f"{VOCAB_FILE}: a word is listed twice")
        if df.shape != (len(terms),) or df.dtype.kind not in "iu":
            raise ValueError(f"{DF_FILE} has {df.shape} {df.dtype} entries for {len(terms)} terms")
        return vec
