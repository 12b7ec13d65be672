"""SemanticHasher as a scikit-learn transformer: parameters, clone(), Pipeline, the estimator checks."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from conftest import SMALL_MODEL, TOPICS, topical_text

from semhash.errors import ConfigError
from semhash.hasher import SemanticHasher
from semhash.model import ModelConfig
from semhash.vectorize import VectorizerConfig

CONFIG = ModelConfig(**SMALL_MODEL)

# scikit-learn's estimator checks that apply to an estimator whose input is a list of texts: they
# need no data, or only call an unfitted estimator. The other checks of
# sklearn.utils.estimator_checks build a numeric X (make_blobs, random matrices, memmaps, sparse
# matrices) and fit on it, which a text transformer refuses by design: check_fit_score_takes_y,
# check_estimators_fit_returns_self, check_dont_overwrite_parameters,
# check_estimators_overwrite_params, check_fit_check_is_fitted, check_fit_idempotent,
# check_readonly_memmap_input, check_positive_only_tag_during_fit, the dtype/NaN/sparse/1-sample
# checks and check_estimators_pickle (state is saved as plain files, not pickles). What they test
# is tested below on texts instead (fit returns self and leaves the parameters alone, fitting
# again gives the same codes, check_is_fitted). check_transformers_unfitted_stateless is for
# transformers that need no fit.
APPLICABLE_CHECKS = [
    "check_estimator_cloneable", "check_estimator_tags_renamed", "check_valid_tag_types", "check_estimator_repr",
    "check_no_attributes_set_in_init", "check_parameters_default_constructible", "check_get_params_invariance",
    "check_set_params", "check_do_not_raise_errors_in_init_or_set_params", "check_mixin_order",
    "check_estimators_unfitted", "check_transformers_unfitted", "check_get_feature_names_out_error",
    "check_estimator_sparse_tag",
]


def labelled_texts(seed: int = 0, per_topic: int = 40) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    data = [(topical_text(t, rng), t) for t in TOPICS for _ in range(per_topic)]
    rng.shuffle(data)
    return [x for x, _ in data], [y for _, y in data]


@pytest.mark.parametrize("check", APPLICABLE_CHECKS)
def test_passes_the_sklearn_estimator_checks_that_apply_to_text_input(check):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("SemanticHasher", SemanticHasher(model=CONFIG))


def test_declares_text_input_so_the_numeric_checks_are_skipped():
    """Its tags say it takes texts; scikit-learn's check_estimator then skips its numeric suite
    (the checks above are run one by one instead)."""
    from sklearn.exceptions import SkipTestWarning
    from sklearn.utils import get_tags
    from sklearn.utils.estimator_checks import check_estimator

    tags = get_tags(SemanticHasher())
    assert tags.input_tags.string and not tags.input_tags.two_d_array and tags.requires_fit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = check_estimator(SemanticHasher(), on_fail=None)
    assert any(issubclass(w.category, SkipTestWarning) for w in caught)
    assert all(r["status"] == "passed" for r in results), results


def test_get_params_set_params_and_clone_round_trip():
    from sklearn.base import clone

    vec = VectorizerConfig(min_df=1)
    hasher = SemanticHasher(n_bits=16, epochs=3, vectorizer=vec, model=CONFIG)
    params = hasher.get_params()
    assert params == {"n_bits": 16, "pretrain": "rbm", "epochs": 3, "seed": 0, "vectorizer": vec, "model": CONFIG}
    assert SemanticHasher(**params).get_params() == params
    other = SemanticHasher()
    assert other.set_params(**params) is other and other.get_params() == params
    assert other.set_params(seed=5).get_params()["seed"] == 5 and hasher.get_params()["seed"] == 0
    with pytest.raises(ValueError, match="n_bitz"):
        other.set_params(n_bitz=8)
    copy = clone(hasher)
    assert copy is not hasher and type(copy) is SemanticHasher and copy.get_params() == params
    assert repr(copy).startswith("SemanticHasher(")


def test_before_fit_it_is_not_fitted_for_sklearn_too():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    hasher = SemanticHasher(model=CONFIG)
    with pytest.raises(NotFittedError):
        check_is_fitted(hasher)
    with pytest.raises(ValueError, match="not fitted"):
        hasher.transform(["rocket"])
    with pytest.raises(ConfigError, match="single string"):
        hasher.fit("rocket orbit")
    with pytest.raises(ConfigError, match="texts"):
        hasher.fit([1.5, 2.5])


@pytest.fixture(scope="module")
def pipeline_run():
    """A Pipeline(SemanticHasher -> LogisticRegression) fitted on 90 texts of three topics."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    texts, labels = labelled_texts()
    pipe = Pipeline([("codes", SemanticHasher(model=CONFIG, vectorizer=VectorizerConfig(min_df=1))),
                     ("clf", LogisticRegression())])
    params = dict(pipe.named_steps["codes"].get_params())
    assert pipe.fit(texts[:90], labels[:90]) is pipe
    return pipe, params, texts, labels


@pytest.mark.slow
def test_pipeline_fits_and_predicts_on_texts(pipeline_run):
    from sklearn.utils.validation import check_is_fitted

    pipe, params, texts, labels = pipeline_run
    hasher = pipe.named_steps["codes"]
    check_is_fitted(hasher)
    predicted = pipe.predict(texts[90:])
    assert predicted.shape == (30,) and set(predicted) <= set(TOPICS)
    # the pipeline is the two steps composed: the classifier sees the hasher's 0/1 codes
    codes = hasher.transform(texts[90:])
    assert codes.shape == (30, 16) and codes.dtype == np.uint8 and set(np.unique(codes)) <= {0, 1}
    assert (pipe.named_steps["clf"].predict(codes) == predicted).all()
    # the codes carry the topic: well above the 1/3 of guessing (even when two topics share codes)
    assert np.mean(predicted == np.array(labels[90:])) > 0.45
    # fitting left every parameter as it was given
    assert hasher.get_params() == params
    names = pipe[:-1].get_feature_names_out()
    assert list(names) == [f"semantichasher{i}" for i in range(16)]


@pytest.mark.slow
def test_fitting_again_with_the_same_parameters_gives_the_same_codes(pipeline_run):
    from sklearn.base import clone

    pipe, _, texts, _ = pipeline_run
    fitted = pipe.named_steps["codes"]
    again = clone(fitted)
    assert not hasattr(again, "encoder_")  # clone copies parameters, not the fitted state
    assert again.fit(texts[:90]) is again
    np.testing.assert_array_equal(again.transform(texts), fitted.transform(texts))
    np.testing.assert_array_equal(again.encode(texts[:5]), fitted.encode(texts[:5]))
