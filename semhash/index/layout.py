"""The on-disk format of an index folder: its file names, which files each format version
requires, and how a damaged file reads as an error.

Layout of ``indexes/<name>/`` (format version 3 with delta segments, 2 without; 1 is still read)::

    manifest.json               format version, parameters, counts, size and sha256 of every
                                file, and the sha256 of the manifest itself (semhash.manifest)
    block_checksums.npy         sha256 (first 16 bytes) of each 8 KiB block of the TF-IDF
                                arrays and of documents_digest.npy, checked on first read
    documents_digest.npy        a 64-bit digest of each stored document row (semhash.store)
    vocabulary.json             fitted vocabulary (terms in column order) + vectorizer options
    document_frequency.npy      document frequency of each term (idf is derived from it)
    encoder.npz                 encoder weights and per-bit thresholds for NumPy inference
    model.keras                 the full Keras autoencoder, for retraining / inspection
    decoder.npz                 decoder weights for NumPy reconstructions (``semhash outliers``)
    hashtable_*.npy             hash table: sorted keys, offsets, ids, packed codes
    faiss.index                 FAISS binary index (IndexBinaryIDMap over IndexBinaryFlat)
    tfidf_{data,indices,indptr}.npy   L2-normalized TF-IDF rows (CSR) used to re-rank a shortlist
    postings_{data,indices,indptr}.npy   the inverted index of those rows, term-major: for each
                                vocabulary column the rows holding it and the word's count in
                                each (semhash.lexical); optional: an index saved before them
                                builds them in memory from its TF-IDF rows
    postings_lengths.npy        the length (sum of the word counts) of each row, for BM25
    documents.sqlite            document store: id, path, title, snippet
    skipped.json                every file skipped while reading the corpus, with the reason
    training.json               loss curves of pretraining and fine-tuning
    delta-NNNNNN.{npz,sqlite}   delta segments: rows added and removed since the base segment
                                was written (semhash.index.segments; format version 3 while
                                there are any, 2 once a compaction has merged them)

Writing it is :mod:`semhash.index.writing`, reading it :mod:`semhash.index.loading`; the
manifest's schema is :mod:`semhash.manifest`, the checksums :mod:`semhash.integrity`.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from .. import store as docstore
from ..codes import CsrArrays
from ..errors import REBUILD, IndexFormatError
from ..hashtable import FILES as TABLE_FILES
from ..lexical import LENGTHS_FILE, POSTINGS_FILES
from ..manifest import FORMAT, FORMAT_VERSION
from ..vectorize import DF_FILE, VOCAB_FILE

MANIFEST = "manifest.json"
ENCODER_FILE = "encoder.npz"
KERAS_FILE = "model.keras"
DECODER_FILE = "decoder.npz"
FAISS_FILE = "faiss.index"
TFIDF_PREFIX = "tfidf"
SKIPPED_FILE = "skipped.json"
TRAINING_FILE = "training.json"
BLOCKS_FILE = "block_checksums.npy"
ROW_DIGESTS_FILE = "documents_digest.npy"
STORE_FILE = docstore.STORE_FILE

# The files of the format, by how a query reads them.
# Read whole at load and checked whole:
WHOLE_FILES = (VOCAB_FILE, DF_FILE, ENCODER_FILE, *TABLE_FILES.values())
TFIDF_FILES = tuple(CsrArrays.files(TFIDF_PREFIX))
# the lexical postings (semhash.lexical): all of them or none (an index saved before them)
LEXICAL_FILES = (*POSTINGS_FILES, LENGTHS_FILE)
# Memory-mapped (mmap=True) and checked block by block the first time a query reads them:
BLOCK_FILES = (*TFIDF_FILES, ROW_DIGESTS_FILE, *LEXICAL_FILES)  # the postings: only when listed
# Not on the query path: neither required nor read to query; a full check (add, remove,
# `semhash info --verify`) checks them.
NOT_ON_QUERY_PATH = {KERAS_FILE, TRAINING_FILE, SKIPPED_FILE, DECODER_FILE}
# The files the model's training leaves (an index made from an existing model has none).
TRAINING_FILES = (KERAS_FILE, TRAINING_FILE, DECODER_FILE)
REQUIRED_FILES = {
    1: {*WHOLE_FILES, *TFIDF_FILES, FAISS_FILE, STORE_FILE, SKIPPED_FILE},
    2: {*WHOLE_FILES, *TFIDF_FILES, ROW_DIGESTS_FILE, FAISS_FILE, STORE_FILE, SKIPPED_FILE, BLOCKS_FILE},
}
REQUIRED_FILES[3] = REQUIRED_FILES[2]  # 3: format 2 with delta segments (semhash.index.segments)
# the files of a delta segment: delta-NNNNNN.npz and delta-NNNNNN.sqlite
SEGMENT_FILE = re.compile(r"delta-\d{6}\.(npz|sqlite)\Z")


class KnownFiles(frozenset):
    """The names of the format's files: the base segment's, and those of any delta segment."""

    def __contains__(self, name: object) -> bool:
        return frozenset.__contains__(self, name) or (isinstance(name, str) and SEGMENT_FILE.match(name) is not None)


KNOWN_FILES = KnownFiles(REQUIRED_FILES[FORMAT_VERSION] | {KERAS_FILE, TRAINING_FILE, DECODER_FILE, *LEXICAL_FILES})
# what the loaders raise on a damaged file (IndexFormatError at this layer)
READ_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, EOFError, RecursionError,
               zipfile.BadZipFile, zlib.error)


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn what a loader raises on a damaged file into :class:`IndexFormatError` naming ``path``."""
    try:
        yield
    except IndexFormatError:
        raise
    except READ_ERRORS as exc:
        raise IndexFormatError(f"cannot read {path} ({exc}); {REBUILD}") from exc


__all__ = [
    "BLOCKS_FILE", "BLOCK_FILES", "DECODER_FILE", "ENCODER_FILE", "FAISS_FILE", "FORMAT", "FORMAT_VERSION",
    "KERAS_FILE", "KNOWN_FILES", "LEXICAL_FILES", "MANIFEST", "NOT_ON_QUERY_PATH", "READ_ERRORS", "REQUIRED_FILES",
    "ROW_DIGESTS_FILE", "SEGMENT_FILE", "SKIPPED_FILE", "STORE_FILE", "TFIDF_FILES", "TFIDF_PREFIX", "TRAINING_FILE", "TRAINING_FILES",
    "WHOLE_FILES", "reading",
]
