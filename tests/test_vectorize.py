import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from semhash.errors import ConfigError, NotFittedError
from semhash.vectorize import Vectorizer, VectorizerConfig, tokenize

TEXTS = [
    "Hello world, héllo WORLD!! x naïve café",
    "The quick brown fox_jumps over 12 lazy dogs 34",
    "Über résumé naïve café; emails: a.b@c.com",
    "hello fox, hello dogs",
]


def test_counts_equal_sklearn_countvectorizer():
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0, stop_words=False)).fit(TEXTS)
    sk = CountVectorizer().fit(TEXTS)
    assert vec.terms_ == sk.get_feature_names_out().tolist()
    assert (vec.counts(TEXTS).toarray() == sk.transform(TEXTS).toarray()).all()


def test_vocabulary_limits_and_stop_words():
    texts = ["apple banana the"] * 5 + ["apple cherry"] * 3 + ["durian"]
    vec = Vectorizer(VectorizerConfig(min_df=2, max_df=0.8, max_features=10, stop_words=True)).fit(texts)
    # 'apple' in 8/9 docs > 0.8, 'the' is a stop word, 'durian' in 1 doc < min_df
    assert vec.terms_ == ["banana", "cherry"]


def test_tfidf_formula():
    texts = ["a1 a1 b1", "b1 c1", "c1 c1 c1"]
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0, stop_words=False)).fit(texts)
    X = vec.transform(texts).toarray()
    j = vec.vocabulary_
    assert X[0, j["a1"]] == pytest.approx(np.log1p(2) * np.log1p(3 / 1))
    assert X[2, j["c1"]] == pytest.approx(np.log1p(3) * np.log1p(3 / 2))
    counts = Vectorizer(VectorizerConfig(weighting="counts", min_df=1, max_df=1.0, stop_words=False)).fit(texts)
    assert counts.transform(texts).toarray()[2, counts.vocabulary_["c1"]] == 3


def test_save_load_round_trip(tmp_path):
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0)).fit(TEXTS)
    vec.save(tmp_path)
    again = Vectorizer.load(tmp_path)
    assert (again.transform(TEXTS) != vec.transform(TEXTS)).nnz == 0
    assert again.config == vec.config


def test_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        Vectorizer().transform(["x"])
    with pytest.raises(ConfigError, match="list of documents"):
        Vectorizer().fit("a single string")
    with pytest.raises(ConfigError, match="weighting"):
        Vectorizer(VectorizerConfig(weighting="bm25")).fit(["a b"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=5))
def test_tokenizer_matches_sklearn_on_arbitrary_unicode(texts):
    analyzer = CountVectorizer().build_analyzer()
    for t in texts:
        assert tokenize(t) == analyzer(t)


def test_normalizing_in_place_gives_the_floats_and_layout_of_l2_normalize():
    from semhash.vectorize import l2_normalize, l2_normalize_in_place, weight_counts

    rng = np.random.default_rng(0)
    texts = [" ".join(f"w{rng.integers(0, 300)}" for _ in range(rng.integers(0, 60))) for _ in range(500)]
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0, stop_words=False))
    X = weight_counts(vec.fit_counts(vec.word_counts([texts])), vec.idf_)
    expected = l2_normalize(X)
    got = l2_normalize_in_place(X.copy(), chunk=37)
    for part in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, part), getattr(expected, part)), part
    with pytest.raises(TypeError, match="float32"):
        l2_normalize_in_place(X.astype(np.float64))
