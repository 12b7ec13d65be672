"""The vocabulary chosen in one streaming pass (semhash.vocabulary) is scikit-learn's.

``CountVectorizer`` is the reference: the same terms in the same columns, the same document
frequencies and the same counts, whatever the chunking of the texts, on a real corpus (20NG,
where max_features cuts through ties of equal counts) and on small corner cases.
"""

import numpy as np
import pytest
from conftest import NG20
from sklearn.feature_extraction.text import CountVectorizer

from semhash.corpus import read_corpus
from semhash.errors import ConfigError
from semhash.vectorize import Vectorizer, VectorizerConfig

CONFIGS = [
    VectorizerConfig(),  # the default: 10,000 words, min_df 2, max_df 0.8, stop words
    VectorizerConfig(max_features=2000, min_df=3, max_df=0.5),
    VectorizerConfig(max_features=30000, min_df=1, max_df=1.0, stop_words=False),
]


def sklearn_reference(texts, cfg):
    sk = CountVectorizer(stop_words="english" if cfg.stop_words else None, max_features=cfg.max_features,
                         min_df=cfg.min_df, max_df=cfg.max_df, dtype=np.float32)
    counts = sk.fit_transform(texts)
    return sk.get_feature_names_out().tolist(), counts


def assert_same(vec, counts, texts, cfg):
    terms, ref = sklearn_reference(texts, cfg)
    assert vec.terms_ == terms
    assert np.array_equal(vec.df_, np.diff(ref.tocsc().indptr))
    ref.sort_indices()
    assert np.array_equal(counts.indptr, ref.indptr) and np.array_equal(counts.indices, ref.indices)
    assert np.array_equal(counts.data, ref.data)
    assert (vec.counts(texts) != counts).nnz == 0  # what a second reading of the texts would give


@pytest.fixture(scope="module")
def ng20_texts():
    if not (NG20 / "train").is_dir():
        pytest.skip(f"20 Newsgroups not found at {NG20}")
    return [d.text for d in read_corpus(NG20 / "train").documents[:6000]]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["default", "small", "no-stop-words"])
def test_one_streaming_pass_chooses_countvectorizers_vocabulary_on_20ng(ng20_texts, cfg):
    vec = Vectorizer(cfg)
    counts = vec.fit_counts(vec.word_counts(ng20_texts[i : i + 997] for i in range(0, len(ng20_texts), 997)))
    assert vec.n_docs_ == len(ng20_texts)
    assert_same(vec, counts, ng20_texts, cfg)


def test_chunking_does_not_change_the_vocabulary(ng20_texts):
    texts = ng20_texts[:1500]
    whole = Vectorizer().fit(texts)
    vec = Vectorizer()
    counts = vec.fit_counts(vec.word_counts([texts[:1], texts[1:700], [], texts[700:]]))
    assert vec.terms_ == whole.terms_ and np.array_equal(vec.df_, whole.df_)
    assert (counts != whole.counts(texts)).nnz == 0


def test_ties_at_the_max_features_cut_break_as_countvectorizers():
    # 26 words with equal totals, 10 kept: which ones is argsort's choice, the same as scikit-learn's
    texts = [" ".join(f"w{chr(97 + i)}{chr(97 + j)}" for j in range(26)) for i in range(3)] * 2
    cfg = VectorizerConfig(max_features=10, min_df=1, max_df=1.0, stop_words=False)
    vec = Vectorizer(cfg)
    counts = vec.fit_counts(vec.word_counts([texts]))
    assert_same(vec, counts, texts, cfg)


def test_a_text_without_any_kept_word_gets_an_empty_row():
    texts = ["the and of", "apple banana", "banana cherry", "apple cherry"]
    cfg = VectorizerConfig(min_df=1, max_df=1.0)
    vec = Vectorizer(cfg)
    counts = vec.fit_counts(vec.word_counts([texts]))
    assert counts.shape == (4, 3) and counts[0].nnz == 0
    assert_same(vec, counts, texts, cfg)


@pytest.mark.parametrize("texts, cfg, message", [
    (["the and of", "is it"], VectorizerConfig(min_df=1, max_df=1.0), "only contain stop words"),
    (["apple", "banana", "cherry"], VectorizerConfig(min_df=2, max_df=1.0), "no terms remain"),
])
def test_no_vocabulary_is_a_clear_error(texts, cfg, message):
    with pytest.raises(ConfigError, match=message) as err:
        Vectorizer(cfg).fit(texts)
    assert "lower --min-df" in str(err.value)


def test_zero_texts_is_a_clear_error():
    with pytest.raises(ConfigError, match="zero documents"):
        Vectorizer().fit([])
