"""FaissBinaryIndex against brute force and against HammingTable."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from semhash.codes import hamming_distances, pack_bits
from semhash.errors import IndexFormatError, NotFittedError
from semhash.faiss_index import FaissBinaryIndex
from semhash.hashtable import HammingTable

N_BITS = [8, 16, 32, 64, 128]


@pytest.fixture(autouse=True, scope="module")
def one_faiss_thread():
    """Tiny single-query searches: OpenMP wake-ups on a busy machine cost ~30 ms each."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def make_db(kind, n_bits, n=500, seed=0):
    rng = np.random.default_rng(seed + n_bits)
    if kind == "random":
        codes = rng.integers(0, 256, size=(n, n_bits // 8), dtype=np.uint8)
    else:  # few centres, many exact duplicates: lots of distance ties
        centres = rng.integers(0, 2, size=(5, n_bits), dtype=np.uint8)
        bits = centres[rng.integers(0, 5, n)]
        flips = rng.random((n, n_bits)) < 1.0 / n_bits
        flips[: n // 2] = False
        codes = pack_bits(bits ^ flips)
    ids = rng.choice(10 * n, size=n, replace=False).astype(np.int64)
    return codes, ids


def brute_knn(codes, ids, query, k):
    dist = hamming_distances(query, codes)
    order = np.lexsort((ids, dist))[:k]
    return ids[order], dist[order]


def brute_ball(codes, ids, query, radius):
    dist = hamming_distances(query, codes)
    hit = np.flatnonzero(dist <= radius)
    order = np.lexsort((ids[hit], dist[hit]))
    return ids[hit][order], dist[hit][order]


def assert_same(got, want):
    assert got[0].dtype == np.int64 and got[1].dtype == np.int32
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("n_bits", N_BITS)
def test_faiss_distances_equal_codes_hamming(n_bits):
    """Raw FAISS on the same uint8 bytes gives the distances of semhash.codes."""
    codes, _ = make_db("random", n_bits, n=200)
    index = faiss.IndexBinaryFlat(n_bits)
    index.add(codes)
    dist, rows = index.search(codes[:5], len(codes))
    for q, d, r in zip(codes[:5], dist, rows):
        np.testing.assert_array_equal(d, hamming_distances(q, codes)[r])


@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("n_bits", N_BITS)
def test_knn_matches_brute_force_and_table(n_bits, kind):
    codes, ids = make_db(kind, n_bits)
    index = FaissBinaryIndex.build(codes, ids, n_bits)
    table = HammingTable.build(codes, ids, n_bits)
    assert len(index) == len(codes)
    queries = np.concatenate([codes[:4], codes[-4:] ^ np.uint8(3)])
    for q in queries:
        for k in (1, 7, 100, 500, 800):
            want = brute_knn(codes, ids, q, k)
            assert_same(index.knn(q, k), want)
            assert_same(table.knn(q, k), want)


def test_knn_batch_equals_knn():
    codes, ids = make_db("clustered", 32)
    index = FaissBinaryIndex.build(codes, ids, 32)
    ids_b, dist_b = index.knn_batch(codes[:6], 10)
    assert ids_b.shape == dist_b.shape == (6, 10)
    for q, i, d in zip(codes[:6], ids_b, dist_b):
        assert_same((i, d), index.knn(q, 10))
    assert index.knn_batch(codes[:2], 0)[0].shape == (2, 0)
    assert index.knn(codes[0], 0)[0].shape == (0,)
    ids_b, dist_b = index.knn_batch(codes[:2], 10_000)  # k beyond the index: no -1 padding
    assert ids_b.shape == (2, len(codes)) and (ids_b >= 0).all()


@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("n_bits", [8, 32, 128])
def test_range_search_is_the_hamming_ball(n_bits, kind):
    codes, ids = make_db(kind, n_bits)
    index = FaissBinaryIndex.build(codes, ids, n_bits)
    table = HammingTable.build(codes, ids, n_bits)
    for q in codes[:5]:
        for r in (0, 1, 2, 3, n_bits):
            want = brute_ball(codes, ids, q, r)
            assert_same(index.range_search(q, r), want)
            assert_same(table.ball(q, r), want)


def test_add_remove_equals_fresh_build():
    codes, ids = make_db("clustered", 64)
    index = FaissBinaryIndex.build(codes[:300], ids[:300], 64)
    index.add(codes[300:], ids[300:])
    gone = ids[::4]
    index.remove(gone)
    keep = ~np.isin(ids, gone)
    fresh = FaissBinaryIndex.build(codes[keep], ids[keep], 64)
    assert len(index) == len(fresh) == keep.sum()
    for q in codes[:5]:
        assert_same(index.knn(q, 50), fresh.knn(q, 50))
        assert_same(index.range_search(q, 3), fresh.range_search(q, 3))
        assert not np.isin(index.range_search(q, 64)[0], gone).any()
    with pytest.raises(ValueError, match="not in the index"):
        index.remove(gone[:1])
    with pytest.raises(ValueError, match="already in the index"):
        index.add(codes[:1], ids[1:2])


def test_save_load_round_trip(tmp_path):
    codes, ids = make_db("clustered", 128)
    index = FaissBinaryIndex.build(codes, ids, 128)
    path = tmp_path / "sub" / "faiss.index"
    index.save(path)
    loaded = FaissBinaryIndex.load(path, 128)
    assert len(loaded) == len(index)
    for q in codes[:5]:
        assert_same(loaded.knn(q, 20), index.knn(q, 20))
        assert_same(loaded.range_search(q, 2), index.range_search(q, 2))
    loaded.remove(ids[:10])
    assert len(loaded) == len(index) - 10
    with pytest.raises(IndexFormatError, match="128-bit"):
        FaissBinaryIndex.load(path, 64)
    with pytest.raises(IndexFormatError, match="missing"):
        FaissBinaryIndex.load(tmp_path / "nope.index", 128)
    (tmp_path / "junk.index").write_bytes(b"not a faiss index")
    with pytest.raises(IndexFormatError, match="cannot read"):
        FaissBinaryIndex.load(tmp_path / "junk.index", 128)


def test_empty_and_validation():
    index = FaissBinaryIndex.build(np.zeros((0, 2), dtype=np.uint8), np.zeros(0, np.int64), 16)
    assert len(index) == 0
    assert index.knn(np.zeros(2, dtype=np.uint8), 5)[0].size == 0
    assert index.range_search(np.zeros(2, dtype=np.uint8), 16)[0].size == 0
    with pytest.raises(ValueError, match="n_bytes=2"):
        index.knn(np.zeros(3, dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="radius"):
        index.range_search(np.zeros(2, dtype=np.uint8), 17)
    with pytest.raises(ValueError, match="k must"):
        index.knn(np.zeros(2, dtype=np.uint8), -1)
    with pytest.raises(NotFittedError):
        len(FaissBinaryIndex(16))
