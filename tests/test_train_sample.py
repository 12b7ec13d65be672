"""Training on a sample of a large corpus (``ModelConfig.train_sample``, ``semhash index
--train-sample``): the model sees the sample, every document is encoded and indexed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SEED, write_topical_corpus

from semhash.cli import cli
from semhash.errors import ConfigError
from semhash.train.config import ModelConfig
from semhash.train.trainer import training_sample

TINY = ["--bits", "16", "--hidden", "32,16", "--epochs", "3", "--pretrain-epochs", "1", "--batch-size", "16",
        "--min-df", "1", "--quiet", "--seed", str(SEED)]


def test_the_sample_is_seeded_uniform_and_only_drawn_for_a_larger_corpus():
    cfg = ModelConfig(train_sample=50, seed=SEED)
    assert training_sample(50, cfg) is None and training_sample(10, cfg) is None
    rows = training_sample(1000, cfg)
    assert rows is not None and len(rows) == 50 and len(set(rows.tolist())) == 50
    assert np.all(np.diff(rows) > 0) and rows.min() >= 0 and rows.max() < 1000
    assert np.array_equal(rows, training_sample(1000, cfg))  # the same seed, the same sample
    assert not np.array_equal(rows, training_sample(1000, cfg.replace(seed=SEED + 1)))
    assert training_sample(10**6, ModelConfig(train_sample=None)) is None
    # uniform: over many draws every row is picked about equally often (5 % each here)
    counts = np.bincount(np.concatenate([training_sample(1000, cfg.replace(seed=s)) for s in range(400)]),
                         minlength=1000)
    assert counts.min() > 2 and counts.max() < 45  # mean 20; a biased sampler leaves rows at 0


@pytest.mark.parametrize("bad", [1, 0, -5, 2.5, "100"])
def test_train_sample_must_be_a_whole_number_of_at_least_two(bad):
    with pytest.raises(ConfigError, match="train_sample"):
        ModelConfig(train_sample=bad)


def test_a_manifest_from_before_sampling_describes_a_model_trained_on_everything():
    old = ModelConfig().to_dict()
    del old["train_sample"]
    assert ModelConfig.from_dict(old).train_sample is None
    assert ModelConfig.from_dict(ModelConfig(train_sample=77).to_dict()).train_sample == 77


@pytest.mark.slow
def test_index_trains_on_the_sample_and_encodes_every_document(tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=20, seed=SEED)  # 60 documents
    sampled, whole = tmp_path / "sampled", tmp_path / "whole"
    for dest, extra in ((sampled, ["--train-sample", "25"]), (whole, ["--train-sample", "0"])):
        result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY, *extra])
        assert result.exit_code == 0, result.output
        assert "indexed 60 documents" in result.output
    manifest = json.loads((sampled / "manifest.json").read_text())
    assert manifest["training"]["trained_on"] == 25 and manifest["training"]["n_docs"] == 60
    assert manifest["params"]["model"]["train_sample"] == 25
    plain = json.loads((whole / "manifest.json").read_text())
    assert plain["params"]["model"]["train_sample"] is None and "trained_on" not in plain["training"]
    # every document is searchable in the sampled index, by a text only it contains
    from semhash.index import open_index

    index = open_index(sampled)
    try:
        assert len(index.table) == 60
        hits = index.search("space rocket orbit launch", k=60)
        assert len(hits) == 60 and len({h.id for h in hits}) == 60
    finally:
        index.close()


@pytest.mark.slow
def test_a_sample_as_large_as_the_corpus_trains_exactly_as_without_sampling(tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=10, seed=SEED)  # 30 documents
    codes = []
    for name, extra in (("a", ["--train-sample", "30"]), ("b", ["--train-sample", "0"])):
        result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(tmp_path / name), *TINY, *extra])
        assert result.exit_code == 0, result.output
        with np.load(tmp_path / name / "encoder.npz") as weights:
            codes.append({k: weights[k] for k in weights.files})
    assert codes[0].keys() == codes[1].keys()
    assert all(np.array_equal(codes[0][k], codes[1][k]) for k in codes[0])


def test_a_step_budget_gives_a_smaller_sample_more_epochs_up_to_the_cap():
    from semhash.train.trainer import fine_tune_epochs

    fixed = ModelConfig(epochs=20, fine_tune_steps=0)
    assert fine_tune_epochs(10, fixed) == fine_tune_epochs(1000, fixed) == 20  # no budget: epochs whatever the size
    budget = ModelConfig(epochs=30, fine_tune_steps=400)
    assert fine_tune_epochs(40, budget) == 10  # 400 updates of 40 batches
    assert fine_tune_epochs(18, budget) == 23  # half the documents: about twice the epochs, the same updates
    assert fine_tune_epochs(3, budget) == 30 and fine_tune_epochs(1000, budget) == 1  # capped at epochs, at least 1
    with pytest.raises(ConfigError, match="fine_tune_steps"):
        ModelConfig(fine_tune_steps=-1)


def test_a_manifest_from_before_the_step_budget_describes_fixed_epochs():
    old = ModelConfig(fine_tune_steps=400).to_dict()
    del old["fine_tune_steps"]
    assert ModelConfig.from_dict(old).fine_tune_steps == 0
