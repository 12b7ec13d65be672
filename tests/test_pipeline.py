"""The query pipeline over candidate sources: any source that keeps the protocol gets the hits of the
local index; snapshots, threads, Hit building and the options are the pipeline's, written once."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from semhash.choices import DEFAULT_MODE, QUERY_MODES
from semhash.errors import QueryError
from semhash.hamming import hamming_distances, sort_hits, top_k
from semhash.index import SemanticIndex
from semhash.lexical import recover_counts, row_scores, stats_for, top_n
from semhash.local import LocalSource
from semhash.pipeline import (
    HYBRID_ALPHA,
    HYBRID_GAMMA,
    HYBRID_POWER,
    MAX_SHORTLIST,
    MIN_SHORTLIST,
    MODES,
    Hit,
    build_hits,
    hybrid_scores,
    map_chunks,
    rank_query,
    run_queries,
)
from semhash.query import QueryOptions, encode_queries, terms_of
from semhash.ranking import cosine_scores, merge_candidates, order_shortlist, select_candidates
from semhash.search import search_terms
from semhash.store import StoredDoc

QUERIES = ["orbit rocket launch", "pasta tomato sauce", "bank loan interest", "moon astronaut", "sugar butter oven",
           "investor portfolio", "satellite payload", "garlic onion", "stock market bond", "nasa mission"]


class BruteForceSource:
    """A candidate source with no hash table: every ball and fill is a scan of all codes, one query
    per snapshot (as PostgreSQL answers). It records what the pipeline asked."""

    queries_per_snapshot = 1

    def __init__(self, index: SemanticIndex):
        self.index, self.n_bits = index, index.n_bits
        self.ids = np.asarray(index.table.ids_)
        self.codes = np.asarray(index.table.codes_)
        self.calls: list[str] = []

    @contextmanager
    def snapshot(self, threads):
        self.calls.append("snapshot")
        yield

    def size(self):
        return len(self.ids)

    def ball(self, code, radius, lookup):
        dist = hamming_distances(code, self.codes)
        hit = dist <= radius
        return sort_hits(self.ids[hit], dist[hit])

    def knn(self, code, k):
        self.calls.append("knn")
        return top_k(self.ids, hamming_distances(code, self.codes), k)

    def codes_of(self, ids):
        order = np.argsort(self.ids)
        return self.codes[order[np.searchsorted(self.ids[order], ids)]]

    def tfidf_rows(self, ids):
        return self.index.tfidf, np.asarray(ids)

    # no inverted index: BM25 from the stored rows of every document, as a database would score them
    def lexical(self, terms, n, ids):
        every = np.arange(self.index.tfidf.shape[0])
        score = lambda rows: row_scores(self.index.tfidf, rows, terms[0], self.index.vectorizer.idf_,  # noqa: E731
                                        self.stats)
        return (*top_n(every, score(every), n), score(np.asarray(ids, np.int64)))

    @property
    def stats(self):
        tfidf, vec = self.index.tfidf, self.index.vectorizer
        counts = recover_counts(tfidf.indptr, tfidf.indices, tfidf.data, vec.idf_)
        lengths = np.bincount(np.repeat(np.arange(tfidf.shape[0]), np.diff(tfidf.indptr)), weights=counts)
        return stats_for(vec.df_, vec.n_docs_, lengths)

    def documents(self, ids):
        self.calls.append("documents")
        return self.index.documents(ids)


def as_tuples(results):
    return [[(h.rank, h.id, h.row, h.distance, h.score) for h in hits] for hits in results]


@pytest.mark.parametrize("rerank, mode", [(True, "semantic"), (False, "semantic"), (True, "hybrid"),
                                          (True, "lexical"), (True, None), (False, None)])
def test_any_source_keeping_the_protocol_gets_the_local_hits(small_index, rerank, mode):
    idx = SemanticIndex.load(small_index[0])
    source = BruteForceSource(idx)
    queries = encode_queries(idx.encoder, [terms_of(idx.vectorizer, q) for q in QUERIES])
    for radius in (0, 1, 3):
        for k in (3, 40, len(idx.table) + 5):
            opts = QueryOptions.make(idx.n_bits, k, radius, rerank, mode=mode)
            source.calls.clear()
            got = run_queries(source, queries, opts)
            assert as_tuples(got) == as_tuples(idx.search_batch(QUERIES, k=k, radius=radius, rerank=rerank,
                                                                mode=mode))
            assert source.calls.count("snapshot") == source.calls.count("documents") == len(QUERIES)


def test_local_batch_reads_the_store_once(small_index, monkeypatch):
    idx = SemanticIndex.load(small_index[0])
    reads = []
    documents = idx.documents
    monkeypatch.setattr(idx, "documents", lambda rows: reads.append(len(rows)) or documents(rows))
    terms = [terms_of(idx.vectorizer, q) for q in QUERIES * 4]
    hits = search_terms(idx, terms, QueryOptions.make(idx.n_bits, 5), threads=3)
    assert len(reads) == 1 and len(hits) == len(terms)
    assert LocalSource(idx).queries_per_snapshot is None


def test_hits_are_built_in_one_place():
    docs = {7: StoredDoc(7, "a", "a.txt", "A", "aa"), 9: StoredDoc(9, "b", "b.txt", "B", "bb")}
    ranked = (np.array([9, 8, 7]), np.array([0, 1, 2], np.int32), np.array([0.5, 0.25, 0.1234567], np.float32))
    hits = build_hits(ranked, docs)
    assert hits == [Hit(1, "b", "B", "bb", "b.txt", 0, 0.5, 9),
                    Hit(2, "a", "A", "aa", "a.txt", 2, round(float(np.float32(0.1234567)), 6), 7)]
    assert all(type(h.row) is int and type(h.distance) is int for h in hits)


def test_map_chunks_keeps_input_order_and_raises_the_first_error():
    assert map_chunks(lambda i: i * i, 100, threads=4) == [i * i for i in range(100)]

    def fail(i):
        if i in (20, 90):
            raise ValueError(f"query {i}")
        return i

    with pytest.raises(ValueError, match="query 20"):
        map_chunks(fail, 100, threads=4)


def test_query_options_check_in_order_and_default_the_radius():
    assert QueryOptions.make(16).radius == 1 and QueryOptions.make(64).radius == 2 and QueryOptions.make(128).radius == 3
    opts = QueryOptions.make(32, np.int64(5), np.int64(4), rerank=0, lookup="mih")
    assert (opts.k, opts.radius, opts.rerank, opts.lookup) == (5, 4, False, "mih")
    assert type(opts.k) is int and type(opts.radius) is int
    with pytest.raises(QueryError, match="k must be"):
        QueryOptions.make(32, 0, 99, lookup="bogus")
    with pytest.raises(QueryError, match="radius must be"):
        QueryOptions.make(32, 5, 99, lookup="bogus")
    with pytest.raises(QueryError, match="lookup must be one of auto, table, mih, scan"):
        QueryOptions.make(32, 5, 3, lookup="bogus")
    with pytest.raises(AttributeError):
        opts.k = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- query modes


def reference_semantic(source, query, opts):
    """The pipeline's ranking as it was before query modes (issue 17), kept here word for word:
    mode ``semantic`` must give exactly its hits."""
    want = opts.k + (query.exclude is not None)
    need = max(want, MIN_SHORTLIST) if opts.rerank else want
    ids, dist = source.ball(query.code, opts.radius, opts.lookup)
    if len(ids) < need:
        kids, kdist = source.knn(query.code, min(need, source.size()))
    else:
        kids, kdist = np.zeros(0, np.int64), np.zeros(0, np.int32)
    ids, dist = merge_candidates(ids, dist, kids, kdist, None)
    ids, dist, wdist = select_candidates(ids, dist, max(MAX_SHORTLIST, want), opts.rerank, query.code,
                                         query.bit_weights, source.codes_of)
    scores = cosine_scores(*source.tfidf_rows(ids), *query.terms) if opts.rerank and len(ids) else None
    ids, dist, scores = order_shortlist(ids, dist, scores, want, wdist, query.bit_weights)
    if scores is None:
        scores = 1.0 - dist / source.n_bits
    if query.exclude is not None:
        keep = ids != query.exclude
        ids, dist, scores = ids[keep][: opts.k], dist[keep][: opts.k], np.asarray(scores)[keep][: opts.k]
    return ids, dist, scores


@pytest.mark.parametrize("rerank", [True, False])
def test_semantic_mode_ranks_exactly_as_before(small_index, rerank):
    idx = SemanticIndex.load(small_index[0], mmap=True)
    source = LocalSource(idx)
    queries = encode_queries(idx.encoder, [terms_of(idx.vectorizer, q) for q in QUERIES])
    queries += [q._replace(exclude=r) for q, r in zip(queries, range(0, 90, 9))]
    for radius, k in [(0, 5), (1, 10), (2, 95), (16, 30)]:
        opts = QueryOptions.make(idx.n_bits, k, radius, rerank, mode="semantic")
        for q in queries:
            got, ref = rank_query(source, q, opts), reference_semantic(source, q, opts)
            for a, b in zip(got, ref):
                assert np.asarray(a).dtype == np.asarray(b).dtype
                np.testing.assert_array_equal(a, b)


class HidingSource(LocalSource):
    """The local index, but the Hamming ball and its fill never hold ``hidden``: a document far from
    the query's code."""

    def __init__(self, index, hidden):
        super().__init__(index)
        self.hidden = hidden

    def ball(self, code, radius, lookup):
        ids, dist = super().ball(code, radius, lookup)
        return ids[ids != self.hidden], dist[ids != self.hidden]

    def knn(self, code, k):
        ids, dist = super().knn(code, min(k + 1, self.size()))
        return ids[ids != self.hidden][:k], dist[ids != self.hidden][:k]


def test_hybrid_finds_the_document_with_the_words_that_the_ball_misses(small_index):
    idx = SemanticIndex.load(small_index[0])
    text = "pasta tomato sauce"
    query = encode_queries(idx.encoder, [terms_of(idx.vectorizer, text)])[0]
    best = int(LocalSource(idx).lexical(query.terms, 1, np.zeros(0, np.int64))[0][0])
    source = HidingSource(idx, best)
    opts = QueryOptions.make(idx.n_bits, 10, 1, mode="hybrid")
    assert best not in rank_query(source, query, QueryOptions.make(idx.n_bits, 10, 1, mode="semantic"))[0]
    ids, dist, scores = rank_query(source, query, opts)
    assert ids[0] == best  # the best BM25 document, though the ball never held it
    np.testing.assert_array_equal(dist, hamming_distances(query.code, idx.table.codes_of(ids)))
    assert np.all(np.diff(scores) <= 0)
    lex_ids, _ = rank_query(source, query, QueryOptions.make(idx.n_bits, 10, 1, mode="lexical"))[:2]
    assert lex_ids[0] == best


def test_hybrid_score_is_cosine_plus_lexical_power_plus_weighted_hamming_similarity():
    assert (HYBRID_ALPHA, HYBRID_GAMMA, HYBRID_POWER) == (1.0, 16.0, 4)
    cosine = np.array([0.2, 0.6, 0.6, 0.0], np.float32)
    lexical = np.array([0.75, 0.3, 0.0, 0.0])
    wdist = np.array([8.0, 2.0, 2.0, 10.0])
    got = hybrid_scores(cosine, lexical, wdist, 10.0)
    np.testing.assert_allclose(got, [0.2 + 16 * 0.75**4 + 0.2, 0.6 + 16 * 0.3**4 + 0.8, 0.6 + 0.8, 0.0], rtol=1e-6)
    # nearly all the query's words beat a better cosine and code; a partial match barely counts
    assert got[0] > got[1] > got[2] > got[3] and got[1] - got[2] < 0.15


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_modes_are_deterministic_in_batches_threads_and_repeats(small_index, mode):
    idx = SemanticIndex.load(small_index[0], mmap=True)
    texts = QUERIES * 5
    single = [idx.search(t, k=20, mode=mode) for t in texts]
    assert idx.search_batch(texts, k=20, mode=mode, threads=3) == single
    again = SemanticIndex.load(small_index[0])
    assert again.search_batch(texts, k=20, mode=mode, threads=1) == single
    for hits in single:
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_modes_are_a_registry_and_checked():
    assert set(MODES) == set(QUERY_MODES) and DEFAULT_MODE in MODES
    assert QueryOptions.make(32).mode == DEFAULT_MODE
    assert QueryOptions.make(32, rerank=False).mode == "semantic"  # the only mode ranking by the code alone
    assert QueryOptions.make(32, mode="lexical").mode == "lexical"
    with pytest.raises(QueryError, match="mode must be one of hybrid, semantic, lexical, got 'fuzzy'"):
        QueryOptions.make(32, mode="fuzzy")
    with pytest.raises(QueryError, match="only mode 'semantic'"):
        QueryOptions.make(32, rerank=False, mode="hybrid")


def test_every_entry_point_refuses_a_bad_mode(small_index):
    from semhash.search import search_each
    from semhash.similar import similar

    idx = small_index[1]
    for call in (lambda: idx.search("rocket", mode="fuzzy"), lambda: idx.search_batch(["rocket"], mode="fuzzy"),
                 lambda: search_each(idx, ["rocket"], mode="fuzzy"),
                 lambda: similar(idx, "space/space-000.txt", mode="fuzzy"),
                 lambda: idx.search("rocket", rerank=False, mode="lexical")):
        with pytest.raises(QueryError, match="mode"):
            call()
    assert [h.id for h in similar(idx, "space/space-000.txt", k=5)] == \
        [h.id for h in similar(idx, "space/space-000.txt", k=5, mode="semantic")]  # similar: semantic by default
