"""Training: everything that turns a corpus's TF-IDF rows into a trained encoder.

Importing this package imports no TensorFlow; only the modules that build and fit the Keras
model do (see docs/ARCHITECTURE.md).
"""
