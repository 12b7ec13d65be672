"""semhash: semantic hashing document retrieval (Salakhutdinov & Hinton, 2009).

The public classes are imported on first use, so ``import semhash`` stays cheap and never
imports TensorFlow.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "SemanticHasher": "semhash.hasher",
    "SemanticIndex": "semhash.index",
    "IndexConfig": "semhash.index",
    "open_index": "semhash.index",
    "ModelConfig": "semhash.model",
    "VectorizerConfig": "semhash.vectorize",
    "read_corpus": "semhash.corpus",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'semhash' has no attribute {name!r}")
