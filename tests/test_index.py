"""Index build / save / load, the query path, and its promises."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from semhash.cli import cli
from semhash.errors import IndexFormatError, IndexNotFoundError, QueryError
from semhash.index import SemanticIndex, open_index, resolve_index_path


def test_save_load_round_trip_gives_identical_codes_and_results(small_index):
    folder, built = small_index
    loaded = SemanticIndex.load(folder)
    texts = ["rocket launch into orbit", "bake a cake with flour and butter", "stock market dividend"]
    np.testing.assert_array_equal(built.encode(texts), loaded.encode(texts))
    np.testing.assert_array_equal(np.asarray(built.table.codes_), np.asarray(loaded.table.codes_))
    for t in texts:
        a, b = built.search(t, k=7), loaded.search(t, k=7)
        assert [(h.id, h.distance, h.score) for h in a] == [(h.id, h.distance, h.score) for h in b]
    mm = SemanticIndex.load(folder, mmap=True)
    assert [h.id for h in mm.search(texts[0], k=7)] == [h.id for h in loaded.search(texts[0], k=7)]


def test_search_finds_the_topic(small_index):
    folder, _ = small_index
    idx = SemanticIndex.load(folder)
    for topic, query in [("space", "shuttle launch orbit nasa"), ("cooking", "oven flour butter sugar"),
                         ("finance", "stock bond dividend investor")]:
        hits = idx.search(query, k=10)
        assert len(hits) == 10
        assert sum(h.id.startswith(topic + "/") for h in hits) >= 9
        assert [h.rank for h in hits] == list(range(1, 11))
        assert all(hits[i].score >= hits[i + 1].score for i in range(9))


def query_logits(idx, text):
    from semhash.codes import encode_logits

    return encode_logits(idx.encoder, idx.vectorizer.transform([text]))[0]


def test_no_rerank_ranks_by_query_weighted_hamming_distance(small_index):
    from semhash.search import default_radius

    idx = SemanticIndex.load(small_index[0])
    text, k = "orbit rocket", 20
    hits = idx.search(text, k=k, rerank=False)
    assert len(hits) == k
    code = idx.encode([text])[0]
    bits = np.unpackbits(code)[: idx.n_bits]
    logits = query_logits(idx, text)
    assert ((logits > idx.encoder.thresholds) == bits).all()
    weights = np.abs(logits - idx.encoder.thresholds)

    def wdist(rows):  # the sum of the query's weights over the bits where each row differs
        return (np.unpackbits(idx.table.codes_of(rows), axis=1)[:, : idx.n_bits] != bits) @ weights

    got = wdist([h.row for h in hits])
    assert (np.diff(got) >= -1e-12).all()
    np.testing.assert_allclose([h.score for h in hits], np.round(1 - got / weights.sum(), 6), atol=1e-6)
    assert [h.distance for h in hits] == np.unpackbits(
        idx.table.codes_of([h.row for h in hits]) ^ code, axis=1)[:, : idx.n_bits].sum(axis=1).tolist()
    # the candidates are the default ball filled with the k nearest codes; none left out is nearer
    ball, _ = idx.table.ball(code, default_radius(idx.n_bits))
    candidates = np.union1d(ball, idx.table.knn(code, k)[0])
    left_out = np.setdiff1d(candidates, [h.row for h in hits])
    assert len(left_out) == 0 or wdist(left_out).min() >= got[-1] - 1e-12


def test_radius_ball_is_exact_and_faiss_fills_k(small_index):
    idx = SemanticIndex.load(small_index[0])
    code = idx.encode(["moon astronaut"])[0]
    from semhash.codes import hamming_distances

    all_d = hamming_distances(code, np.asarray(idx.table.codes_))
    hits = idx.search("moon astronaut", k=len(idx.table), radius=0, rerank=False)
    assert len(hits) == len(idx.table)  # the fill reaches k even where the ball is small
    assert sorted(h.distance for h in hits) == sorted(all_d.tolist())


def test_query_errors(small_index):
    idx = SemanticIndex.load(small_index[0])
    with pytest.raises(QueryError, match="no word of the query"):
        idx.search("zzzz qqqq")
    with pytest.raises(QueryError, match="empty"):
        idx.search("   ")
    with pytest.raises(QueryError, match="k must be"):
        idx.search("orbit", k=0)
    with pytest.raises(QueryError, match="radius must be"):
        idx.search("orbit", radius=99)


def test_batch_equals_single(small_index):
    idx = SemanticIndex.load(small_index[0])
    texts = ["orbit rocket", "pasta tomato sauce", "bank loan interest"]
    batch = idx.search_batch(texts, k=5)
    assert [[h.id for h in hits] for hits in batch] == [[h.id for h in idx.search(t, k=5)] for t in texts]


def test_manifest_and_info(small_index):
    folder, _ = small_index
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["n_bits"] == 16
    for name in ("vocabulary.json", "document_frequency.npy", "encoder.npz", "model.keras", "faiss.index",
                 "hashtable_codes.npy", "documents.sqlite", "tfidf_data.npy", "tfidf_indptr.npy", "skipped.json",
                 "block_checksums.npy", "documents_digest.npy"):
        assert name in manifest["files"] and (folder / name).is_file()
    info = SemanticIndex.load(folder).info()
    assert info["documents"] == 90 and info["n_bits"] == 16
    assert 0.3 <= info["bit_balance"]["mean"] <= 0.7


def test_load_errors_name_the_file(small_index, tmp_path):
    import shutil

    with pytest.raises(IndexNotFoundError, match="no index at"):
        SemanticIndex.load(tmp_path / "nothing")
    bad = tmp_path / "bad"
    shutil.copytree(small_index[0], bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="newer than this semhash reads.*upgrade semhash"):
        SemanticIndex.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(small_index[0], bad)
    data = bytearray((bad / "encoder.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "encoder.npz").write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="encoder.npz does not match its checksum"):
        SemanticIndex.load(bad)
    (bad / "encoder.npz").write_bytes(bytes(data[:100]))
    with pytest.raises(IndexFormatError, match="encoder.npz has 100 bytes"):
        SemanticIndex.load(bad)
    (bad / "encoder.npz").unlink()
    with pytest.raises(IndexFormatError, match="index file missing: .*encoder.npz"):
        SemanticIndex.load(bad)


def test_resolve_index_path():
    assert str(resolve_index_path(None)).endswith("indexes/default")
    assert str(resolve_index_path("ng20")).endswith("indexes/ng20")
    assert str(resolve_index_path("/abs/idx")) == "/abs/idx"


def test_index_names_resolve_from_any_folder_of_a_project(small_index, tmp_path, monkeypatch):
    monkeypatch.delenv("SEMHASH_HOME", raising=False)
    project = tmp_path / "project"
    shutil.copytree(small_index[0], project / "indexes" / "notes")
    deep = project / "docs" / "drafts"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert resolve_index_path("notes") == project / "indexes" / "notes"  # the nearest indexes/, like .git
    assert resolve_index_path(None) == project / "indexes" / "default"
    assert resolve_index_path("./notes") == resolve_index_path(".") / "notes"  # a path stays a path
    result = CliRunner().invoke(cli, ["info", "--index", "notes"])
    assert result.exit_code == 0 and f"index:        {project / 'indexes' / 'notes'}" in result.output
    monkeypatch.chdir(project)
    assert resolve_index_path("notes") == resolve_index_path("indexes/notes")  # ./indexes, relative as before
    monkeypatch.setenv("SEMHASH_HOME", str(tmp_path / "elsewhere"))
    assert resolve_index_path("notes") == tmp_path / "elsewhere" / "notes"  # $SEMHASH_HOME first
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    monkeypatch.delenv("SEMHASH_HOME")
    monkeypatch.chdir(lonely)
    assert str(resolve_index_path("new")) == "indexes/new"  # no indexes/ anywhere above: ./indexes


def test_missing_index_name_says_where_it_looked_and_what_is_there(small_index, tmp_path, monkeypatch):
    for name in ("ng20", "notes"):
        shutil.copytree(small_index[0], tmp_path / name)
    (tmp_path / "not-an-index").mkdir()
    monkeypatch.setenv("SEMHASH_HOME", str(tmp_path))
    for args in (["query", "orbit"], ["info"], ["remove", "x.txt"], ["add", "x.txt"]):
        result = CliRunner().invoke(cli, [*args, "--index", "nosuchindex"])
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"Error: no index at {tmp_path / 'nosuchindex'}; index names resolve in {tmp_path} ($SEMHASH_HOME), "
            "which holds: ng20, notes; build one with `semhash index DIR --index nosuchindex`"), args
    assert not (tmp_path / ".nosuchindex.lock").exists()  # a typo leaves nothing behind
    monkeypatch.setenv("SEMHASH_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(IndexNotFoundError, match=r"resolve in .*nowhere \(\$SEMHASH_HOME\), which does not exist"):
        open_index("ng20")


def test_query_path_never_imports_tensorflow_or_sklearn(small_index):
    code = (
        "import sys\n"
        "from semhash.index import open_index\n"
        f"idx = open_index({str(small_index[0])!r})\n"
        "hits = idx.search('rocket orbit launch', k=5)\n"
        "assert len(hits) == 5\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'sklearn', 'torch'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_query_never_imports_tensorflow(small_index):
    code = (
        "import sys\n"
        "from semhash.cli import cli\n"
        "try:\n"
        f"    cli(['query', 'rocket orbit', '--index', {str(small_index[0])!r}], standalone_mode=False)\n"
        "finally:\n"
        "    bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'sklearn'))\n"
        "    print('IMPORTED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "IMPORTED []" in out.stdout


def test_index_config_is_frozen_typed_and_read_from_a_manifest(small_index):
    import dataclasses

    from semhash.errors import ConfigError
    from semhash.index import IndexConfig
    from semhash.model import ModelConfig
    from semhash.vectorize import VectorizerConfig

    config = IndexConfig(VectorizerConfig(min_df=1), {"n_bits": 16})  # a dict, as a manifest keeps it
    assert config.model == ModelConfig.from_dict({"n_bits": 16})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model = None
    with pytest.raises(ConfigError, match="model must be a ModelConfig or None, got str"):
        IndexConfig(model="rbm")
    with pytest.raises(ConfigError, match="vectorizer must be a VectorizerConfig, got dict"):
        IndexConfig({"min_df": 1})
    assert dataclasses.replace(config, model=None).model_dict() == {}
    folder, built = small_index
    loaded = open_index(folder)
    assert loaded.config == built.config
    assert IndexConfig.from_params(json.loads((folder / "manifest.json").read_text())["params"]) == built.config
    loaded.close()


def test_build_leaves_its_config_as_it_was(topical_corpus, monkeypatch):
    from semhash.corpus import read_corpus
    from semhash.index import IndexConfig, building
    from semhash.model import ModelConfig
    from semhash.vectorize import VectorizerConfig

    given = []

    def no_training(X, model, progress):
        given.append(model)
        raise RuntimeError("stop before training")

    monkeypatch.setattr(building, "train_model", no_training)
    config = IndexConfig(VectorizerConfig(min_df=1))
    with pytest.raises(RuntimeError, match="stop before training"):
        SemanticIndex.build(read_corpus(topical_corpus).documents, config)
    assert given == [ModelConfig()] and config.model is None  # the default model, config unchanged


def test_the_index_package_does_not_import_outliers_or_training():
    code = ("import sys\nimport semhash.index\n"
            "print(sorted(m for m in sys.modules if m in ('semhash.outliers', 'semhash.model', 'semhash.corpus', "
            "'semhash.index.building') or m.split('.')[0] in ('tqdm', 'scipy', 'sklearn', 'tensorflow', 'faiss')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
