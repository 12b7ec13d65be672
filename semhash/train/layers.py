"""The custom Keras layers of the autoencoder, registered under ``semhash>Name`` so that every
saved ``model.keras`` loads (the names are those files' keys: never rename them).

- ``BinaryCode``: the code layer, sigmoid units made binary while training.
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

from __future__ import annotations

from .backend import keras

ops = keras.ops
register = keras.saving.register_keras_serializable


@register(package="semhash", name="BinaryCode")
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


@register(package="semhash", name="InputCorruption")
class InputCorruption(keras.layers.Layer):
    """Masking and Gaussian noise on the input while training (the denoising variant)."""

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
    """Passes the code logits through, adding the KL sparsity penalty while training (the sparse variant)."""

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
    """The code-logit Dense layer with the contractive penalty while training (the contractive variant)."""

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
    """The reparameterised Gaussian latent and its KL term while training; the means at inference (the variational variant)."""

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


CUSTOM_LAYERS = (BinaryCode, InputCorruption, SparsityPenalty, ContractiveDense, GaussianSample)
