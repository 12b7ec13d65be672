"""Keras and TensorFlow, imported once and quietly (:func:`~semhash.train.quiet.import_tensorflow_quietly`).

Every training module that needs Keras takes it from here (``from .backend import keras``), so
TensorFlow's start-up log lines are silenced wherever it is first imported. Importing this
module imports TensorFlow: only the modules that build or fit Keras models do.
"""

from __future__ import annotations

import sys

from .quiet import import_tensorflow_quietly

if "keras" not in sys.modules:  # imported before (by the caller): leave its logging as it is
    import_tensorflow_quietly()

import keras
import tensorflow as tf

__all__ = ["keras", "tf"]
