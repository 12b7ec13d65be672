"""The query pipeline over candidate sources: any source that keeps the protocol gets the hits of the
local index; snapshots, threads, Hit building and the options are the pipeline's, written once."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from semhash.errors import QueryError
from semhash.hamming import hamming_distances, sort_hits, top_k
from semhash.index import SemanticIndex
from semhash.local import LocalSource
from semhash.pipeline import Hit, build_hits, map_chunks, run_queries
from semhash.query import QueryOptions, encode_queries, terms_of
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

    def documents(self, ids):
        self.calls.append("documents")
        return self.index.documents(ids)


def as_tuples(results):
    return [[(h.rank, h.id, h.row, h.distance, h.score) for h in hits] for hits in results]


@pytest.mark.parametrize("rerank", [True, False])
def test_any_source_keeping_the_protocol_gets_the_local_hits(small_index, rerank):
    idx = SemanticIndex.load(small_index[0])
    source = BruteForceSource(idx)
    queries = encode_queries(idx.encoder, [terms_of(idx.vectorizer, q) for q in QUERIES])
    for radius in (0, 1, 3):
        for k in (3, 40, len(idx.table) + 5):
            opts = QueryOptions.make(idx.n_bits, k, radius, rerank)
            source.calls.clear()
            got = run_queries(source, queries, opts)
            assert as_tuples(got) == as_tuples(idx.search_batch(QUERIES, k=k, radius=radius, rerank=rerank))
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
