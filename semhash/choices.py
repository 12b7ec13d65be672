"""The values a model option can take, shared by :mod:`semhash.model` and the CLI.

No imports here: ``semhash.cli`` builds its options from these at start-up, and ``semhash
query`` must not pay for NumPy, SciPy or the model module to do so.
"""

PRETRAIN_KINDS = ("rbm", "autoencoder", "none")
VARIANTS = ("plain", "denoising", "sparse", "contractive", "variational")
GRAPH_TEACHERS = ("spectral", "smoothed")
# `semhash export --milvus-index` (semhash.export.MILVUS_INDEXES has their parameters) and the
# largest VARCHAR max_length Milvus accepts
MILVUS_INDEX_TYPES = ("BIN_FLAT", "BIN_IVF_FLAT")
MILVUS_VARCHAR_MAX = 65535
