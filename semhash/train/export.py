"""The trained Keras encoder and decoder as plain NumPy arrays (:class:`semhash.codes.EncoderWeights`,
:class:`semhash.codes.DecoderWeights`), with per-bit thresholds. NumPy only: the Keras models are
read through their layers' ``get_weights``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..codes import DecoderWeights, EncoderWeights, encode_logits
from .config import ModelConfig


def encoder_dense_layers(encoder_model) -> list:
    """The encoder's Dense layers in order, code logits (the means) last; the VAE's
    ``code_logvar`` layer is left out (it is used only while training)."""
    return [l for l in encoder_model.layers if l.weights and l.name != "code_logvar"]


def decoder_dense_layers(decoder_model) -> list:
    """The decoder's Dense layers in order, word logits last."""
    return [l for l in decoder_model.layers if l.weights]


def median_thresholds(logits: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Per-bit thresholds that split the documents in half (balanced bits).

    Each threshold is the midpoint of the gap between two consecutive sorted values nearest to
    the middle among the gaps wider than ``tol``: documents with the same words (whose logits
    differ only by rounding, depending on which batch computed them) never sit on a threshold
    and always get the same bit. A bit that cannot be split (all values within ``tol``) keeps
    the threshold 0 (probability 0.5).
    """
    n = logits.shape[0]
    ordered = np.sort(np.asarray(logits, dtype=np.float64), axis=0)
    middle = (n - 1) // 2
    t = np.zeros(ordered.shape[1], dtype=np.float64)
    if n < 2:
        return t
    gaps = np.diff(ordered, axis=0)  # gaps[j] lies between ordered[j] and ordered[j + 1]
    distance = np.abs(np.arange(n - 1) - middle)
    for b in range(ordered.shape[1]):
        wide = np.flatnonzero(gaps[:, b] > tol * max(1.0, abs(float(ordered[middle, b]))))
        if wide.size:
            j = wide[np.argmin(distance[wide])]
            t[b] = (ordered[j, b] + ordered[j + 1, b]) / 2.0
    return t


def export_encoder(encoder_model, cfg: ModelConfig, X) -> EncoderWeights:
    """Plain NumPy weights of the Keras encoder plus per-bit thresholds fitted on ``X``."""
    kernels, biases, acts = [], [], []
    for layer in encoder_dense_layers(encoder_model):
        W, b = layer.get_weights()
        kernels.append(np.ascontiguousarray(W, dtype=np.float32))
        biases.append(np.asarray(b, dtype=np.float64))
        acts.append(cfg.activation)
    acts[-1] = "sigmoid"  # the code layer: logits to probabilities
    enc = EncoderWeights(kernels, biases, acts, np.zeros(cfg.n_bits), float(cfg.input_length))
    if cfg.threshold == "median":
        return dataclasses.replace(enc, thresholds=median_thresholds(encode_logits(enc, X)))
    return enc


def export_decoder(decoder_model, activation: str, code_activation: str) -> DecoderWeights:
    """Plain NumPy weights of the Keras decoder (hidden layers with ``activation``), and what the
    code layer hands it at inference: ``code_activation`` of the code logits (``sigmoid`` for
    ``BinaryCode``; ``linear`` for the variational model, whose ``GaussianSample`` returns the means)."""
    dense = decoder_dense_layers(decoder_model)
    kernels, biases = zip(*(layer.get_weights() for layer in dense))
    return DecoderWeights(
        kernels=[np.ascontiguousarray(W, dtype=np.float32) for W in kernels],
        biases=[np.asarray(b, dtype=np.float32) for b in biases],
        activations=[activation] * (len(dense) - 1) + ["linear"],
        code_activation=code_activation,
    )
