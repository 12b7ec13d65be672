"""Checks shared by the whole library: one rule each for code lengths, k, radii, texts and fitted
estimators, so every entry point (Python, CLI, HTTP, PostgreSQL) refuses the same input with the
same message.

Only NumPy and :mod:`semhash.errors` are imported: the query path uses these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ConfigError, NotFittedError, QueryError

MIN_BITS = 8
MAX_BITS = 128
MAX_K = 10_000
MAX_QUERY_CHARS = 1_000_000


def is_whole(value: Any) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_n_bits(n_bits: Any, error: type[Exception] = ConfigError) -> int:
    """A code length: a multiple of 8 from 8 to 128."""
    if not is_whole(n_bits) or n_bits % 8 or not MIN_BITS <= n_bits <= MAX_BITS:
        raise error(f"bits must be a multiple of 8 between {MIN_BITS} and {MAX_BITS}, got {n_bits!r}")
    return int(n_bits)


def check_k(k: Any) -> int:
    """A number of hits: 1 to :data:`MAX_K`."""
    if not is_whole(k) or k < 1:
        raise QueryError(f"k must be a positive whole number, got {k!r}")
    if k > MAX_K:
        raise QueryError(f"k must be at most {MAX_K}, got {k}")
    return int(k)


def check_radius(radius: Any, n_bits: int) -> int:
    """A Hamming radius: a whole number from 0 to ``n_bits``."""
    if not is_whole(radius) or not 0 <= radius <= n_bits:
        raise QueryError(f"radius must be a whole number from 0 to {n_bits} (the code length), got {radius!r}")
    return int(radius)


def check_text(text: Any) -> str:
    """A query: a non-blank string of at most :data:`MAX_QUERY_CHARS` characters."""
    if not isinstance(text, str):
        raise QueryError(f"a query must be a string, got {type(text).__name__}")
    if not text.strip():
        raise QueryError("the query is empty; give some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query has {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    return text


def check_list(values: Any, what: str, caller: str | None = None, error: type[Exception] = ConfigError) -> list:
    """``values`` as a list; a bare string (a common slip for a list of one) is refused."""
    if isinstance(values, str):
        who = f"{caller} expects" if caller else "expected"
        raise error(f"{who} a list of {what}, not a single string; wrap it in a list")
    return list(values)


def check_fitted(estimator: object, attribute: str, fix: str = "call fit(texts) first") -> None:
    """:class:`NotFittedError` unless ``estimator`` has the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"this {type(estimator).__name__} is not fitted yet: {fix}")


__all__ = [
    "MAX_BITS", "MAX_K", "MAX_QUERY_CHARS", "MIN_BITS", "check_fitted", "check_k", "check_list", "check_n_bits",
    "check_radius", "check_text", "is_whole",
]
