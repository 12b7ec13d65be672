"""The vocabulary in one streaming pass: every word of every text counted once, the words kept
chosen afterwards, exactly as scikit-learn's ``CountVectorizer`` chooses them.

:class:`WordCounts` reads texts a chunk at a time (a corpus never has to be in memory at once):
each text's words are tokenized as scikit-learn's default analyzer does (lower-case, words of two
or more characters, English stop words dropped), counted, and kept as one sparse row over
provisional word ids. :meth:`WordCounts.select` then applies ``min_df``, ``max_df`` and
``max_features`` with scikit-learn's rules (terms sorted alphabetically; among the terms inside
the document-frequency bounds, the ``max_features`` most frequent by total count, ties broken as
scikit-learn's ``argsort`` breaks them) and returns the kept terms, their document frequencies and
every text's counts over them, so the texts are never tokenized twice.
``tests/test_vocabulary.py`` checks the result equals ``CountVectorizer``'s on real corpora.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from .errors import ConfigError

if TYPE_CHECKING:  # SciPy is imported inside the function that builds the matrix
    import scipy.sparse as sp


TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")


def tokenize(text: str) -> list[str]:
    """scikit-learn's default analyzer: lower-case, then words of two or more characters."""
    return TOKEN_RE.findall(text.lower())


class VocabularyLimits(Protocol):
    """Which words :meth:`WordCounts.select` keeps (``semhash.vectorize.VectorizerConfig`` is one)."""

    @property
    def min_df(self) -> int | float: ...

    @property
    def max_df(self) -> float: ...

    @property
    def max_features(self) -> int: ...


class Selected(NamedTuple):
    """What :meth:`WordCounts.select` keeps: the terms in column order, the number of texts
    holding each, and each text's counts over them (CSR, float32, sorted column indices)."""

    terms: list[str]
    df: np.ndarray
    counts: sp.csr_matrix


def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words (the list ``stop_words='english'`` uses)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # building only, never a query

    return frozenset(ENGLISH_STOP_WORDS)


class WordCounts:
    """Word counts of a stream of texts, fed a chunk at a time with :meth:`feed`."""

    def __init__(self, stop_words: frozenset[str] = frozenset()) -> None:
        self._stop = stop_words
        self._ids: dict[str, int] = {}  # word -> provisional id, in order of first appearance
        self._indices: list[np.ndarray] = []  # per chunk: the provisional ids of each text's words
        self._counts: list[np.ndarray] = []  # ... and how often each occurs in the text
        self._lengths: list[np.ndarray] = []  # ... and how many distinct words each text has
        self.n_texts = 0

    def feed(self, texts: Iterable[str]) -> None:
        """Count the words of ``texts`` (one row each, in order)."""
        ids, stop, findall = self._ids, self._stop, TOKEN_RE.findall
        indices, counts, lengths = array("i"), array("i"), array("i")
        for text in texts:
            before = len(indices)
            for word, n in Counter(findall(text.lower())).items():
                if word in stop:
                    continue
                j = ids.get(word)
                if j is None:
                    j = ids[word] = len(ids)
                indices.append(j)
                counts.append(n)
            lengths.append(len(indices) - before)
        self._indices.append(np.frombuffer(indices, dtype=np.int32))
        self._counts.append(np.frombuffer(counts, dtype=np.int32))
        self._lengths.append(np.frombuffer(lengths, dtype=np.int32))
        self.n_texts += len(lengths)

    def select(self, config: VocabularyLimits) -> Selected:
        """The terms ``config`` keeps (:class:`ConfigError` when none), as ``CountVectorizer`` would
        keep them from the same texts, and every text's counts over them (built a chunk at a
        time: the provisional counts and the result are never copied whole)."""
        if not self._ids:
            raise ConfigError(self._no_vocabulary("empty vocabulary; perhaps the documents only contain stop words"))
        n_words = len(self._ids)
        df = np.zeros(n_words, dtype=np.int64)
        totals = np.zeros(n_words, dtype=np.float64)
        for indices, counts in zip(self._indices, self._counts):
            df += np.bincount(indices, minlength=n_words)
            totals += np.bincount(indices, weights=counts, minlength=n_words)
        words = list(self._ids)
        alphabetical = np.asarray(sorted(range(n_words), key=words.__getitem__), dtype=np.int64)
        # CountVectorizer sums float32 counts: the same float32 totals give argsort the same ties
        keep = self._kept(config, df[alphabetical], totals.astype(np.float32)[alphabetical])
        column = np.full(n_words, -1, dtype=np.int32)
        column[alphabetical[keep]] = np.arange(len(keep), dtype=np.int32)
        terms = [words[k] for k in alphabetical[keep].tolist()]
        return Selected(terms, df[alphabetical[keep]], self._matrix(column, len(terms)))

    def _kept(self, config: VocabularyLimits, df: np.ndarray, totals: np.ndarray) -> np.ndarray:
        """Alphabetical positions of the kept terms: ``CountVectorizer._limit_features``'s rules,
        with ``Vectorizer.fit``'s allowance for a tiny corpus (``min_df`` above the number of
        texts keeps every word; a ``max_df`` below one text keeps every word)."""
        n = self.n_texts
        min_df: int | float = 1 if isinstance(config.min_df, int) and config.min_df > n else config.min_df
        max_df = config.max_df if n * config.max_df >= 1 else 1.0
        high = max_df * n  # max_df is a share of the texts
        low = min_df if isinstance(min_df, int) else min_df * n
        if high < low:
            raise ConfigError(self._no_vocabulary("max_df corresponds to < documents than min_df"))
        mask = (df <= high) & (df >= low)
        if config.max_features is not None and mask.sum() > config.max_features:
            best = (-totals[mask]).argsort()[: config.max_features]
            limited = np.zeros(len(df), dtype=bool)
            limited[np.where(mask)[0][best]] = True
            mask = limited
        if not mask.any():
            raise ConfigError(self._no_vocabulary(
                "After pruning, no terms remain. Try a lower min_df or a higher max_df."))
        return np.flatnonzero(mask)

    def _no_vocabulary(self, why: str) -> str:
        return (f"no vocabulary could be built from {self.n_texts} documents ({why}); "
                "use more (and more varied) documents, lower --min-df, or raise --max-df "
                "(words in more than that share of the documents are dropped)")

    def _matrix(self, column: np.ndarray, n_terms: int) -> sp.csr_matrix:
        """Each text's counts over the kept terms: provisional ids mapped to columns, the others
        dropped; the provisional counts are released chunk by chunk as they are mapped."""
        import scipy.sparse as sp  # matrices are for building: the query path never loads SciPy

        n_texts = sum(len(lengths) for lengths in self._lengths)
        nnz = sum(int(np.count_nonzero(column[indices] >= 0)) for indices in self._indices)
        data, cols_out = np.empty(nnz, dtype=np.float32), np.empty(nnz, dtype=np.int32)
        indptr = np.zeros(n_texts + 1, dtype=np.int64)
        row = at = 0
        while self._indices:  # one chunk at a time, written into the arrays of the whole matrix
            indices, counts, lengths = self._indices.pop(0), self._counts.pop(0), self._lengths.pop(0)
            part = self._chunk_matrix(column[indices], counts, lengths, n_terms)
            data[at : at + part.nnz], cols_out[at : at + part.nnz] = part.data, part.indices
            indptr[row + 1 : row + 1 + len(lengths)] = part.indptr[1:] + at
            row, at = row + len(lengths), at + part.nnz
        return sp.csr_matrix((data, cols_out, indptr), shape=(n_texts, n_terms))

    @staticmethod
    def _chunk_matrix(cols: np.ndarray, counts: np.ndarray, lengths: np.ndarray, n_terms: int) -> sp.csr_matrix:
        """One chunk's counts over the kept columns (``cols``: -1 for a dropped word), sorted."""
        import scipy.sparse as sp  # matrices are for building: the query path never loads SciPy

        kept = cols >= 0
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        if len(kept):
            ends = np.cumsum(kept, dtype=np.int64)[np.cumsum(lengths, dtype=np.int64) - 1]
            indptr[1:] = np.where(lengths > 0, ends, 0)
            np.maximum.accumulate(indptr, out=indptr)  # a text without words ends where the one before it did
        part = sp.csr_matrix((counts[kept].astype(np.float32), cols[kept], indptr), shape=(len(lengths), n_terms))
        part.sort_indices()
        return part


__all__ = ["TOKEN_RE", "Selected", "VocabularyLimits", "WordCounts", "english_stop_words", "tokenize"]
