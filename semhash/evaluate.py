"""Retrieval quality the way the semantic-hashing literature measures it.

The protocol (Salakhutdinov & Hinton 2009 and the papers that followed), on 20 Newsgroups:

1. strip the mail header, signature footer and quoted lines of every message (the three
   functions of scikit-learn's 20-newsgroups loader, reimplemented below);
2. ``CountVectorizer(stop_words="english", max_features=10000, max_df=0.8, min_df=3)`` fitted on
   the training set; documents left with no word are dropped;
3. TF-IDF weights ``log(1 + tf) * log(1 + N / df)``, ``N`` and ``df`` from the training set;
4. the test set is shuffled with a fixed seed and cut in half: validation (tuning) and test
   (reported); the database is the whole training set;
5. every query ranks the database by Hamming distance (ties broken at random, fixed seed), and
   precision@100 counts the top 100 from the query's newsgroup.

Metrics and baselines are small pure functions over arrays; :func:`run_evaluation` orchestrates
them from an :class:`EvalConfig`, and :func:`write_report` writes ``results.json``, ``report.md``
and PNG plots.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .codes import hamming_matrix, pack_bits
from .errors import ConfigError, CorpusError
from .train.itq import itq_rotation

# --------------------------------------------------------------------------------------------
# constants

HASHING_METHODS = ("semhash", "lsh", "lsi", "itq", "sh")
REFERENCE_METHODS = ("tfidf", "bm25")
ALL_METHODS = HASHING_METHODS + REFERENCE_METHODS
METHOD_LABELS = {
    "semhash": "semhash (deep autoencoder)",
    "lsh": "LSH (random hyperplanes)",
    "lsi": "LSI + median",
    "itq": "LSI + ITQ",
    "sh": "Spectral hashing",
    "tfidf": "TF-IDF cosine (no hashing)",
    "bm25": "BM25 (no hashing)",
}
# modules beyond semhash's own dependencies (the `eval` extra) that a method, or the plots, import
METHOD_MODULES = {"bm25": ("bm25s",)}
PLOT_MODULES = ("matplotlib",)
EVAL_EXTRA = "pip install 'semhash[eval]'"
REMOVABLE_PARTS = ("headers", "footers", "quotes")
SPLITS = ("validation", "test")
PRESETS = ("20ng",)
BASELINE_INPUTS = ("l2", "tfidf")  # what LSH/LSI/ITQ/SH see: L2-normalised rows or the raw weights
DEFAULT_BITS = (16, 32, 64, 128)
DEFAULT_KS = (1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 600, 700, 800, 900, 1000)
ENV_20NG = "SEMHASH_20NG"

# Published 20 Newsgroups precision@100 (percent), quoted from the papers, never measured here.
QUOTED_20NG_P100 = {
    "AMMI": {16: 55.18, 32: 59.56, 64: 63.98, 128: 66.18},
    "SNUH": {16: 54.59, 32: 62.49, 64: 65.13, 128: 67.51},
}


def default_20ng_root() -> Path:
    """``$SEMHASH_20NG`` if set, else ``<repo>/../shared/datasets/20news-bydate``."""
    env = os.environ.get(ENV_20NG)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "datasets" / "20news-bydate"


# --------------------------------------------------------------------------------------------
# preprocessing: scikit-learn's three 20-newsgroups cleaners, reimplemented

_QUOTE_RE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")


def strip_newsgroup_header(text: str) -> str:
    """Drop the header: everything before the first blank line."""
    _before, _blankline, after = text.partition("\n\n")
    return after


def strip_newsgroup_quoting(text: str) -> str:
    """Drop quoted lines (``>``, ``|``) and the lines that introduce a quote (``... writes:``)."""
    good_lines = [line for line in text.split("\n") if not _QUOTE_RE.search(line)]
    return "\n".join(good_lines)


def strip_newsgroup_footer(text: str) -> str:
    """Drop the signature: from the last line that is blank or all ``-`` onward, if found."""
    lines = text.strip().split("\n")
    line_num = 0
    for line_num in range(len(lines) - 1, -1, -1):
        line = lines[line_num]
        if line.strip().strip("-") == "":
            break
    if line_num > 0:
        return "\n".join(lines[:line_num])
    return text


def clean_text(text: str, remove: Iterable[str]) -> str:
    """Apply the cleaners named in ``remove`` in scikit-learn's order: headers, footers, quotes."""
    remove = tuple(remove)
    unknown = set(remove) - set(REMOVABLE_PARTS)
    if unknown:
        raise ConfigError(f"cannot remove {sorted(unknown)}; choose from {', '.join(REMOVABLE_PARTS)}")
    if "headers" in remove:
        text = strip_newsgroup_header(text)
    if "footers" in remove:
        text = strip_newsgroup_footer(text)
    if "quotes" in remove:
        text = strip_newsgroup_quoting(text)
    return text


# --------------------------------------------------------------------------------------------
# corpora


@dataclass(frozen=True)
class LabelledCorpus:
    """Documents with integer labels; ``label_names[labels[i]]`` is the folder of document i."""

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    paths: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: np.ndarray) -> LabelledCorpus:
        index = np.asarray(index, dtype=np.int64)
        return LabelledCorpus(
            texts=[self.texts[i] for i in index],
            labels=self.labels[index],
            label_names=self.label_names,
            paths=[self.paths[i] for i in index],
        )


def _visible_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _label_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files)


def _read_text(path: Path, encoding: str) -> str:
    # bytes, then decode: no newline translation, as scikit-learn's load_files does
    return path.read_bytes().decode(encoding, errors="replace")


def has_train_test_layout(root: Path) -> bool:
    """True when ``root`` holds exactly ``train/`` and ``test/``, each with label folders."""
    root = Path(root)
    dirs = {p.name for p in _visible_dirs(root)} if root.is_dir() else set()
    return dirs == {"train", "test"} and all(_visible_dirs(root / name) for name in dirs)


def load_labelled_folder(
    root: str | os.PathLike,
    remove: Iterable[str] = (),
    encoding: str = "latin-1",
    limit_per_class: int | None = None,
    label_names: Sequence[str] | None = None,
) -> LabelledCorpus:
    """Read a corpus laid out as ``root/<label>/**/<file>``; the label is the first-level folder.

    Files are read as bytes and decoded with ``encoding`` (latin-1 never fails, as in
    scikit-learn); ``remove`` names the cleaners to apply. ``limit_per_class`` keeps the first N
    files of each label in sorted path order. ``label_names`` fixes the label numbering (so a
    train and a test folder agree); a folder not in it is an error.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    if limit_per_class is not None and limit_per_class < 1:
        raise ConfigError(f"limit_per_class must be at least 1, got {limit_per_class}")
    remove = tuple(remove)
    folders = _visible_dirs(root)
    if not folders:
        raise CorpusError(f"no label folders in {root} (expected {root}/<label>/<documents>)")
    names = list(label_names) if label_names is not None else [f.name for f in folders]
    index = {name: i for i, name in enumerate(names)}
    texts: list[str] = []
    labels: list[int] = []
    paths: list[str] = []
    for folder in folders:
        if folder.name not in index:
            raise CorpusError(f"label folder {folder.name!r} in {root} is not one of the known labels")
        files = _label_files(folder)
        if limit_per_class is not None:
            files = files[:limit_per_class]
        for path in files:
            texts.append(clean_text(_read_text(path, encoding), remove))
            labels.append(index[folder.name])
            paths.append(str(path))
    if not texts:
        raise CorpusError(f"no documents under {root}")
    return LabelledCorpus(texts, np.asarray(labels, dtype=np.int64), names, paths)


def load_train_test(
    root: str | os.PathLike,
    remove: Iterable[str] = (),
    encoding: str = "latin-1",
    limit_per_class: int | None = None,
) -> tuple[LabelledCorpus, LabelledCorpus]:
    """Read ``root/train/<label>/...`` and ``root/test/<label>/...`` with shared label numbers."""
    root = Path(root)
    if not has_train_test_layout(root):
        raise CorpusError(f"{root} does not hold train/ and test/ folders of label folders")
    names = sorted({p.name for split in ("train", "test") for p in _visible_dirs(root / split)})
    train = load_labelled_folder(root / "train", remove, encoding, limit_per_class, names)
    test = load_labelled_folder(root / "test", remove, encoding, limit_per_class, names)
    return train, test


def load_20ng(
    root: str | os.PathLike | None = None,
    remove: Iterable[str] = REMOVABLE_PARTS,
    limit_per_class: int | None = None,
) -> tuple[LabelledCorpus, LabelledCorpus]:
    """20 Newsgroups (by date) as ``(train, test)``, cleaned like scikit-learn's loader.

    ``root`` defaults to :func:`default_20ng_root` (``$SEMHASH_20NG`` overrides it).
    """
    root = Path(root) if root is not None else default_20ng_root()
    if not root.is_dir():
        raise CorpusError(f"20 Newsgroups not found at {root}; set ${ENV_20NG} to its folder")
    return load_train_test(root, remove, "latin-1", limit_per_class)


# --------------------------------------------------------------------------------------------
# features


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
    counts = sp.csr_matrix(counts, dtype=np.float64)
    idf = np.log1p(n_docs / np.maximum(np.asarray(df, dtype=np.float64), 1.0))
    out = counts.copy()
    out.data = np.log1p(out.data)
    out = sp.csr_matrix(out @ sp.diags(idf))
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
    from sklearn.feature_extraction.text import CountVectorizer

    if isinstance(train_texts, str) or isinstance(query_texts, str):
        raise ConfigError("expected lists of documents, got a single string")
    vectorizer = CountVectorizer(
        stop_words=config.stop_words,
        max_features=config.max_features,
        max_df=config.max_df,
        min_df=config.min_df,
        dtype=np.float64,
    )
    try:
        counts_train = vectorizer.fit_transform(list(train_texts)).tocsr()
    except ValueError as e:  # empty vocabulary, or min_df/max_df that leave nothing
        raise CorpusError(f"cannot build a vocabulary from the database documents: {e}") from e
    counts_query = vectorizer.transform(list(query_texts)).tocsr()
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


# --------------------------------------------------------------------------------------------
# splits


def split_queries(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it in half: ``(validation, test)`` indices.

    The first ``n // 2`` shuffled indices are validation, the rest test.
    """
    order = np.random.default_rng(seed).permutation(n)
    half = n // 2
    return order[:half], order[half:]


def split_corpus(
    n: int, seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` into ``(database, validation, test)`` index arrays."""
    if len(fractions) != 3 or min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0):
        raise ConfigError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(n)
    n_db = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return order[:n_db], order[n_db : n_db + n_val], order[n_db + n_val :]


# --------------------------------------------------------------------------------------------
# metrics


def _check_ks(ks: Iterable[int], n_db: int) -> np.ndarray:
    ks_arr = np.array(sorted(set(int(k) for k in ks)), dtype=np.int64)
    if ks_arr.size == 0 or ks_arr[0] < 1:
        raise ValueError(f"ks must be positive integers, got {list(ks)}")
    if ks_arr[-1] > n_db:
        raise ValueError(f"k={ks_arr[-1]} exceeds the database size {n_db}")
    return ks_arr


def _check_labels(db_labels: np.ndarray, query_labels: np.ndarray, n_db: int, n_q: int) -> None:
    if db_labels.shape != (n_db,) or query_labels.shape != (n_q,):
        raise ValueError(
            f"labels do not match the codes: {db_labels.shape} for {n_db} database rows, "
            f"{query_labels.shape} for {n_q} queries"
        )


def rank_with_random_ties(costs: np.ndarray, n_keep: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``n_keep`` lowest costs of each row, ties in random order.

    Each row's columns are shuffled by an independent random permutation and then sorted
    stably, so equal costs come out in a uniformly random order.
    """
    n_q, n_db = costs.shape
    perm = rng.permuted(np.broadcast_to(np.arange(n_db, dtype=np.int64), (n_q, n_db)), axis=1)
    shuffled = np.take_along_axis(costs, perm, axis=1)
    order = np.argsort(shuffled, axis=1, kind="stable")[:, :n_keep]
    return np.take_along_axis(perm, order, axis=1)


def _small_int(distances: np.ndarray, n_bits: int) -> np.ndarray:
    # the smallest integer type sorts fastest (NumPy radix-sorts 8- and 16-bit integers)
    return distances.astype(np.uint8 if n_bits < 256 else np.uint16 if n_bits < 65536 else np.int32)


def _precision_from_costs(
    cost_chunks: Iterable[tuple[slice, np.ndarray]],
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: np.ndarray,
    seed: int,
) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    totals = np.zeros(ks.size, dtype=np.float64)
    for rows, costs in cost_chunks:
        top = rank_with_random_ties(costs, int(ks[-1]), rng)
        hits = np.cumsum(db_labels[top] == query_labels[rows, None], axis=1)
        totals += hits[:, ks - 1].sum(axis=0) / ks
    n_q = query_labels.shape[0]
    return {int(k): float(t / n_q) if n_q else float("nan") for k, t in zip(ks, totals)}


def _hamming_chunks(query_codes_packed: np.ndarray, db_codes_packed: np.ndarray, chunk_size: int):
    n_bits = db_codes_packed.shape[1] * 8
    for start in range(0, query_codes_packed.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        yield rows, _small_int(hamming_matrix(query_codes_packed[rows], db_codes_packed), n_bits)


def _score_chunks(scores: np.ndarray, chunk_size: int):
    for start in range(0, scores.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        yield rows, -np.asarray(scores[rows], dtype=np.float32)


def precision_at_k(
    db_codes_packed: np.ndarray,
    db_labels: np.ndarray,
    query_codes_packed: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[int, float]:
    """Mean precision@k over queries, ranking the database by Hamming distance.

    Ties in distance are broken at random (``seed``); a hit is a database document with the
    query's label. Queries are processed ``chunk_size`` at a time to bound memory.
    """
    db_codes_packed = np.asarray(db_codes_packed, dtype=np.uint8)
    query_codes_packed = np.asarray(query_codes_packed, dtype=np.uint8)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    if db_codes_packed.ndim != 2 or query_codes_packed.shape[1:] != db_codes_packed.shape[1:]:
        raise ValueError(
            f"packed codes must be 2-D of equal width, got {db_codes_packed.shape} and {query_codes_packed.shape}"
        )
    n_db = db_codes_packed.shape[0]
    _check_labels(db_labels, query_labels, n_db, query_codes_packed.shape[0])
    ks_arr = _check_ks(ks, n_db)
    chunks = _hamming_chunks(query_codes_packed, db_codes_packed, chunk_size)
    return _precision_from_costs(chunks, db_labels, query_labels, ks_arr, seed)


def precision_at_k_scores(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    ks: Iterable[int] = (100,),
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[int, float]:
    """Mean precision@k for real-valued scores ``(n_queries, n_db)``, higher is better.

    Equal scores (e.g. documents sharing no word with the query) are ordered at random.
    """
    scores = np.asarray(scores)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_queries, n_db), got shape {scores.shape}")
    _check_labels(db_labels, query_labels, scores.shape[1], scores.shape[0])
    ks_arr = _check_ks(ks, scores.shape[1])
    return _precision_from_costs(_score_chunks(scores, chunk_size), db_labels, query_labels, ks_arr, seed)


def _pr_summary(hits: np.ndarray, retrieved: np.ndarray, relevant: np.ndarray) -> dict[str, list]:
    """Per-query hits/retrieved ``(n_q, n_points)`` to macro precision and recall per point.

    Precision averages over the queries that retrieve something at that point (``None`` when
    none does); recall averages over the queries with at least one relevant document.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(retrieved > 0, hits / np.maximum(retrieved, 1), np.nan)
        answered = retrieved > 0
        n_answered = answered.sum(axis=0)
        precision = np.where(n_answered > 0, np.nansum(prec, axis=0) / np.maximum(n_answered, 1), np.nan)
        has_rel = relevant > 0
        recall = (hits[has_rel] / relevant[has_rel, None]).mean(axis=0) if has_rel.any() else np.full(hits.shape[1], np.nan)
    return {
        "precision": [None if np.isnan(p) else float(p) for p in precision],
        "recall": [None if np.isnan(r) else float(r) for r in recall],
        "answered": [float(a) for a in answered.mean(axis=0)],
        "retrieved": [float(r) for r in retrieved.mean(axis=0)],
    }


def precision_recall_by_radius(
    db_codes_packed: np.ndarray,
    db_labels: np.ndarray,
    query_codes_packed: np.ndarray,
    query_labels: np.ndarray,
    n_bits: int | None = None,
    chunk_size: int = 500,
) -> dict[str, list]:
    """Precision and recall of Hamming-ball retrieval for every radius ``0..n_bits``.

    At radius r a query retrieves every database code within distance r. Returns lists indexed
    by radius: ``radius``, ``precision`` (mean over queries that retrieve at least one document;
    ``None`` where no query does), ``recall`` (mean over queries), ``answered`` (fraction of
    queries retrieving something) and ``retrieved`` (mean number of documents retrieved).
    No randomness: a ball holds all its ties.
    """
    db_codes_packed = np.asarray(db_codes_packed, dtype=np.uint8)
    query_codes_packed = np.asarray(query_codes_packed, dtype=np.uint8)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    n_db, n_q = db_codes_packed.shape[0], query_codes_packed.shape[0]
    _check_labels(db_labels, query_labels, n_db, n_q)
    n_bits = db_codes_packed.shape[1] * 8 if n_bits is None else int(n_bits)
    width = n_bits + 1
    hits = np.zeros((n_q, width), dtype=np.int64)
    retrieved = np.zeros((n_q, width), dtype=np.int64)
    for start in range(0, n_q, chunk_size):
        rows = slice(start, start + chunk_size)
        dist = hamming_matrix(query_codes_packed[rows], db_codes_packed)
        m = dist.shape[0]
        flat = (dist + (np.arange(m)[:, None] * width)).ravel()
        same = (db_labels[None, :] == query_labels[rows, None]).ravel()
        retrieved[rows] = np.bincount(flat, minlength=m * width).reshape(m, width)
        hits[rows] = np.bincount(flat, weights=same, minlength=m * width).reshape(m, width).astype(np.int64)
    hits = np.cumsum(hits, axis=1)
    retrieved = np.cumsum(retrieved, axis=1)
    relevant = _relevant_counts(db_labels, query_labels)
    return {"radius": list(range(width)), **_pr_summary(hits, retrieved, relevant)}


def _relevant_counts(db_labels: np.ndarray, query_labels: np.ndarray) -> np.ndarray:
    values, counts = np.unique(db_labels, return_counts=True)
    lookup = dict(zip(values.tolist(), counts.tolist()))
    return np.array([lookup.get(label, 0) for label in query_labels.tolist()], dtype=np.int64)


def rank_cutoffs(n_db: int, n_points: int = 40) -> list[int]:
    """Log-spaced ranks ``1..n_db`` (always including ``n_db``), for rank-based PR curves."""
    pts = np.unique(np.round(np.logspace(0, np.log10(max(n_db, 1)), n_points)).astype(np.int64))
    return sorted(set(pts.tolist()) | {n_db})


def precision_recall_by_rank(
    scores: np.ndarray,
    db_labels: np.ndarray,
    query_labels: np.ndarray,
    cutoffs: Iterable[int],
    seed: int = 0,
    chunk_size: int = 500,
) -> dict[str, list]:
    """Precision and recall of the top-c documents by score for each cutoff c (higher is better).

    The rank analogue of :func:`precision_recall_by_radius` for methods without codes; ties are
    ordered at random with ``seed``. Returns ``rank`` plus the same keys.
    """
    scores = np.asarray(scores)
    db_labels, query_labels = np.asarray(db_labels), np.asarray(query_labels)
    n_q, n_db = scores.shape
    _check_labels(db_labels, query_labels, n_db, n_q)
    cut = _check_ks(cutoffs, n_db)
    rng = np.random.default_rng(seed)
    hits = np.zeros((n_q, cut.size), dtype=np.int64)
    for rows, costs in _score_chunks(scores, chunk_size):
        top = rank_with_random_ties(costs, int(cut[-1]), rng)
        hits[rows] = np.cumsum(db_labels[top] == query_labels[rows, None], axis=1)[:, cut - 1]
    retrieved = np.broadcast_to(cut, hits.shape)
    return {"rank": cut.tolist(), **_pr_summary(hits, retrieved, _relevant_counts(db_labels, query_labels))}


# --------------------------------------------------------------------------------------------
# hashing baselines: each returns (train_bits, query_bits) uint8 of 0/1, shape (n, n_bits)


def _bits(values: np.ndarray) -> np.ndarray:
    return (np.asarray(values) > 0).astype(np.uint8)


def _check_n_bits(n_bits: int, X: sp.spmatrix, need_rank: bool) -> None:
    if n_bits < 1:
        raise ConfigError(f"n_bits must be at least 1, got {n_bits}")
    if need_rank and n_bits >= min(X.shape):
        raise ConfigError(
            f"{n_bits} bits need more than {n_bits} documents and features; got a {X.shape[0]} x {X.shape[1]} matrix"
        )


def lsh_codes(X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random-hyperplane LSH (Charikar's SimHash): bit j = [x . w_j > 0], w_j ~ N(0, I)."""
    _check_n_bits(n_bits, X_train, need_rank=False)
    W = np.random.default_rng(seed).standard_normal((X_train.shape[1], n_bits)).astype(np.float32)
    return _bits(X_train @ W), _bits(X_query @ W)


def lsi_projection(X_train: sp.spmatrix, X_query: sp.spmatrix, n_components: int, seed: int = 0):
    """Latent semantic indexing: truncated SVD of the (uncentred) TF-IDF, fitted on training."""
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=n_components, algorithm="randomized", n_iter=7, random_state=seed)
    return svd.fit_transform(X_train), svd.transform(X_query)


def pca_projection(X_train: sp.spmatrix, X_query: sp.spmatrix, n_components: int, seed: int = 0):
    """PCA to ``n_components`` dims (training mean removed), keeping the input sparse.

    The centred matrix is never formed: a randomized range finder runs on ``X - 1 mean``
    through matrix products, then an exact SVD of the small projected problem.
    """
    X_train = sp.csr_matrix(X_train, dtype=np.float64)
    mean = np.asarray(X_train.mean(axis=0)).ravel()
    rng = np.random.default_rng(seed)
    n, d = X_train.shape
    k = min(n_components + 10, min(n, d))

    def right(M):  # (X - 1 mean) @ M
        return X_train @ M - np.outer(np.ones(n), mean @ M)

    def left(M):  # (X - 1 mean).T @ M
        return X_train.T @ M - np.outer(mean, M.sum(axis=0))

    Q = right(rng.standard_normal((d, k)))
    for _ in range(5):  # power iterations with re-orthonormalisation
        Q, _r = np.linalg.qr(Q)
        Q, _r = np.linalg.qr(left(Q))
        Q = right(Q)
    Q, _r = np.linalg.qr(Q)
    B = left(Q).T  # (k, d) = Q.T (X - 1 mean)
    _u, _s, Vt = np.linalg.svd(B, full_matrices=False)
    components = Vt[:n_components]
    # fix the sign of each component for reproducibility (largest loading positive)
    signs = np.sign(components[np.arange(components.shape[0]), np.abs(components).argmax(axis=1)])
    components *= signs[:, None]
    project = lambda X: sp.csr_matrix(X, dtype=np.float64) @ components.T - mean @ components.T  # noqa: E731
    return project(X_train), project(X_query)


def median_threshold_bits(Y_train: np.ndarray, Y_query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bit j = [y_j > median of y_j over the training set]: balanced bits from any projection."""
    median = np.median(Y_train, axis=0)
    return _bits(Y_train - median), _bits(Y_query - median)


def lsi_median_codes(
    X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """LSI to ``n_bits`` dims, each thresholded at its median over the training set."""
    _check_n_bits(n_bits, X_train, need_rank=True)
    return median_threshold_bits(*lsi_projection(X_train, X_query, n_bits, seed))


def itq_bits(
    V_train: np.ndarray, V_query: np.ndarray, seed: int = 0, n_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Signs of centred projections after the ITQ rotation learnt on ``V_train``."""
    R = itq_rotation(V_train, n_iter, seed)
    return _bits(V_train @ R), _bits(V_query @ R)


def itq_codes(
    X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0, n_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """PCA to ``n_bits`` dims, then an ITQ rotation (``n_iter`` iterations), then signs."""
    _check_n_bits(n_bits, X_train, need_rank=True)
    return itq_bits(*pca_projection(X_train, X_query, n_bits, seed), seed=seed, n_iter=n_iter)


def spectral_hashing_modes(lo: np.ndarray, hi: np.ndarray, n_bits: int) -> np.ndarray:
    """The ``n_bits`` smoothest one-dimensional eigenfunction modes of a box ``[lo, hi]``.

    As in Weiss, Torralba & Fergus (2008), reference code ``trainSH.m``: candidate modes are
    ``1..maxMode[d]-1`` along each single PCA direction d; the eigenvalue of mode m on a side of
    length R is ``(m pi / R)^2``; keep the n_bits smallest (the constant mode is skipped).
    Returns an ``(n_bits, n_dims)`` integer matrix with one non-zero per row.
    """
    R = hi - lo
    n_dims = R.shape[0]
    max_mode = np.ceil((n_bits + 1) * R / R.max()).astype(np.int64)
    rows = [np.zeros(n_dims, dtype=np.int64)]
    for d in range(n_dims):
        for m in range(1, max_mode[d]):
            row = np.zeros(n_dims, dtype=np.int64)
            row[d] = m
            rows.append(row)
    modes = np.array(rows)
    eigval = ((modes * (np.pi / R)) ** 2).sum(axis=1)
    order = np.argsort(eigval, kind="stable")
    return modes[order[1 : n_bits + 1]]


def spectral_bits(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Spectral-hashing bits from PCA projections (one column per principal direction).

    Bit i is ``[prod_d sin(pi/2 + m_id pi (y_d - lo_d) / R_d) > 0]`` for the modes of
    :func:`spectral_hashing_modes`, with the box ``[lo, hi]`` spanned by the training data
    (the uniform-distribution approximation of Weiss et al.).
    """
    eps = np.finfo(np.float64).eps
    lo = Y_train.min(axis=0) - eps
    hi = Y_train.max(axis=0) + eps
    modes = spectral_hashing_modes(lo, hi, n_bits)
    omegas = modes * (np.pi / (hi - lo))  # (n_bits, n_dims)

    def encode(Y: np.ndarray) -> np.ndarray:
        Y = Y - lo
        U = np.empty((Y.shape[0], n_bits))
        for i in range(n_bits):
            U[:, i] = np.prod(np.sin(Y * omegas[i] + np.pi / 2), axis=1)
        return _bits(U)

    return encode(Y_train), encode(Y_query)


def spectral_hashing_codes(
    X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral hashing (Weiss et al. 2008): PCA to ``n_bits`` dims, then :func:`spectral_bits`."""
    _check_n_bits(n_bits, X_train, need_rank=True)
    return spectral_bits(*pca_projection(X_train, X_query, n_bits, seed), n_bits)


BASELINE_CODES: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "lsh": lsh_codes,
    "lsi": lsi_median_codes,
    "itq": itq_codes,
    "sh": spectral_hashing_codes,
}

# the projection each baseline starts from; its leading b columns serve every b-bit run
BASELINE_PROJECTIONS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "lsi": lsi_projection,
    "itq": pca_projection,
    "sh": pca_projection,
}


def baseline_bits_from_projection(
    method: str, Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Bits of ``method`` (lsi, itq, sh) from the leading ``n_bits`` projection columns."""
    Y_train = np.ascontiguousarray(Y_train[:, :n_bits])
    Y_query = np.ascontiguousarray(Y_query[:, :n_bits])
    if method == "lsi":
        return median_threshold_bits(Y_train, Y_query)
    if method == "itq":
        return itq_bits(Y_train, Y_query, seed)
    if method == "sh":
        return spectral_bits(Y_train, Y_query, n_bits)
    raise ConfigError(f"{method!r} has no projection stage")


# --------------------------------------------------------------------------------------------
# non-hashing references: dense scores (n_queries, n_db), higher is better


def tfidf_cosine_scores(X_train: sp.spmatrix, X_query: sp.spmatrix, chunk_size: int = 1000) -> np.ndarray:
    """Cosine similarity between TF-IDF vectors, ``(n_queries, n_db)`` float32."""
    from sklearn.preprocessing import normalize

    A = normalize(sp.csr_matrix(X_train, dtype=np.float32))
    Q = normalize(sp.csr_matrix(X_query, dtype=np.float32))
    out = np.empty((Q.shape[0], A.shape[0]), dtype=np.float32)
    At = A.T.tocsc()
    for start in range(0, Q.shape[0], chunk_size):
        out[start : start + chunk_size] = (Q[start : start + chunk_size] @ At).toarray()
    return out


def bm25_scores(
    train_texts: Sequence[str], query_texts: Sequence[str], show_progress: bool = False
) -> np.ndarray:
    """BM25 (bm25s, Lucene variant, k1=1.5, b=0.75) of every database text for every query.

    Both sides go through ``bm25s.tokenize`` (lower-case, scikit-learn's token pattern,
    English stop words); query words absent from the database are ignored.
    """
    try:
        import bm25s
    except ImportError as e:  # optional extra
        raise ConfigError(f"the bm25 method needs bm25s: {EVAL_EXTRA}") from e

    corpus_tokens = bm25s.tokenize(list(train_texts), stopwords="en", return_ids=False, show_progress=False)
    query_tokens = bm25s.tokenize(list(query_texts), stopwords="en", return_ids=False, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=show_progress)
    out = np.zeros((len(query_tokens), len(train_texts)), dtype=np.float32)
    for i, tokens in enumerate(query_tokens):
        ids = retriever.get_tokens_ids([t for t in tokens if t])
        if ids:
            out[i] = retriever.get_scores_from_ids(ids)
    return out


# --------------------------------------------------------------------------------------------
# orchestration


@dataclass(frozen=True)
class ModelOptions:
    """Options passed to ``semhash.model.ModelConfig``; ``None`` keeps the model's default."""

    pretrain: str | None = None
    epochs: int | None = None
    variant: str | None = None
    neighbours: int | None = None
    graph_codes: float | None = None
    graph_teacher: str | None = None


@dataclass(frozen=True)
class EvalConfig:
    """Everything one evaluation run needs; see :meth:`preset_20ng` for the standard protocol.

    ``root`` is a folder of label folders, or of ``train/`` and ``test/`` each holding label
    folders. Without that split, documents are shuffled with ``split_seed`` into database /
    validation / test by ``fractions``; with it, the test documents are shuffled and halved into
    validation / test. ``seed`` drives the baselines, the model and tie breaking.
    """

    root: Path
    name: str = "corpus"
    methods: tuple[str, ...] = ALL_METHODS
    bits: tuple[int, ...] = DEFAULT_BITS
    split: str = "test"
    seed: int = 0
    split_seed: int = 0
    remove: tuple[str, ...] = ()
    encoding: str = "utf-8"
    limit_per_class: int | None = None
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    features: FeatureConfig = FeatureConfig()
    model: ModelOptions = ModelOptions()
    baseline_input: str = "l2"
    ks: tuple[int, ...] = DEFAULT_KS
    chunk_size: int = 500

    @classmethod
    def preset_20ng(cls, root: str | os.PathLike | None = None, **overrides: Any) -> EvalConfig:
        """The 20 Newsgroups protocol: headers, footers and quotes removed, latin-1, by-date split."""
        base = cls(
            root=Path(root) if root is not None else default_20ng_root(),
            name="20ng",
            remove=REMOVABLE_PARTS,
            encoding="latin-1",
        )
        return replace(base, **overrides)

    def validate(self) -> None:
        unknown = [m for m in self.methods if m not in ALL_METHODS]
        if unknown or not self.methods:
            raise ConfigError(f"unknown method(s) {unknown or '(none given)'}; choose from {', '.join(ALL_METHODS)}")
        hashing = [m for m in self.methods if m in HASHING_METHODS]
        if hashing and not self.bits:
            raise ConfigError("give at least one bit length")
        bad = [b for b in self.bits if b < 8 or b % 8]
        if bad:
            raise ConfigError(f"bit lengths must be positive multiples of 8, got {bad}")
        if self.split not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if set(self.remove) - set(REMOVABLE_PARTS):
            raise ConfigError(f"remove takes {', '.join(REMOVABLE_PARTS)}, got {list(self.remove)}")
        if self.limit_per_class is not None and self.limit_per_class < 1:
            raise ConfigError(f"limit_per_class must be at least 1, got {self.limit_per_class}")
        if self.baseline_input not in BASELINE_INPUTS:
            raise ConfigError(f"baseline_input must be one of {', '.join(BASELINE_INPUTS)}, got {self.baseline_input!r}")
        if not self.ks or min(self.ks) < 1:
            raise ConfigError(f"ks must be positive, got {list(self.ks)}")


def _missing(modules: Iterable[str]) -> list[str]:
    """The ``modules`` that cannot be imported."""
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def check_dependencies(methods: Iterable[str], plots: bool = False) -> None:
    """Refuse, before any data is read or model trained, a run whose ``methods`` (or plots)
    need a module that is not installed; the :class:`ConfigError` names the install command."""
    needs = []
    for method in methods:
        missing = _missing(METHOD_MODULES.get(method, ()))
        if missing:
            needs.append((f"the {method} method needs {', '.join(missing)}", f"leave {method} out of --methods"))
    missing = _missing(PLOT_MODULES) if plots else []
    if missing:
        needs.append((f"the plots need {', '.join(missing)}", "pass --no-plots"))
    if needs:
        raise ConfigError(f"{' and '.join(n for n, _ in needs)}, not installed: {EVAL_EXTRA} "
                          f"(or {' and '.join(alt for _, alt in needs)})")


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU count and library versions, for reports."""
    import scipy
    import sklearn

    from . import __version__

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "semhash": __version__,
    }


class EvalData(NamedTuple):
    """The prepared split: database and query TF-IDF, labels and cleaned texts."""

    X_db: sp.csr_matrix
    db_labels: np.ndarray
    db_texts: list[str]
    X_query: sp.csr_matrix
    query_labels: np.ndarray
    query_texts: list[str]
    label_names: list[str]
    info: dict[str, Any]


def prepare_data(config: EvalConfig) -> EvalData:
    """Load the corpus of ``config``, build protocol features, and pick the query split."""
    root = Path(config.root)
    if not root.is_dir():
        hint = f"; set ${ENV_20NG} or pass the folder" if config.name == "20ng" else ""
        raise CorpusError(f"corpus folder not found: {root}{hint}")
    if has_train_test_layout(root):
        db, test = load_train_test(root, config.remove, config.encoding, config.limit_per_class)
        layout = "train/test folders; test halved into validation/test"
        feats = protocol_features(db.texts, test.texts, config.features)
        db, test = db.subset(np.flatnonzero(feats.train_kept)), test.subset(np.flatnonzero(feats.query_kept))
        val_idx, test_idx = split_queries(len(test), config.split_seed)
        X_db, X_all_q = feats.X_train, feats.X_query
        pick = val_idx if config.split == "validation" else test_idx
        queries, X_query = test.subset(pick), X_all_q[pick]
        n_dropped = int((~feats.train_kept).sum() + (~feats.query_kept).sum())
        sizes = {"validation": int(val_idx.size), "test": int(test_idx.size)}
    else:
        corpus = load_labelled_folder(root, config.remove, config.encoding, config.limit_per_class)
        db_idx, val_idx, test_idx = split_corpus(len(corpus), config.split_seed, config.fractions)
        layout = "one folder; shuffled into database/validation/test " + "/".join(f"{f:g}" for f in config.fractions)
        pick = val_idx if config.split == "validation" else test_idx
        db, queries = corpus.subset(db_idx), corpus.subset(pick)
        feats = protocol_features(db.texts, queries.texts, config.features)
        db, queries = db.subset(np.flatnonzero(feats.train_kept)), queries.subset(np.flatnonzero(feats.query_kept))
        X_db, X_query = feats.X_train, feats.X_query
        n_dropped = int((~feats.train_kept).sum() + (~feats.query_kept).sum())
        sizes = {"validation": int(val_idx.size), "test": int(test_idx.size)}
    if len(queries) == 0:
        raise CorpusError(f"the {config.split} split holds no non-empty document")
    info = {
        "root": str(root),
        "layout": layout,
        "n_database": len(db),
        "n_queries": len(queries),
        "split": config.split,
        "split_sizes": sizes,
        "n_labels": len(db.label_names),
        "labels": db.label_names,
        "vocabulary_size": len(feats.vocabulary),
        "dropped_empty": n_dropped,
        "chance_precision": float(np.mean([np.mean(db.labels == q) for q in queries.labels])),
    }
    return EvalData(X_db, db.labels, db.texts, X_query, queries.labels, queries.texts, db.label_names, info)


def semhash_codes(
    X_train: sp.csr_matrix, X_query: sp.csr_matrix, n_bits: int, seed: int, options: ModelOptions, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Train the project's deep autoencoder on ``X_train`` and binarize both sides.

    Codes are made exactly as an index makes them: code probabilities cut at the encoder's
    per-bit ``thresholds``.
    """
    from .codes import encode_bits  # noqa: PLC0415 - model side, import lazily
    from .model import ModelConfig, train_encoder  # imports TensorFlow

    fields = {"n_bits": n_bits, "seed": seed}
    if options.pretrain is not None:
        fields["pretrain"] = options.pretrain
    if options.epochs is not None:
        fields["epochs"] = options.epochs
    if options.variant is not None:
        fields["variant"] = options.variant
    if options.neighbours is not None:
        fields["neighbours"] = options.neighbours
    if options.graph_codes is not None:
        fields["graph_codes"] = options.graph_codes
    if options.graph_teacher is not None:
        fields["graph_teacher"] = options.graph_teacher
    encoder = train_encoder(X_train, ModelConfig(**fields), progress=progress)
    # the encoder's own per-bit thresholds (median by default), exactly as the index applies them
    return encode_bits(encoder, X_train), encode_bits(encoder, X_query)


def _evaluate_codes(
    train_bits: np.ndarray, query_bits: np.ndarray, data: EvalData, ks: list[int], config: EvalConfig
) -> dict[str, Any]:
    db_packed, q_packed = pack_bits(train_bits), pack_bits(query_bits)
    pak = precision_at_k(db_packed, data.db_labels, q_packed, data.query_labels, ks, config.seed, config.chunk_size)
    pr = precision_recall_by_radius(db_packed, data.db_labels, q_packed, data.query_labels, train_bits.shape[1], config.chunk_size)
    return {"p_at_k": pak, "pr": pr, "bit_balance": [float(x) for x in train_bits.mean(axis=0)]}


def _evaluate_scores(scores: np.ndarray, data: EvalData, ks: list[int], config: EvalConfig) -> dict[str, Any]:
    pak = precision_at_k_scores(scores, data.db_labels, data.query_labels, ks, config.seed, config.chunk_size)
    cut = rank_cutoffs(scores.shape[1])
    pr = precision_recall_by_rank(scores, data.db_labels, data.query_labels, cut, config.seed, config.chunk_size)
    return {"p_at_k": pak, "pr": pr}


def run_evaluation(config: EvalConfig, progress: bool = False) -> dict[str, Any]:
    """Run every method of ``config`` on the same split and return the results dictionary.

    Structure: ``{"config", "dataset", "machine", "date", "total_seconds", "quoted",
    "methods": {name: {"label", "kind": "hashing"|"reference", "runs": [run, ...]}}}`` where a
    run is ``{"n_bits" (None for references), "p_at_k": {k: p}, "p100", "pr", "code_seconds",
    "eval_seconds", "seconds"}``; ``pr`` holds ``radius`` (hashing) or ``rank`` (references)
    with ``precision``/``recall`` lists. A method's ``setup_seconds`` is the projection shared
    by its bit lengths (LSI, PCA) and ``seconds`` its total. The LSH/LSI/ITQ/SH baselines see
    L2-normalised TF-IDF rows unless ``config.baseline_input == "tfidf"``; semhash and the
    references see the protocol TF-IDF. Progress bars go to stderr when ``progress``.
    """
    from tqdm.auto import tqdm

    config.validate()
    check_dependencies(config.methods)
    started = time.perf_counter()
    date = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    data = prepare_data(config)
    prep_seconds = time.perf_counter() - t0
    n_db = data.X_db.shape[0]
    ks = sorted({k for k in config.ks if k <= n_db} | ({100} if n_db >= 100 else set()))
    if not ks:
        ks = [n_db]

    steps = [(m, b) for m in config.methods if m in HASHING_METHODS for b in config.bits]
    steps += [(m, None) for m in config.methods if m in REFERENCE_METHODS]
    methods: dict[str, Any] = {
        m: {
            "label": METHOD_LABELS[m],
            "kind": "hashing" if m in HASHING_METHODS else "reference",
            "setup_seconds": 0.0,
            "runs": [],
        }
        for m in config.methods
    }
    X_db, X_query = data.X_db, data.X_query
    if config.baseline_input == "l2":
        from sklearn.preprocessing import normalize

        X_db, X_query = normalize(X_db), normalize(X_query)
    bar = tqdm(steps, desc="evaluate", unit="run", disable=not progress, leave=False)
    for method, n_bits in bar:
        bar.set_postfix_str(method if n_bits is None else f"{method} {n_bits} bits")
        if method in BASELINE_PROJECTIONS and "projection" not in methods[method]:
            # one projection at the largest code length; each run keeps its leading columns
            t0 = time.perf_counter()
            width = max(config.bits)
            _check_n_bits(width, X_db, need_rank=True)
            methods[method]["projection"] = BASELINE_PROJECTIONS[method](X_db, X_query, width, config.seed)
            methods[method]["setup_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if method == "semhash":
            tr, q = semhash_codes(data.X_db, data.X_query, n_bits, config.seed, config.model, progress)
        elif method in BASELINE_PROJECTIONS:
            tr, q = baseline_bits_from_projection(method, *methods[method]["projection"], n_bits, config.seed)
        elif method in BASELINE_CODES:
            tr, q = BASELINE_CODES[method](X_db, X_query, n_bits, config.seed)
        elif method == "tfidf":
            scores = tfidf_cosine_scores(data.X_db, data.X_query)
        else:
            scores = bm25_scores(data.db_texts, data.query_texts, show_progress=progress)
        t1 = time.perf_counter()
        if n_bits is None:
            run = _evaluate_scores(scores, data, ks, config)
            del scores
        else:
            run = _evaluate_codes(tr, q, data, ks, config)
        t2 = time.perf_counter()
        run.update(
            n_bits=n_bits,
            p100=run["p_at_k"].get(100),
            code_seconds=t1 - t0,
            eval_seconds=t2 - t1,
            seconds=t2 - t0,
        )
        methods[method]["runs"].append(run)
    bar.close()
    for entry in methods.values():
        entry.pop("projection", None)
        entry["seconds"] = entry.get("setup_seconds", 0.0) + sum(r["seconds"] for r in entry["runs"])
    config_dict = asdict(config)
    return _json_safe(
        {
            "config": config_dict,
            "dataset": {**data.info, "prepare_seconds": prep_seconds},
            "methods": methods,
            "quoted": {
                "note": "Published 20 Newsgroups precision@100 (percent), QUOTED from the papers, not measured here.",
                "p100_percent": {name: {str(b): v for b, v in row.items()} for name, row in QUOTED_20NG_P100.items()},
            }
            if config.name == "20ng"
            else None,
            "machine": machine_info(),
            "date": date,
            "total_seconds": time.perf_counter() - started,
        }
    )


# --------------------------------------------------------------------------------------------
# report


def _runs_by_bits(method: dict[str, Any]) -> dict[int | None, dict[str, Any]]:
    return {run["n_bits"]: run for run in method["runs"]}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}"


def result_bits(results: dict[str, Any]) -> list[int]:
    """Bit lengths present in the results, ascending."""
    return sorted({r["n_bits"] for m in results["methods"].values() for r in m["runs"] if r["n_bits"] is not None})


def results_table_rows(results: dict[str, Any], include_quoted: bool = True) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the P@100 table (percent): methods x bits, plus references and quotes."""
    bits = result_bits(results)
    has_ref = any(m["kind"] == "reference" for m in results["methods"].values())
    header = ["method"] + [f"{b} bits" for b in bits] + (["no hashing"] if has_ref else []) + ["wall s"]
    rows = []
    for method in results["methods"].values():
        runs = _runs_by_bits(method)
        cells = [method["label"]]
        cells += [_pct(runs[b]["p100"]) if b in runs else "—" for b in bits]
        if has_ref:
            cells.append(_pct(runs[None]["p100"]) if None in runs else "—")
        cells.append(f"{method['seconds']:.1f}")
        rows.append(cells)
    quoted = results.get("quoted")
    if include_quoted and quoted:
        for name, row in quoted["p100_percent"].items():
            cells = [f"{name} (QUOTED, not measured)"]
            cells += [f"{row[str(b)]:.2f}" if str(b) in row else "—" for b in bits]
            cells += (["—"] if has_ref else []) + ["—"]
            rows.append(cells)
    return header, rows


def format_table(results: dict[str, Any]) -> str:
    """Plain-text P@100 table for a terminal."""
    header, rows = results_table_rows(results)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(results: dict[str, Any]) -> str:
    """The P@100 table as GitHub markdown."""
    header, rows = results_table_rows(results)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def plot_files(results: dict[str, Any]) -> list[str]:
    """Names of the PNG files :func:`write_report` draws for these results."""
    bits = result_bits(results) or [None]
    names = []
    for b in bits:
        suffix = f"{b}bits" if b is not None else "references"
        names += [f"precision_at_k_{suffix}.png", f"precision_recall_{suffix}.png"]
    return names


def _plot(results: dict[str, Any], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bits = result_bits(results) or [None]
    refs = [m for m in results["methods"].values() if m["kind"] == "reference"]
    written = []
    for b in bits:
        suffix = f"{b}bits" if b is not None else "references"
        curves = [(m["label"], _runs_by_bits(m).get(b), "-") for m in results["methods"].values() if m["kind"] == "hashing"]
        curves = [c for c in curves if c[1] is not None] + [(m["label"], m["runs"][0], "--") for m in refs]

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, run, style in curves:
            ks = sorted(int(k) for k in run["p_at_k"])
            ax.plot(ks, [run["p_at_k"][str(k)] if str(k) in run["p_at_k"] else run["p_at_k"][k] for k in ks], style, marker=".", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("k (documents retrieved)")
        ax.set_ylabel("precision@k")
        ax.set_title(f"{results['config'].get('name', '')}: precision@k" + (f", {b}-bit codes" if b else ""))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / f"precision_at_k_{suffix}.png", dpi=110)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, run, style in curves:
            pr = run["pr"]
            pts = [(r, p) for r, p in zip(pr["recall"], pr["precision"]) if r is not None and p is not None]
            if pts:
                suffix_label = " (Hamming radius 0..n)" if "radius" in pr else " (by rank)"
                ax.plot(*zip(*pts), style, marker=".", label=label + suffix_label)
        ax.set_xscale("log")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title("precision-recall" + (f", {b}-bit codes, Hamming ball retrieval" if b else ""))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / f"precision_recall_{suffix}.png", dpi=110)
        plt.close(fig)
        written += [f"precision_at_k_{suffix}.png", f"precision_recall_{suffix}.png"]
    return written


def report_markdown(results: dict[str, Any], plots: Sequence[str] = (), command: str | None = None) -> str:
    """The text of ``report.md``."""
    cfg, ds, mach = results["config"], results["dataset"], results["machine"]
    lines = [
        f"# Retrieval quality: {cfg.get('name', 'corpus')}",
        "",
        f"Date: {results['date']} — total wall time {results['total_seconds']:.1f} s — "
        f"{mach['platform']}, {mach['cpu_count']} CPUs, Python {mach['python']}.",
    ]
    if command:
        lines += ["", "Command:", "", "```", command, "```"]
    lines += [
        "",
        f"Corpus `{ds['root']}` ({ds['layout']}). Database: {ds['n_database']} documents; "
        f"queries: {ds['n_queries']} from the **{ds['split']}** split; {ds['n_labels']} labels; "
        f"vocabulary {ds['vocabulary_size']} words; {ds['dropped_empty']} empty documents dropped. "
        f"Chance precision (mean label share): {100 * ds['chance_precision']:.2f}%.",
        "",
        "## Precision@100 (percent)",
        "",
        "Hamming ranking of the whole database, ties broken at random (seed "
        f"{cfg['seed']}); a hit shares the query's label. Reference rows rank by real-valued scores "
        "and do not depend on the bit length. `wall s` covers making the codes or scores and "
        "evaluating them, summed over bit lengths. LSH, LSI, ITQ and spectral hashing see "
        + ("L2-normalised TF-IDF rows" if cfg.get("baseline_input", "l2") == "l2" else "the raw TF-IDF weights")
        + "; semhash and the references see the protocol TF-IDF.",
        "",
        markdown_table(results),
    ]
    if results.get("quoted"):
        lines += ["", f"_{results['quoted']['note']}_"]
    lines += ["", "## Time per run (seconds)", "", "| method | bits | codes/scores | evaluation |", "|---|---:|---:|---:|"]
    for m in results["methods"].values():
        if m.get("setup_seconds"):
            lines.append(f"| {m['label']} | projection shared by all lengths | {m['setup_seconds']:.2f} | — |")
        for r in m["runs"]:
            lines.append(f"| {m['label']} | {r['n_bits'] or '—'} | {r['code_seconds']:.2f} | {r['eval_seconds']:.2f} |")
    if plots:
        lines += [
            "",
            "## Plots",
            "",
            "Precision@k for k up to 1000, and precision–recall of Hamming-ball retrieval for radius "
            "0..n_bits (the semantic-hashing view of Salakhutdinov & Hinton); the non-hashing "
            "references are dashed, their curve swept over rank cut-offs.",
            "",
        ]
        lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "## Configuration", "", "```json", json.dumps(cfg, indent=2), "```", ""]
    return "\n".join(lines)


def write_report(results: dict[str, Any], out_dir: str | os.PathLike, command: str | None = None, plots: bool = True) -> list[Path]:
    """Write ``results.json``, ``report.md`` and the PNG plots to ``out_dir``; return the paths."""
    check_dependencies((), plots)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = _json_safe(results)
    written = [out_dir / "results.json"]
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    pngs = _plot(results, out_dir) if plots else []
    written += [out_dir / p for p in pngs]
    (out_dir / "report.md").write_text(report_markdown(results, pngs, command), encoding="utf-8")
    written.append(out_dir / "report.md")
    return written
