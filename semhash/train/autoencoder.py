"""The Keras autoencoder: encoder and decoder as named functional sub-models joined by the code
layer, one :class:`Variant` per regularised autoencoder (``ModelConfig.variant``), and loading
and scoring a saved model.

Every variant keeps the encoder a stack of Dense layers ending in the code logits (the means),
so export and indexes are unchanged; what a variant adds is used only while training. Adding a
variant = one :class:`Variant` subclass + one line in :data:`AUTOENCODER_VARIANTS` (and its name
in :data:`semhash.choices.VARIANTS`, which the CLI offers).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .arrays import row_distributions
from .backend import keras
from .config import ModelConfig
from .layers import BinaryCode, ContractiveDense, GaussianSample, InputCorruption, SparsityPenalty


def binary_code(z, cfg: ModelConfig):
    """The code layer (:class:`BinaryCode`) applied to the code logits ``z``."""
    return BinaryCode(cfg.code_mode, cfg.noise_std, seed=cfg.seed, name="binary_code")(z)


class Variant:
    """``plain``: the autoencoder of the paper, code logits -> :class:`BinaryCode` -> decoder."""

    code_activation = "sigmoid"  # what the code layer hands the decoder at inference (DecoderWeights)

    def code_layer(self, cfg: ModelConfig):
        """The encoder's last layer, giving the code logits."""
        return keras.layers.Dense(cfg.n_bits, name="code_logits")

    def encoder_outputs(self, h, code_logits, cfg: ModelConfig):
        """The encoder's outputs given its last hidden layer ``h`` and the code logits."""
        return code_logits

    def corrupt(self, x, cfg: ModelConfig):
        """The autoencoder's input ``x`` as the encoder sees it while training."""
        return x

    def code(self, encoded, cfg: ModelConfig):
        """``(z, code)``: the code logits of the encoder's outputs and what the decoder reads."""
        return encoded, binary_code(encoded, cfg)


class Denoising(Variant):
    """Masking and Gaussian noise on the input while training (:class:`InputCorruption`)."""

    def corrupt(self, x, cfg: ModelConfig):
        return InputCorruption(cfg.mask_rate, cfg.gaussian_std, seed=cfg.seed, name="input_corruption")(x)


class Sparse(Variant):
    """The KL divergence of each code unit's mean activation to ``sparsity_target`` (:class:`SparsityPenalty`)."""

    def code(self, encoded, cfg: ModelConfig):
        z = SparsityPenalty(cfg.sparsity_target, cfg.sparsity_weight, name="sparsity")(encoded)
        return z, binary_code(z, cfg)


class Contractive(Variant):
    """The code layer's Jacobian penalised in closed form (:class:`ContractiveDense`)."""

    def code_layer(self, cfg: ModelConfig):
        return ContractiveDense(cfg.n_bits, contractive_weight=cfg.contractive_weight, name="code_logits")


class Variational(Variant):
    """A Gaussian latent: the encoder gives means (the code logits) and log-variances; training
    decodes a reparameterised sample (:class:`GaussianSample`), inference the means."""

    code_activation = "linear"

    def encoder_outputs(self, h, code_logits, cfg: ModelConfig):
        log_var = keras.layers.Dense(cfg.n_bits, kernel_initializer="zeros", name="code_logvar")(h)
        return [code_logits, log_var]

    def code(self, encoded, cfg: ModelConfig):
        mean, log_var = encoded
        return mean, GaussianSample(cfg.kl_weight, seed=cfg.seed, name="latent_sample")([mean, log_var])


# the keys are semhash.choices.VARIANTS (a test checks), in the same order
AUTOENCODER_VARIANTS: dict[str, Variant] = {
    "plain": Variant(), "denoising": Denoising(), "sparse": Sparse(), "contractive": Contractive(),
    "variational": Variational(),
}


class Autoencoder(NamedTuple):
    """The Keras models of one autoencoder; they share their layers."""

    autoencoder: keras.Model  # words -> word logits
    encoder: keras.Model  # words -> code logits (variational: [means, log-variances])
    decoder: keras.Model  # code -> word logits
    trainer: keras.Model  # words -> [word logits, code logits], for the graph-code loss


def build_layers(n_inputs: int, cfg: ModelConfig) -> tuple[list, list]:
    """The Dense layers of the unrolled autoencoder, named so weights can be found by name."""
    sizes = list(cfg.hidden) + [cfg.n_bits]
    enc = [keras.layers.Dense(s, activation=cfg.activation, name=f"enc_{i}") for i, s in enumerate(sizes[:-1])]
    enc.append(AUTOENCODER_VARIANTS[cfg.variant].code_layer(cfg))
    dec_sizes = list(reversed(cfg.hidden))
    dec = [keras.layers.Dense(s, activation=cfg.activation, name=f"dec_{i}") for i, s in enumerate(dec_sizes)]
    dec.append(keras.layers.Dense(n_inputs, name="word_logits"))
    return enc, dec


def stack(x, layers: list):
    """``x`` through ``layers`` in order."""
    for layer in layers:
        x = layer(x)
    return x


def build_autoencoder(n_inputs: int, cfg: ModelConfig) -> Autoencoder:
    """Encoder and decoder as named functional sub-models, joined by the code layer, and a
    training view of the same layers that also outputs the code logits.

    The encoder outputs the code logits (``variational``: ``[mean, log_var]``, the means being
    the code logits); the variant's training-only layers sit in the autoencoder, around it.
    """
    variant = AUTOENCODER_VARIANTS[cfg.variant]
    enc_layers, dec_layers = build_layers(n_inputs, cfg)
    x_in = keras.Input(shape=(n_inputs,), name="words")
    h = stack(x_in, enc_layers[:-1])
    encoder = keras.Model(x_in, variant.encoder_outputs(h, enc_layers[-1](h), cfg), name="encoder")
    c_in = keras.Input(shape=(cfg.n_bits,), name="code")
    decoder = keras.Model(c_in, stack(c_in, dec_layers), name="decoder")  # outputs word logits
    a_in = keras.Input(shape=(n_inputs,), name="words")
    z, code = variant.code(encoder(variant.corrupt(a_in, cfg)), cfg)
    autoencoder = keras.Model(a_in, decoder(code), name="semantic_hashing_autoencoder")
    # the same layers with the code logits as a second output, for the graph-code loss
    trainer = keras.Model(a_in, [autoencoder.outputs[0], z], name="graph_code_trainer")
    return Autoencoder(autoencoder, encoder, decoder, trainer)


def distribution_loss():
    """Cross-entropy between a word distribution and the softmax of the word logits."""
    return keras.losses.CategoricalCrossentropy(from_logits=True)


def load_keras_model(path: str | Path):
    """Load a saved autoencoder (``model.keras``) of any variant (this module registers every layer)."""
    return keras.saving.load_model(str(path))


def reconstruction_errors(keras_model, X, batch_size: int = 256) -> np.ndarray:
    """Per-document cross-entropy between the word distribution and its reconstruction."""
    X = sp.csr_matrix(X, dtype=np.float32)
    out = np.empty(X.shape[0], np.float32)
    for start in range(0, X.shape[0], batch_size):
        rows = X[start : start + batch_size]
        logits = np.asarray(keras_model(rows.toarray(), training=False))
        logp = logits - logits.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        out[start : start + batch_size] = -(row_distributions(rows) * logp).sum(axis=1)
    return out
