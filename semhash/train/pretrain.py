"""Greedy layer-wise pretraining of the encoder, ``vocab -> hidden... -> n_bits``
(``ModelConfig.pretrain``), and loading its weights into the unrolled autoencoder.

``rbm`` stacks restricted Boltzmann machines (:mod:`semhash.train.rbm`), ``autoencoder`` stacks
denoising autoencoders (20 % masking noise), ``none`` starts from random weights. Adding a kind
= one :class:`Pretraining` subclass + one line in :data:`PRETRAINERS` (and its name in
:data:`semhash.choices.PRETRAIN_KINDS`, which the CLI offers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arrays import dense, sigmoid
from .autoencoder import Autoencoder, distribution_loss
from .backend import keras
from .config import ModelConfig
from .data import Batches
from .export import decoder_dense_layers, encoder_dense_layers
from .fitting import fit
from .rbm import pretrain_rbm


@dataclass(frozen=True)
class Pretrained:
    """Weights per layer, bottom first, as ``(W, b_hidden, W_decoder, b_visible)``, and each
    layer's losses per epoch (empty lists: nothing was pretrained)."""

    layers: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    losses: list[list[float]] = field(default_factory=list)


class Pretraining:
    """``none``: no pretraining; fine-tuning starts from Keras's random weights."""

    def run(self, X, cfg: ModelConfig, rng: np.random.Generator, progress: bool) -> Pretrained:
        """Pretrain on the length-normalized rows ``X``."""
        return Pretrained()


class RBMPretraining(Pretraining):
    """A greedy stack of RBMs (CD-1); the decoder starts from the transposed weights."""

    def run(self, X, cfg: ModelConfig, rng: np.random.Generator, progress: bool) -> Pretrained:
        params, losses = pretrain_rbm(X, cfg, rng, progress)
        return Pretrained([(W, b_h, W.T, b_v) for W, b_h, b_v in params], losses)


class AutoencoderPretraining(Pretraining):
    """A greedy stack of denoising autoencoders, each with its own decoder weights."""

    def run(self, X, cfg: ModelConfig, rng: np.random.Generator, progress: bool) -> Pretrained:
        params, losses = pretrain_autoencoders(X, cfg, progress)
        return Pretrained([(W, b_h, W_dec, b_v) for W, b_h, b_v, W_dec in params], losses)


# the keys are semhash.choices.PRETRAIN_KINDS (a test checks), in the same order
PRETRAINERS: dict[str, Pretraining] = {
    "rbm": RBMPretraining(), "autoencoder": AutoencoderPretraining(), "none": Pretraining(),
}


def pretrain(X, cfg: ModelConfig, rng: np.random.Generator, progress: bool) -> Pretrained:
    """The pretrained layers for ``cfg.pretrain`` (none when ``cfg.pretrain_epochs`` is 0)."""
    if cfg.pretrain_epochs == 0:
        return Pretrained()
    return PRETRAINERS[cfg.pretrain].run(X, cfg, rng, progress)


def load_pretrained(model: Autoencoder, pretrained: Pretrained) -> None:
    """Set the encoder's layers to the pretrained weights and the decoder's to their mirror image."""
    for layer, (W, b_h, _, _) in zip(encoder_dense_layers(model.encoder), pretrained.layers):
        layer.set_weights([W, b_h])
    for layer, (_, _, W_dec, b_v) in zip(decoder_dense_layers(model.decoder), reversed(pretrained.layers)):
        layer.set_weights([np.ascontiguousarray(W_dec), b_v])


def pretrain_autoencoders(X, cfg: ModelConfig, progress: bool):
    """Greedy stack of denoising autoencoders (20% masking noise), trained layer by layer;
    returns per layer ``(W, b_hidden, b_visible, W_decoder)`` and the losses."""
    sizes = list(cfg.hidden) + [cfg.n_bits]
    params, losses, data = [], [], X
    for i, size in enumerate(sizes):
        n_in = data.shape[1]
        inp = keras.Input(shape=(n_in,))
        noisy = keras.layers.Dropout(0.2, seed=cfg.seed + i)(inp)
        h = keras.layers.Dense(size, activation="sigmoid", name="enc")(noisy)
        if i == 0:  # words: reconstruct the distribution through a softmax
            out = keras.layers.Dense(n_in, name="dec")(h)
            loss = distribution_loss()
        else:
            out = keras.layers.Dense(n_in, activation="sigmoid", name="dec")(h)
            loss = keras.losses.BinaryCrossentropy()
        dae = keras.Model(inp, out)
        dae.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss)
        desc = f"pretrain dae {i + 1}/{len(sizes)}"
        if i == 0:
            hist = fit(dae, Batches(data, data, cfg.batch_size, cfg.seed + i), None, cfg.pretrain_epochs, desc,
                       progress, [])
        else:
            hist = fit(dae, data, data, cfg.pretrain_epochs, desc, progress, [], batch_size=cfg.batch_size)
        W, b_h = dae.get_layer("enc").get_weights()
        W_dec, b_v = dae.get_layer("dec").get_weights()
        params.append((W, b_h, b_v, W_dec))
        losses.append([float(v) for v in hist.history["loss"]])
        data = sigmoid(dense(data).astype(np.float32) @ W + b_h).astype(np.float32)
    return params, losses
