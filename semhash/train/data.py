"""The batches Keras trains on: dense rows of a sparse matrix, their word distributions and
(optionally) their target bits, with word dropout."""

from __future__ import annotations

import numpy as np

from .arrays import dense_rows, row_distributions
from .backend import keras


class Batches(keras.utils.PyDataset):
    """A Keras ``PyDataset`` over a sparse matrix: dense input rows and their word distributions
    (and, given ``code_bits``, the rows' target bits as a second output).

    ``word_dropout`` keeps a random 1 - ``word_dropout`` to 100 % of each row's words, so the
    model also learns to code fragments. The order is reshuffled after every epoch unless
    ``shuffle`` is false; everything random comes from ``seed``.
    """

    def __init__(self, X, targets, batch_size: int, seed: int, shuffle: bool = True, word_dropout: float = 0.0,
                 code_bits: np.ndarray | None = None):
        super().__init__(workers=1, use_multiprocessing=False)
        self.X, self.targets, self.bs = X, targets, batch_size
        self.word_dropout, self.code_bits = word_dropout, code_bits
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(X.shape[0]) if shuffle else np.arange(X.shape[0])
        self.shuffle = shuffle

    def __len__(self) -> int:
        return max(1, -(-self.X.shape[0] // self.bs))

    def __getitem__(self, i: int):
        idx = self.order[i * self.bs : (i + 1) * self.bs]
        x = dense_rows(self.X, idx)
        if self.word_dropout > 0:  # train on fragments: short queries must get their document's code
            keep = self.rng.uniform(1.0 - self.word_dropout, 1.0, size=(len(idx), 1))
            x = x * (self.rng.random(x.shape, dtype=np.float32) < keep)
        if self.code_bits is not None:
            return x, (row_distributions(self.targets[idx]), self.code_bits[idx])
        return x, row_distributions(self.targets[idx])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self.rng.permutation(self.X.shape[0])


def batch_sequence(X, targets, batch_size: int, seed: int, shuffle: bool = True, word_dropout: float = 0.0,
                   code_bits: np.ndarray | None = None) -> Batches:
    """:class:`Batches` over ``X`` and ``targets`` (the name training used before the class)."""
    return Batches(X, targets, batch_size, seed, shuffle, word_dropout, code_bits)
