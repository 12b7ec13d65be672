"""``ModelConfig``: everything that shapes the model and its training (no TensorFlow here)."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

from ..checks import check_n_bits
from ..choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS
from ..errors import ConfigError

CODE_MODES = ("noise", "ste")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that shapes the model and its training.

    Immutable and checked on construction (a :class:`ConfigError` names the bad field); change
    it with :meth:`replace`.
    """

    n_bits: int = 32
    hidden: tuple[int, ...] = (500, 500)
    activation: str = "sigmoid"  # hidden units: "sigmoid" (as in the paper, matches RBMs) or "relu"
    pretrain: str = "rbm"
    pretrain_epochs: int = 5
    pretrain_learning_rate: float = 0.1
    rbm_bottom_learning_rate: float = 5.0  # per unit of mean document length (word-count layer)
    epochs: int = 20  # fine-tuning epochs (with fine_tune_steps: at most this many)
    # fine-tuning updates to make whatever the corpus size (0: `epochs` epochs): the epochs are
    # ceil(steps / batches per epoch), at most `epochs`, so a smaller sample gets more passes
    fine_tune_steps: int = 0
    batch_size: int = 64
    learning_rate: float = 1e-3
    code_mode: str = "ste"
    noise_std: float = 4.0
    input_length: float = 300.0  # every input row is rescaled to this total weight (0: raw weights)
    word_dropout: float = 0.95  # fine-tuning input: each document keeps a random 5-100% of its words
    neighbours: int = 0  # fine-tuning target: blend in the words of each document's k TF-IDF nearest neighbours
    neighbour_weight: float = 0.5  # share of the neighbours' mean word distribution in that target
    graph_codes: float = 1.0  # weight of the code-layer loss towards bits of the neighbour graph (0: off)
    graph_neighbours: int = 50  # neighbours per document in the graph behind those bits
    graph_teacher: str = "spectral"  # how the graph becomes bits: "spectral" embedding or "smoothed" TF-IDF
    graph_dims: int = 24  # spectral: eigenvectors per ITQ block (blocks repeat, rotated anew, to fill n_bits)
    graph_steps: int = 2  # smoothed: smoothing steps over the neighbour graph
    graph_alpha: float = 0.8  # smoothed: share of the neighbours' mean in each smoothing step
    validation_fraction: float = 0.1
    patience: int = 3
    threshold: str = "median"  # "median" (balanced bits) or "half" (0.5)
    seed: int = 0
    # a corpus with more documents trains on a seeded uniform sample of this many (None: all of
    # them); every document is still encoded. 20,000 keeps every corpus the benchmarks use
    # (20NG train: 11,314) whole, and bounds training (and the neighbour graph) at any size
    train_sample: int | None = 20000
    # regularised autoencoder variants (fine-tuning only; "plain" leaves the model as it was).
    # "denoising" is the default: with graph codes it beat plain at every code length on the
    # validation half (benchmarks/ABLATION.md, benchmarks/RESULTS.md)
    variant: str = "denoising"
    mask_rate: float = 0.2  # denoising: share of input weights set to zero
    gaussian_std: float = 0.1  # denoising: std of the Gaussian noise added to the length-normalized input
    sparsity_target: float = 0.1  # sparse: target mean activation of each code unit
    sparsity_weight: float = 0.1  # sparse: weight of the KL divergence penalty
    contractive_weight: float = 0.1  # contractive: weight of the squared Frobenius norm of the Jacobian
    kl_weight: float = 0.01  # variational: weight of KL(q(z|x) || N(0, I)) against the per-word cross-entropy

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))  # a list given as hidden sizes: kept as a tuple
        self.validate()

    def replace(self, **overrides: Any) -> ModelConfig:
        """A copy with ``overrides`` (checked like any new config)."""
        return dataclasses.replace(self, **overrides)

    def validate(self, n_inputs: int | None = None) -> None:
        """Check every field (done on construction) and, given ``n_inputs``, the vocabulary size."""
        check_n_bits(self.n_bits)
        if self.neighbours < 0 or not 0.0 <= self.neighbour_weight <= 1.0:
            raise ConfigError("neighbours must be at least 0 and neighbour_weight in [0, 1], "
                              f"got {self.neighbours} and {self.neighbour_weight}")
        if self.graph_codes < 0 or self.graph_neighbours < 1 or self.graph_steps < 1 \
                or not 0.0 <= self.graph_alpha <= 1.0 or self.graph_dims < 1:
            raise ConfigError("graph_codes must be at least 0, graph_neighbours, graph_dims and graph_steps at "
                              f"least 1 and graph_alpha in [0, 1], got {self.graph_codes}, "
                              f"{self.graph_neighbours}, {self.graph_dims}, {self.graph_steps} and {self.graph_alpha}")
        if self.graph_teacher not in GRAPH_TEACHERS:
            raise ConfigError(f"graph_teacher must be one of {', '.join(GRAPH_TEACHERS)}, got {self.graph_teacher!r}")
        if self.pretrain not in PRETRAIN_KINDS:
            raise ConfigError(f"pretrain must be one of {', '.join(PRETRAIN_KINDS)}, got {self.pretrain!r}")
        if self.code_mode not in CODE_MODES:
            raise ConfigError(f"code_mode must be one of {', '.join(CODE_MODES)}, got {self.code_mode!r}")
        if self.activation not in ("sigmoid", "relu"):
            raise ConfigError(f"activation must be 'sigmoid' or 'relu', got {self.activation!r}")
        if self.threshold not in ("median", "half"):
            raise ConfigError(f"threshold must be 'median' or 'half', got {self.threshold!r}")
        if any(h < 1 for h in self.hidden):
            raise ConfigError(f"hidden layer sizes must be positive, got {self.hidden}")
        if not 0.0 <= self.word_dropout < 1.0 or self.input_length < 0:
            raise ConfigError("word_dropout must be in [0, 1) and input_length at least 0")
        if self.epochs < 1 or self.pretrain_epochs < 0 or self.batch_size < 1 or self.fine_tune_steps < 0:
            raise ConfigError("epochs and batch_size must be at least 1, pretrain_epochs and fine_tune_steps at least 0")
        if self.variant not in VARIANTS:
            raise ConfigError(f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if not 0.0 <= self.mask_rate < 1.0 or self.gaussian_std < 0:
            raise ConfigError("mask_rate must be in [0, 1) and gaussian_std at least 0")
        if not 0.0 < self.sparsity_target < 1.0:
            raise ConfigError(f"sparsity_target must be between 0 and 1 (exclusive), got {self.sparsity_target}")
        if min(self.sparsity_weight, self.contractive_weight, self.kl_weight) < 0:
            raise ConfigError("sparsity_weight, contractive_weight and kl_weight must be at least 0")
        if self.train_sample is not None and (not isinstance(self.train_sample, int) or self.train_sample < 2):
            raise ConfigError(f"train_sample must be a whole number of at least 2 or None, got {self.train_sample!r}")
        if n_inputs is not None and n_inputs < 2:
            raise ConfigError(f"the vocabulary has {n_inputs} word(s); at least 2 are needed to train")

    def to_dict(self) -> dict:
        """The config as plain JSON values, as manifests store it."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """The config saved in a manifest (``to_dict``); a missing field takes its default, except
        ``variant``: a manifest written before variants existed describes the plain model, and
        ``train_sample``: one written before sampling existed was trained on every document, and
        ``fine_tune_steps``: one written before the step budget existed ran ``epochs`` epochs."""
        d = dict(d)
        d.setdefault("variant", "plain")
        d.setdefault("train_sample", None)  # written before sampling existed: trained on every document
        d.setdefault("fine_tune_steps", 0)  # written before the step budget: `epochs` epochs, whatever the size
        d["hidden"] = tuple(d.get("hidden", (500, 500)))
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
