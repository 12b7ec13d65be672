"""Small pure helpers over arrays shared by the training modules (NumPy only, no SciPy import:
sparse matrices are recognised by their ``toarray`` method)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, written with ``tanh`` so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def dense(X) -> np.ndarray:
    """``X`` (a SciPy sparse matrix or array-like) as a dense NumPy array."""
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


def row_distributions(X) -> np.ndarray:
    """Each row scaled to sum to one (the document's word distribution); dense float32."""
    rows = dense(X).astype(np.float32, copy=False)
    totals = rows.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return rows / totals


def dense_rows(X, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of ``X`` as a dense float32 array."""
    return dense(X[idx]).astype(np.float32, copy=False)


def batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Row indices of ``n`` rows in shuffled batches of ``batch_size``."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]
