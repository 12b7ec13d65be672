"""The fast paths give the same answers as the plain ones: batch = single, every lookup
method = the others, a memory-mapped open = a full load, and the CLI exposes them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from semhash.cli import cli
from semhash.errors import QueryError
from semhash.hashtable import HammingTable
from semhash.index import SemanticIndex

QUERIES = [
    "orbit rocket", "pasta tomato sauce", "bank loan interest", "moon astronaut launch", "sugar butter",
    "investor portfolio equity", "satellite payload", "garlic onion simmer", "stock market", "nasa mission",
] * 5  # 50 queries: enough for several thread chunks


def as_tuples(results):
    return [[(h.id, h.distance, h.score, h.row) for h in hits] for hits in results]


@pytest.mark.parametrize("rerank", [True, False])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_batch_equals_single_in_input_order(small_index, threads, rerank):
    idx = SemanticIndex.load(small_index[0])
    single = [idx.search(t, k=7, rerank=rerank) for t in QUERIES]
    batch = idx.search_batch(QUERIES, k=7, rerank=rerank, threads=threads)
    assert as_tuples(batch) == as_tuples(single)


@pytest.mark.parametrize("radius", [0, 2, 5])
def test_every_lookup_method_gives_the_same_hits(small_index, radius):
    idx = SemanticIndex.load(small_index[0])
    want = as_tuples(idx.search_batch(QUERIES[:10], k=10, radius=radius, lookup="scan"))
    for lookup in ("auto", "table", "mih"):
        assert as_tuples(idx.search_batch(QUERIES[:10], k=10, radius=radius, lookup=lookup)) == want


def test_bad_lookup_is_a_query_error(small_index):
    idx = SemanticIndex.load(small_index[0])
    with pytest.raises(QueryError, match="lookup must be one of"):
        idx.search("orbit", lookup="bogus")


def test_mmap_open_equals_full_load(small_index):
    folder, _ = small_index
    full = SemanticIndex.load(folder, mmap=False)
    mapped = SemanticIndex.load(folder, mmap=True)
    assert isinstance(mapped.table.codes_, np.memmap)
    assert not isinstance(full.table.codes_, np.memmap)
    for lookup in ("auto", "table", "mih", "scan"):
        assert as_tuples(mapped.search_batch(QUERIES, k=10, lookup=lookup)) == as_tuples(
            full.search_batch(QUERIES, k=10, lookup=lookup)
        )


@pytest.mark.parametrize("n_bits", [64, 128])
def test_mmap_table_equals_loaded_table(tmp_path, n_bits):
    rng = np.random.default_rng(n_bits)
    codes = rng.integers(0, 256, (20_000, n_bits // 8), dtype=np.uint8)
    codes[1::2] = codes[::2] ^ (rng.random((10_000, n_bits // 8)) < 0.02).astype(np.uint8)  # near neighbours
    table = HammingTable.build(codes, np.arange(len(codes)), n_bits)
    table.save(tmp_path)
    mapped = HammingTable.load(tmp_path, n_bits, mmap=True)
    for q in codes[:20]:
        for r in (0, 3, 6):
            want = table.ball(q, r, method="scan")
            for method in ("auto", "table", "mih", "scan"):
                got = mapped.ball(q, r, method=method)
                np.testing.assert_array_equal(got[0], want[0])
                np.testing.assert_array_equal(got[1], want[1])


def test_cli_lookup_and_threads_options(small_index, tmp_path):
    folder = str(small_index[0])
    runner = CliRunner()
    outputs = []
    for lookup in ("auto", "table", "mih", "scan"):
        res = runner.invoke(cli, ["query", "orbit rocket", "--index", folder, "--json", "--lookup", lookup])
        assert res.exit_code == 0, res.output
        outputs.append(json.loads(res.output))
    assert all(o == outputs[0] for o in outputs)
    qfile = tmp_path / "queries.txt"
    qfile.write_text("\n".join(QUERIES) + "\n", encoding="utf-8")
    res = runner.invoke(cli, ["query", "--file", str(qfile), "--index", folder, "--json", "--threads", "2"])
    assert res.exit_code == 0, res.output
    batch = json.loads(res.output)
    assert [b["query"] for b in batch] == list(QUERIES)
    assert batch[0]["hits"] == outputs[0]
    res = runner.invoke(cli, ["query", "orbit", "--index", folder, "--lookup", "bogus"])
    assert res.exit_code == 2 and "bogus" in res.output


def test_numpy_query_path_matches_the_vectorizer_and_encoder(small_index):
    """The per-query path (saved vocabulary and idf applied directly, cosine from the CSR
    arrays) gives the weights, codes and scores of the Vectorizer / encoder / SciPy pipeline."""
    from semhash.codes import encode_logits, encode_packed
    from semhash.search import cosine_scores, encode_terms, query_idf, query_terms
    from semhash.vectorize import l2_normalize

    idx = SemanticIndex.load(small_index[0])
    texts = QUERIES[:10] + ["Orbit, ROCKET! orbit orbit launch-pad 42 nasa"]
    X = idx.vectorizer.transform(texts)
    Q = l2_normalize(X)
    for i, text in enumerate(texts):
        cols, w = query_terms(idx.vectorizer.vocabulary_, query_idf(idx.vectorizer), text)
        row = X[i].sorted_indices()  # SciPy's product leaves the columns of a row unsorted
        np.testing.assert_array_equal(cols, row.indices)
        np.testing.assert_allclose(w, row.data, rtol=1e-6)
        code, bit_weights = encode_terms(idx.encoder, cols, w)
        np.testing.assert_array_equal(code, encode_packed(idx.encoder, X[i])[0])
        logits = encode_logits(idx.encoder, X[i])[0]
        np.testing.assert_allclose(bit_weights, np.abs(logits - idx.encoder.thresholds), atol=1e-6)
        rows = np.arange(len(idx.table))
        want = np.asarray((idx.tfidf.tocsr()[rows] @ Q[i].T).todense()).ravel()
        np.testing.assert_allclose(cosine_scores(idx.tfidf, rows, cols, w / np.linalg.norm(w)), want, atol=1e-6)


def test_cosine_scores_edge_rows():
    """Rows with no stored words, repeated and unsorted rows, words no row has: each row's score
    is its dot product with the query, in the order asked."""
    import scipy.sparse as sp

    from semhash.search import cosine_scores

    rng = np.random.default_rng(0)
    dense = rng.random((12, 30)).astype(np.float32) * (rng.random((12, 30)) < 0.3)
    dense[[0, 5, 11]] = 0.0  # rows with no stored word, first, middle and last
    dense[:, 29] = 0.0  # a word no row has
    tfidf = sp.csr_matrix(dense)
    rows = np.array([11, 3, 0, 3, 5, 7, 10])
    for cols in (np.array([2, 9, 29]), np.array([29]), np.arange(30)):
        w = rng.random(len(cols)).astype(np.float32)
        q = np.zeros(30, np.float32)
        q[cols] = w
        np.testing.assert_allclose(cosine_scores(tfidf, rows, cols, w), dense[rows] @ q, rtol=1e-6)
    assert cosine_scores(tfidf, np.zeros(0, np.int64), np.array([1]), np.ones(1, np.float32)).shape == (0,)


def test_query_path_does_not_import_faiss_for_a_small_index(small_index):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from semhash.index import open_index\n"
        f"idx = open_index({str(small_index[0])!r}, mmap=True)\n"
        "assert len(idx.search('rocket orbit launch', k=50)) == 50\n"  # the ball is too small: kNN fill
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faiss', 'tensorflow', 'sklearn', 'tqdm')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_index_encode_is_numpy_only(small_index):
    """``index.encode`` imports no SciPy (nor scikit-learn, TensorFlow or FAISS), and gives the
    codes a search computes for the same texts."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np\n"
        "from semhash.index import open_index\n"
        "from semhash.search import encode_terms, query_terms\n"
        f"idx = open_index({str(small_index[0])!r}, mmap=True)\n"
        "texts = ['rocket orbit launch', 'flour butter oven', 'stock bond market dividend']\n"
        "codes = idx.encode(texts)\n"
        "assert codes.shape == (3, 2) and codes.dtype == np.uint8, codes\n"
        "vec = idx.vectorizer\n"
        "for text, code in zip(texts, codes):\n"
        "    assert (encode_terms(idx.encoder, *query_terms(vec.vocabulary_, vec.idf_, text))[0] == code).all()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn', 'tensorflow', 'faiss'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_index_encode_agrees_with_the_stored_codes(small_index, topical_corpus):
    """The NumPy query-path encoding of each indexed text gives (nearly always exactly) the code
    stored for it at build time (the build encodes through SciPy; both passes run in float64)."""
    from semhash.corpus import read_corpus

    idx = small_index[1]
    docs = read_corpus(topical_corpus).documents
    rows = idx.rows_for_ids([d.id for d in docs])
    stored = idx.table.codes_of([rows[d.id] for d in docs])
    same = (idx.encode([d.text for d in docs]) == stored).all(axis=1)
    assert same.mean() >= 0.97, same.mean()


def test_weighted_distances_and_candidate_selection():
    from semhash.codes import pack_bits
    from semhash.search import select_candidates, weighted_distances

    rng = np.random.default_rng(4)
    bits = rng.integers(0, 2, (40, 24)).astype(np.uint8)
    q = rng.integers(0, 2, 24).astype(np.uint8)
    w = rng.random(24)
    codes, qp = pack_bits(bits), pack_bits(q[None])[0]
    np.testing.assert_allclose(weighted_distances(codes, qp, w), ((bits != q) * w).sum(axis=1))
    assert weighted_distances(codes[:0], qp, w).shape == (0,)

    ids = np.arange(100, 140, dtype=np.int64)
    dist = (bits != q).sum(axis=1).astype(np.int32)
    order = np.lexsort((ids, dist))
    ids, dist, bits, codes = ids[order], dist[order], bits[order], codes[order]
    codes_of = dict(zip(ids.tolist(), codes))

    def lookup(rows):
        return np.array([codes_of[int(r)] for r in rows])

    # re-ranking follows and every candidate fits: untouched, no weighted distances needed
    same = select_candidates(ids, dist, 40, True, qp, w, lookup)
    assert (same[0] == ids).all() and same[2] is None
    # no weights given: the (distance, id) head
    head = select_candidates(ids, dist, 10, True, qp, None, lookup)
    assert (head[0] == ids[:10]).all() and head[2] is None
    # too many candidates, or no re-ranking: the nearest by weighted distance, in that order
    wd = ((bits != q) * w).sum(axis=1)
    for limit, rerank in ((10, True), (40, False)):
        got_ids, got_dist, got_wd = select_candidates(ids, dist, limit, rerank, qp, w, lookup)
        want = np.lexsort((ids, wd))[:limit]
        assert (got_ids == ids[want]).all() and (got_dist == dist[want]).all()
        np.testing.assert_allclose(got_wd, wd[want])


def test_equal_codes_get_exactly_equal_weighted_distances_and_tie_by_row():
    """A BLAS product sums a row differently by its position (here: rows past a multiple of
    four), so equal codes once got distances 1e-16 apart and their order depended on where they
    sat; the fixed-point weights make every sum exact."""
    from semhash.codes import pack_bits
    from semhash.search import fixed_point_weights, select_candidates, weighted_distances

    rng = np.random.default_rng(7)
    for n_rows in (3, 7, 19, 103):
        for _ in range(10):
            w = rng.random(128) * rng.choice([0.01, 1.0, 30.0])
            q = pack_bits(rng.integers(0, 2, (1, 128)).astype(np.uint8))[0]
            code = pack_bits(rng.integers(0, 2, (1, 128)).astype(np.uint8))
            codes = np.repeat(code, n_rows, axis=0)
            wd = weighted_distances(codes, q, w)
            assert len(set(wd.tolist())) == 1
            ids = rng.permutation(1000)[:n_rows].astype(np.int64)
            got, _, _ = select_candidates(ids, np.zeros(n_rows, np.int32), n_rows, False, q, w, lambda r, codes=codes: codes)
            assert got.tolist() == sorted(ids.tolist())
            fixed = fixed_point_weights(w)
            assert np.all(np.abs(fixed - w) <= 2.0 ** -33) and np.array_equal(fixed * 2.0 ** 32, np.round(fixed * 2.0 ** 32))
    # huge weights are capped, so even the sum over every bit stays exact
    assert float(np.sum(fixed_point_weights(np.full(128, 1e30)))) < 2.0 ** 21
