"""``IndexConfig``: the options an index is built with (vocabulary and model), typed and frozen."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ConfigError
from ..train.config import ModelConfig
from ..vectorize import VectorizerConfig


@dataclass(frozen=True)
class IndexConfig:
    """Options of an index: the vocabulary and the model.

    ``model`` is ``None`` for an index of an already trained model
    (:meth:`SemanticIndex.from_model`); :meth:`SemanticIndex.build` trains the default
    :class:`ModelConfig` then. A dict, as a manifest stores it, is read with
    :meth:`ModelConfig.from_dict`. Change a config with ``dataclasses.replace``.
    """

    vectorizer: VectorizerConfig = field(default_factory=VectorizerConfig)
    model: ModelConfig | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.vectorizer, VectorizerConfig):
            raise ConfigError(f"vectorizer must be a VectorizerConfig, got {type(self.vectorizer).__name__}")
        if isinstance(self.model, dict):  # the config a manifest stores (frozen: set once, here)
            object.__setattr__(self, "model", ModelConfig.from_dict(self.model))
        if self.model is not None and not isinstance(self.model, ModelConfig):
            raise ConfigError(f"model must be a ModelConfig or None, got {type(self.model).__name__}")

    def model_dict(self) -> dict:
        """The model's options as the manifest stores them (``{}`` without a model)."""
        return self.model.to_dict() if self.model is not None else {}

    def to_params(self) -> dict[str, Any]:
        """The manifest's ``params``: ``{"vectorizer": ..., "model": ...}``."""
        return {"vectorizer": asdict(self.vectorizer), "model": self.model_dict()}

    @classmethod
    def from_params(cls, params: dict) -> IndexConfig:
        """The config a manifest's ``params`` describe (:meth:`to_params`); an empty ``model``
        is an index without a trained model. Vectorizer options this semhash does not know are left out."""
        vec = params.get("vectorizer") or {}
        known = VectorizerConfig.__dataclass_fields__
        return cls(VectorizerConfig(**{k: v for k, v in vec.items() if k in known}), params.get("model") or None)


__all__ = ["IndexConfig"]
