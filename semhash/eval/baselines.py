"""The methods semhash is compared with, as pure functions over arrays.

Hashing baselines return ``(train_bits, query_bits)``, uint8 arrays of 0/1 of shape
``(n, n_bits)``: random-hyperplane LSH, LSI thresholded at the median, PCA + ITQ (the rotation
is :func:`semhash.train.itq.itq_rotation`, shared with training) and spectral hashing. LSI, ITQ
and spectral hashing start from a projection (:func:`lsi_projection`, :func:`pca_projection`)
whose leading columns serve every code length. The non-hashing references return dense scores
``(n_queries, n_db)``, higher is better: TF-IDF cosine and BM25.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError
from ..train.graph import nearest_neighbours, spectral_embedding
from ..train.itq import itq_rotation
from ..vectorize import l2_normalize
from .extras import EVAL_EXTRA

Pair = tuple[np.ndarray, np.ndarray]  # (database side, query side)
STH_NEIGHBOURS = 25  # self-taught hashing: neighbours per document in the graph
STH_SVM_C = 1.0  # and the linear SVMs' regularisation


def _bits(values: np.ndarray) -> np.ndarray:
    return (np.asarray(values) > 0).astype(np.uint8)


def check_code_width(n_bits: int, X: sp.spmatrix, need_rank: bool) -> None:
    """A baseline's code length: at least 1 bit, and below the rank of ``X`` when the baseline
    projects onto ``n_bits`` directions (the evaluation's own rule: a code length here is any
    width a baseline can produce, not only an index's 8..128)."""
    if n_bits < 1:
        raise ConfigError(f"n_bits must be at least 1, got {n_bits}")
    if need_rank and n_bits >= min(X.shape):
        raise ConfigError(
            f"{n_bits} bits need more than {n_bits} documents and features; got a {X.shape[0]} x {X.shape[1]} matrix"
        )


def lsh_codes(X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0) -> Pair:
    """Random-hyperplane LSH (Charikar's SimHash): bit j = [x . w_j > 0], w_j ~ N(0, I)."""
    check_code_width(n_bits, X_train, need_rank=False)
    W = np.random.default_rng(seed).standard_normal((X_train.shape[1], n_bits)).astype(np.float32)
    return _bits(X_train @ W), _bits(X_query @ W)


def lsi_projection(X_train: sp.spmatrix, X_query: sp.spmatrix, n_components: int, seed: int = 0) -> Pair:
    """Latent semantic indexing: truncated SVD of the (uncentred) TF-IDF, fitted on training."""
    from sklearn.decomposition import TruncatedSVD  # scikit-learn only when LSI runs

    svd = TruncatedSVD(n_components=n_components, algorithm="randomized", n_iter=7, random_state=seed)
    return svd.fit_transform(X_train), svd.transform(X_query)


def pca_projection(X_train: sp.spmatrix, X_query: sp.spmatrix, n_components: int, seed: int = 0) -> Pair:
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


def median_threshold_bits(Y_train: np.ndarray, Y_query: np.ndarray) -> Pair:
    """Bit j = [y_j > median of y_j over the training set]: balanced bits from any projection."""
    median = np.median(Y_train, axis=0)
    return _bits(Y_train - median), _bits(Y_query - median)


def lsi_median_codes(
    X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0
) -> Pair:
    """LSI to ``n_bits`` dims, each thresholded at its median over the training set."""
    check_code_width(n_bits, X_train, need_rank=True)
    return median_threshold_bits(*lsi_projection(X_train, X_query, n_bits, seed))


def itq_bits(
    V_train: np.ndarray, V_query: np.ndarray, seed: int = 0, n_iter: int = 50
) -> Pair:
    """Signs of centred projections after the ITQ rotation learnt on ``V_train``."""
    R = itq_rotation(V_train, n_iter, seed)
    return _bits(V_train @ R), _bits(V_query @ R)


def itq_codes(
    X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0, n_iter: int = 50
) -> Pair:
    """PCA to ``n_bits`` dims, then an ITQ rotation (``n_iter`` iterations), then signs."""
    check_code_width(n_bits, X_train, need_rank=True)
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


def spectral_bits(Y_train: np.ndarray, Y_query: np.ndarray, n_bits: int) -> Pair:
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
) -> Pair:
    """Spectral hashing (Weiss et al. 2008): PCA to ``n_bits`` dims, then :func:`spectral_bits`."""
    check_code_width(n_bits, X_train, need_rank=True)
    return spectral_bits(*pca_projection(X_train, X_query, n_bits, seed), n_bits)


def sth_projection(X_train: sp.spmatrix, X_query: sp.spmatrix, n_components: int, seed: int = 0) -> Pair:
    """Self-taught hashing (Zhang, Wang, Cai & Lu, SIGIR 2010) up to ``n_components`` bits.

    Database side: the Laplacian eigenmap of the cosine-weighted, symmetrized graph of each
    document's :data:`STH_NEIGHBOURS` nearest neighbours (its ``n_components`` smoothest
    directions, :func:`semhash.train.graph.spectral_embedding` with no eigenvalue floor), each
    column minus its median, so a bit is ``[value > median]``. Query side: one linear SVM per bit
    (``C =`` :data:`STH_SVM_C`) trained on the database documents to predict it; its decision
    value, whose sign is the bit. Column j does not depend on ``n_components``, so the leading
    columns are the codes of every shorter length.
    """
    from sklearn.svm import LinearSVC  # scikit-learn only when STH runs

    N = l2_normalize(sp.csr_matrix(X_train, dtype=np.float64))
    k = min(STH_NEIGHBOURS, N.shape[0] - 1)
    nbrs = nearest_neighbours(N, k)
    E = spectral_embedding(nbrs, n_components, seed, min_eigenvalue=-np.inf, weights=edge_cosines(N, nbrs))
    Y_train = E - np.median(E, axis=0)
    Q = sp.csr_matrix(X_query, dtype=np.float64)
    Y_query = np.empty((Q.shape[0], Y_train.shape[1]))
    for j in range(Y_train.shape[1]):
        bits = Y_train[:, j] > 0
        if bits.all() or not bits.any():  # a constant bit: nothing to learn
            Y_query[:, j] = 1.0 if bits.all() else -1.0
            continue
        # the dual solver: many times faster here than the primal one scikit-learn picks when
        # there are more documents than words, for the same decisions
        svm = LinearSVC(C=STH_SVM_C, dual=True, random_state=seed).fit(N, bits)
        Y_query[:, j] = svm.decision_function(Q)
    return Y_train, Y_query


def edge_cosines(N: sp.csr_matrix, nbrs: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """``(n, k)`` cosine of each L2-normalized row of ``N`` with its neighbours ``nbrs`` (floored
    at a tiny positive weight, so every listed edge stays in the graph)."""
    n, k = nbrs.shape
    out = np.empty((n, k))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        pairs = N[np.repeat(rows, k)].multiply(N[nbrs[rows].ravel()])
        out[rows] = np.asarray(pairs.sum(axis=1)).reshape(rows.size, k)
    return np.maximum(out, 1e-12)


def sign_bits(Y_train: np.ndarray, Y_query: np.ndarray) -> Pair:
    """Bit j = [y_j > 0] on both sides."""
    return _bits(Y_train), _bits(Y_query)


def sth_codes(X_train: sp.spmatrix, X_query: sp.spmatrix, n_bits: int, seed: int = 0) -> Pair:
    """Self-taught hashing with ``n_bits`` bits (:func:`sth_projection`)."""
    check_code_width(n_bits, X_train, need_rank=True)
    return sign_bits(*sth_projection(X_train, X_query, n_bits, seed))


# each hashing baseline as one function of (X_train, X_query, n_bits, seed)
BASELINE_CODES: dict[str, Callable[..., Pair]] = {
    "lsh": lsh_codes,
    "lsi": lsi_median_codes,
    "itq": itq_codes,
    "sh": spectral_hashing_codes,
    "sth": sth_codes,
}

# --------------------------------------------------------------------------------------------
# non-hashing references: dense scores (n_queries, n_db), higher is better


def tfidf_cosine_scores(X_train: sp.spmatrix, X_query: sp.spmatrix, chunk_size: int = 1000) -> np.ndarray:
    """Cosine similarity between TF-IDF vectors, ``(n_queries, n_db)`` float32."""
    from sklearn.preprocessing import normalize  # scikit-learn only when the reference runs

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
        import bm25s  # the optional `eval` extra
    except ImportError as e:
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

