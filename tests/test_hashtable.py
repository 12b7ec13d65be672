"""HammingTable against brute force: every method, every width, random and clustered codes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semhash import hashtable
from semhash.codes import hamming_distances, pack_bits
from semhash.errors import ConfigError, IndexFormatError, NotFittedError
from semhash.hashtable import (
    HammingTable,
    ball_size,
    bit_combinations,
    choose_method,
    expand_ranges,
    flip_masks,
    lookup_ball,
    mih_radii,
    pack_keys,
    searchable,
    substring_slices,
)

N_BITS = [8, 16, 32, 64, 128]
METHODS = ["table", "mih", "scan"]


def brute_ball(codes, ids, query, radius):
    dist = hamming_distances(query, codes)
    hit = np.flatnonzero(dist <= radius)
    order = np.lexsort((ids[hit], dist[hit]))
    return ids[hit][order], dist[hit][order]


def brute_knn(codes, ids, query, k):
    dist = hamming_distances(query, codes)
    order = np.lexsort((ids, dist))[:k]
    return ids[order], dist[order]


def random_codes(rng, n, n_bits):
    return rng.integers(0, 256, size=(n, n_bits // 8), dtype=np.uint8)


def clustered_codes(rng, n, n_bits):
    """A few centres, codes a couple of bit flips away, and many exact duplicates."""
    centres = rng.integers(0, 2, size=(6, n_bits), dtype=np.uint8)
    bits = centres[rng.integers(0, len(centres), n)]
    flips = rng.random((n, n_bits)) < 1.5 / n_bits
    flips[: n // 2] = False  # half are exact copies of a centre
    return pack_bits(bits ^ flips)


def make_db(kind, n_bits, n=600, seed=0):
    rng = np.random.default_rng(seed + n_bits)
    codes = random_codes(rng, n, n_bits) if kind == "random" else clustered_codes(rng, n, n_bits)
    ids = rng.choice(10 * n, size=n, replace=False).astype(np.int64)  # not contiguous
    return codes, ids


def make_queries(codes, n_bits, seed=1, n=6):
    """Stored codes, stored codes with one or two bits flipped, and random codes."""
    rng = np.random.default_rng(seed)
    stored = codes[rng.integers(0, len(codes), n)]
    near = stored.copy()
    byte = rng.integers(0, n_bits // 8, n)
    near[np.arange(n), byte] ^= np.uint8(1) << rng.integers(0, 8, n).astype(np.uint8)
    return np.concatenate([stored, near, random_codes(rng, 2, n_bits)])


def assert_same(got, want):
    assert got[0].dtype == np.int64 and got[1].dtype == np.int32
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.fixture(params=["probe", "keyscan"])
def strategy(request, monkeypatch):
    """Run table lookups both by flip-mask probing and by scanning the distinct keys."""
    monkeypatch.setattr(hashtable, "KEYSCAN_RATIO", 0 if request.param == "probe" else math.inf)
    return request.param


# ----------------------------------------------------------------------------- pure functions


def test_pack_keys_bit_order():
    for n_bits in (8, 32, 64):
        bits = np.zeros((n_bits, n_bits), dtype=np.uint8)
        bits[np.arange(n_bits), np.arange(n_bits)] = 1
        keys = pack_keys(pack_bits(bits))
        assert keys.shape == (n_bits, 1) and keys.dtype == np.uint64
        want = [1 << (n_bits - 1 - i) for i in range(n_bits)]
        assert [int(k) for k in keys[:, 0]] == want
    keys = pack_keys(np.arange(16, dtype=np.uint8)[None, :])  # 128 bits: two words
    assert keys.shape == (1, 2)
    assert int(keys[0, 0]) == int.from_bytes(bytes(range(8)), "big")
    assert int(keys[0, 1]) == int.from_bytes(bytes(range(8, 16)), "big")


def test_searchable_sorts_like_the_words():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 4, size=(200, 2)).astype(np.uint64) << np.uint64(62)
    flat = searchable(keys)
    order = np.argsort(flat, kind="stable")
    want = np.lexsort((keys[:, 1], keys[:, 0]))
    np.testing.assert_array_equal(keys[order], keys[want])


def test_expand_ranges():
    got = expand_ranges(np.array([3, 10, 5, 7]), np.array([5, 10, 8, 8]))
    np.testing.assert_array_equal(got, [3, 4, 5, 6, 7, 7])
    assert expand_ranges(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).size == 0


def test_bit_combinations():
    from itertools import combinations

    for n, k in [(5, 0), (5, 1), (6, 3), (8, 8)]:
        assert bit_combinations(n, k).tolist() == [list(c) for c in combinations(range(n), k)]


@pytest.mark.parametrize("n_bits,radius", [(8, 8), (16, 2), (32, 3), (72, 2), (128, 2)])
def test_flip_masks(n_bits, radius):
    masks, dist = flip_masks(n_bits, radius)
    assert len(masks) == ball_size(n_bits, radius) == len(dist)
    assert len(np.unique(searchable(masks))) == len(masks)
    np.testing.assert_array_equal(hashtable.popcount(masks).sum(axis=1), dist)
    assert np.all(np.diff(dist) >= 0)
    assert not masks.flags.writeable
    top = n_bits - 64 * (masks.shape[1] - 1)  # bits used in the first word
    if top < 64:  # no mask touches the left padding
        assert np.all(masks[:, 0] >> np.uint64(top) == 0)


def test_substring_slices_cover_the_code():
    for n_bytes in (1, 2, 4, 8, 16):
        for n_codes in (0, 10, 5000, 10**6, 10**9):
            slices = substring_slices(n_bytes, n_codes)
            assert slices[0][0] == 0 and slices[-1][1] == n_bytes
            assert all(a < b and b - a <= 4 for a, b in slices)
            assert all(s[1] == t[0] for s, t in itertools.pairwise(slices))
    assert substring_slices(4, 10**6) == [(0, 2), (2, 4)]  # log2(1e6) ~ 20 bits -> 16-bit pieces


def test_mih_radii_pigeonhole():
    """Any distance vector over m substrings with total <= r has one part within its radius."""
    rng = np.random.default_rng(0)
    for _ in range(2000):
        m = int(rng.integers(1, 6))
        r = int(rng.integers(0, 20))
        parts = rng.multinomial(r, np.ones(m) / m)  # total exactly r: the hardest case
        radii = mih_radii(r, m)
        assert any(p <= q for p, q in zip(parts, radii))


def test_choose_method():
    assert choose_method(100, 64, 3, substring_slices(8, 100)) == "scan"
    big = 10**6
    assert choose_method(big, 32, 0, substring_slices(4, big)) == "table"
    assert choose_method(big, 64, 4, substring_slices(8, big)) == "mih"
    assert choose_method(big, 128, 64, substring_slices(16, big)) == "scan"


def test_lookup_ball_probe_and_keyscan_agree():
    rng = np.random.default_rng(3)
    codes = clustered_codes(rng, 300, 32)
    keys, offsets, _order = hashtable.build_buckets(pack_keys(codes), np.arange(300))
    q = pack_keys(codes[:1])[0]
    for r in range(5):
        a = lookup_ball(keys, searchable(keys), offsets, q, 32, r, keyscan_ratio=0)
        b = lookup_ball(keys, searchable(keys), offsets, q, 32, r, keyscan_ratio=math.inf)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(np.sort(x), np.sort(y))


# ----------------------------------------------------------------------------- ball


@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("n_bits", N_BITS)
def test_ball_matches_brute_force(n_bits, kind, strategy):
    codes, ids = make_db(kind, n_bits)
    table = HammingTable.build(codes, ids, n_bits)
    for q in make_queries(codes, n_bits):
        for r in range(4):
            want = brute_ball(codes, ids, q, r)
            for method in METHODS + ["auto"]:
                got = table.ball(q, r, method=method)
                assert len(np.unique(got[0])) == len(got[0])
                assert_same(got, want)


@pytest.mark.parametrize("n_bits", [32, 64, 128])
def test_ball_multi_byte_substrings(n_bits, strategy):
    """A database big enough for 16-bit multi-index substrings and for 'auto' to leave scan."""
    codes, ids = make_db("clustered", n_bits, n=5000)
    codes[::2] = random_codes(np.random.default_rng(9), 2500, n_bits)
    table = HammingTable.build(codes, ids, n_bits)
    assert all(b - a == 2 for a, b in substring_slices(n_bits // 8, len(codes)))
    for q in make_queries(codes, n_bits, n=3):
        for r in (0, 1, 3, 5):
            want = brute_ball(codes, ids, q, r)
            for method in METHODS + ["auto"]:
                assert_same(table.ball(q, r, method=method), want)


@pytest.mark.parametrize("n_bits", [8, 16])
@pytest.mark.parametrize("method", METHODS)
def test_radius_growth_and_full_radius(n_bits, method, strategy):
    codes, ids = make_db("clustered", n_bits, n=300)
    table = HammingTable.build(codes, ids, n_bits)
    q = make_queries(codes, n_bits, n=1)[-1]
    radii = range(n_bits + 1) if n_bits == 8 else [0, 1, 2, 3, 5, 8, 12, 16]
    previous = set()
    for r in radii:
        got = table.ball(q, r, method=method)
        assert_same(got, brute_ball(codes, ids, q, r))
        assert previous <= set(got[0].tolist())
        previous = set(got[0].tolist())
    np.testing.assert_array_equal(np.sort(table.ball(q, n_bits, method=method)[0]), np.sort(ids))


@pytest.mark.parametrize("n_bits", [16, 64, 128])
def test_radius_growth_random(n_bits):
    codes, ids = make_db("random", n_bits, n=300)
    table = HammingTable.build(codes, ids, n_bits)
    q = codes[0]
    sizes = [len(table.ball(q, r, method="mih")[0]) for r in range(0, n_bits + 1, 4)]
    assert sizes == sorted(sizes) and sizes[-1] == len(ids)


def test_ball_batch_equals_ball():
    codes, ids = make_db("clustered", 32)
    table = HammingTable.build(codes, ids, 32)
    queries = make_queries(codes, 32)
    for method in METHODS + ["auto"]:
        batch = table.ball_batch(queries, 2, method=method)
        assert len(batch) == len(queries)
        for q, got in zip(queries, batch):
            assert_same(got, table.ball(q, 2, method=method))


# ----------------------------------------------------------------------------- knn


@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("n_bits", N_BITS)
def test_knn_matches_brute_force(n_bits, kind):
    codes, ids = make_db(kind, n_bits, n=400)
    table = HammingTable.build(codes, ids, n_bits)
    for q in make_queries(codes, n_bits, n=3):
        for k in (1, 5, 37, 400, 1000):
            assert_same(table.knn(q, k), brute_knn(codes, ids, q, k))
    assert table.knn(codes[0], 0)[0].shape == (0,)


# ----------------------------------------------------------------------------- updates, io


def assert_tables_equal(a, b, codes, n_bits):
    for name in ("keys_", "offsets_", "ids_", "codes_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for q in make_queries(codes, n_bits, n=3):
        for method in METHODS:
            assert_same(a.ball(q, 2, method=method), b.ball(q, 2, method=method))
        assert_same(a.knn(q, 10), b.knn(q, 10))


@pytest.mark.parametrize("n_bits", [16, 128])
def test_add_remove_equals_fresh_build(n_bits):
    codes, ids = make_db("clustered", n_bits, n=500)
    table = HammingTable.build(codes[:300], ids[:300], n_bits)
    table.ball(codes[0], 2, method="mih")  # build the multi-index tables, then invalidate them
    table.add(codes[300:], ids[300:])
    assert len(table) == 500
    assert_tables_equal(table, HammingTable.build(codes, ids, n_bits), codes, n_bits)
    gone = ids[::3]
    table.remove(gone)
    keep = ~np.isin(ids, gone)
    assert len(table) == keep.sum()
    assert_tables_equal(table, HammingTable.build(codes[keep], ids[keep], n_bits), codes, n_bits)
    assert not np.isin(table.ball(codes[0], n_bits)[0], gone).any()


@pytest.mark.parametrize("mmap", [False, True])
def test_codes_of_returns_each_documents_code(tmp_path, mmap):
    rng = np.random.default_rng(11)
    codes = random_codes(rng, 300, 32)
    ids = rng.choice(10_000, size=300, replace=False).astype(np.int64)  # sparse, unsorted ids
    HammingTable.build(codes, ids, 32).save(tmp_path)
    table = HammingTable.load(tmp_path, 32, mmap=mmap)
    pick = rng.permutation(300)[:50]
    np.testing.assert_array_equal(table.codes_of(ids[pick]), codes[pick])
    assert table.codes_of(np.zeros(0, np.int64)).shape == (0, 4)
    with pytest.raises(ValueError, match="ids not in the table"):
        table.codes_of(np.array([ids[0], 10_001]))
    # the id index follows changes to the table
    table.add(random_codes(rng, 2, 32), [20_000, -5])
    np.testing.assert_array_equal(table.codes_of([-5, ids[3]])[1], codes[3])
    table.remove(ids[:10])
    with pytest.raises(ValueError, match="ids not in the table"):
        table.codes_of(ids[:1])
    np.testing.assert_array_equal(table.codes_of(ids[10:20]), codes[10:20])


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("n_bits", [32, 128])
def test_save_load_round_trip(tmp_path, n_bits, mmap):
    codes, ids = make_db("clustered", n_bits)
    table = HammingTable.build(codes, ids, n_bits)
    names = table.save(tmp_path / "ht")
    assert sorted(names) == sorted(hashtable.FILES.values())
    assert all((tmp_path / "ht" / n).is_file() for n in names)
    loaded = HammingTable.load(tmp_path / "ht", n_bits, mmap=mmap)
    if mmap:
        assert isinstance(loaded.codes_, np.memmap)
    assert len(loaded) == len(table)
    assert_tables_equal(loaded, table, codes, n_bits)
    loaded.add(random_codes(np.random.default_rng(5), 3, n_bits), [-1, -2, -3])  # mmap: copies
    assert len(loaded) == len(table) + 3


def test_load_errors(tmp_path):
    codes, ids = make_db("random", 32, n=50)
    HammingTable.build(codes, ids, 32).save(tmp_path)
    with pytest.raises(IndexFormatError, match="expected"):
        HammingTable.load(tmp_path, 64)
    (tmp_path / hashtable.FILES["offsets"]).unlink()
    with pytest.raises(IndexFormatError, match="hashtable_offsets.npy"):
        HammingTable.load(tmp_path, 32)


def test_bucket_stats():
    codes = np.array([[1], [1], [1], [2], [3]], dtype=np.uint8)
    stats = HammingTable.build(codes, np.arange(5), 8).bucket_stats()
    assert stats == {
        "n_docs": 5,
        "n_buckets": 3,
        "max_bucket": 3,
        "mean_bucket": 5 / 3,
        "singleton_fraction": 2 / 3,
    }


def test_empty_table():
    table = HammingTable.build(np.zeros((0, 2), dtype=np.uint8), np.zeros(0, dtype=np.int64), 16)
    assert len(table) == 0
    for method in METHODS + ["auto"]:
        ids, dist = table.ball(np.zeros(2, dtype=np.uint8), 3, method=method)
        assert ids.size == 0 and dist.size == 0
    assert table.knn(np.zeros(2, dtype=np.uint8), 3)[0].size == 0
    assert table.bucket_stats()["n_buckets"] == 0


def test_validation():
    codes, ids = make_db("random", 16, n=20)
    table = HammingTable.build(codes, ids, 16)
    with pytest.raises(ValueError, match="radius"):
        table.ball(codes[0], -1)
    with pytest.raises(ValueError, match="radius"):
        table.ball(codes[0], 17)
    with pytest.raises(ValueError, match="n_bytes=2"):
        table.ball(np.zeros(3, dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="n_bytes=2"):
        table.ball(codes[:2], 1)
    with pytest.raises(ValueError, match="uint8"):
        table.ball(np.array([0.5, 1.0]), 1)
    with pytest.raises(ConfigError, match="method"):
        table.ball(codes[0], 1, method="fast")
    with pytest.raises(ValueError, match="k must"):
        table.knn(codes[0], -1)
    with pytest.raises(ValueError, match="unique"):
        HammingTable.build(codes[:2], [4, 4], 16)
    with pytest.raises(ValueError, match="2 ids for 3 codes"):
        HammingTable.build(codes[:3], [1, 2], 16)
    with pytest.raises(ConfigError, match="n_bits"):
        HammingTable.build(codes, ids, 12)
    with pytest.raises(ValueError, match="already in the table"):
        table.add(codes[:1], ids[:1])
    with pytest.raises(ValueError, match="not in the table"):
        table.remove([10**9])
    with pytest.raises(NotFittedError):
        HammingTable(16).ball(codes[0], 1)


# ----------------------------------------------------------------------------- property


@settings(max_examples=60, deadline=None)
@given(
    n_bytes=st.integers(1, 16),
    n=st.integers(0, 60),
    dup=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    radius_frac=st.floats(0, 1),
    method=st.sampled_from(METHODS + ["auto"]),
    keyscan=st.booleans(),
)
def test_ball_property(n_bytes, n, dup, seed, radius_frac, method, keyscan):
    n_bits = 8 * n_bytes
    rng = np.random.default_rng(seed)
    base = random_codes(rng, max(1, n // dup), n_bits)
    codes = base[rng.integers(0, len(base), n)]  # duplicates
    ids = rng.choice(10 * n + 1, size=n, replace=False).astype(np.int64)
    radius = min(int(radius_frac * 7), n_bits) if n_bits > 16 else int(radius_frac * n_bits)
    keyscan = keyscan or ball_size(n_bits, radius) > 50_000  # keep the flip masks small
    table = HammingTable.build(codes, ids, n_bits)
    q = codes[0] if n and rng.random() < 0.5 else random_codes(rng, 1, n_bits)[0]
    old = hashtable.KEYSCAN_RATIO
    hashtable.KEYSCAN_RATIO = math.inf if keyscan else 0
    try:
        got = table.ball(q, radius, method=method)
    finally:
        hashtable.KEYSCAN_RATIO = old
    assert_same(got, brute_ball(codes, ids, q, radius))
