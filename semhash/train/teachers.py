"""Graph teachers: how the corpus's nearest-neighbour graph becomes the target bits of the code
layer (``ModelConfig.graph_teacher``). NumPy, SciPy and scikit-learn; no TensorFlow.

Adding a teacher = one :class:`GraphTeacher` subclass + one line in :data:`TEACHERS` (and its
name in :data:`semhash.choices.GRAPH_TEACHERS`, which the CLI offers).
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from ..errors import ConfigError
from ..vectorize import l2_normalize
from .config import ModelConfig
from .graph import neighbour_average, smooth_over_graph, spectral_embedding
from .itq import itq_bits_of, itq_blocks

GRAPH_MEMORY_ENV = "SEMHASH_GRAPH_MEMORY_GB"
GRAPH_MEMORY_DEFAULT_GB = 8.0


def smoothed_code_targets(X, n_bits: int, nbrs: np.ndarray, steps: int, alpha: float, seed: int) -> np.ndarray:
    """Target bits ``(n, n_bits)`` in {0, 1} for the code layer, from the neighbour graph
    (``graph_teacher="smoothed"``, the default before the spectral teacher).

    Each L2-normalized TF-IDF row is smoothed over the graph ``steps`` times
    (``S <- (1 - alpha) X + alpha * mean of the neighbours' S``), so a document takes on what its
    neighbourhood has in common; the smoothed rows are projected on their top principal
    directions and turned into balanced bits by an ITQ rotation (Gong & Lazebnik 2011). No labels
    are involved. The encoder learns to predict these bits from a document's own words, which is
    what lets it code unseen documents and queries.
    """
    N = l2_normalize(sp.csr_matrix(X, dtype=np.float64))
    S = smooth_over_graph(N, neighbour_average(nbrs, N.shape[0]), steps, alpha)
    n_comp = min(n_bits, min(S.shape) - 1)
    if n_comp < 1:
        raise ConfigError(f"graph codes need at least 2 documents and 2 words, got {S.shape}")
    with warnings.catch_warnings():  # identical documents: sklearn divides 0 by 0 in its variance ratio
        warnings.simplefilter("ignore", RuntimeWarning)
        Y = TruncatedSVD(n_comp, algorithm="randomized", n_iter=7, random_state=seed).fit_transform(S)
    bits = itq_bits_of(Y, seed)[0]
    if n_comp < n_bits:  # fewer directions than bits: repeat the ones there are
        bits = np.concatenate([bits] * (-(-n_bits // n_comp)), axis=1)[:, :n_bits]
    return bits.astype(np.float32)


def spectral_code_targets(nbrs: np.ndarray, n_bits: int, dims: int, seed: int) -> np.ndarray:
    """Target bits ``(n, n_bits)`` in {0, 1} from the spectral embedding of the neighbour graph
    (``graph_teacher="spectral"``, the default).

    The graph's (up to) ``dims`` smoothest directions (:func:`spectral_embedding`) are turned into
    balanced bits by ITQ; codes longer than that repeat the block under fresh ITQ rotations
    (seeds ``seed``, ``seed + 1``, ...), and codes shorter than it keep the first ``n_bits`` bits
    of the block. Each document keeps at most ``max(5, sqrt(n))`` of its neighbours, so that on
    a small corpus a neighbour list does not span whole topics. Both beat one ITQ block of exactly
    ``n_bits`` directions on the validation half of 20 Newsgroups (``benchmarks/GRAPH.md``): more
    directions than bits help short codes, and extra directions past about 24 add noise rather
    than topics, while fresh rotations of the same directions make Hamming distance a finer
    measure of their angle.
    """
    n = nbrs.shape[0]
    k = min(nbrs.shape[1], max(5, math.isqrt(n)))  # lists that cover whole topics leave no smooth directions
    return itq_blocks(spectral_embedding(nbrs[:, :k], dims, seed), n_bits, seed)[0].astype(np.float32)


def check_graph_memory(n_docs: int, n_words: int) -> None:
    """Refuse graph codes whose smoothed matrix could outgrow the memory budget.

    Smoothing over 50 neighbours twice leaves the rows nearly dense, so the matrix can take up
    to ``n_docs * n_words * 12`` bytes (CSR float64); the budget is ``$SEMHASH_GRAPH_MEMORY_GB``
    (default 8). Raising here, before anything is trained, leaves any existing index untouched.
    """
    raw = os.environ.get(GRAPH_MEMORY_ENV, "")
    try:
        budget = float(raw) if raw.strip() else GRAPH_MEMORY_DEFAULT_GB
    except ValueError:
        raise ConfigError(f"${GRAPH_MEMORY_ENV} must be a number of gigabytes, got {raw!r}") from None
    need = n_docs * n_words * 12 / 1e9
    if need > budget:
        raise ConfigError(
            f"graph codes for {n_docs} documents x {n_words} words may need up to {need:.1f} GB, more than "
            f"${GRAPH_MEMORY_ENV}={budget:g}; index with --graph-teacher spectral (the default), --graph-codes 0, "
            f"a smaller vocabulary (--max-features), or raise ${GRAPH_MEMORY_ENV}")


class GraphTeacher:
    """Turns the neighbour graph into target bits for the code layer."""

    def check_memory(self, n_docs: int, n_words: int) -> None:
        """Refuse, before anything is trained, a corpus too large for this teacher (default: any size)."""

    def bits(self, X, nbrs: np.ndarray, cfg: ModelConfig) -> np.ndarray:
        """Target bits ``(n, cfg.n_bits)`` in {0, 1} (float32) for the rows ``X`` and their neighbours ``nbrs``."""
        raise NotImplementedError


class SpectralTeacher(GraphTeacher):
    """The graph's smoothest directions, in ITQ blocks (:func:`spectral_code_targets`); keeps only the sparse graph."""

    def bits(self, X, nbrs: np.ndarray, cfg: ModelConfig) -> np.ndarray:
        return spectral_code_targets(nbrs, cfg.n_bits, cfg.graph_dims, cfg.seed)


class SmoothedTeacher(GraphTeacher):
    """TF-IDF rows smoothed over the graph, PCA and ITQ (:func:`smoothed_code_targets`); the smoothed rows are nearly dense."""

    def check_memory(self, n_docs: int, n_words: int) -> None:
        check_graph_memory(n_docs, n_words)

    def bits(self, X, nbrs: np.ndarray, cfg: ModelConfig) -> np.ndarray:
        return smoothed_code_targets(X, cfg.n_bits, nbrs, cfg.graph_steps, cfg.graph_alpha, cfg.seed)


# the keys are semhash.choices.GRAPH_TEACHERS (a test checks), in the same order
TEACHERS: dict[str, GraphTeacher] = {"spectral": SpectralTeacher(), "smoothed": SmoothedTeacher()}


def graph_code_targets(X, nbrs: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """The code layer's target bits from ``cfg.graph_teacher`` (see :data:`TEACHERS`)."""
    return TEACHERS[cfg.graph_teacher].bits(X, nbrs, cfg)
