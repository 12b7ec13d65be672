"""``train()``: the whole training, from weighted bag-of-words rows to the NumPy encoder.

Two stages (Salakhutdinov & Hinton, 2009): greedy layer-wise pretraining
(:mod:`semhash.train.pretrain`), then fine-tuning of the unrolled autoencoder
(:mod:`semhash.train.autoencoder`) to reconstruct each document's word distribution, with
(``graph_codes > 0``, the default) a second loss on the code logits towards target bits from the
corpus's nearest-neighbour graph (:mod:`semhash.train.teachers`). No labels are used anywhere.
The result is exported as plain NumPy arrays (:mod:`semhash.train.export`).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..codes import DecoderWeights, EncoderWeights, length_normalize
from ..errors import ConfigError
from .autoencoder import AUTOENCODER_VARIANTS, Autoencoder, build_autoencoder, distribution_loss
from .backend import keras, tf
from .config import ModelConfig
from .data import Batches
from .export import export_decoder, export_encoder
from .fitting import fit
from .graph import nearest_neighbours, neighbour_targets
from .pretrain import load_pretrained, pretrain
from .teachers import TEACHERS, graph_code_targets

SAMPLE_STREAM = 0x5A4D  # the sample's generator: seeded apart from training's own draws

@dataclass
class TrainingResult:
    """What training produced: the NumPy encoder, the Keras model and the loss curves."""

    encoder: EncoderWeights
    keras_model: Any  # the Keras autoencoder (keras.Model)
    pretrain_losses: list[list[float]] = field(default_factory=list)
    finetune_losses: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)
    decoder: DecoderWeights | None = None  # the decoder as NumPy arrays (reconstructions without TensorFlow)
    sample_rows: np.ndarray | None = None  # the rows of X trained on (None: all of them)
    # seconds per phase of training ("pretrain", "graph", "fine-tune", "export"): wall clock and
    # this process's CPU time (all its threads), so a machine shared with other jobs shows
    phase_seconds: dict[str, float] = field(default_factory=dict)
    phase_cpu_seconds: dict[str, float] = field(default_factory=dict)

    def save_keras(self, path: str | Path) -> None:
        self.keras_model.save(str(path))


@contextmanager
def timed(phase: str, wall: dict[str, float], cpu: dict[str, float]):
    """Add the wall and process CPU seconds spent in the ``with`` block to ``wall[phase]`` and ``cpu[phase]``."""
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall[phase] = wall.get(phase, 0.0) + time.perf_counter() - w0
        cpu[phase] = cpu.get(phase, 0.0) + time.process_time() - c0


def check_input(X, cfg: ModelConfig) -> sp.csr_matrix:
    """``X`` as float32 CSR rows, or a :class:`ConfigError`: at least 2 documents and 2 words,
    finite and nonnegative weights."""
    X = sp.csr_matrix(X, dtype=np.float32)
    n, n_inputs = X.shape
    cfg.validate(n_inputs)
    if n < 2:
        raise ConfigError(f"training needs at least 2 documents with known words, got {n}")
    if X.nnz and not np.isfinite(X.data).all():
        raise ConfigError("the input matrix holds NaN or infinite values")
    if (X.data < 0).any():
        raise ConfigError("the input matrix must be nonnegative (word counts or TF-IDF weights)")
    return X


def check_code_targets(code_targets, n: int, n_bits: int) -> np.ndarray:
    """``code_targets`` as a float32 ``(n, n_bits)`` array of 0/1, or a :class:`ConfigError`."""
    T = np.asarray(code_targets)
    if T.shape != (n, n_bits):
        raise ConfigError(f"code_targets must have one row per document and one column per bit, "
                          f"shape ({n}, {n_bits}); got {T.shape}")
    if T.dtype != bool and not np.isin(T, (0, 1)).all():
        raise ConfigError("code_targets must hold only 0 and 1 (or True and False)")
    return T.astype(np.float32)


def training_sample(n: int, cfg: ModelConfig) -> np.ndarray | None:
    """The rows to train on when ``n`` exceeds ``cfg.train_sample``: a uniform sample drawn with
    its own generator of ``cfg.seed`` (ascending); ``None``: all rows (and every random draw of
    training exactly as without sampling)."""
    if cfg.train_sample is None or n <= cfg.train_sample:
        return None
    rng = np.random.default_rng([cfg.seed, SAMPLE_STREAM])
    return np.sort(rng.choice(n, cfg.train_sample, replace=False))


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Keras (Python, NumPy and TensorFlow), make TensorFlow's ops deterministic, and return
    the generator NumPy-side training draws from."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)


def validation_split(n: int, cfg: ModelConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, validation_rows)``: a slice of the corpus held out for early stopping when
    there is enough of it (1,000 documents), else none."""
    order = rng.permutation(n)
    n_val = int(round(n * cfg.validation_fraction)) if n >= 1000 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def fine_tuning_targets(X, cfg: ModelConfig, given_bits: np.ndarray | None, progress: bool = False):
    """``(targets, bits)``: the rows the decoder reconstructs (blended with their neighbours'
    when ``cfg.neighbours``) and the code layer's target bits (``given_bits``, else the graph
    teacher's when ``cfg.graph_codes``, else ``None``)."""
    n = X.shape[0]
    graph_bits = bool(cfg.graph_codes) and given_bits is None
    k_graph = min(max(cfg.neighbours, cfg.graph_neighbours if graph_bits else 0), n - 1)
    nbrs = nearest_neighbours(X, k_graph, progress=progress) if k_graph >= 1 else None
    targets = neighbour_targets(X, cfg.neighbours, cfg.neighbour_weight, nbrs) if cfg.neighbours else X
    bits = given_bits
    if graph_bits and nbrs is not None:
        bits = graph_code_targets(X, nbrs[:, : min(cfg.graph_neighbours, k_graph)], cfg)
    return targets, bits


def fine_tune_epochs(n_batches: int, cfg: ModelConfig) -> int:
    """Fine-tuning epochs over ``n_batches`` batches each: ``cfg.epochs``, or, with a step budget
    (``cfg.fine_tune_steps``), the epochs that make that many updates, at most ``cfg.epochs``."""
    if not cfg.fine_tune_steps:
        return cfg.epochs
    return max(1, min(cfg.epochs, -(-cfg.fine_tune_steps // n_batches)))


def fine_tune(model: Autoencoder, X, targets, bits: np.ndarray | None, rows: tuple[np.ndarray, np.ndarray],
              cfg: ModelConfig, progress: bool):
    """Train the whole autoencoder on the ``(train, validation)`` ``rows`` (early stopping on the
    validation rows, if any); with ``bits``, the code logits are also scored against them
    (weight ``cfg.graph_codes``, 1 when that is 0). Returns the Keras ``History``."""
    train_idx, val_idx = rows
    train_seq = Batches(X[train_idx], targets[train_idx], cfg.batch_size, cfg.seed, word_dropout=cfg.word_dropout,
                        code_bits=None if bits is None else bits[train_idx])
    callbacks, val_data = [], None
    if len(val_idx):
        val_data = Batches(X[val_idx], targets[val_idx], cfg.batch_size, cfg.seed, shuffle=False,
                           code_bits=None if bits is None else bits[val_idx])
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                                       restore_best_weights=True))
    trainer, losses, weights = model.autoencoder, distribution_loss(), None
    if bits is not None:  # same layers, the code logits as a second output scored against the bits
        trainer = model.trainer
        losses = [distribution_loss(), keras.losses.BinaryCrossentropy(from_logits=True)]
        weights = [1.0, float(cfg.graph_codes or 1.0)]
    trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=losses, loss_weights=weights)
    epochs = fine_tune_epochs(len(train_seq), cfg)
    return fit(trainer, train_seq, None, epochs, "fine-tune", progress, callbacks, validation_data=val_data)


def train(X, cfg: ModelConfig | None = None, progress: bool = False, code_targets=None) -> TrainingResult:
    """Pretrain, unroll and fine-tune the autoencoder on ``X`` (sparse, nonnegative).

    ``code_targets`` (optional, ``(n_documents, n_bits)`` of 0/1) are bits the code layer is
    taught instead of the neighbour graph's: for example codewords of known groups, or bits from
    a similarity the caller trusts more than TF-IDF. They weigh ``cfg.graph_codes`` in the loss
    (1.0 when graph codes are off); the decoder still reconstructs the words.
    """
    cfg = cfg or ModelConfig()
    X_raw = check_input(X, cfg)
    n, n_inputs = X_raw.shape
    given_bits = None if code_targets is None else check_code_targets(code_targets, n, cfg.n_bits)
    sample = training_sample(n, cfg)
    if sample is not None:  # the model, its graph and its thresholds come from the sample alone
        X_raw = X_raw[sample]
        given_bits = None if given_bits is None else given_bits[sample]
        n = len(sample)
    if cfg.graph_codes and given_bits is None:  # before anything is trained
        TEACHERS[cfg.graph_teacher].check_memory(n, n_inputs)
    X = length_normalize(X_raw, cfg.input_length)

    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    rng = seed_everything(cfg.seed)
    model = build_autoencoder(n_inputs, cfg)
    with timed("pretrain", wall, cpu):
        pretrained = pretrain(X, cfg, rng, progress)
        load_pretrained(model, pretrained)
    rows = validation_split(n, cfg, rng)
    with timed("graph", wall, cpu):
        targets, bits = fine_tuning_targets(X, cfg, given_bits, progress)
    with timed("fine-tune", wall, cpu):
        hist = fine_tune(model, X, targets, bits, rows, cfg, progress)
    with timed("export", wall, cpu):
        encoder = export_encoder(model.encoder, cfg, X_raw)
        decoder = export_decoder(model.decoder, cfg.activation, AUTOENCODER_VARIANTS[cfg.variant].code_activation)
    return TrainingResult(
        encoder=encoder,
        keras_model=model.autoencoder,
        decoder=decoder,
        phase_seconds=wall,
        phase_cpu_seconds=cpu,
        pretrain_losses=pretrained.losses,
        finetune_losses=[float(v) for v in hist.history["loss"]],
        validation_losses=[float(v) for v in hist.history.get("val_loss", [])],
        sample_rows=sample,
    )


def train_encoder(X, cfg: ModelConfig | None = None, progress: bool = False, code_targets=None) -> EncoderWeights:
    """Train on weighted bag-of-words rows ``X`` and return only the NumPy encoder."""
    return train(X, cfg, progress, code_targets=code_targets).encoder
