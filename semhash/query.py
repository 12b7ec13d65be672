"""What a query is before it meets the documents: its options, its words, its code and bit weights.

A text becomes ``(columns, weights)`` with the saved vocabulary and idf
(:func:`semhash.vectorize.query_terms`; :func:`terms_of` adds the checks every text gets), then
a :class:`Query`: its packed code and bit weights from the NumPy forward pass
(:func:`encode_rows`) and its L2-normalized terms for the re-ranking. :class:`QueryOptions`
holds what every query of one call asks (``k``, radius, re-ranking, lookup method), checked once.

NumPy only: nothing here imports TensorFlow, scikit-learn or SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .checks import check_k, check_radius, check_text
from .choices import DEFAULT_MODE, QUERY_MODES
from .codes import CsrArrays, EncoderWeights, binarize, encode_logits, pack_bits
from .errors import QueryError
from .hashtable import LOOKUPS
from .ranking import query_bit_weights
from .vectorize import Vectorizer, query_terms

Terms = tuple[np.ndarray, np.ndarray]  # (columns ascending, weights) of one sparse row


def default_radius(n_bits: int) -> int:
    """A radius whose ball is cheap to enumerate and usually non-empty."""
    return 1 if n_bits <= 16 else 2 if n_bits <= 64 else 3


def check_mode(mode: Any, rerank: bool = True) -> str:
    """A query mode of :data:`semhash.choices.QUERY_MODES` (``None``: :data:`DEFAULT_MODE`, or
    ``semantic`` when ``rerank`` is false); ``rerank=False`` needs the semantic mode."""
    if mode is None:
        return DEFAULT_MODE if rerank else "semantic"
    if mode not in QUERY_MODES:
        raise QueryError(f"mode must be one of {', '.join(QUERY_MODES)}, got {mode!r}")
    if not rerank and mode != "semantic":
        raise QueryError(f"rerank=False (--no-rerank) ranks by the code alone, which only mode 'semantic' does; "
                         f"mode {mode!r} ranks by the query's words")
    return mode


def check_lookup(lookup: Any) -> str:
    """A Hamming-ball method of :data:`semhash.hashtable.LOOKUPS`."""
    if lookup not in LOOKUPS:
        raise QueryError(f"lookup must be one of {', '.join(LOOKUPS)}, got {lookup!r}")
    return lookup


@dataclass(frozen=True)
class QueryOptions:
    """What every query of one call asks, checked on construction (in this order): ``k`` hits
    (:func:`semhash.checks.check_k`), the Hamming ``radius`` (0 to ``n_bits``), TF-IDF re-ranking,
    the ``lookup`` method of the local hash table, and the query ``mode``
    (:func:`check_mode`; ``lexical`` uses neither the radius nor the lookup). :meth:`make` gives
    the default radius and mode."""

    n_bits: int
    k: int
    radius: int
    rerank: bool = True
    lookup: str = "auto"
    mode: str | None = None  # stored checked: None becomes the default mode

    def __post_init__(self) -> None:  # stores the checked values (Python ints)
        object.__setattr__(self, "k", check_k(self.k))
        object.__setattr__(self, "radius", check_radius(self.radius, self.n_bits))
        object.__setattr__(self, "rerank", bool(self.rerank))
        object.__setattr__(self, "lookup", check_lookup(self.lookup))
        object.__setattr__(self, "mode", check_mode(self.mode, self.rerank))

    @classmethod
    def make(cls, n_bits: int, k: int = 10, radius: int | None = None, rerank: bool = True,
             lookup: str = "auto", mode: str | None = None) -> QueryOptions:
        """The options of a search: ``radius=None`` is :func:`default_radius` of ``n_bits``,
        ``mode=None`` the default mode (:func:`check_mode`)."""
        return cls(n_bits, k, default_radius(n_bits) if radius is None else radius, rerank, lookup, mode)


class Query(NamedTuple):
    """One query as the pipeline uses it: the packed ``code`` for the Hamming ball, the bit
    weights for the query-weighted order (``None``: plain Hamming order), the L2-normalized
    ``terms`` for the cosine re-ranking, and a row left out of the hits (``similar``: the
    document itself)."""

    code: np.ndarray
    terms: Terms
    bit_weights: np.ndarray | None = None
    exclude: int | None = None


def no_words_error(text: str) -> QueryError:
    """The error for a text with no word of the index vocabulary."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    return QueryError(
        f"no word of the query {shown!r} is in the index vocabulary; try other words "
        "(stop words and words seen in fewer than min_df documents are not indexed)"
    )


def terms_of(vectorizer: Vectorizer, text: Any) -> Terms:
    """``(columns, weights)`` of one query text, after the checks every text gets
    (:func:`semhash.checks.check_text`, at least one word of the vocabulary); :class:`QueryError`
    otherwise."""
    check_text(text)
    idf = vectorizer.idf_  # first: it raises NotFittedError for an unfitted vectorizer
    cols, weights = query_terms(vectorizer.vocabulary_, idf, text)
    if len(cols) == 0:
        raise no_words_error(text)
    return cols, weights


def terms_or_errors(vectorizer: Vectorizer, texts: list) -> list:
    """For each text, its :func:`terms_of` or the :class:`QueryError` saying why it cannot be
    searched, in input order."""
    out: list = []
    for text in texts:
        try:
            out.append(terms_of(vectorizer, text))
        except QueryError as exc:
            out.append(exc)
    return out


def codes_and_weights(encoder: EncoderWeights, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Packed codes ``(n, n_bytes)`` of the rows of ``X`` (the bits of
    :func:`semhash.codes.encode_packed`) and their bit weights (:func:`query_bit_weights`)."""
    logits = encode_logits(encoder, X)
    return pack_bits(binarize(logits, encoder.thresholds)), query_bit_weights(logits, encoder.thresholds)


def encode_rows(encoder: EncoderWeights, terms: list[Terms]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`codes_and_weights` of several ``(columns, weights)`` rows in one forward pass
    (the float64 pass of :mod:`semhash.codes` gives each row the bits it gets alone)."""
    return codes_and_weights(encoder, CsrArrays.from_rows(terms, encoder.n_inputs))


def encode_terms(encoder: EncoderWeights, cols: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed code ``(n_bytes,)`` and bit weights ``(n_bits,)`` of one sparse row (:func:`encode_rows`)."""
    codes, bit_weights = encode_rows(encoder, [(cols, weights)])
    return codes[0], bit_weights[0]


def encode_queries(encoder: EncoderWeights, terms: list[Terms]) -> list[Query]:
    """A :class:`Query` for each ``(columns, weights)`` of query words, encoded in one pass."""
    if not terms:
        return []
    codes, bit_weights = encode_rows(encoder, terms)
    return [Query(code, (cols, w / np.float32(np.sqrt(np.sum(w * w)))), bw)
            for (cols, w), code, bw in zip(terms, codes, bit_weights)]


__all__ = [
    "Query", "QueryOptions", "Terms", "check_lookup", "check_mode", "codes_and_weights", "default_radius",
    "encode_queries", "encode_rows", "encode_terms", "no_words_error", "terms_of", "terms_or_errors",
]
