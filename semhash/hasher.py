"""``SemanticHasher``: texts in, binary codes out, as a scikit-learn transformer.

It is a real estimator (``BaseEstimator`` + ``TransformerMixin``): ``get_params`` /
``set_params``, ``clone()``, ``Pipeline`` and grid search work. ``__init__`` only stores its
arguments; ``fit(texts, y=None)`` learns the vocabulary and trains the model (``vectorizer_``,
``encoder_``, ``training_``) and returns ``self``; ``transform`` gives 0/1 codes and ``encode``
packed ones, with no TensorFlow. Its input is a list of texts (the estimator tags say so), so the
scikit-learn checks written for numeric ``X`` do not apply; ``tests/test_hasher.py`` runs the
ones that do.

This module is on the training side: it imports scikit-learn (``import semhash`` does not load
it; see :mod:`semhash`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin

from .checks import check_fitted, check_list
from .codes import encode_bits, encode_probs, pack_bits
from .errors import ConfigError
from .train.config import ModelConfig
from .vectorize import Vectorizer, VectorizerConfig


class SemanticHasher(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learns short binary codes for documents (vectorizer + deep autoencoder).

    ``model`` (a :class:`semhash.train.config.ModelConfig`), when given, sets every model option and
    ``n_bits``, ``pretrain``, ``epochs`` and ``seed`` are not used; ``vectorizer`` (a
    :class:`semhash.vectorize.VectorizerConfig`) sets the vocabulary's options. Fitting twice with
    the same parameters gives the same codes.
    """

    def __init__(self, n_bits: int = 32, pretrain: str = "rbm", epochs: int = 20, seed: int = 0,
                 vectorizer: VectorizerConfig | None = None, model=None):
        self.n_bits = n_bits
        self.pretrain = pretrain
        self.epochs = epochs
        self.seed = seed
        self.vectorizer = vectorizer
        self.model = model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a list of texts, not a numeric matrix
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # always uint8 codes
        return tags

    def _model_config(self) -> ModelConfig:
        if self.model is not None:
            return self.model
        return ModelConfig(n_bits=self.n_bits, pretrain=self.pretrain, epochs=self.epochs, seed=self.seed)

    def fit(self, texts: list[str], y=None, *, progress: bool = False, code_targets=None) -> SemanticHasher:
        """Learn the vocabulary and train the model on ``texts``; ``y`` is ignored (the codes are
        learned without labels; it is accepted so that a ``Pipeline`` can pass it).

        ``code_targets`` (optional): one row of ``n_bits`` 0/1 per text, bits the code layer is
        taught instead of the neighbour graph's (see :func:`semhash.train.trainer.train`); the rows of
        texts left with no known word are dropped from both.
        """
        texts = _texts(texts, "fit")
        from .train.trainer import train  # TensorFlow: only fitting trains the model

        if code_targets is not None and len(code_targets) != len(texts):
            raise ConfigError(f"code_targets has {len(code_targets)} rows for {len(texts)} texts; give one row per text")
        self.vectorizer_ = Vectorizer(self.vectorizer or VectorizerConfig()).fit(texts)
        X = self.vectorizer_.transform(texts)
        kept = np.diff(X.indptr) > 0
        X = X[kept]
        if code_targets is not None:
            code_targets = np.asarray(code_targets)[kept]
        self.training_ = train(X, self._model_config(), progress=progress, code_targets=code_targets)
        self.encoder_ = self.training_.encoder
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")

    def _check_fitted(self) -> None:
        check_fitted(self, "encoder_")

    @property
    def _n_features_out(self) -> int:
        """Bits per code, for ``get_feature_names_out`` (``semantichasher0``, ...); an
        AttributeError before ``fit``, which scikit-learn reports as not fitted."""
        return self.encoder_.n_bits

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Code-unit probabilities ``(n, n_bits)``."""
        self._check_fitted()
        return encode_probs(self.encoder_, self.vectorizer_.transform(_texts(texts, "probabilities")))

    def transform(self, texts: list[str]) -> np.ndarray:
        """0/1 codes ``(n, n_bits)`` uint8."""
        self._check_fitted()
        return encode_bits(self.encoder_, self.vectorizer_.transform(_texts(texts, "transform")))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Packed codes ``(n, n_bits // 8)`` uint8 (bit 0 is the most significant bit of byte 0)."""
        return pack_bits(self.transform(texts))


def _texts(texts, method: str) -> list[str]:
    """``texts`` as a list of strings, or a :class:`ConfigError` naming what is wrong."""
    if isinstance(texts, bytes):  # one encoded text: refused as one str is
        texts = texts.decode("utf-8", "replace")
    try:
        texts = check_list(texts, "texts", method)
    except TypeError:
        raise ConfigError(f"{method} expects a list of texts, got {type(texts).__name__}") from None
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise ConfigError(f"{method} expects texts (str), got a {type(bad).__name__}: {bad!r:.60}")
    return texts
