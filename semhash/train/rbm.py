"""Restricted Boltzmann machines trained with one step of contrastive divergence (CD-1), and the
greedy stack of them that pretrains the encoder (``pretrain="rbm"``). NumPy only.

The bottom RBM models word counts with a constrained-Poisson (softmax) visible layer, the ones
above it are Bernoulli-Bernoulli (Salakhutdinov & Hinton, 2009). Adding a kind of visible unit =
one :class:`VisibleUnits` subclass + one line in :data:`VISIBLE_UNITS`.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .arrays import batches, dense, dense_rows, sigmoid, softmax
from .config import ModelConfig

# the largest share of all word weight one word may carry before the word-count RBM's step shrinks
RBM_MAX_WORD_SHARE = 0.01


def word_share_step(word_weights: np.ndarray) -> float:
    """Factor (at most 1) on the word-count RBM's learning rate: ``RBM_MAX_WORD_SHARE`` over the
    largest share of the corpus's word weight that one word carries, when that share is larger.

    A word's logits move in proportion to its share of the counts, so a small or narrow
    vocabulary takes far larger steps than a large one at the same learning rate. The 35-word
    corpus of the tests (commonest word: 3.5 % of the weight) diverged after two epochs at the
    rate that suits 20 Newsgroups (0.42 %) and the stdlib docs (0.60 %); both of those keep their
    full rate (factor 1: their training is unchanged).
    """
    total = float(np.sum(word_weights))
    top = float(np.max(word_weights)) / total if total > 0 else 0.0
    return min(1.0, RBM_MAX_WORD_SHARE / top) if top > 0 else 1.0


class VisibleUnits:
    """Bernoulli visible units (values in [0, 1]): the hidden layers below, as the upper RBMs see them."""

    def initial_bias(self, X) -> np.ndarray:
        """The visible biases training starts from."""
        return np.zeros(X.shape[1], np.float32)

    def step_factor(self, X) -> float:
        """Factor on the learning rate for the training rows ``X``."""
        return 1.0

    def batch_scale(self, v0: np.ndarray) -> float:
        """Divisor of one batch's step (and factor of its weight decay)."""
        return 1.0

    def reconstruct(self, v0: np.ndarray, h_sample: np.ndarray, W: np.ndarray,
                    b_v: np.ndarray) -> tuple[np.ndarray, float]:
        """The visible layer given sampled hidden units, and the batch's reconstruction loss."""
        v1 = sigmoid(h_sample @ W.T + b_v)
        return v1, float(((v0 - v1) ** 2).sum(axis=1).mean())


class SoftmaxVisible(VisibleUnits):
    """Constrained-Poisson visible units for word counts: rates ``D * softmax``, ``D`` the document length."""

    def initial_bias(self, X) -> np.ndarray:
        """The log word frequencies."""
        freq = np.asarray(X.sum(axis=0)).ravel().astype(np.float64) + 1.0
        return np.log(freq / freq.sum()).astype(np.float32)

    def step_factor(self, X) -> float:
        """Cut for a vocabulary that a few words dominate (:func:`word_share_step`)."""
        return word_share_step(np.asarray(X.sum(axis=0)).ravel())

    def batch_scale(self, v0: np.ndarray) -> float:
        """The batch's mean document length: long documents must not blow up the update."""
        return max(float(v0.sum(axis=1).mean()), 1.0)

    def reconstruct(self, v0: np.ndarray, h_sample: np.ndarray, W: np.ndarray,
                    b_v: np.ndarray) -> tuple[np.ndarray, float]:
        D = v0.sum(axis=1, keepdims=True)
        p = softmax(h_sample @ W.T + b_v)
        target = v0 / np.maximum(D, 1e-8)
        return D * p, float(-(target * np.log(p + 1e-10)).sum(axis=1).mean())


VISIBLE_UNITS: dict[str, VisibleUnits] = {"softmax": SoftmaxVisible(), "bernoulli": VisibleUnits()}


def cd1_step(v0: np.ndarray, W: np.ndarray, b_h: np.ndarray, b_v: np.ndarray, visible: str,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One contrastive-divergence step with the ``visible`` units (:data:`VISIBLE_UNITS`);
    returns the gradients and the reconstruction loss."""
    h0 = sigmoid(v0 @ W + b_h)
    h0_sample = (rng.random(h0.shape, dtype=np.float32) < h0).astype(np.float32)
    v1, loss = VISIBLE_UNITS[visible].reconstruct(v0, h0_sample, W, b_v)
    h1 = sigmoid(v1 @ W + b_h)
    m = v0.shape[0]
    dW = (v0.T @ h0 - v1.T @ h1) / m
    return dW, (h0 - h1).mean(axis=0), (v0 - v1).mean(axis=0), loss


def train_rbm(X, n_hidden: int, visible: str, epochs: int, lr: float, batch_size: int,
              rng: np.random.Generator, progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Train one RBM with CD-1, momentum and weight decay; returns ``(W, b_h, b_v, losses)``.

    ``visible`` names its visible units (:data:`VISIBLE_UNITS`); the word-count (``softmax``)
    layer's step is cut by :func:`word_share_step` for a vocabulary that a few words dominate.
    ``progress`` (a tqdm bar) advances once per epoch.
    """
    units = VISIBLE_UNITS[visible]
    n, n_visible = X.shape
    W = (0.01 * rng.standard_normal((n_visible, n_hidden))).astype(np.float32)
    b_h = np.zeros(n_hidden, np.float32)
    b_v = units.initial_bias(X)
    lr *= units.step_factor(X)
    vel = [np.zeros_like(W), np.zeros_like(b_h), np.zeros_like(b_v)]
    losses = []
    for epoch in range(epochs):
        momentum = 0.5 if epoch < 2 else 0.9
        total, count = 0.0, 0
        for idx in batches(n, batch_size, rng):
            v0 = dense_rows(X, idx)
            v0_scale = units.batch_scale(v0)
            dW, dbh, dbv, loss = cd1_step(v0, W, b_h, b_v, visible, rng)
            step = lr / v0_scale
            for v, g, p in zip(vel, (dW - 2e-4 * W * v0_scale, dbh, dbv), (W, b_h, b_v)):
                v *= momentum
                v += step * g
                p += v
            total += loss * len(idx)
            count += len(idx)
        losses.append(total / count)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{losses[-1]:.4f}")
    return W, b_h, b_v, losses


def pretrain_rbm(X, cfg: ModelConfig, rng: np.random.Generator, progress: bool):
    """Greedy stack of RBMs, ``vocab -> hidden... -> n_bits``: the word-count RBM at the bottom,
    Bernoulli ones above, each trained on the hidden probabilities of the one below.

    Returns per layer ``(W, b_hidden, b_visible)`` and the layers' losses per epoch.
    """
    sizes = list(cfg.hidden) + [cfg.n_bits]
    params, losses, data = [], [], X
    for i, size in enumerate(sizes):
        visible = "softmax" if i == 0 else "bernoulli"
        lr = cfg.rbm_bottom_learning_rate if i == 0 else cfg.pretrain_learning_rate
        with tqdm(total=cfg.pretrain_epochs, desc=f"pretrain rbm {i + 1}/{len(sizes)}",
                  disable=not progress, leave=False) as bar:
            W, b_h, b_v, layer_losses = train_rbm(data, size, visible, cfg.pretrain_epochs, lr,
                                                  cfg.batch_size, rng, bar)
        params.append((W, b_h, b_v))
        losses.append(layer_losses)
        data = sigmoid(dense(data).astype(np.float32) @ W + b_h).astype(np.float32)  # input of the next RBM
    return params, losses
