"""Training: the deep autoencoder of semantic hashing, in Keras 3 on TensorFlow.

This is the only module that imports TensorFlow/Keras; it is used by ``semhash index`` and
never on the query path. Training has two stages (Salakhutdinov & Hinton, 2009):

1. **Stacked greedy pretraining**, one layer at a time, ``vocab -> 500 -> 500 -> n_bits``:
   ``rbm`` trains restricted Boltzmann machines with contrastive divergence (CD-1), the bottom
   one with the constrained-Poisson (softmax) visible layer suited to word counts, the others
   Bernoulli-Bernoulli; ``autoencoder`` trains denoising autoencoders (masking noise) layer by
   layer; ``none`` starts from random weights.
2. **Fine-tuning**: the pretrained layers are unrolled into a deep autoencoder (the decoder is the
   mirror image, initialised with the transposed weights) and trained jointly to reconstruct the
   document's word distribution with a softmax cross-entropy. The code layer is a sigmoid made
   binary during training, either by adding Gaussian noise to its input (``noise``: the paper's
   method, which pushes activations to 0 or 1) or by sampling Bernoulli bits with a
   straight-through gradient (``ste``).

   With ``graph_codes > 0`` (the default) fine-tuning has a second loss on the code logits: a
   binary cross-entropy towards target bits made from the corpus's nearest-neighbour graph
   (:func:`graph_code_targets`: TF-IDF rows smoothed over their ``graph_neighbours`` nearest
   neighbours, principal directions, ITQ rotation). The decoder still reconstructs the words;
   the graph tells the encoder which documents belong together, which their words alone convey
   only weakly. On the 20 Newsgroups validation half this lifts 32-bit precision@100 from 28 to
   50 (``benchmarks/ABLATION.md``). No labels are used anywhere.

``variant`` adds one of the regularised autoencoders to fine-tuning (``plain``: none of them):
``denoising`` (the default) corrupts the input (masking and Gaussian noise), ``sparse`` adds the KL divergence
of each code unit's mean activation to ``sparsity_target``, ``contractive`` penalises the
Jacobian of the code layer (closed form, see :func:`register_variant_layers`) and
``variational`` makes the code a Gaussian latent (mean and log-variance, reparameterised sample,
KL to N(0, I)) whose means are binarized after training. Every variant keeps the encoder a stack
of Dense layers ending in the code logits (the means), so export and indexes are unchanged.

The result is exported as :class:`semhash.codes.EncoderWeights` -- plain NumPy arrays -- and codes
are computed with :func:`semhash.codes.encode_probs`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .codes import DecoderWeights, EncoderWeights, encode_logits, length_normalize
from .errors import ConfigError
from .choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS  # noqa: F401 - re-exported: semhash.model.VARIANTS
from .train.config import ModelConfig  # noqa: F401 - re-exported: semhash.model.ModelConfig
from .train.itq import itq_bits_of, itq_blocks



@dataclass
class TrainingResult:
    """What training produced: the NumPy encoder, the Keras model and the loss curves."""

    encoder: EncoderWeights
    keras_model: object
    pretrain_losses: list[list[float]] = field(default_factory=list)
    finetune_losses: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)
    decoder: DecoderWeights | None = None  # the decoder as NumPy arrays (reconstructions without TensorFlow)

    def save_keras(self, path: str | Path) -> None:
        self.keras_model.save(str(path))


# --------------------------------------------------------------------------- small pure helpers


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def row_distributions(X) -> np.ndarray:
    """Each row scaled to sum to one (the document's word distribution); dense float32."""
    dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    dense = dense.astype(np.float32, copy=False)
    totals = dense.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return dense / totals


def nearest_neighbours(X, k: int, chunk: int = 1000, queries=None) -> np.ndarray:
    """Indices ``(n, k)`` of each row's ``k`` nearest other rows by cosine similarity, nearest first.

    With ``queries``, the ``k`` nearest rows of ``X`` for each query row instead (a query is not
    excluded from its own list). Exact, in chunks of ``chunk`` rows (quadratic in the number of
    documents: meant for corpora up to about 100k documents).
    """
    from .vectorize import l2_normalize

    N = l2_normalize(sp.csr_matrix(X))
    Q = N if queries is None else l2_normalize(sp.csr_matrix(queries))
    n = Q.shape[0]
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        S = (Q[start : start + chunk] @ N.T).toarray()
        if queries is None:
            S[np.arange(S.shape[0]), np.arange(start, start + S.shape[0])] = -np.inf  # not itself
        idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(S, idx, axis=1), axis=1, kind="stable")
        out[start : start + chunk] = np.take_along_axis(idx, order, axis=1)  # nearest first
    return out


def neighbour_average(nbrs: np.ndarray, n: int) -> sp.csr_matrix:
    """The ``(len(nbrs), n)`` matrix whose row ``i`` averages the ``n`` rows' entries listed in ``nbrs[i]``."""
    k = nbrs.shape[1]
    return sp.csr_matrix((np.full(nbrs.size, 1.0 / k), nbrs.ravel(), np.arange(0, nbrs.size + 1, k)),
                         shape=(nbrs.shape[0], n))


def smooth_over_graph(N, A, steps: int, alpha: float, Nq=None, Aq=None):
    """``steps`` times ``S <- (1 - alpha) N + alpha A S``, rows L2-normalized at the end.

    ``N`` holds L2-normalized rows and ``A`` averages each row's neighbours
    (:func:`neighbour_average`). Given query rows ``Nq`` and their neighbours' average ``Aq``
    over the rows of ``N``, the queries are smoothed alongside (each step reading the rows'
    previous step) and ``(S, Sq)`` is returned.
    """
    from .vectorize import l2_normalize

    S, Sq = N, Nq
    for _ in range(steps):
        if Nq is not None:
            Sq = ((1.0 - alpha) * Nq + alpha * (Aq @ S)).tocsr()
        S = ((1.0 - alpha) * N + alpha * (A @ S)).tocsr()
    return l2_normalize(S) if Nq is None else (l2_normalize(S), l2_normalize(Sq))


def smoothed_code_targets(X, n_bits: int, nbrs: np.ndarray, steps: int, alpha: float, seed: int) -> np.ndarray:
    """Target bits ``(n, n_bits)`` in {0, 1} for the code layer, from the neighbour graph
    (``graph_teacher="smoothed"``, the default before the spectral teacher).

    Each L2-normalized TF-IDF row is smoothed over the graph ``steps`` times
    (``S <- (1 - alpha) X + alpha * mean of the neighbours' S``), so a document takes on what its
    neighbourhood has in common; the smoothed rows are projected on their top principal
    directions and turned into balanced bits by an ITQ rotation (Gong & Lazebnik 2011). No labels
    are involved. The encoder learns to predict these bits from a document's own words, which is
    what lets it code unseen documents and queries.
    """
    from sklearn.decomposition import TruncatedSVD

    from .vectorize import l2_normalize

    N = l2_normalize(sp.csr_matrix(X, dtype=np.float64))
    S = smooth_over_graph(N, neighbour_average(nbrs, N.shape[0]), steps, alpha)
    n_comp = min(n_bits, min(S.shape) - 1)
    if n_comp < 1:
        raise ConfigError(f"graph codes need at least 2 documents and 2 words, got {S.shape}")
    with warnings.catch_warnings():  # identical documents: sklearn divides 0 by 0 in its variance ratio
        warnings.simplefilter("ignore", RuntimeWarning)
        Y = TruncatedSVD(n_comp, algorithm="randomized", n_iter=7, random_state=seed).fit_transform(S)
    bits = itq_bits_of(Y, seed)[0]
    if n_comp < n_bits:  # fewer directions than bits: repeat the ones there are
        bits = np.concatenate([bits] * (-(-n_bits // n_comp)), axis=1)[:, :n_bits]
    return bits.astype(np.float32)


SPECTRAL_MIN_EIGENVALUE = 0.5


def spectral_embedding(nbrs: np.ndarray, dims: int, seed: int = 0,
                       min_eigenvalue: float = SPECTRAL_MIN_EIGENVALUE) -> np.ndarray:
    """``(n, d)`` spectral embedding of the symmetrized k-nearest-neighbour graph in ``nbrs``.

    The leading eigenvectors of the normalized adjacency ``D^-1/2 W D^-1/2`` (Ng, Jordan & Weiss
    2001; Weiss et al. 2008), the trivial one (``sqrt(degree)``) deflated, rescaled by ``D^-1/2``
    so that each row is a document's place in the graph's smoothest directions. At most ``dims`` directions
    are kept, and only those with eigenvalue at least ``min_eigenvalue`` (a direction that one
    step of neighbour averaging keeps at least half of), so a small corpus with a few clear topics
    is not padded with noise; at least one is always kept. Sparse (ARPACK) for large graphs, dense
    for small ones; the start vector comes from ``seed``, so the result is deterministic.
    """
    n, k = nbrs.shape
    W = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nbrs.ravel())), shape=(n, n))
    W = W.maximum(W.T)
    root_degree = np.sqrt(np.maximum(np.asarray(W.sum(axis=1)).ravel(), 1.0))
    Dm = sp.diags(1.0 / root_degree)
    M = (Dm @ W @ Dm).tocsr()
    # deflate the trivial eigenvector sqrt(degree) (eigenvalue 1), so that a graph in several
    # pieces keeps every piece-indicator direction and only the constant one goes
    u0 = root_degree / np.linalg.norm(root_degree)
    d = min(dims, n - 1)
    if n <= 1000 or d + 1 >= n - 1:
        vals, vecs = np.linalg.eigh(M.toarray() - np.outer(u0, u0))
    else:
        from scipy.sparse.linalg import LinearOperator, eigsh

        op = LinearOperator((n, n), matvec=lambda x: M @ x - u0 * (u0 @ x), dtype=np.float64)
        vals, vecs = eigsh(op, k=d, which="LA", v0=np.random.default_rng(seed).standard_normal(n))
    order = np.argsort(-vals, kind="stable")[:d]
    order = order[: max(1, int((vals[order] >= min_eigenvalue).sum()))]
    return np.asarray(Dm @ vecs[:, order])


def spectral_code_targets(nbrs: np.ndarray, n_bits: int, dims: int, seed: int) -> np.ndarray:
    """Target bits ``(n, n_bits)`` in {0, 1} from the spectral embedding of the neighbour graph
    (``graph_teacher="spectral"``, the default).

    The graph's (up to) ``dims`` smoothest directions (:func:`spectral_embedding`) are turned into
    balanced bits by ITQ; codes longer than that repeat the block under fresh ITQ rotations
    (seeds ``seed``, ``seed + 1``, ...), and codes shorter than it keep the first ``n_bits`` bits
    of the block. Each document keeps at most ``max(5, sqrt(n))`` of its neighbours, so that on
    a small corpus a neighbour list does not span whole topics. Both beat one ITQ block of exactly
    ``n_bits`` directions on the validation half of 20 Newsgroups (``benchmarks/GRAPH.md``): more
    directions than bits help short codes, and extra directions past about 24 add noise rather
    than topics, while fresh rotations of the same directions make Hamming distance a finer
    measure of their angle.
    """
    n = nbrs.shape[0]
    k = min(nbrs.shape[1], max(5, math.isqrt(n)))  # lists that cover whole topics leave no smooth directions
    return itq_blocks(spectral_embedding(nbrs[:, :k], dims, seed), n_bits, seed)[0].astype(np.float32)


def graph_code_targets(X, nbrs: np.ndarray, cfg: "ModelConfig") -> np.ndarray:
    """The code layer's target bits for ``cfg.graph_teacher`` (see the two functions it calls)."""
    if cfg.graph_teacher == "spectral":
        return spectral_code_targets(nbrs, cfg.n_bits, cfg.graph_dims, cfg.seed)
    return smoothed_code_targets(X, cfg.n_bits, nbrs, cfg.graph_steps, cfg.graph_alpha, cfg.seed)


GRAPH_MEMORY_ENV = "SEMHASH_GRAPH_MEMORY_GB"
GRAPH_MEMORY_DEFAULT_GB = 8.0


def check_graph_memory(n_docs: int, n_words: int) -> None:
    """Refuse graph codes whose smoothed matrix could outgrow the memory budget.

    Smoothing over 50 neighbours twice leaves the rows nearly dense, so the matrix can take up
    to ``n_docs * n_words * 12`` bytes (CSR float64); the budget is ``$SEMHASH_GRAPH_MEMORY_GB``
    (default 8). Raising here, before anything is trained, leaves any existing index untouched.
    """
    raw = os.environ.get(GRAPH_MEMORY_ENV, "")
    try:
        budget = float(raw) if raw.strip() else GRAPH_MEMORY_DEFAULT_GB
    except ValueError:
        raise ConfigError(f"${GRAPH_MEMORY_ENV} must be a number of gigabytes, got {raw!r}") from None
    need = n_docs * n_words * 12 / 1e9
    if need > budget:
        raise ConfigError(
            f"graph codes for {n_docs} documents x {n_words} words may need up to {need:.1f} GB, more than "
            f"${GRAPH_MEMORY_ENV}={budget:g}; index with --graph-teacher spectral (the default), --graph-codes 0, "
            f"a smaller vocabulary (--max-features), or raise ${GRAPH_MEMORY_ENV}")


def neighbour_targets(X, k: int, weight: float, nbrs: np.ndarray | None = None):
    """Reconstruction targets: each document's word distribution blended with the mean
    distribution of its ``k`` nearest neighbours by TF-IDF cosine (no labels involved).

    Documents that share neighbours get similar targets, so the code has to carry what the
    neighbourhood has in common rather than the words of one post.
    """
    X = sp.csr_matrix(X, dtype=np.float32)
    n = X.shape[0]
    k = min(k, n - 1)
    if k < 1 or weight == 0.0:
        return X
    totals = np.asarray(X.sum(axis=1)).ravel()
    totals[totals == 0] = 1.0
    D = (sp.diags(1.0 / totals) @ X).tocsr()
    nbrs = nearest_neighbours(X, k) if nbrs is None or nbrs.shape[1] < k else nbrs[:, :k]
    A = neighbour_average(nbrs, n)
    return ((1.0 - weight) * D + weight * (A @ D)).tocsr().astype(np.float32)


def dense_rows(X, idx: np.ndarray) -> np.ndarray:
    rows = X[idx]
    return (rows.toarray() if sp.issparse(rows) else np.asarray(rows)).astype(np.float32, copy=False)


def batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


# --------------------------------------------------------------------------- RBM pretraining


def cd1_step(v0, W, b_h, b_v, visible: str, rng: np.random.Generator):
    """One contrastive-divergence step; returns the gradients and the reconstruction loss."""
    h0 = sigmoid(v0 @ W + b_h)
    h0_sample = (rng.random(h0.shape, dtype=np.float32) < h0).astype(np.float32)
    if visible == "softmax":  # constrained Poisson: rates D * softmax, D = document length
        D = v0.sum(axis=1, keepdims=True)
        p = softmax(h0_sample @ W.T + b_v)
        v1 = D * p
        target = v0 / np.maximum(D, 1e-8)
        loss = float(-(target * np.log(p + 1e-10)).sum(axis=1).mean())
    else:
        v1 = sigmoid(h0_sample @ W.T + b_v)
        loss = float(((v0 - v1) ** 2).sum(axis=1).mean())
    h1 = sigmoid(v1 @ W + b_h)
    m = v0.shape[0]
    dW = (v0.T @ h0 - v1.T @ h1) / m
    return dW, (h0 - h1).mean(axis=0), (v0 - v1).mean(axis=0), loss


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


def train_rbm(X, n_hidden: int, visible: str, epochs: int, lr: float, batch_size: int,
              rng: np.random.Generator, progress=None):
    """Train one RBM with CD-1, momentum and weight decay; returns ``(W, b_h, b_v, losses)``.

    The word-count (``softmax``) layer's step is cut by :func:`word_share_step` for a vocabulary
    that a few words dominate.
    """
    n, n_visible = X.shape
    W = (0.01 * rng.standard_normal((n_visible, n_hidden))).astype(np.float32)
    b_h = np.zeros(n_hidden, np.float32)
    b_v = np.zeros(n_visible, np.float32)
    if visible == "softmax":  # start the visible biases at the log word frequencies
        freq = np.asarray(X.sum(axis=0)).ravel().astype(np.float64) + 1.0
        b_v = np.log(freq / freq.sum()).astype(np.float32)
        lr *= word_share_step(np.asarray(X.sum(axis=0)).ravel())
    vel = [np.zeros_like(W), np.zeros_like(b_h), np.zeros_like(b_v)]
    losses = []
    for epoch in range(epochs):
        momentum = 0.5 if epoch < 2 else 0.9
        total, count = 0.0, 0
        for idx in batches(n, batch_size, rng):
            v0 = dense_rows(X, idx)
            if visible == "softmax":  # per-word step: long documents must not blow up the update
                v0_scale = max(float(v0.sum(axis=1).mean()), 1.0)
            else:
                v0_scale = 1.0
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


# --------------------------------------------------------------------------- Keras model


def _keras():
    """Keras on TensorFlow, imported the first time with TensorFlow's start-up log lines silenced
    (:func:`import_tensorflow_quietly`)."""
    if "keras" not in sys.modules:
        import_tensorflow_quietly()
    import keras

    return keras


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras without the log lines TensorFlow prints while it loads.

    ``TF_CPP_MIN_LOG_LEVEL=2`` (unless set) hides TensorFlow's C++ info and warnings, but some
    notices (oneDNN, CPU features, CUDA plugins) are written by absl straight to file
    descriptor 2 before logging is set up; they are caught in a temporary file during the import
    and shown only when the import fails. TensorFlow's Python loggers keep errors only. Set
    ``TF_CPP_MIN_LOG_LEVEL`` to 0 or 1 to see everything.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1"):
        import keras  # noqa: F401 - the user asked for TensorFlow's messages
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_caught():
        import tensorflow  # noqa: F401
        import keras  # noqa: F401
    for name in ("tensorflow", "absl", "keras"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def _stderr_caught():
    """File descriptor 2 goes to a temporary file; its text is written back if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            os.write(2, caught.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def build_layers(keras, n_inputs: int, cfg: ModelConfig):
    """The Keras layers of the unrolled autoencoder, named so weights can be found by name."""
    sizes = list(cfg.hidden) + [cfg.n_bits]
    enc = [keras.layers.Dense(s, activation=cfg.activation, name=f"enc_{i}") for i, s in enumerate(sizes[:-1])]
    if cfg.variant == "contractive":
        ContractiveDense = register_variant_layers(keras)["ContractiveDense"]
        enc.append(ContractiveDense(sizes[-1], contractive_weight=cfg.contractive_weight, name="code_logits"))
    else:
        enc.append(keras.layers.Dense(sizes[-1], name="code_logits"))
    dec_sizes = list(reversed(cfg.hidden))
    dec = [keras.layers.Dense(s, activation=cfg.activation, name=f"dec_{i}") for i, s in enumerate(dec_sizes)]
    dec.append(keras.layers.Dense(n_inputs, name="word_logits"))
    return enc, dec


def register_binary_code(keras):
    """The code layer, defined lazily so importing this module does not import Keras."""
    name = "semhash>BinaryCode"
    existing = keras.saving.get_registered_object(name)
    if existing is not None:
        return existing

    @keras.saving.register_keras_serializable(package="semhash", name="BinaryCode")
    class BinaryCode(keras.layers.Layer):
        """Sigmoid code units made binary while training.

        ``noise``: ``sigmoid(z + N(0, noise_std))`` -- the noise can only be overcome by large
        |z|, so units learn to sit near 0 or 1. ``ste``: Bernoulli samples of ``sigmoid(z)``
        in the forward pass, the sigmoid's gradient in the backward pass. At inference both
        return ``sigmoid(z)``.
        """

        def __init__(self, mode="noise", noise_std=4.0, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode
            self.noise_std = float(noise_std)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, z, training=False):
            ops = keras.ops
            if not training:
                return ops.sigmoid(z)
            if self.mode == "noise":
                noise = keras.random.normal(ops.shape(z), stddev=self.noise_std, seed=self.seed_generator)
                return ops.sigmoid(z + noise)
            p = ops.sigmoid(z)
            u = keras.random.uniform(ops.shape(z), seed=self.seed_generator)
            hard = ops.cast(u < p, p.dtype)
            return p + ops.stop_gradient(hard - p)

        def get_config(self):
            config = super().get_config()
            config.update({"mode": self.mode, "noise_std": self.noise_std, "seed": self.seed})
            return config

    return BinaryCode


VARIANT_LAYER_NAMES = ("InputCorruption", "SparsityPenalty", "ContractiveDense", "GaussianSample")


def register_variant_layers(keras) -> dict:
    """The layers of the regularised variants, registered once (lazily, like ``BinaryCode``).

    - ``InputCorruption`` (denoising): while training, each input weight is zeroed with
      probability ``mask_rate`` (masking noise) and ``N(0, gaussian_std)`` is added to every
      input; at inference it passes the input through.
    - ``SparsityPenalty`` (sparse): passes the code logits through and, while training, adds
      ``weight * sum_j KL(target || mean_j)``, ``mean_j`` the batch mean of ``sigmoid(z_j)``.
    - ``ContractiveDense`` (contractive): the code-logit Dense layer that, while training, adds
      ``weight * mean_batch ||d h / d a||_F^2`` for ``h = sigmoid(a @ W + b)``, ``a`` the last
      hidden layer: the closed form ``sum_j (h_j (1 - h_j))^2 sum_i W_ij^2`` of a sigmoid layer
      (Rifai et al., 2011), exact for this layer and cheap (no Jacobian is formed).
    - ``GaussianSample`` (variational): takes ``[mean, log_var]``; while training returns the
      reparameterised sample ``mean + exp(log_var / 2) * eps`` and adds ``kl_weight *
      KL(N(mean, exp(log_var)) || N(0, I))`` (batch mean); at inference returns ``mean``.
    """
    found = {n: keras.saving.get_registered_object(f"semhash>{n}") for n in VARIANT_LAYER_NAMES}
    if all(v is not None for v in found.values()):
        return found
    ops = keras.ops
    register = keras.saving.register_keras_serializable

    @register(package="semhash", name="InputCorruption")
    class InputCorruption(keras.layers.Layer):
        def __init__(self, mask_rate=0.2, gaussian_std=0.1, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.mask_rate = float(mask_rate)
            self.gaussian_std = float(gaussian_std)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, x, training=False):
            if not training:
                return x
            if self.mask_rate > 0:
                keep = keras.random.uniform(ops.shape(x), seed=self.seed_generator) >= self.mask_rate
                x = x * ops.cast(keep, x.dtype)
            if self.gaussian_std > 0:
                x = x + keras.random.normal(ops.shape(x), stddev=self.gaussian_std, seed=self.seed_generator)
            return x

        def get_config(self):
            config = super().get_config()
            config.update({"mask_rate": self.mask_rate, "gaussian_std": self.gaussian_std, "seed": self.seed})
            return config

    @register(package="semhash", name="SparsityPenalty")
    class SparsityPenalty(keras.layers.Layer):
        def __init__(self, target=0.1, weight=0.1, **kwargs):
            super().__init__(**kwargs)
            self.target = float(target)
            self.weight = float(weight)

        def call(self, z, training=False):
            if training and self.weight > 0:
                t = self.target
                rho = ops.clip(ops.mean(ops.sigmoid(z), axis=0), 1e-6, 1.0 - 1e-6)
                kl = t * ops.log(t / rho) + (1.0 - t) * ops.log((1.0 - t) / (1.0 - rho))
                self.add_loss(self.weight * ops.sum(kl))
            return z

        def get_config(self):
            config = super().get_config()
            config.update({"target": self.target, "weight": self.weight})
            return config

    @register(package="semhash", name="ContractiveDense")
    class ContractiveDense(keras.layers.Dense):
        def __init__(self, units, contractive_weight=0.1, **kwargs):
            super().__init__(units, **kwargs)
            self.contractive_weight = float(contractive_weight)

        def call(self, inputs, training=None):
            z = super().call(inputs, training=training)
            if training and self.contractive_weight > 0:
                h = ops.sigmoid(z)
                col_norms = ops.sum(ops.square(self.kernel), axis=0)  # sum_i W_ij^2, one per code unit
                frob = ops.sum(ops.square(h * (1.0 - h)) * col_norms, axis=1)
                self.add_loss(self.contractive_weight * ops.mean(frob))
            return z

        def get_config(self):
            config = super().get_config()
            config.update({"contractive_weight": self.contractive_weight})
            return config

    @register(package="semhash", name="GaussianSample")
    class GaussianSample(keras.layers.Layer):
        def __init__(self, kl_weight=0.01, seed=None, **kwargs):
            super().__init__(**kwargs)
            self.kl_weight = float(kl_weight)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=False):
            mean, log_var = inputs
            if not training:
                return mean
            log_var = ops.clip(log_var, -10.0, 10.0)
            if self.kl_weight > 0:
                kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=1)
                self.add_loss(self.kl_weight * ops.mean(kl))
            eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            return mean + ops.exp(0.5 * log_var) * eps

        def compute_output_shape(self, input_shape):
            return input_shape[0]

        def get_config(self):
            config = super().get_config()
            config.update({"kl_weight": self.kl_weight, "seed": self.seed})
            return config

    return {"InputCorruption": InputCorruption, "SparsityPenalty": SparsityPenalty,
            "ContractiveDense": ContractiveDense, "GaussianSample": GaussianSample}


def register_all(keras) -> None:
    """Register every custom layer, so that any saved ``model.keras`` loads."""
    register_binary_code(keras)
    register_variant_layers(keras)


def load_keras_model(path: str | Path):
    """Load a saved autoencoder (``model.keras``) of any variant."""
    keras = _keras()
    register_all(keras)
    return keras.saving.load_model(str(path))


def encoder_dense_layers(encoder_model) -> list:
    """The encoder's Dense layers in order, code logits (the means) last; the VAE's
    ``code_logvar`` layer is left out (it is used only while training)."""
    return [l for l in encoder_model.layers if l.weights and l.name != "code_logvar"]


def build_autoencoder(n_inputs: int, cfg: ModelConfig):
    """Encoder and decoder as named functional sub-models, joined by the binary code layer,
    and a training view of the same layers that also outputs the code logits.

    The encoder outputs the code logits (``variational``: ``[mean, log_var]``, the means being
    the code logits); the variant's training-only layers sit in the autoencoder, around it.
    """
    keras = _keras()
    BinaryCode = register_binary_code(keras)
    layers = register_variant_layers(keras) if cfg.variant != "plain" else {}
    enc_layers, dec_layers = build_layers(keras, n_inputs, cfg)
    x_in = keras.Input(shape=(n_inputs,), name="words")
    h = x_in
    for layer in enc_layers[:-1]:
        h = layer(h)
    code_logits = enc_layers[-1](h)
    if cfg.variant == "variational":
        log_var = keras.layers.Dense(cfg.n_bits, kernel_initializer="zeros", name="code_logvar")(h)
        encoder = keras.Model(x_in, [code_logits, log_var], name="encoder")
    else:
        encoder = keras.Model(x_in, code_logits, name="encoder")  # outputs code logits
    c_in = keras.Input(shape=(cfg.n_bits,), name="code")
    h = c_in
    for layer in dec_layers:
        h = layer(h)
    decoder = keras.Model(c_in, h, name="decoder")  # outputs word logits
    a_in = keras.Input(shape=(n_inputs,), name="words")
    x = a_in
    if cfg.variant == "denoising":
        x = layers["InputCorruption"](cfg.mask_rate, cfg.gaussian_std, seed=cfg.seed, name="input_corruption")(x)
    if cfg.variant == "variational":
        mean, log_var = encoder(x)
        z = mean
        code = layers["GaussianSample"](cfg.kl_weight, seed=cfg.seed, name="latent_sample")([mean, log_var])
    else:
        z = encoder(x)
        if cfg.variant == "sparse":
            z = layers["SparsityPenalty"](cfg.sparsity_target, cfg.sparsity_weight, name="sparsity")(z)
        code = BinaryCode(cfg.code_mode, cfg.noise_std, seed=cfg.seed, name="binary_code")(z)
    autoencoder = keras.Model(a_in, decoder(code), name="semantic_hashing_autoencoder")
    # the same layers with the code logits as a second output, for the graph-code loss
    trainer = keras.Model(a_in, [autoencoder.outputs[0], z], name="graph_code_trainer")
    return autoencoder, encoder, decoder, trainer


def distribution_loss(keras):
    return keras.losses.CategoricalCrossentropy(from_logits=True)


def batch_sequence(X, targets, batch_size, seed, shuffle=True, word_dropout=0.0, code_bits=None):
    """A Keras ``PyDataset`` over a sparse matrix: dense input rows and their word distributions
    (and, given ``code_bits``, the rows' target bits as a second output).

    The class is defined here, not at module level, so importing this module does not import Keras.
    """
    keras = _keras()

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.X, self.targets, self.bs = X, targets, batch_size
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(X.shape[0]) if shuffle else np.arange(X.shape[0])
            self.shuffle = shuffle

        def __len__(self):
            return max(1, -(-self.X.shape[0] // self.bs))

        def __getitem__(self, i):
            idx = self.order[i * self.bs : (i + 1) * self.bs]
            x = dense_rows(self.X, idx)
            if word_dropout > 0:  # train on fragments: short queries must get their document's code
                keep = self.rng.uniform(1.0 - word_dropout, 1.0, size=(len(idx), 1))
                x = x * (self.rng.random(x.shape, dtype=np.float32) < keep)
            if code_bits is not None:
                return x, (row_distributions(self.targets[idx]), code_bits[idx])
            return x, row_distributions(self.targets[idx])

        def on_epoch_end(self):
            if self.shuffle:
                self.order = self.rng.permutation(self.X.shape[0])

    return Batches()


# --------------------------------------------------------------------------- pretraining


def pretrain_rbm(X, cfg: ModelConfig, rng, progress: bool):
    """Greedy stack of RBMs; returns per layer (W, b_hidden, b_visible) and the losses."""
    from tqdm.auto import tqdm

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
        dense = data.toarray() if sp.issparse(data) else data
        data = sigmoid(dense.astype(np.float32) @ W + b_h).astype(np.float32)  # input of the next RBM
    return params, losses


def pretrain_autoencoders(X, cfg: ModelConfig, progress: bool):
    """Greedy stack of denoising autoencoders (20% masking noise), trained layer by layer."""
    keras = _keras()

    sizes = list(cfg.hidden) + [cfg.n_bits]
    params, losses, data = [], [], X
    for i, size in enumerate(sizes):
        n_in = data.shape[1]
        inp = keras.Input(shape=(n_in,))
        noisy = keras.layers.Dropout(0.2, seed=cfg.seed + i)(inp)
        h = keras.layers.Dense(size, activation="sigmoid", name="enc")(noisy)
        if i == 0:  # words: reconstruct the distribution through a softmax
            out = keras.layers.Dense(n_in, name="dec")(h)
            loss = distribution_loss(keras)
        else:
            out = keras.layers.Dense(n_in, activation="sigmoid", name="dec")(h)
            loss = keras.losses.BinaryCrossentropy()
        dae = keras.Model(inp, out)
        dae.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss)
        if i == 0:
            seq = batch_sequence(data, data, cfg.batch_size, cfg.seed + i)
            hist = _fit(dae, seq, None, cfg.pretrain_epochs, f"pretrain dae {i + 1}/{len(sizes)}", progress, [])
        else:
            hist = _fit(dae, data, data, cfg.pretrain_epochs, f"pretrain dae {i + 1}/{len(sizes)}", progress, [],
                        batch_size=cfg.batch_size)
        W, b_h = dae.get_layer("enc").get_weights()
        W_dec, b_v = dae.get_layer("dec").get_weights()
        params.append((W, b_h, b_v, W_dec))
        losses.append([float(v) for v in hist.history["loss"]])
        dense = data.toarray() if sp.issparse(data) else data
        data = sigmoid(dense.astype(np.float32) @ W + b_h).astype(np.float32)
    return params, losses


def _progress_callback(keras, total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    class Bar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=total, desc=desc, disable=not enabled, leave=False)

        def on_epoch_end(self, epoch, logs=None):
            self.bar.update(1)
            if logs:
                self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if "loss" in k})

        def on_train_end(self, logs=None):
            self.bar.close()

    return Bar()


def _fit(model, x, y, epochs, desc, progress, callbacks, **kwargs):
    keras = _keras()
    cbs = [_progress_callback(keras, epochs, desc, progress)] + callbacks
    return model.fit(x, y, epochs=epochs, verbose=0, callbacks=cbs, shuffle=y is not None, **kwargs)


# --------------------------------------------------------------------------- the whole training


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
        enc.thresholds = median_thresholds(encode_logits(enc, X))
    return enc


def export_decoder(decoder_model, cfg: ModelConfig) -> DecoderWeights:
    """Plain NumPy weights of the Keras decoder, and what the code layer hands it at inference:
    ``sigmoid(code logits)`` (``BinaryCode``), or the code logits themselves for the variational
    model (``GaussianSample`` returns the means)."""
    dense = [l for l in decoder_model.layers if l.weights]
    kernels, biases = zip(*(layer.get_weights() for layer in dense))
    return DecoderWeights(
        kernels=[np.ascontiguousarray(W, dtype=np.float32) for W in kernels],
        biases=[np.asarray(b, dtype=np.float32) for b in biases],
        activations=[cfg.activation] * (len(dense) - 1) + ["linear"],
        code_activation="linear" if cfg.variant == "variational" else "sigmoid",
    )


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


def train_encoder(X, cfg: ModelConfig | None = None, progress: bool = False,
                  code_targets=None) -> EncoderWeights:
    """Train on weighted bag-of-words rows ``X`` and return only the NumPy encoder."""
    return train(X, cfg, progress, code_targets=code_targets).encoder


def check_code_targets(code_targets, n: int, n_bits: int) -> np.ndarray:
    """``code_targets`` as a float32 ``(n, n_bits)`` array of 0/1, or a :class:`ConfigError`."""
    T = np.asarray(code_targets)
    if T.shape != (n, n_bits):
        raise ConfigError(f"code_targets must have one row per document and one column per bit, "
                          f"shape ({n}, {n_bits}); got {T.shape}")
    if T.dtype != bool and not np.isin(T, (0, 1)).all():
        raise ConfigError("code_targets must hold only 0 and 1 (or True and False)")
    return T.astype(np.float32)


def train(X, cfg: ModelConfig | None = None, progress: bool = False, code_targets=None) -> TrainingResult:
    """Pretrain, unroll and fine-tune the autoencoder on ``X`` (sparse, nonnegative).

    ``code_targets`` (optional, ``(n_documents, n_bits)`` of 0/1) are bits the code layer is
    taught instead of the neighbour graph's: for example codewords of known groups, or bits from
    a similarity the caller trusts more than TF-IDF. They weigh ``cfg.graph_codes`` in the loss
    (1.0 when graph codes are off); the decoder still reconstructs the words.
    """
    cfg = cfg or ModelConfig()
    X = sp.csr_matrix(X, dtype=np.float32)
    n, n_inputs = X.shape
    cfg.validate(n_inputs)
    if n < 2:
        raise ConfigError(f"training needs at least 2 documents with known words, got {n}")
    if X.nnz and not np.isfinite(X.data).all():
        raise ConfigError("the input matrix holds NaN or infinite values")
    if (X.data < 0).any():
        raise ConfigError("the input matrix must be nonnegative (word counts or TF-IDF weights)")

    given_bits = None if code_targets is None else check_code_targets(code_targets, n, cfg.n_bits)
    if cfg.graph_codes and cfg.graph_teacher == "smoothed" and given_bits is None:
        check_graph_memory(n, n_inputs)
    X_raw = X
    X = length_normalize(X, cfg.input_length)

    keras = _keras()
    import tensorflow as tf

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(cfg.seed)

    autoencoder, encoder, decoder, two_outputs = build_autoencoder(n_inputs, cfg)
    pre_losses: list[list[float]] = []
    if cfg.pretrain != "none" and cfg.pretrain_epochs > 0:
        if cfg.pretrain == "rbm":
            params, pre_losses = pretrain_rbm(X, cfg, rng, progress)
            pairs = [(W, b_h, W.T, b_v) for W, b_h, b_v in params]
        else:
            params, pre_losses = pretrain_autoencoders(X, cfg, progress)
            pairs = [(W, b_h, W_dec, b_v) for W, b_h, b_v, W_dec in params]
        enc_dense = encoder_dense_layers(encoder)
        dec_dense = [l for l in decoder.layers if l.weights]
        for layer, (W, b_h, _, _) in zip(enc_dense, pairs):
            layer.set_weights([W, b_h])
        for layer, (_, _, W_dec, b_v) in zip(dec_dense, reversed(pairs)):
            layer.set_weights([np.ascontiguousarray(W_dec), b_v])

    # hold out a slice of the corpus for early stopping when there is enough of it
    order = rng.permutation(n)
    n_val = int(round(n * cfg.validation_fraction)) if n >= 1000 else 0
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    graph_bits = bool(cfg.graph_codes) and given_bits is None
    k_graph = min(max(cfg.neighbours, cfg.graph_neighbours if graph_bits else 0), n - 1)
    nbrs = nearest_neighbours(X, k_graph) if k_graph >= 1 else None
    targets = neighbour_targets(X, cfg.neighbours, cfg.neighbour_weight, nbrs) if cfg.neighbours else X
    bits = given_bits
    if graph_bits and nbrs is not None:
        bits = graph_code_targets(X, nbrs[:, : min(cfg.graph_neighbours, k_graph)], cfg)
    train_seq = batch_sequence(X[train_idx], targets[train_idx], cfg.batch_size, cfg.seed,
                               word_dropout=cfg.word_dropout, code_bits=None if bits is None else bits[train_idx])
    callbacks = []
    val_data = None
    if n_val:
        val_data = batch_sequence(X[val_idx], targets[val_idx], cfg.batch_size, cfg.seed, shuffle=False,
                                  code_bits=None if bits is None else bits[val_idx])
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                                       restore_best_weights=True))
    trainer, losses, weights = autoencoder, distribution_loss(keras), None
    if bits is not None:  # same layers, the code logits as a second output scored against the graph bits
        trainer = two_outputs
        losses = [distribution_loss(keras), keras.losses.BinaryCrossentropy(from_logits=True)]
        weights = [1.0, float(cfg.graph_codes or 1.0)]
    trainer.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=losses, loss_weights=weights)
    hist = _fit(trainer, train_seq, None, cfg.epochs, "fine-tune", progress, callbacks,
                validation_data=val_data)
    encoder_weights = export_encoder(encoder, cfg, X_raw)
    return TrainingResult(
        encoder=encoder_weights,
        keras_model=autoencoder,
        decoder=export_decoder(decoder, cfg),
        pretrain_losses=pre_losses,
        finetune_losses=[float(v) for v in hist.history["loss"]],
        validation_losses=[float(v) for v in hist.history.get("val_loss", [])],
    )


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
