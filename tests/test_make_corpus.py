"""benchmarks/make_corpus.py: the synthetic corpus of issue 19 at toy sizes (a small LDA fitted on
the tests' topical corpus, so no 20NG is needed): same seed same bytes, shard layout, fields,
balanced labels, and semhash's corpus reader reads the shards."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import NG20, TOPICS

mc = pytest.importorskip("benchmarks.make_corpus")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory, topical_corpus) -> Path:
    """A 4-topic model of the 3-label topical corpus, saved as model.npz/.json."""
    from semhash.eval.data import load_labelled_folder

    corpus = load_labelled_folder(topical_corpus)
    titles = [t.split("\n", 1)[0] for t in corpus.texts]
    model = mc.fit_model(corpus, titles, mc.FitConfig(topics=4, max_iter=5, min_df=2, subgroups=2))
    path = tmp_path_factory.mktemp("model") / "model.npz"
    model.save(path)
    return path


def make(out: Path, model: Path, *extra: str) -> Path:
    args = ["--n", "300", "--out", str(out), "--shard-size", "128", "--model", str(model), "--quiet", *extra]
    assert mc.main(args) == 0
    return out


def shard_bytes(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in mc.shard_files(folder)]


def test_same_seed_same_bytes_other_seed_other_documents(tmp_path, toy_model):
    a = make(tmp_path / "a", toy_model)
    b = make(tmp_path / "b", toy_model)
    c = make(tmp_path / "c", toy_model, "--seed", "1")
    assert shard_bytes(a) == shard_bytes(b)
    assert all(x != y for x, y in zip(shard_bytes(a), shard_bytes(c)))
    meta_a, meta_b = (json.loads((f / "meta.json").read_text()) for f in (a, b))
    assert meta_a["shards"] == meta_b["shards"]  # names, sizes and SHA-256 recorded
    # the model copied into the corpus folder reproduces the corpus
    d = make(tmp_path / "d", a / "model.npz")
    assert shard_bytes(d) == shard_bytes(a)


def test_parallel_shards_and_a_longer_corpus_share_their_full_shards(tmp_path, toy_model):
    a = make(tmp_path / "a", toy_model)
    par = make(tmp_path / "par", toy_model, "--jobs", "2")
    assert shard_bytes(par) == shard_bytes(a)
    longer = tmp_path / "longer"
    assert mc.main(["--n", "400", "--out", str(longer), "--shard-size", "128", "--model", str(toy_model), "--quiet"]) == 0
    assert shard_bytes(longer)[:2] == shard_bytes(a)[:2]  # the full shards; the last one differs in size


def test_shard_layout_fields_ids_and_balanced_labels(tmp_path, toy_model):
    out = make(tmp_path / "out", toy_model)
    files = mc.shard_files(out)
    assert [p.name for p in files] == ["docs-00000.jsonl", "docs-00001.jsonl", "docs-00002.jsonl"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["documents"] == 300 and [s["documents"] for s in meta["shards"]] == [128, 128, 44]
    assert sum(s["bytes"] for s in meta["shards"]) == sum(p.stat().st_size for p in files) == meta["bytes"]
    assert meta["labels"] == sorted(TOPICS) and meta["model"]["topics"]  # the model's summary
    records = list(mc.iter_records(out))
    assert [r["id"] for r in records] == [f"doc-{i:07d}" for i in range(300)]
    for r in records:
        assert set(r) == {"id", "title", "text", "label"} and r["label"] in TOPICS
        assert r["text"].strip() and not r["text"][0].islower() and r["text"].endswith(".")
        assert r["title"].strip() and "\n" not in r["title"]
    for shard in meta["shards"]:  # each label used n // 3 or n // 3 + 1 times in each shard
        first = int(shard["file"][5:10]) * 128
        counts = Counter(r["label"] for r in records[first:first + shard["documents"]])
        assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == 3
    # the words come from the model's vocabulary, and a label's documents lean to its own words
    corpus = mc.read_labelled(out)
    space = [t.lower() for t, y in zip(corpus.texts, corpus.labels) if corpus.label_names[y] == "space"]
    other = [t.lower() for t, y in zip(corpus.texts, corpus.labels) if corpus.label_names[y] != "space"]
    rate = [np.mean([sum(t.count(w) for w in TOPICS["space"]) / len(t.split()) for t in ts]) for ts in (space, other)]
    assert rate[0] > 3 * rate[1]


def test_semhash_reads_the_shards_as_documents(tmp_path, toy_model):
    from semhash.corpus import read_corpus

    out = make(tmp_path / "out", toy_model)
    report = read_corpus(out)
    records = list(mc.iter_records(out))
    assert [d.id for d in report.documents] == [r["id"] for r in records]
    assert [(d.title, d.text) for d in report.documents] == [(r["title"], r["text"]) for r in records]
    assert {s.path for s in report.skipped} == {"meta.json", "model.json", "model.npz"}  # not documents


def test_an_occupied_folder_is_refused_unless_forced(tmp_path, toy_model):
    out = make(tmp_path / "out", toy_model)
    with pytest.raises(SystemExit, match="--force"):
        make(out, toy_model)
    (out / "docs-00009.jsonl").write_text("stale\n")  # a shard a longer corpus left
    make(out, toy_model, "--force")
    assert [p.name for p in mc.shard_files(out)][-1] == "docs-00002.jsonl"
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="did not write"):
        make(out, toy_model, "--force")


def test_sampler_draws_words_from_the_topics_and_the_labels_words(toy_model):
    model = mc.CorpusModel.load(toy_model)
    rng = np.random.default_rng(0)
    theta = np.zeros((2, model.topic_word.shape[0]))
    theta[0, 1] = theta[1, 3] = 1.0  # document 0 all topic 1, document 1 all topic 3
    subgroups = np.array([5, 0])
    doc = np.repeat([0, 1], 20_000)
    phi = model.topic_word / model.topic_word.sum(axis=1, keepdims=True)
    own = model.subgroup_word[subgroups]
    for share, expected in ((0.0, phi[[1, 3]]), (1.0, own), (0.5, (phi[[1, 3]] + own) / 2)):
        sampler = mc.Sampler(model, mc.SampleConfig(concentration=5.0, subgroup_share=share))
        words = sampler.content_words(theta, subgroups, doc, rng)
        assert words.min() >= 0 and words.max() < len(model.words)
        for d in (0, 1):
            freq = np.bincount(words[doc == d], minlength=len(model.words)) / 20_000
            assert np.abs(freq - expected[d]).max() < 0.02
    mix = sampler.mixtures(np.zeros(4000, dtype=np.int64), rng)
    np.testing.assert_allclose(mix.sum(axis=1), 1.0)
    np.testing.assert_allclose(mix.mean(axis=0), model.group_mix[0], atol=0.02)
    with pytest.raises(ValueError, match="subgroup_share"):
        mc.SampleConfig(subgroup_share=1.5)


def test_subgroups_split_each_label_and_merge_back_into_its_mean(toy_model):
    model = mc.CorpusModel.load(toy_model)
    assert model.subgroup_label.tolist() == [0, 0, 1, 1, 2, 2]  # two per label, numbered label by label
    assert (model.subgroup_label[model.doc_subgroup] == model.doc_group).all()
    np.testing.assert_allclose(model.subgroup_word.sum(axis=1), 1.0)
    merged = mc.merge_subgroups(model)
    assert merged.subgroup_word.shape == (3, len(model.words)) and (merged.doc_subgroup == model.doc_group).all()
    for g in range(3):  # the mean of the label's posts' word frequencies, as one sub-group would be
        posts = model.doc_group == g
        sizes = np.bincount(model.doc_subgroup[posts], minlength=6)
        np.testing.assert_allclose(merged.subgroup_word[g], sizes @ model.subgroup_word / sizes.sum())


@pytest.mark.skipif(not (NG20 / "train").is_dir(), reason=f"20 Newsgroups not found at {NG20}")
def test_a_model_fitted_on_a_20ng_slice_gives_readable_labelled_text(tmp_path):
    corpus, titles = mc.read_20ng_train(NG20, limit_per_class=15)
    assert len(corpus) == 300 and sum(t.lower().startswith("re:") for t in titles) > 30
    model = mc.fit_model(corpus, titles, mc.FitConfig(topics=5, max_iter=3, subgroups=2))
    assert len(model.groups) == 20 and model.topic_word.shape == (5, len(model.words))
    assert 0 < model.reply_rate < 1 and model.doc_lengths.min() >= 0 and (model.doc_lengths[:, 0] > 0).all()
    model.save(tmp_path / "m.npz")
    out = make(tmp_path / "out", tmp_path / "m.npz")
    labels = Counter(r["label"] for r in mc.iter_records(out))
    assert len(labels) == 20 and max(labels.values()) - min(labels.values()) <= 3


@pytest.mark.slow
@pytest.mark.skipif(not (NG20 / "train").is_dir(), reason=f"20 Newsgroups not found at {NG20}")
def test_synthetic_check_writes_its_report_on_a_toy_corpus(tmp_path, toy_model):
    """benchmarks/synthetic_check.py against 20NG, on 300 toy documents (about a minute: it reads 20NG)."""
    check = pytest.importorskip("benchmarks.synthetic_check")
    corpus = make(tmp_path / "toy", toy_model)
    out, saved = tmp_path / "S.md", tmp_path / "s.json"
    assert check.main(["--corpus", str(corpus), "--sample", "300", "--grid", "0.5:10,0.5:10:1", "--large", "0",
                       "--out", str(out), "--json", str(saved)]) == 0
    result = json.loads(saved.read_text())
    assert set(result["tuning"]) == {"0.5:10", "0.5:10:1"}
    ng = result["precision"]["20NG, all posts, random split"]
    assert 20 < ng["tfidf_p100"] < 60 and ng["n_queries"] > 1000  # 18,846 posts, a tenth of them queries
    text = out.read_text()
    assert "| toy | 300 | 3 |" in text and "python -m benchmarks.synthetic_check --corpus" in text
    assert "| 2 | 0.5 | 10 |" in text and "| 1 | 0.5 | 10 |" in text  # sub-groups per label: the model's, merged
    rebuilt = tmp_path / "R.md"
    assert check.main(["--rebuild", "--json", str(saved), "--out", str(rebuilt)]) == 0
    assert rebuilt.read_text() == text
