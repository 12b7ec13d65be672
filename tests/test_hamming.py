"""The one Hamming-distance implementation (semhash.hamming) against a byte-table reference, and the
one TF-IDF weighting against its definition."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from semhash import codes, hamming
from semhash.vectorize import idf_weights, log_tfidf, query_terms, weight_counts

POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def reference_matrix(queries: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """Hamming distances one (query, code) pair at a time, with a byte table."""
    return np.array([[POPCOUNT8[q ^ p].sum() for p in packed] for q in queries], dtype=np.int32).reshape(
        len(queries), len(packed))


@pytest.mark.parametrize("n_bytes", range(1, 17))
def test_hamming_matrix_equals_the_byte_table(n_bytes):
    rng = np.random.default_rng(n_bytes)
    for n_q, n_db in ((1, 0), (0, 4), (3, 50), (2, 300)):
        q = rng.integers(0, 256, (n_q, n_bytes), dtype=np.uint8)
        db = rng.integers(0, 256, (n_db, n_bytes), dtype=np.uint8)
        got = hamming.hamming_matrix(q, db)
        assert got.dtype == np.int32 and got.shape == (n_q, n_db)
        np.testing.assert_array_equal(got, reference_matrix(q, db))
        if n_q:
            np.testing.assert_array_equal(hamming.hamming_distances(q[0], db), reference_matrix(q[:1], db)[0])


def test_blocks_views_and_old_names():
    """Blocked matrices, strided and non-uint8 inputs give the same distances; the names semhash.codes
    exported keep working."""
    rng = np.random.default_rng(0)
    db = rng.integers(0, 256, (3 * hamming.BLOCK_CELLS // 5 + 7, 8), dtype=np.uint8)
    q = rng.integers(0, 256, (5, 8), dtype=np.uint8)
    want = np.stack([POPCOUNT8[np.bitwise_xor(db, row)].sum(axis=1) for row in q])
    np.testing.assert_array_equal(hamming.hamming_matrix(q, db), want)
    np.testing.assert_array_equal(codes.hamming_matrix(q, db), want)
    wide = rng.integers(0, 256, (40, 8), dtype=np.uint8)
    strided = wide[:, ::2]  # 4 bytes per code, not contiguous
    np.testing.assert_array_equal(codes.hamming_distances(strided[0], strided.astype(np.int64)),
                                  POPCOUNT8[np.bitwise_xor(strided, strided[0])].sum(axis=1))
    assert codes.POPCOUNT8 is hamming.POPCOUNT8


def test_tfidf_weighting_is_one_definition():
    """weight_counts (matrices) and query_terms (one query) give log(1 + tf) * idf, and the matrix
    keeps the row layout of the diag(idf) product that computed it before (indexes store it)."""
    rng = np.random.default_rng(0)
    counts = sp.random(30, 50, density=0.2, format="csr", random_state=1, dtype=np.float32)
    counts.data = np.ceil(counts.data * 5).astype(np.float32)
    idf = idf_weights(np.asarray((counts > 0).sum(axis=0)).ravel(), 30)
    logs = counts.copy()
    logs.data = np.log1p(logs.data)
    before = (logs @ sp.diags(idf)).tocsr().astype(np.float32)
    got = weight_counts(counts, idf)
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(got, part), getattr(before, part))
    vocabulary = {f"w{j}": j for j in range(50)}
    words = [f"w{j}" for j in rng.integers(0, 50, 40)]
    cols, weights = query_terms(vocabulary, idf, " ".join(words))
    tf = np.array([words.count(f"w{j}") for j in cols], dtype=np.float32)
    np.testing.assert_array_equal(weights, log_tfidf(tf, idf[cols]))
    np.testing.assert_allclose(weights, np.log1p(tf) * idf[cols], rtol=1e-6)
