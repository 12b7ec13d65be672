"""The corpus's nearest-neighbour graph, as NumPy and SciPy: exact cosine neighbours,
neighbour averaging, smoothing over the graph, its spectral embedding and the neighbour-blended
reconstruction targets. No labels are involved anywhere; no TensorFlow is imported.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh
from tqdm.auto import tqdm

from ..vectorize import l2_normalize

SPECTRAL_MIN_EIGENVALUE = 0.5


def nearest_neighbours(X, k: int, chunk: int = 1000, queries=None, progress: bool = False) -> np.ndarray:
    """Indices ``(n, k)`` of each row's ``k`` nearest other rows by cosine similarity, nearest first.

    With ``queries``, the ``k`` nearest rows of ``X`` for each query row instead (a query is not
    excluded from its own list). Exact, in chunks of ``chunk`` rows (quadratic in the number of
    documents: meant for corpora up to about 100k documents; a large corpus trains on a sample).
    ``progress`` shows a bar with the time left.
    """
    N = l2_normalize(sp.csr_matrix(X))
    Q = N if queries is None else l2_normalize(sp.csr_matrix(queries))
    n = Q.shape[0]
    out = np.empty((n, k), dtype=np.int64)
    for start in tqdm(range(0, n, chunk), desc="neighbour graph", unit="chunk", disable=not progress, leave=False):
        S = (Q[start : start + chunk] @ N.T).toarray()
        if queries is None:
            S[np.arange(S.shape[0]), np.arange(start, start + S.shape[0])] = -np.inf  # not itself
        idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(S, idx, axis=1), axis=1, kind="stable")
        out[start : start + chunk] = np.take_along_axis(idx, order, axis=1)  # nearest first
    return out


def neighbour_average(nbrs: np.ndarray, n: int) -> sp.csr_matrix:
    """The ``(len(nbrs), n)`` matrix whose row ``i`` averages the ``n`` rows' entries listed in ``nbrs[i]``."""
    k = nbrs.shape[1]
    return sp.csr_matrix((np.full(nbrs.size, 1.0 / k), nbrs.ravel(), np.arange(0, nbrs.size + 1, k)),
                         shape=(nbrs.shape[0], n))


def smooth_over_graph(N, A, steps: int, alpha: float, Nq=None, Aq=None):
    """``steps`` times ``S <- (1 - alpha) N + alpha A S``, rows L2-normalized at the end.

    ``N`` holds L2-normalized rows and ``A`` averages each row's neighbours
    (:func:`neighbour_average`). Given query rows ``Nq`` and their neighbours' average ``Aq``
    over the rows of ``N``, the queries are smoothed alongside (each step reading the rows'
    previous step) and ``(S, Sq)`` is returned.
    """
    S, Sq = N, Nq
    for _ in range(steps):
        if Nq is not None:
            Sq = ((1.0 - alpha) * Nq + alpha * (Aq @ S)).tocsr()
        S = ((1.0 - alpha) * N + alpha * (A @ S)).tocsr()
    return l2_normalize(S) if Nq is None else (l2_normalize(S), l2_normalize(Sq))


def spectral_embedding(nbrs: np.ndarray, dims: int, seed: int = 0,
                       min_eigenvalue: float = SPECTRAL_MIN_EIGENVALUE, weights: np.ndarray | None = None) -> np.ndarray:
    """``(n, d)`` spectral embedding of the symmetrized k-nearest-neighbour graph in ``nbrs``.

    The leading eigenvectors of the normalized adjacency ``D^-1/2 W D^-1/2`` (Ng, Jordan & Weiss
    2001; Weiss et al. 2008), the trivial one (``sqrt(degree)``) deflated, rescaled by ``D^-1/2``
    so that each row is a document's place in the graph's smoothest directions. At most ``dims`` directions
    are kept, and only those with eigenvalue at least ``min_eigenvalue`` (a direction that one
    step of neighbour averaging keeps at least half of), so a small corpus with a few clear topics
    is not padded with noise; at least one is always kept. Sparse (ARPACK) for large graphs, dense
    for small ones; the start vector comes from ``seed``, so the result is deterministic. Edges
    weigh 1, or ``weights[i, j]`` for the edge to ``nbrs[i, j]`` (the larger of the two
    directions when both are listed).
    """
    n, k = nbrs.shape
    edge_weights = np.ones(n * k) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    W = sp.csr_matrix((edge_weights, (np.repeat(np.arange(n), k), nbrs.ravel())), shape=(n, n))
    W = W.maximum(W.T)
    root_degree = np.sqrt(np.maximum(np.asarray(W.sum(axis=1)).ravel(), 1.0))
    Dm = sp.diags(1.0 / root_degree)
    M = (Dm @ W @ Dm).tocsr()
    # deflate the trivial eigenvector sqrt(degree) (eigenvalue 1), so that a graph in several
    # pieces keeps every piece-indicator direction and only the constant one goes
    u0 = root_degree / np.linalg.norm(root_degree)
    d = min(dims, n - 1)
    if n <= 1000 or d + 1 >= n - 1:
        vals, vecs = np.linalg.eigh(M.toarray() - np.outer(u0, u0))
    else:
        op = LinearOperator((n, n), matvec=lambda x: M @ x - u0 * (u0 @ x), dtype=np.float64)
        vals, vecs = eigsh(op, k=d, which="LA", v0=np.random.default_rng(seed).standard_normal(n))
    order = np.argsort(-vals, kind="stable")[:d]
    order = order[: max(1, int((vals[order] >= min_eigenvalue).sum()))]
    return np.asarray(Dm @ vecs[:, order])


def neighbour_targets(X, k: int, weight: float, nbrs: np.ndarray | None = None):
    """Reconstruction targets: each document's word distribution blended with the mean
    distribution of its ``k`` nearest neighbours by TF-IDF cosine (no labels involved).

    Documents that share neighbours get similar targets, so the code has to carry what the
    neighbourhood has in common rather than the words of one post.
    """
    X = sp.csr_matrix(X, dtype=np.float32)
    n = X.shape[0]
    k = min(k, n - 1)
    if k < 1 or weight == 0.0:
        return X
    totals = np.asarray(X.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    D = (sp.diags(1.0 / totals) @ X).tocsr()
    nbrs = nearest_neighbours(X, k) if nbrs is None or nbrs.shape[1] < k else nbrs[:, :k]
    A = neighbour_average(nbrs, n)
    return ((1.0 - weight) * D + weight * (A @ D)).tocsr().astype(np.float32)
