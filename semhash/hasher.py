"""``SemanticHasher``: texts in, binary codes out, with scikit-learn's conventions.

``__init__`` only stores its arguments; ``fit`` learns the vocabulary and trains the model
(``vectorizer_``, ``encoder_``, ``training_``) and returns ``self``; ``encode`` / ``transform``
need no TensorFlow.
"""

from __future__ import annotations

import numpy as np

from .codes import encode_bits, encode_probs, pack_bits
from .errors import ConfigError, NotFittedError
from .vectorize import Vectorizer, VectorizerConfig


class SemanticHasher:
    """Learns short binary codes for documents (vectorizer + deep autoencoder)."""

    def __init__(self, n_bits: int = 32, pretrain: str = "rbm", epochs: int = 20, seed: int = 0,
                 vectorizer: VectorizerConfig | None = None, model=None):
        self.n_bits = n_bits
        self.pretrain = pretrain
        self.epochs = epochs
        self.seed = seed
        self.vectorizer = vectorizer
        self.model = model

    def _model_config(self):
        from .model import ModelConfig

        if self.model is not None:
            return self.model
        return ModelConfig(n_bits=self.n_bits, pretrain=self.pretrain, epochs=self.epochs, seed=self.seed)

    def fit(self, texts: list[str], progress: bool = False, code_targets=None) -> "SemanticHasher":
        """Learn the vocabulary and train the model on ``texts``.

        ``code_targets`` (optional): one row of ``n_bits`` 0/1 per text, bits the code layer is
        taught instead of the neighbour graph's (see :func:`semhash.model.train`); the rows of
        texts left with no known word are dropped from both.
        """
        if isinstance(texts, str):
            raise ConfigError("fit expects a list of documents, not a single string")
        from .model import train

        texts = list(texts)
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

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError("this SemanticHasher is not fitted yet: call fit(texts) first")

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Code-unit probabilities ``(n, n_bits)``."""
        self._check_fitted()
        if isinstance(texts, str):
            raise ConfigError("expected a list of texts, not a single string; wrap it in a list")
        return encode_probs(self.encoder_, self.vectorizer_.transform(list(texts)))

    def transform(self, texts: list[str]) -> np.ndarray:
        """0/1 codes ``(n, n_bits)`` uint8."""
        self._check_fitted()
        if isinstance(texts, str):
            raise ConfigError("expected a list of texts, not a single string; wrap it in a list")
        return encode_bits(self.encoder_, self.vectorizer_.transform(list(texts)))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Packed codes ``(n, n_bits // 8)`` uint8 (bit 0 is the most significant bit of byte 0)."""
        return pack_bits(self.transform(texts))

    def fit_transform(self, texts: list[str]) -> np.ndarray:
        return self.fit(texts).transform(texts)
