"""The one registry of evaluation methods: each ``--methods`` name, its label, what it needs.

A method is a small object looked up by name in :data:`METHODS`: hashing methods make codes once
per code length (after an optional ``setup`` shared by every length, such as a projection),
reference methods score the database once. Adding a method is one function and one registry
line; the run loop (:mod:`.run`) never names a method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..codes import encode_bits
from ..errors import ConfigError
from ..train.config import ModelConfig
from .baselines import (
    Pair,
    bm25_scores,
    check_code_width,
    itq_bits,
    lsh_codes,
    lsi_projection,
    median_threshold_bits,
    pca_projection,
    sign_bits,
    spectral_bits,
    sth_projection,
    tfidf_cosine_scores,
)
from .data import EvalData
from .extras import EVAL_EXTRA, PLOT_MODULES, missing_modules
from .metrics import code_metrics, score_metrics


@dataclass(frozen=True)
class ModelOptions:
    """Options passed to ``semhash.model.ModelConfig``; ``None`` keeps the model's default."""

    pretrain: str | None = None
    epochs: int | None = None
    variant: str | None = None
    neighbours: int | None = None
    graph_codes: float | None = None
    graph_teacher: str | None = None


class MethodInputs(NamedTuple):
    """What every method of one run receives."""

    data: EvalData  # the protocol TF-IDF, labels and texts (semhash and the references see these)
    X_db: sp.csr_matrix  # what LSH/LSI/ITQ/SH see: L2-normalised rows, or the raw weights
    X_query: sp.csr_matrix
    seed: int
    model: ModelOptions
    ks: list[int]
    chunk_size: int
    progress: bool


def semhash_codes(
    X_train: sp.csr_matrix, X_query: sp.csr_matrix, n_bits: int, seed: int, options: ModelOptions, progress: bool
) -> Pair:
    """Train the project's deep autoencoder on ``X_train`` and binarize both sides.

    Codes are made exactly as an index makes them: code probabilities cut at the encoder's
    per-bit ``thresholds``.
    """
    from ..train.trainer import train_encoder  # imports TensorFlow

    fields = {name: value for name, value in asdict(options).items() if value is not None}
    encoder = train_encoder(X_train, ModelConfig(n_bits=n_bits, seed=seed, **fields), progress=progress)
    # the encoder's own per-bit thresholds (median by default), exactly as the index applies them
    return encode_bits(encoder, X_train), encode_bits(encoder, X_query)


@dataclass(frozen=True)
class Method:
    """A method of the comparison: ``label`` names it in reports, ``modules`` are the optional
    modules it imports (refused up front when missing)."""

    label: str
    modules: tuple[str, ...] = ()
    kind: ClassVar[str] = ""  # "hashing" or "reference", as results.json records it
    shares_setup: ClassVar[bool] = False  # whether setup() does work (timed as setup_seconds)

    def lengths(self, bits: tuple[int, ...]) -> list[int | None]:
        """The runs of this method: one per code length, or one (``None``) without codes."""
        return [None]

    def setup(self, inputs: MethodInputs, width: int) -> Any:
        """Work shared by every run (``width``: the largest code length); timed on its own."""
        return None

    def produce(self, inputs: MethodInputs, shared: Any, n_bits: int | None) -> Any:
        """The codes or scores of one run."""
        raise NotImplementedError

    def measure(self, output: Any, inputs: MethodInputs) -> dict[str, Any]:
        """The numbers of one run, from what :meth:`produce` made."""
        raise NotImplementedError


@dataclass(frozen=True)
class HashingMethod(Method):
    """Codes documents as bits, once per code length; ranked by Hamming distance."""

    kind: ClassVar[str] = "hashing"

    def lengths(self, bits: tuple[int, ...]) -> list[int | None]:
        return list(bits)

    def measure(self, output: Pair, inputs: MethodInputs) -> dict[str, Any]:
        train_bits, query_bits = output
        data = inputs.data
        return code_metrics(train_bits, query_bits, data.db_labels, data.query_labels, inputs.ks, inputs.seed,
                            inputs.chunk_size)


@dataclass(frozen=True, kw_only=True)
class CodesMethod(HashingMethod):
    """``codes(inputs, n_bits)`` makes ``(train_bits, query_bits)`` from scratch at each length."""

    codes: Callable[[MethodInputs, int], Pair]

    def produce(self, inputs: MethodInputs, shared: Any, n_bits: int | None) -> Pair:
        assert n_bits is not None  # a hashing method runs once per code length (lengths())
        return self.codes(inputs, n_bits)


@dataclass(frozen=True, kw_only=True)
class ProjectionMethod(HashingMethod):
    """A projection computed once at the largest code length (``project(X, Xq, width, seed)``);
    each run keeps its leading ``n_bits`` columns and makes bits of them
    (``to_bits(Y, Yq, n_bits, seed)``)."""

    project: Callable[[sp.spmatrix, sp.spmatrix, int, int], Pair]
    to_bits: Callable[[np.ndarray, np.ndarray, int, int], Pair]
    shares_setup: ClassVar[bool] = True

    def setup(self, inputs: MethodInputs, width: int) -> Pair:
        check_code_width(width, inputs.X_db, need_rank=True)
        return self.project(inputs.X_db, inputs.X_query, width, inputs.seed)

    def produce(self, inputs: MethodInputs, shared: Pair, n_bits: int | None) -> Pair:
        assert n_bits is not None  # a hashing method runs once per code length (lengths())
        return bits_of_leading_columns(self.to_bits, *shared, n_bits, inputs.seed)


@dataclass(frozen=True, kw_only=True)
class ReferenceMethod(Method):
    """Ranks by real-valued scores, no hashing: ``scores(inputs)`` is ``(n_queries, n_db)``."""

    scores: Callable[[MethodInputs], np.ndarray]
    kind: ClassVar[str] = "reference"

    def produce(self, inputs: MethodInputs, shared: Any, n_bits: int | None) -> np.ndarray:
        return self.scores(inputs)

    def measure(self, output: np.ndarray, inputs: MethodInputs) -> dict[str, Any]:
        data = inputs.data
        return score_metrics(output, data.db_labels, data.query_labels, inputs.ks, inputs.seed, inputs.chunk_size)


def bits_of_leading_columns(to_bits: Callable[..., Pair], Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int,
                            seed: int) -> Pair:
    """``to_bits`` of the leading ``n_bits`` columns of a projection shared by every code length."""
    Y_train = np.ascontiguousarray(Y_train[:, :n_bits])
    Y_query = np.ascontiguousarray(Y_query[:, :n_bits])
    return to_bits(Y_train, Y_query, n_bits, seed)


# --------------------------------------------------------------------------------------------
# each method's work, as the registry calls it


def _semhash(inputs: MethodInputs, n_bits: int) -> Pair:
    data = inputs.data
    return semhash_codes(data.X_db, data.X_query, n_bits, inputs.seed, inputs.model, inputs.progress)


def _lsh(inputs: MethodInputs, n_bits: int) -> Pair:
    return lsh_codes(inputs.X_db, inputs.X_query, n_bits, inputs.seed)


def _median(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int) -> Pair:
    return median_threshold_bits(Y_train, Y_query)


def _itq(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int) -> Pair:
    return itq_bits(Y_train, Y_query, seed)


def _spectral(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int) -> Pair:
    return spectral_bits(Y_train, Y_query, n_bits)


def _sign(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int) -> Pair:
    return sign_bits(Y_train, Y_query)


def _tfidf(inputs: MethodInputs) -> np.ndarray:
    return tfidf_cosine_scores(inputs.data.X_db, inputs.data.X_query)


def _bm25(inputs: MethodInputs) -> np.ndarray:
    return bm25_scores(inputs.data.db_texts, inputs.data.query_texts, show_progress=inputs.progress)


# hashing methods first, then the references: the order of --methods' default and of the runs
METHODS: dict[str, Method] = {
    "semhash": CodesMethod("semhash (deep autoencoder)", codes=_semhash),
    "lsh": CodesMethod("LSH (random hyperplanes)", codes=_lsh),
    "lsi": ProjectionMethod("LSI + median", project=lsi_projection, to_bits=_median),
    "itq": ProjectionMethod("LSI + ITQ", project=pca_projection, to_bits=_itq),
    "sh": ProjectionMethod("Spectral hashing", project=pca_projection, to_bits=_spectral),
    "sth": ProjectionMethod("Self-taught hashing (STH)", project=sth_projection, to_bits=_sign),
    "tfidf": ReferenceMethod("TF-IDF cosine (no hashing)", scores=_tfidf),
    "bm25": ReferenceMethod("BM25 (no hashing)", modules=("bm25s",), scores=_bm25),
}

HASHING_METHODS = tuple(name for name, m in METHODS.items() if m.kind == "hashing")
REFERENCE_METHODS = tuple(name for name, m in METHODS.items() if m.kind == "reference")
ALL_METHODS = HASHING_METHODS + REFERENCE_METHODS
METHOD_LABELS = {name: m.label for name, m in METHODS.items()}
METHOD_MODULES = {name: m.modules for name, m in METHODS.items() if m.modules}
# the projection each projection baseline starts from; its leading b columns serve every b-bit run
BASELINE_PROJECTIONS = {name: m.project for name, m in METHODS.items() if isinstance(m, ProjectionMethod)}


def baseline_bits_from_projection(
    method: str, Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int, seed: int = 0
) -> Pair:
    """Bits of ``method`` (lsi, itq, sh) from the leading ``n_bits`` projection columns."""
    found = METHODS.get(method)
    if not isinstance(found, ProjectionMethod):
        raise ConfigError(f"{method!r} has no projection stage")
    return bits_of_leading_columns(found.to_bits, Y_train, Y_query, n_bits, seed)


def check_dependencies(methods: Iterable[str], plots: bool = False) -> None:
    """Refuse, before any data is read or model trained, a run whose ``methods`` (or plots)
    need a module that is not installed; the :class:`ConfigError` names the install command."""
    needs = []
    for method in methods:
        missing = missing_modules(METHOD_MODULES.get(method, ()))
        if missing:
            needs.append((f"the {method} method needs {', '.join(missing)}", f"leave {method} out of --methods"))
    missing = missing_modules(PLOT_MODULES) if plots else []
    if missing:
        needs.append((f"the plots need {', '.join(missing)}", "pass --no-plots"))
    if needs:
        raise ConfigError(f"{' and '.join(n for n, _ in needs)}, not installed: {EVAL_EXTRA} "
                          f"(or {' and '.join(alt for _, alt in needs)})")
