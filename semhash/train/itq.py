"""Iterative quantization (Gong & Lazebnik 2011): balanced bits from real-valued projections.

NumPy only; shared by the graph teachers of training and the LSI + ITQ baseline of evaluation.
"""

from __future__ import annotations

import numpy as np


def itq_rotation(V: np.ndarray, n_iter: int = 50, seed: int = 0) -> np.ndarray:
    """Iterative quantization (Gong & Lazebnik 2011): the rotation R minimising ||B - V R||_F.

    Alternates B = sign(V R) with the orthogonal Procrustes solution R = U W^T, where
    U S W^T is the SVD of V^T B; starts from a random orthogonal matrix.
    """
    c = V.shape[1]
    R, _r = np.linalg.qr(np.random.default_rng(seed).standard_normal((c, c)))
    for _ in range(n_iter):
        B = np.where(V @ R >= 0, 1.0, -1.0)
        U, _s, Wt = np.linalg.svd(V.T @ B)
        R = U @ Wt
    return R



def itq_bits_of(Y: np.ndarray, seed: int, *others: np.ndarray) -> list[np.ndarray]:
    """Balanced bits of the rows of ``Y``: centred, PCA-rotated, scaled and ITQ-rotated
    (Gong & Lazebnik 2011), then signs; each of ``others`` gets the same transform."""
    mu = Y.mean(axis=0)
    _vals, vecs = np.linalg.eigh((Y - mu).T @ (Y - mu))  # PCA of the centred projection
    V = (Y - mu) @ vecs[:, ::-1]
    scale = max(float(np.abs(V).max()), 1e-12)
    V /= scale
    R = itq_rotation(V, seed=seed)
    return [(V @ R) > 0] + [(((O - mu) @ vecs[:, ::-1]) / scale) @ R > 0 for O in others]



def itq_blocks(E: np.ndarray, n_bits: int, seed: int, *others: np.ndarray) -> list[np.ndarray]:
    """``n_bits`` balanced bits of the rows of ``E``: ITQ blocks of all its columns under rotations
    seeded ``seed``, ``seed + 1``, ... side by side, cut to ``n_bits``; each of ``others`` gets
    the same transforms (:func:`itq_bits_of`)."""
    blocks: list[list[np.ndarray]] = []
    while sum(b[0].shape[1] for b in blocks) < n_bits:
        blocks.append(itq_bits_of(E, seed + len(blocks), *others))
    return [np.concatenate(parts, axis=1)[:, :n_bits] for parts in zip(*blocks)]

