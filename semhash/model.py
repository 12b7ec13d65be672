"""The training names as they were before :mod:`semhash.train` (a thin re-export, so that
``from semhash.model import ModelConfig, train`` keeps working).

New code imports from the modules of :mod:`semhash.train`. Importing this module imports no
TensorFlow, scikit-learn or SciPy: :class:`ModelConfig` and the choice lists are here at once,
every other name is imported from its module on first use (``train`` imports TensorFlow).
"""

from __future__ import annotations

import importlib

from .choices import GRAPH_TEACHERS, PRETRAIN_KINDS, VARIANTS  # noqa: F401 - re-exported
from .train.config import CODE_MODES, ModelConfig  # noqa: F401 - re-exported
from .train.quiet import _stderr_caught, import_tensorflow_quietly  # noqa: F401 - re-exported

_MOVED = {
    "semhash.train.arrays": ("batches", "dense_rows", "row_distributions", "sigmoid", "softmax"),
    "semhash.train.graph": ("SPECTRAL_MIN_EIGENVALUE", "nearest_neighbours", "neighbour_average",
                            "neighbour_targets", "smooth_over_graph", "spectral_embedding"),
    "semhash.train.teachers": ("GRAPH_MEMORY_DEFAULT_GB", "GRAPH_MEMORY_ENV", "TEACHERS", "check_graph_memory",
                               "graph_code_targets", "smoothed_code_targets", "spectral_code_targets"),
    "semhash.train.itq": ("itq_bits_of", "itq_blocks", "itq_rotation"),
    "semhash.train.rbm": ("RBM_MAX_WORD_SHARE", "VISIBLE_UNITS", "cd1_step", "pretrain_rbm", "train_rbm",
                          "word_share_step"),
    "semhash.train.export": ("decoder_dense_layers", "encoder_dense_layers", "export_decoder", "export_encoder",
                             "median_thresholds"),
    # the names below import TensorFlow
    "semhash.train.layers": ("BinaryCode", "ContractiveDense", "GaussianSample", "InputCorruption",
                             "SparsityPenalty"),
    "semhash.train.autoencoder": ("AUTOENCODER_VARIANTS", "build_autoencoder", "build_layers", "distribution_loss",
                                  "load_keras_model", "reconstruction_errors"),
    "semhash.train.data": ("Batches", "batch_sequence"),
    "semhash.train.pretrain": ("PRETRAINERS", "pretrain_autoencoders"),
    "semhash.train.trainer": ("TrainingResult", "check_code_targets", "train", "train_encoder"),
}
_MODULE_OF = {name: module for module, names in _MOVED.items() for name in names}


def __getattr__(name: str):
    """A moved name, imported from its module on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'semhash.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly next time
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})
