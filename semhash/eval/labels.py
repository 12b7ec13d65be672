"""Labels and relevance: a database document is relevant to a query when they share a label.

Two representations, one meaning:

- single-label corpora keep a 1-D integer array (``labels[i]`` is document i's label id), and
  relevance is the equality of two ids, as it always was;
- multi-label corpora keep an ``(n, W)`` ``uint64`` array of bitsets (bit ``j`` of row ``i`` is
  set when document i carries label j; ``W = ceil(n_labels / 64)``), made by
  :func:`label_bitsets`, and relevance is a non-empty intersection: ``any(a & b)``.

Every function here takes either, so the metrics never ask which kind they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

WORD_BITS = 64


def is_multi_label(labels: np.ndarray) -> bool:
    """True for an ``(n, W)`` bitset array, False for 1-D label ids."""
    return np.asarray(labels).ndim == 2


def label_bitsets(label_ids: Sequence[Iterable[int]], n_labels: int) -> np.ndarray:
    """``(n, ceil(n_labels / 64))`` uint64 bitsets of the label ids of each document."""
    n_words = max(1, -(-n_labels // WORD_BITS))
    out = np.zeros((len(label_ids), n_words), dtype=np.uint64)
    for row, ids in enumerate(label_ids):
        for label in ids:
            if not 0 <= label < n_labels:
                raise ValueError(f"label id {label} is outside 0..{n_labels - 1}")
            out[row, label // WORD_BITS] |= np.uint64(1) << np.uint64(label % WORD_BITS)
    return out


def labels_from_names(label_lists: Sequence[Iterable[str]], names: Sequence[str] | None = None
                      ) -> tuple[np.ndarray, list[str]]:
    """The label array of documents given by label names, and the names in id order.

    ``names`` fixes the numbering (default: the sorted names that occur). When every document
    carries exactly one label the result is the 1-D id array of a single-label corpus, so such a
    corpus is measured exactly as one read from label folders; otherwise it is bitsets.
    """
    sets = [sorted(set(labels)) for labels in label_lists]
    names = list(names) if names is not None else sorted({name for labels in sets for name in labels})
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({name for labels in sets for name in labels} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the known labels")
    ids = [[index[name] for name in labels] for labels in sets]
    if all(len(row) == 1 for row in ids):
        return np.array([row[0] for row in ids], dtype=np.int64), names
    return label_bitsets(ids, len(names)), names


def as_bitsets(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """``labels`` as bitsets: label ids become one-label bitsets, bitsets are returned as they are."""
    labels = np.asarray(labels)
    if is_multi_label(labels):
        return labels
    return label_bitsets([(int(x),) for x in labels], n_labels)


def label_sets(labels: np.ndarray) -> list[frozenset[int]]:
    """The label ids of each document as sets (either representation)."""
    labels = np.asarray(labels)
    if not is_multi_label(labels):
        return [frozenset((int(x),)) for x in labels]
    out = []
    for row in labels:
        out.append(frozenset(w * WORD_BITS + b for w, word in enumerate(row.tolist()) for b in range(WORD_BITS)
                             if (word >> b) & 1))
    return out


def shares_label(gathered: np.ndarray, query_labels: np.ndarray) -> np.ndarray:
    """``(m, k)`` relevance of database labels gathered per query row (``gathered[i, j]`` is the
    label of the j-th document ranked for query i) against the ``m`` queries' labels."""
    if not is_multi_label(query_labels):
        return gathered == query_labels[:, None]
    return _any_word(gathered, query_labels[:, None, :])


def relevance_matrix(query_labels: np.ndarray, db_labels: np.ndarray) -> np.ndarray:
    """``(m, n_db)`` bool: does query i share a label with database document j?"""
    if not is_multi_label(db_labels):
        return db_labels[None, :] == query_labels[:, None]
    return _any_word(db_labels[None, :, :], query_labels[:, None, :])


def _any_word(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Broadcast ``a & b`` over the last (word) axis and say where any word is non-zero; one word
    at a time, so the intermediate is never W times the size of the answer."""
    out = (a[..., 0] & b[..., 0]) != 0
    for w in range(1, a.shape[-1]):
        out |= (a[..., w] & b[..., w]) != 0
    return out


def relevant_counts(db_labels: np.ndarray, query_labels: np.ndarray, chunk_size: int = 500) -> np.ndarray:
    """How many database documents share a label with each query."""
    if not is_multi_label(db_labels):
        values, counts = np.unique(db_labels, return_counts=True)
        lookup = dict(zip(values.tolist(), counts.tolist()))
        return np.array([lookup.get(label, 0) for label in query_labels.tolist()], dtype=np.int64)
    out = np.empty(query_labels.shape[0], dtype=np.int64)
    for start in range(0, query_labels.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        out[rows] = relevance_matrix(query_labels[rows], db_labels).sum(axis=1)
    return out


def chance_precision(db_labels: np.ndarray, query_labels: np.ndarray) -> float:
    """The precision of a random ranking: the mean share of relevant database documents."""
    n_db = db_labels.shape[0]
    if n_db == 0 or query_labels.shape[0] == 0:
        return float("nan")
    return float(np.mean(relevant_counts(db_labels, query_labels) / n_db))


def documents_per_label(labels: np.ndarray, n_labels: int) -> list[int]:
    """How many documents carry each label id ``0..n_labels-1``."""
    labels = np.asarray(labels)
    if not is_multi_label(labels):
        return np.bincount(labels, minlength=n_labels)[:n_labels].tolist()
    counts = np.zeros(n_labels, dtype=np.int64)
    for label in range(n_labels):
        word, bit = divmod(label, WORD_BITS)
        counts[label] = int(((labels[:, word] >> np.uint64(bit)) & np.uint64(1)).sum())
    return counts.tolist()


def labels_per_document(labels: np.ndarray) -> np.ndarray:
    """How many labels each document carries."""
    labels = np.asarray(labels)
    if not is_multi_label(labels):
        return np.ones(labels.shape[0], dtype=np.int64)
    return np.bitwise_count(labels).sum(axis=1).astype(np.int64)


def check_labels(db_labels: np.ndarray, query_labels: np.ndarray, n_db: int, n_q: int) -> None:
    """``ValueError`` unless both sides are label ids ``(n,)`` or bitsets ``(n, W)`` of the same W
    with one row per database document and per query."""
    multi = is_multi_label(db_labels)
    width = db_labels.shape[1:] if multi else ()
    if db_labels.shape != (n_db, *width) or query_labels.shape != (n_q, *width):
        raise ValueError(
            f"labels do not match the codes: {db_labels.shape} for {n_db} database rows, "
            f"{query_labels.shape} for {n_q} queries"
        )
    if multi and (db_labels.dtype != np.uint64 or query_labels.dtype != np.uint64):
        raise ValueError(f"multi-label bitsets must be uint64, got {db_labels.dtype} and {query_labels.dtype}")
