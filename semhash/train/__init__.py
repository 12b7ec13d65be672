"""Training: everything that turns a corpus's TF-IDF rows into a trained encoder.

Importing this package imports no TensorFlow; only the modules that build and fit the Keras
model do (``backend`` and the modules that import it). One purpose per module:

- ``config``: :class:`ModelConfig`, frozen and checked on construction (no TensorFlow; the query
  path may import it).
- NumPy/SciPy, no TensorFlow: ``arrays`` (small helpers), ``graph`` (nearest neighbours,
  neighbour averaging, smoothing, spectral embedding), ``itq`` (iterative quantization),
  ``teachers`` (graph teachers, registry ``TEACHERS``), ``rbm`` (CD-1 RBMs and their stack),
  ``export`` (the Keras model as NumPy weights, median thresholds), ``quiet`` (importing
  TensorFlow without its log lines).
- Keras: ``backend`` (Keras and TensorFlow, imported quietly), ``layers`` (the custom layers,
  registered for ``model.keras``), ``autoencoder`` (the model, registry ``AUTOENCODER_VARIANTS``),
  ``data`` (the batches), ``fitting`` (fit with a progress bar), ``pretrain`` (registry
  ``PRETRAINERS``) and ``trainer`` (``train()``: validate, pretrain, graph bits, fine-tune, export).

The registries' keys are the lists in :mod:`semhash.choices`, which the CLI reads.
:mod:`semhash.model` re-exports the names as they were before this package.
"""
