"""Binary codes as plain NumPy: forward pass, binarization, bit packing (Hamming distance: :mod:`semhash.hamming`).

Bit order: bit ``i`` of a code lives in byte ``i // 8`` at position ``7 - i % 8``
(most significant bit first, NumPy's ``packbits`` default). Every export uses this order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

# their home before semhash.hamming; semhash.evaluate and users import them from here
from .bitflip import expand_ranges
from .hamming import POPCOUNT8, hamming_distances, hamming_matrix  # noqa: F401


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack an ``(n, n_bits)`` array of 0/1 into ``(n, n_bits // 8)`` uint8."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] % 8:
        raise ValueError(f"bits must be 2-D with a multiple of 8 columns, got shape {bits.shape}")
    return np.packbits(bits.astype(bool), axis=1)


def unpack_bits(packed: np.ndarray, n_bits: int | None = None) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``(n, n_bytes)`` uint8 to ``(n, n_bits)`` uint8 of 0/1."""
    packed = np.asarray(packed, dtype=np.uint8)
    if packed.ndim == 1:
        packed = packed[None, :]
    bits = np.unpackbits(packed, axis=1)
    return bits if n_bits is None else bits[:, :n_bits]


def to_hex(packed: np.ndarray) -> list[str]:
    """Hex string of each packed code (two characters per byte, first bit first)."""
    return [bytes(row).hex() for row in np.asarray(packed, dtype=np.uint8)]


def from_hex(codes: list[str]) -> np.ndarray:
    """Packed uint8 codes from hex strings made by :func:`to_hex`."""
    return np.array([np.frombuffer(bytes.fromhex(c), dtype=np.uint8) for c in codes], dtype=np.uint8)


def bit_balance(bits: np.ndarray) -> np.ndarray:
    """Fraction of documents with each bit set (0.5 is a perfectly balanced bit)."""
    bits = np.asarray(bits)
    if bits.shape[0] == 0:
        return np.zeros(bits.shape[1])
    return bits.mean(axis=0)


# --------------------------------------------------------------------------- forward pass

ACTIVATIONS = {
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # overflow-free logistic
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
}


class CsrArrays:
    """A CSR matrix as three plain arrays, for the query path (no SciPy import).

    Stored as three ``.npy`` files (memory-mappable) and converted to a
    SciPy matrix on demand with :meth:`tocsr`.
    """

    format = "csr"

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = (int(shape[0]), int(shape[1]))

    PARTS = ("data", "indices", "indptr")

    @classmethod
    def files(cls, prefix: str) -> list[str]:
        return [f"{prefix}_{part}.npy" for part in cls.PARTS]

    @classmethod
    def load(cls, folder: str | Path, prefix: str, n_cols: int, mmap: bool = False) -> CsrArrays:
        """Read ``<prefix>_data.npy``, ``_indices.npy``, ``_indptr.npy`` (memory-mapped if asked)."""
        folder = Path(folder)
        data, indices, indptr = (np.load(folder / name, mmap_mode="r" if mmap else None, allow_pickle=False)
                                 for name in cls.files(prefix))
        check_csr(data, indices, indptr, prefix)
        return cls(data, indices, indptr, (len(indptr) - 1, n_cols))

    def save(self, folder: str | Path, prefix: str) -> list[str]:
        """Write the three arrays as plain ``.npy`` files; returns their names."""
        for name, arr in zip(self.files(prefix), (self.data, self.indices, self.indptr)):
            np.save(Path(folder) / name, np.ascontiguousarray(arr), allow_pickle=False)
        return self.files(prefix)

    @classmethod
    def from_matrix(cls, matrix: Any) -> CsrArrays:
        m = matrix.tocsr()
        return cls(m.data, m.indices, m.indptr, m.shape)

    @classmethod
    def from_rows(cls, rows: list[tuple[np.ndarray, np.ndarray]], n_cols: int) -> CsrArrays:
        """Rows given as ``(columns, weights)`` pairs."""
        indptr = np.concatenate([[0], np.cumsum([len(c) for c, _ in rows])]).astype(np.int64)
        data = np.concatenate([np.asarray(w, np.float32) for _, w in rows]) if rows else np.zeros(0, np.float32)
        indices = np.concatenate([np.asarray(c, np.int64) for c, _ in rows]) if rows else np.zeros(0, np.int64)
        return cls(data, indices, indptr, (len(rows), n_cols))

    def arrays_for_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, indices, data)``, safe to read at ``rows`` (see :class:`LazyCsr`)."""
        return self.indptr, self.indices, self.data

    def tocsr(self) -> Any:
        import scipy.sparse as sp  # SciPy: only updates and outliers ask for a SciPy matrix; queries read the arrays

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def row_sums(self) -> np.ndarray:
        sums = np.zeros(self.shape[0], dtype=np.float64)
        lengths = np.diff(self.indptr)
        nonempty = lengths > 0
        if nonempty.any():
            sums[nonempty] = np.add.reduceat(np.asarray(self.data, np.float64), self.indptr[:-1][nonempty])
        return sums

    def dot_dense(self, W: np.ndarray, row_scale: np.ndarray | None = None) -> np.ndarray:
        """``diag(row_scale) @ self @ W`` in float64, with NumPy only."""
        out = np.zeros((self.shape[0], W.shape[1]), dtype=np.float64)
        lengths = np.diff(self.indptr)
        nonempty = lengths > 0
        if nonempty.any():
            contrib = np.asarray(self.data, np.float64)[:, None] * W[self.indices]
            out[nonempty] = np.add.reduceat(contrib, self.indptr[:-1][nonempty], axis=0)
        if row_scale is not None:
            out *= row_scale[:, None]
        return out


def check_csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, prefix: str, last: Any = None) -> None:
    """``ValueError`` unless the arrays have the shapes of a CSR matrix (``last``: ``indptr[-1]``,
    when the caller has read it safely)."""
    last = indptr[-1] if last is None and indptr.ndim == 1 and len(indptr) else last
    if (indptr.ndim != 1 or len(indptr) < 1 or data.ndim != 1 or len(data) != len(indices)
            or indptr.dtype.kind != "i" or indices.dtype.kind != "i" or data.dtype.kind != "f"
            or int(last) != len(data)):
        raise ValueError(f"{prefix}_*.npy do not form a CSR matrix")


class LazyCsr(CsrArrays):
    """:class:`CsrArrays` whose bytes are checked on first read (memory-mapped index files).

    ``checks`` holds, for ``data``, ``indices`` and ``indptr``, an object with
    ``ranges(starts, stops)`` (check elements ``[starts[i], stops[i])``) and ``all()``
    (:class:`semhash.integrity.ArrayCheck`). :meth:`arrays_for_rows` checks only the rows a
    query reads; any other use of the arrays checks them whole first.
    """

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int],
                 checks: dict) -> None:
        # plain views of the mapped arrays: numpy.memmap's Python-level indexing costs microseconds a call
        self._raw = {"data": np.asarray(data), "indices": np.asarray(indices), "indptr": np.asarray(indptr)}
        self._checks = checks
        self._whole = False
        self.shape = (int(shape[0]), int(shape[1]))

    def _checked(self, part: str) -> np.ndarray:
        if not self._whole:
            for check in self._checks.values():
                check.all()
            self._whole = True
        return self._raw[part]

    data = property(lambda self: self._checked("data"))
    indices = property(lambda self: self._checked("indices"))
    indptr = property(lambda self: self._checked("indptr"))

    def arrays_for_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        indptr, indices, data = self._raw["indptr"], self._raw["indices"], self._raw["data"]
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"rows outside 0..{self.shape[0] - 1}")
        self._checks["indptr"].ranges(rows, rows + 2)
        starts, ends = indptr[rows], indptr[rows + 1]
        if len(rows) and ((starts > ends).any() or ends.max() > len(data) or starts.min() < 0):
            raise ValueError("the TF-IDF row offsets are out of order")
        self._checks["indices"].ranges(starts, ends)
        self._checks["data"].ranges(starts, ends)
        return indptr, indices, data


def csr_arrays_for_rows(matrix: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of a CSR matrix (SciPy or :class:`CsrArrays`), safe to read at ``rows``."""
    read = getattr(matrix, "arrays_for_rows", None)
    return read(rows) if read is not None else (matrix.indptr, matrix.indices, matrix.data)


def gather_rows(matrix: Any, rows: np.ndarray) -> CsrArrays:
    """The CSR rows ``rows`` of ``matrix`` (plain arrays, :class:`semhash.codes.LazyCsr` or
    SciPy), in that order, as a small :class:`CsrArrays` (row ``i`` is ``rows[i]``)."""
    rows = np.asarray(rows, dtype=np.int64)
    gather = getattr(matrix, "gather", None)
    if gather is not None:  # an index of segments (semhash.index.views.SegmentedRows) gathers its own
        return gather(rows)
    indptr, indices, data = csr_arrays_for_rows(matrix, rows)
    starts, ends = np.asarray(indptr[rows], np.int64), np.asarray(indptr[rows + 1], np.int64)
    pos = expand_ranges(starts, ends)
    out_ptr = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    return CsrArrays(np.asarray(data[pos], np.float32), np.asarray(indices[pos]), out_ptr, (len(rows), matrix.shape[1]))


def stack_rows(parts: list[CsrArrays], n_cols: int) -> CsrArrays:
    """The rows of ``parts`` one after another, as one :class:`CsrArrays`."""
    if not parts:
        return CsrArrays(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), (0, n_cols))
    offsets = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
    indptr = np.concatenate([[0]] + [np.asarray(p.indptr[1:], np.int64) + o for p, o in zip(parts, offsets)])
    return CsrArrays(np.concatenate([np.asarray(p.data, np.float32) for p in parts]),
                     np.concatenate([np.asarray(p.indices) for p in parts]), indptr.astype(np.int64),
                     (sum(p.shape[0] for p in parts), n_cols))


def length_normalize(X: Any, length: float) -> Any:
    """Rows rescaled to sum to ``length`` (0 leaves them as they are); empty rows stay empty.

    The model sees every text at the same total weight, so a three-word query and a long
    document about the same thing get the same code.
    """
    if not length:
        return X
    import scipy.sparse as sp  # SciPy: building and training come here; the query path's CsrArrays never do

    totals = np.asarray(X.sum(axis=1)).ravel().astype(np.float32)
    totals[totals == 0] = 1.0
    scale = (length / totals).astype(np.float32)
    if sp.issparse(X):
        return (sp.diags(scale) @ X).tocsr().astype(np.float32)
    return np.asarray(X, dtype=np.float32) * scale[:, None]


def _layer_arrays(kernels: list[np.ndarray], biases: list[np.ndarray], activations: list[str]) -> dict[str, np.ndarray]:
    """The arrays of a stack of dense layers, by name, for ``np.savez``."""
    arrays = {f"kernel_{i}": k for i, k in enumerate(kernels)}
    arrays.update({f"bias_{i}": b for i, b in enumerate(biases)})
    return {"activations": np.array(activations), "n_layers": np.array(len(kernels)), **arrays}


def _read_layers(data: Any, bias_dtype: Any) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """``(kernels (float32), biases, activations)`` of arrays written by :func:`_layer_arrays`."""
    n = int(data["n_layers"])
    return ([np.ascontiguousarray(data[f"kernel_{i}"], dtype=np.float32) for i in range(n)],
            [np.asarray(data[f"bias_{i}"], dtype=bias_dtype) for i in range(n)],
            [str(a) for a in data["activations"]])


@dataclass
class EncoderWeights:
    """The encoder as plain arrays: ``h = act(h @ W + b)`` per layer, the last gives code logits.

    Inputs are first rescaled to sum to ``input_length`` (see :func:`length_normalize`);
    ``thresholds`` are the per-bit cut points applied to the code-layer logits (0 is a
    probability of one half). The last activation is the code layer's (a sigmoid).
    """

    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    thresholds: np.ndarray
    input_length: float = 0.0

    def float64_kernels(self) -> list[np.ndarray]:
        """The kernels in float64, converted once."""
        cached = self.__dict__.get("_kernels64")
        if cached is None or len(cached) != len(self.kernels) or any(
                a.shape != b.shape for a, b in zip(cached, self.kernels)):
            cached = [np.asarray(k, dtype=np.float64) for k in self.kernels]
            self.__dict__["_kernels64"] = cached
        return cached

    @property
    def n_bits(self) -> int:
        return int(self.kernels[-1].shape[1])

    @property
    def n_inputs(self) -> int:
        return int(self.kernels[0].shape[0])

    def save(self, path: str | Path) -> None:
        arrays = {"thresholds": self.thresholds, "input_length": np.array(self.input_length),
                  **_layer_arrays(self.kernels, self.biases, self.activations)}
        np.savez(path, **arrays)  # type: ignore[arg-type]  # NumPy's stubs read **arrays as allow_pickle

    @classmethod
    def load(cls, path: str | Path | IO[bytes]) -> EncoderWeights:
        """Read weights written by :meth:`save` from a path or a binary file object."""
        with np.load(path, allow_pickle=False) as data:
            kernels, biases, activations = _read_layers(data, np.float64)
            enc = cls(
                kernels=kernels,
                biases=biases,
                activations=activations,
                thresholds=np.asarray(data["thresholds"], dtype=np.float64),
                input_length=float(data["input_length"]) if "input_length" in data else 0.0,
            )
        for a in enc.activations:
            if a not in ACTIVATIONS:
                raise ValueError(f"unknown activation {a!r} in {path}")
        enc.check_shapes()
        return enc

    def check_shapes(self) -> None:
        """``ValueError`` unless the layers chain: each kernel's columns feed the next, one bias
        and one activation per layer, one threshold per bit."""
        k, b = self.kernels, self.biases
        ok = (len(k) >= 1 and len(k) == len(b) == len(self.activations)
              and all(w.ndim == 2 for w in k)
              and all(k[i].shape[1] == k[i + 1].shape[0] for i in range(len(k) - 1))
              and all(bias.shape == (w.shape[1],) for w, bias in zip(k, b))
              and self.thresholds.shape == (k[-1].shape[1],))
        if not ok:
            raise ValueError("the encoder's layers do not fit together")


@dataclass
class DecoderWeights:
    """The decoder as plain arrays, for reconstructions without TensorFlow.

    The code layer hands the decoder ``code_activation`` of the code logits (``sigmoid``: the
    binary code units at inference; ``linear``: the variational model's means themselves); then
    ``h = act(h @ W + b)`` per layer, the last (``linear``) giving the word logits.
    """

    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    code_activation: str = "sigmoid"

    @property
    def n_bits(self) -> int:
        return int(self.kernels[0].shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.kernels[-1].shape[1])

    def save(self, path: str | Path) -> None:
        arrays = {"code_activation": np.array(self.code_activation),
                  **_layer_arrays(self.kernels, self.biases, self.activations)}
        np.savez(path, **arrays)  # type: ignore[arg-type]  # NumPy's stubs read **arrays as allow_pickle

    @classmethod
    def load(cls, path: str | Path) -> DecoderWeights:
        """Read a saved decoder; ``ValueError`` when it is not one (shapes, activations)."""
        with np.load(path, allow_pickle=False) as data:
            dec = cls(*_read_layers(data, np.float32), code_activation=str(data["code_activation"]))
        n = len(dec.kernels)
        shapes_fit = n >= 1 and len(dec.activations) == n and all(
            k.ndim == 2 and b.shape == (k.shape[1],) for k, b in zip(dec.kernels, dec.biases)) and all(
            a.shape[1] == b.shape[0] for a, b in zip(dec.kernels, dec.kernels[1:]))
        if not shapes_fit or any(a not in ACTIVATIONS for a in [*dec.activations, dec.code_activation]):
            raise ValueError(f"{path} does not hold a decoder (layer shapes or activations)")
        return dec


def decode_logits(decoder: DecoderWeights, code_logits: np.ndarray) -> np.ndarray:
    """Word logits ``(n, n_words)`` (float32, as the Keras decoder computes them) of code logits."""
    h = ACTIVATIONS[decoder.code_activation](np.asarray(code_logits, dtype=np.float32))
    for W, b, act in zip(decoder.kernels, decoder.biases, decoder.activations):
        h = ACTIVATIONS[act](h @ W + b)
    return h


def encode_logits(encoder: EncoderWeights, X: Any) -> np.ndarray:
    """Code-layer logits ``(n, n_bits)`` (float64) for weighted bag-of-words rows ``X``.

    ``X`` may be a SciPy sparse matrix or a dense array; the first layer is a sparse product.
    The pass runs in float64 so a document gets the same bits whatever batch it is encoded in
    (BLAS sums in a batch-dependent order; float64 keeps that noise far below any threshold).
    """
    if X.shape[1] != encoder.n_inputs:
        raise ValueError(f"input has {X.shape[1]} columns, the encoder expects {encoder.n_inputs}")
    kernels = encoder.float64_kernels()
    if isinstance(X, CsrArrays):  # the query path: NumPy only
        scale = None
        if encoder.input_length:
            sums = X.row_sums()
            sums[sums == 0] = 1.0
            scale = encoder.input_length / sums
        h = X.dot_dense(kernels[0], scale) + encoder.biases[0]
    else:
        X = length_normalize(X, encoder.input_length)
        h = np.asarray(X.astype(np.float64) @ kernels[0]) + encoder.biases[0]
    for W, b, act in zip(kernels[1:], encoder.biases[1:], encoder.activations[:-1]):
        h = ACTIVATIONS[act](h) @ W + b
    return h


def encode_probs(encoder: EncoderWeights, X: Any) -> np.ndarray:
    """Code-unit probabilities ``(n, n_bits)``: the sigmoid of :func:`encode_logits`."""
    return ACTIVATIONS["sigmoid"](encode_logits(encoder, X)).astype(np.float32)


def binarize(values: np.ndarray, thresholds: np.ndarray | float = 0.5) -> np.ndarray:
    """0/1 codes ``(n, n_bits)`` uint8: a bit is set where its value exceeds the threshold."""
    return (np.asarray(values) > thresholds).astype(np.uint8)


def encode_bits(encoder: EncoderWeights, X: Any) -> np.ndarray:
    """0/1 codes ``(n, n_bits)``: each logit cut at its bit's threshold (in logit space)."""
    return binarize(encode_logits(encoder, X), encoder.thresholds)


def encode_packed(encoder: EncoderWeights, X: Any) -> np.ndarray:
    """Packed codes for ``X``: forward pass, per-bit thresholds, bit packing."""
    return pack_bits(encode_bits(encoder, X))
