"""An index is built from documents read a chunk at a time (semhash.index.staging).

The texts are stored in a staging SQLite store and counted as they are read, never kept; the
result must be the index the same documents gave when they were all in memory: same rows, codes,
TF-IDF rows and stored documents, whatever the chunk size, with documents that have no word of
the vocabulary skipped and the rows renumbered densely.
"""

import tempfile

import numpy as np
import pytest
from conftest import SMALL_MODEL

from semhash.corpus import CorpusStream, Document, read_corpus
from semhash.errors import ConfigError, CorpusError
from semhash.index import IndexConfig, SemanticIndex, staging
from semhash.index.building import NO_WORDS
from semhash.model import ModelConfig
from semhash.vectorize import VectorizerConfig

CONFIG = IndexConfig(VectorizerConfig(min_df=1), ModelConfig(**SMALL_MODEL))


@pytest.fixture
def own_tmpdir(tmp_path, monkeypatch):
    """$TMPDIR for the staging stores: a fresh folder, so a test can see what is left in it."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def stored(idx):
    rows = np.asarray(idx.table.ids_)
    return {int(r): (d.id, d.path, d.title, d.snippet) for r, d in idx.documents(rows).items()}


def interleave_empty(docs, every=5):
    """``docs`` with a document of stop words only after every ``every``-th."""
    out = []
    for n, d in enumerate(docs):
        out.append(d)
        if n % every == 0:
            out.append(Document(id=f"empty-{n}", path=f"empty-{n}", title="", text="the and of it is"))
    return out


def test_a_generator_read_in_small_chunks_builds_the_index_a_list_builds(topical_corpus, monkeypatch):
    docs = interleave_empty(read_corpus(topical_corpus).documents)
    whole = SemanticIndex.build(docs, CONFIG)
    monkeypatch.setattr(staging, "CHUNK_DOCS", 7)  # many chunks, documents without words in several
    streamed = SemanticIndex.build((d for d in docs), CONFIG)
    assert streamed.vectorizer.terms_ == whole.vectorizer.terms_
    assert np.array_equal(streamed.vectorizer.df_, whole.vectorizer.df_)
    assert np.array_equal(np.asarray(streamed.table.codes_), np.asarray(whole.table.codes_))
    assert np.array_equal(np.asarray(streamed.table.ids_), np.asarray(whole.table.ids_))
    assert (streamed.tfidf != whole.tfidf).nnz == 0
    assert stored(streamed) == stored(whole)
    assert streamed.skipped == whole.skipped
    assert set(streamed.manifest["training"]["phases"]) == {"read", "train", "encode"}


def test_documents_without_words_are_skipped_and_the_rows_stay_dense(small_index, own_tmpdir, monkeypatch, tmp_path):
    _, trained = small_index
    docs = interleave_empty(read_corpus(trained.manifest["corpus_root"]).documents, every=3)
    monkeypatch.setattr(staging, "CHUNK_DOCS", 4)
    idx = SemanticIndex.from_model(trained.vectorizer, trained.encoder, iter(docs), CONFIG)
    kept = [d for d in docs if not d.id.startswith("empty-")]
    assert [s for s in idx.skipped if s["reason"] == NO_WORDS] == [
        {"path": d.id, "reason": NO_WORDS} for d in docs if d.id.startswith("empty-")]
    assert sorted(np.asarray(idx.table.ids_).tolist()) == list(range(len(kept)))
    assert {r: v[0] for r, v in stored(idx).items()} == {r: d.id for r, d in enumerate(kept)}
    assert idx.tfidf.shape[0] == len(kept) and (np.diff(idx.tfidf.indptr) > 0).all()
    hits = idx.search(kept[10].text, k=1)
    assert hits[0].id == kept[10].id  # a document finds itself: its row, code and store row agree
    idx.save(tmp_path / "saved")
    assert stored(SemanticIndex.load(tmp_path / "saved")) == stored(idx)


def test_the_staged_store_is_removed_when_the_index_is_saved(small_index, own_tmpdir, tmp_path):
    _, trained = small_index
    docs = read_corpus(trained.manifest["corpus_root"]).documents
    idx = SemanticIndex.from_model(trained.vectorizer, trained.encoder, docs, CONFIG)
    assert [p.name.startswith("semhash-build-") for p in own_tmpdir.iterdir()] == [True]
    idx.save(tmp_path / "saved")
    assert list(own_tmpdir.iterdir()) == []
    assert len(stored(idx)) == len(docs)  # the saved folder's store answers now


def test_two_documents_with_one_id_in_different_chunks_fail_and_leave_nothing(small_index, own_tmpdir,
                                                                              monkeypatch):
    _, trained = small_index
    docs = read_corpus(trained.manifest["corpus_root"]).documents[:20]
    clash = Document(id=docs[1].id, path="elsewhere.txt", title="other", text=docs[5].text)
    monkeypatch.setattr(staging, "CHUNK_DOCS", 3)
    with pytest.raises(ConfigError, match="two different documents have the id"):
        SemanticIndex.from_model(trained.vectorizer, trained.encoder, iter(docs + [clash]), CONFIG)
    assert list(own_tmpdir.iterdir()) == []
    again = SemanticIndex.from_model(trained.vectorizer, trained.encoder, iter(docs + [docs[3]]), CONFIG)
    assert len(again.table) == 20  # an exact repeat is dropped, as from a list


def test_a_corpus_stream_reads_the_corpus_read_corpus_reads(topical_corpus, tmp_path):
    stream = CorpusStream(topical_corpus)
    report = read_corpus(topical_corpus)
    assert list(stream) == report.documents and stream.skipped == report.skipped
    assert stream.n_documents == len(report.documents)
    (tmp_path / "binary.bin").write_bytes(b"\x00\x01")
    with pytest.raises(CorpusError, match="no readable documents"):
        list(CorpusStream(tmp_path))
