"""The lexical candidate source (issue 17): term counts recovered from the stored TF-IDF rows, the
term-major postings written with the index, BM25 scores exact against a brute-force scorer, kept
right by add/remove, memory-mapped, built in memory for an index saved before them, and damaged
postings named."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_integrity import flip

from semhash.corpus import Document, read_corpus
from semhash.errors import IndexFormatError
from semhash.index import LEXICAL_FILES, MANIFEST, SemanticIndex, compact_index, update_index
from semhash.lexical import (
    K1,
    B,
    LexicalIndex,
    best_possible,
    bm25_idf,
    build_postings,
    recover_counts,
    row_scores,
    top_dense,
    top_n,
)
from semhash.manifest import dumps as dump_manifest
from semhash.query import terms_of
from semhash.vectorize import Vectorizer, VectorizerConfig, l2_normalize

QUERIES = ["orbit rocket launch", "pasta tomato sauce", "bank loan interest", "moon", "sugar butter oven note",
           "investor portfolio equity dividend", "space note"]


def true_counts(idx: SemanticIndex, corpus: Path) -> np.ndarray:
    """The word counts of every row of ``idx``, counted again from the corpus files (dense)."""
    texts = {d.id: d.text for d in read_corpus(corpus).documents}
    n_rows = idx.tfidf.shape[0]
    docs = idx.documents(range(n_rows))
    counts = np.zeros((n_rows, len(idx.vectorizer.vocabulary_)))
    live = [r for r in range(n_rows) if r in docs]
    counts[live] = idx.vectorizer.counts([texts[docs[r].id] for r in live]).toarray()
    return counts


def brute_force_bm25(counts: np.ndarray, cols: np.ndarray, df: np.ndarray, n_docs: int) -> np.ndarray:
    """BM25 of every row for the query columns, from dense counts (no postings, no rounding)."""
    lengths = counts.sum(axis=1)
    avg = lengths[lengths > 0].mean()
    tf = counts[:, cols]
    idf = bm25_idf(df, n_docs)[cols]
    return (idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[:, None] / avg))).sum(axis=1)


# --------------------------------------------------------------------------- counts and postings


@pytest.mark.parametrize("weighting", ["tfidf", "counts"])
def test_counts_come_back_from_the_stored_rows(weighting):
    docs = ["alpha beta beta gamma gamma gamma delta", "alpha alpha eps", "xx yy zz zz zz zz zz zz zz zz zz",
            "beta beta delta delta", "gamma", "eps eps eps eps", "alpha beta gamma delta eps xx yy zz"]
    vec = Vectorizer(VectorizerConfig(weighting=weighting, min_df=1, stop_words=False, max_df=1.0)).fit(docs)
    rows = l2_normalize(vec.transform(docs))
    got = recover_counts(rows.indptr, rows.indices, rows.data, vec.idf_)
    row_of = np.repeat(np.arange(len(docs)), np.diff(rows.indptr))
    expected = vec.counts(docs).toarray()[row_of, rows.indices]
    # rows 3 and 5 use every word equally often: a normalized row cannot tell that from once
    ambiguous = np.isin(row_of, [3, 5])
    np.testing.assert_array_equal(got[~ambiguous], expected[~ambiguous])
    np.testing.assert_array_equal(got[ambiguous], 1.0)
    for chunk in (1, 2, 3, 5):  # a few rows at a time (a large index's build): the same counts
        np.testing.assert_array_equal(recover_counts(rows.indptr, rows.indices, rows.data, vec.idf_, chunk), got)


def test_postings_are_the_rows_turned_term_major(small_index):
    idx = SemanticIndex.load(small_index[0])
    tfidf = idx.tfidf
    postings, lengths = build_postings(tfidf, idx.vectorizer.idf_)
    assert postings.shape == (len(idx.vectorizer.vocabulary_), tfidf.shape[0])
    counts = recover_counts(tfidf.indptr, tfidf.indices, tfidf.data, idx.vectorizer.idf_)
    rows = np.repeat(np.arange(tfidf.shape[0]), np.diff(tfidf.indptr))
    for col in range(postings.shape[0]):
        lo, hi = postings.indptr[col], postings.indptr[col + 1]
        at = np.flatnonzero(tfidf.indices == col)
        np.testing.assert_array_equal(postings.indices[lo:hi], rows[at])  # rows ascending
        np.testing.assert_array_equal(postings.data[lo:hi], counts[at])
    np.testing.assert_array_equal(lengths, np.bincount(rows, weights=counts, minlength=tfidf.shape[0]))


def test_bm25_is_exact_against_a_brute_force_scorer(small_index, topical_corpus):
    idx = SemanticIndex.load(small_index[0])
    counts = true_counts(idx, topical_corpus)
    vec = idx.vectorizer
    lex = idx.lexical
    for text in QUERIES:
        cols = terms_of(vec, text)[0]
        expected = brute_force_bm25(counts, cols, vec.df_, vec.n_docs_)
        rows, scores = lex.top(cols, len(expected))
        shared = np.flatnonzero(expected > 0)
        assert sorted(rows.tolist()) == shared.tolist()  # every document with a query word, no other
        top = best_possible(lex.stats, cols)  # the score is BM25's share of the most the query could get
        assert top == pytest.approx(bm25_idf(vec.df_, vec.n_docs_)[cols].sum() * (K1 + 1))
        np.testing.assert_allclose(scores * top, expected[rows], rtol=0, atol=len(cols) * 2.0**-23)
        assert scores.min() > 0 and scores.max() < 1
        assert np.all(np.diff(scores) <= 0)
        ties = np.flatnonzero(np.diff(scores) == 0)
        assert np.all(rows[ties] < rows[ties + 1])  # equal scores: by row
        top, top_scores = lex.top(cols, 5)
        np.testing.assert_array_equal(top, rows[:5])
        np.testing.assert_array_equal(top_scores, scores[:5])
        # the same scores from the stored rows alone (what a source without postings computes),
        # and for any rows asked: bit for bit
        every = np.arange(idx.tfidf.shape[0])
        from_rows = row_scores(idx.tfidf, every, cols, vec.idf_, lex.stats)
        np.testing.assert_array_equal(from_rows[rows], scores)
        np.testing.assert_array_equal(lex.scores(cols, every[::-1]), from_rows[::-1])


def test_top_n_keeps_every_tie_at_the_cut():
    ids = np.array([9, 3, 5, 7, 1, 8])
    scores = np.array([1.0, 2.0, 1.0, 0.0, 1.0, 3.0])
    assert top_n(ids, scores, 3)[0].tolist() == [8, 3, 1]
    assert top_n(ids, scores, 10)[0].tolist() == [8, 3, 1, 5, 9]  # no zero score
    assert top_n(ids[:0], scores[:0], 3)[0].tolist() == []


def test_top_dense_is_top_n_of_every_row():
    rng = np.random.default_rng(0)
    for _ in range(200):
        size = int(rng.integers(1, 40))
        sums = rng.integers(0, 4, size).astype(np.float64) * 0.25  # many ties and zeros
        for n in (0, 1, 3, size - 1, size, size + 5):
            got, expected = top_dense(sums, n), top_n(np.arange(size), sums, n)
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])


# --------------------------------------------------------------------------- on disk


def postings_on_disk(folder: Path) -> list[np.ndarray]:
    return [np.load(folder / name) for name in LEXICAL_FILES]


def test_saved_postings_equal_a_fresh_build_after_add_and_remove(small_index, tmp_path):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert set(LEXICAL_FILES) <= set(manifest["files"]) and set(LEXICAL_FILES) <= set(manifest["blocks"]["first"])
    added = [Document(id="new/rocket.txt", path="new/rocket.txt", title="rocket",
                      text="rocket rocket rocket booster booster payload"),
             Document(id="new/pasta.txt", path="new/pasta.txt", title="pasta", text="pasta tomato garlic")]
    update_index(folder, lambda idx: idx.add(added))
    idx = SemanticIndex.load(folder)
    cols = terms_of(idx.vectorizer, "rocket booster payload")[0]
    assert idx.documents(idx.lexical.top(cols, 1)[0])[int(idx.lexical.top(cols, 1)[0][0])].id == "new/rocket.txt"
    update_index(folder, lambda idx: idx.remove(["new/rocket.txt", "space/space-001.txt"]))
    segmented = SemanticIndex.load(folder)  # the base's postings with two delta segments
    assert segmented.segment_info()["segments"] == 2
    compact_index(folder)  # one base segment again: its postings written from its rows
    idx = SemanticIndex.load(folder)
    assert idx.segment_info()["segments"] == 0
    for text in QUERIES + ["pasta tomato garlic", "rocket booster payload"]:
        q = terms_of(idx.vectorizer, text)[0]
        got, want = segmented.lexical.top(q, 50), idx.lexical.top(q, 50)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    postings, lengths = build_postings(idx.tfidf, idx.vectorizer.idf_)
    fresh = [postings.data, postings.indices, postings.indptr, lengths]
    for stored, built in zip(postings_on_disk(folder), fresh):
        assert stored.dtype == built.dtype
        np.testing.assert_array_equal(stored, built)
    removed = idx.rows_for_ids(["new/pasta.txt"])["new/pasta.txt"]
    rows, _ = idx.lexical.top(cols, 1000)
    assert "new/rocket.txt" not in {d.id for d in idx.documents(rows).values()} and len(rows)
    assert removed in idx.lexical.top(terms_of(idx.vectorizer, "pasta tomato garlic")[0], 5)[0]
    # in memory, before any save: the postings follow the rows
    idx.add([Document(id="new/moon.txt", path="new/moon.txt", title="moon", text="moon moon moon astronaut")])
    top = idx.lexical.top(terms_of(idx.vectorizer, "moon astronaut")[0], 1)[0]
    assert idx.documents(top)[int(top[0])].id == "new/moon.txt"


def mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is (a plain view of) a memory-mapped file."""
    while isinstance(array, np.ndarray):
        if isinstance(array, np.memmap):
            return True
        array = array.base
    return array is not None and type(array).__name__ == "mmap"


def test_postings_are_memory_mapped_and_checked_on_read(small_index):
    idx = SemanticIndex.load(small_index[0], mmap=True)
    lex = idx.lexical
    raw = lex.postings._raw  # a LazyCsr: the arrays of the files, checked block by block
    assert all(mapped(raw[part]) for part in ("data", "indices", "indptr"))
    assert mapped(lex.lengths)
    loaded = SemanticIndex.load(small_index[0])
    for text in QUERIES:
        cols = terms_of(idx.vectorizer, text)[0]
        for a, b in zip(lex.top(cols, 20), loaded.lexical.top(cols, 20)):
            np.testing.assert_array_equal(a, b)


def without_postings(src: Path, dest: Path) -> Path:
    """A copy of an index as saved before the postings: not listed, not there (the manifest resealed)."""
    folder = shutil.copytree(src, dest)
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in LEXICAL_FILES:
        del manifest["files"][name]
        del manifest["blocks"]["first"][name]
        (folder / name).unlink()
    (folder / MANIFEST).write_text(dump_manifest({k: v for k, v in manifest.items() if k != "manifest_sha256"}))
    return folder


@pytest.mark.parametrize("mmap", [True, False])
def test_an_index_saved_before_the_postings_answers_every_mode(small_index, tmp_path, mmap):
    old = SemanticIndex.load(without_postings(small_index[0], tmp_path / "old"), mmap=mmap)
    new = SemanticIndex.load(small_index[0], mmap=mmap)
    assert old._postings is None and new._postings is not None
    for mode in ("lexical", "hybrid", "semantic"):
        assert old.search_batch(QUERIES, k=12, mode=mode) == new.search_batch(QUERIES, k=12, mode=mode)
    # an update writes a delta segment; the compaction that merges it writes the postings
    update_index(tmp_path / "old", lambda idx: idx.remove(["space/space-002.txt"]))
    compact_index(tmp_path / "old")
    assert set(LEXICAL_FILES) <= set(json.loads((tmp_path / "old" / MANIFEST).read_text())["files"])


@pytest.mark.parametrize("name", LEXICAL_FILES)
def test_a_damaged_postings_file_is_named(small_index, tmp_path, name):
    folder = shutil.copytree(small_index[0], tmp_path / "bad")
    flip(folder / name, (folder / name).stat().st_size - 3)  # in the array, past the header
    with pytest.raises(IndexFormatError, match=str(folder / name)):  # read whole: checked at load
        SemanticIndex.load(folder)
    with pytest.raises(IndexFormatError, match=str(folder / name)):  # mapped: checked when a query reads it
        lazy = SemanticIndex.load(folder, mmap=True)
        assert lazy.search("orbit rocket launch", k=3, mode="semantic")  # the postings are not read
        lazy.lexical.top(np.arange(len(lazy.vectorizer.vocabulary_)), 10)


def test_some_postings_files_listed_is_damage(small_index, tmp_path):
    folder = without_postings(small_index[0], tmp_path / "partial")
    shutil.copy(small_index[0] / LEXICAL_FILES[0], folder / LEXICAL_FILES[0])
    manifest = json.loads((small_index[0] / MANIFEST).read_text())
    partial = json.loads((folder / MANIFEST).read_text())
    partial["files"][LEXICAL_FILES[0]] = manifest["files"][LEXICAL_FILES[0]]
    partial["blocks"]["first"][LEXICAL_FILES[0]] = manifest["blocks"]["first"][LEXICAL_FILES[0]]
    (folder / MANIFEST).write_text(dump_manifest({k: v for k, v in partial.items() if k != "manifest_sha256"}))
    with pytest.raises(IndexFormatError, match="lists only some of the postings"):
        SemanticIndex.load(folder)


def test_the_lexical_query_path_imports_no_scipy(small_index, tmp_path):
    old = without_postings(small_index[0], tmp_path / "old")
    code = (
        "import sys\n"
        "from semhash.index import open_index\n"
        f"for folder in ({str(small_index[0])!r}, {str(old)!r}):\n"
        "    idx = open_index(folder, mmap=True)\n"
        "    for mode in ('lexical', 'hybrid', 'semantic'):\n"
        "        assert idx.search('rocket orbit launch', k=5, mode=mode)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn', 'tensorflow', 'faiss'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lexical_index_refuses_postings_that_do_not_fit(small_index):
    idx = SemanticIndex.load(small_index[0])
    postings, lengths = build_postings(idx.tfidf, idx.vectorizer.idf_)
    with pytest.raises(ValueError, match="do not fit"):
        LexicalIndex(postings, lengths[:-1], idx.vectorizer.df_, idx.vectorizer.n_docs_)
