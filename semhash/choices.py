"""The values a model option can take, shared by :mod:`semhash.model` and the CLI.

No imports here: ``semhash.cli`` builds its options from these at start-up, and ``semhash
query`` must not pay for NumPy, SciPy or the model module to do so.
"""

PRETRAIN_KINDS = ("rbm", "autoencoder", "none")
VARIANTS = ("plain", "denoising", "sparse", "contractive", "variational")
GRAPH_TEACHERS = ("spectral", "smoothed")
