"""An index folder: build it from documents, save it atomically, load and check it.

One purpose per module:

- :mod:`~semhash.index.layout`: the on-disk format (file names, the files each format
  version requires); :mod:`~semhash.index.writing` and :mod:`~semhash.index.loading` write and
  read it, with :mod:`semhash.manifest` (schema) and :mod:`semhash.integrity` (checksums).
- :mod:`~semhash.index.transactions`: a folder changes only by a new folder swapped in under
  the writer lock; recovery after a crash and cleanup of killed writers' leftovers.
- :mod:`~semhash.index.homes`: index names and where they resolve.
- :mod:`~semhash.index.config`: :class:`IndexConfig`.
- :mod:`~semhash.index.semantic`: :class:`SemanticIndex`; :mod:`~semhash.index.building`
  (reading, training and encoding, imported only by ``build``), :mod:`~semhash.index.staging`
  (a build's documents, stored a chunk at a time as they are read, never all in memory) and
  :mod:`~semhash.index.updates` (add, remove, drift).
- :mod:`~semhash.index.access`: :func:`open_index`, :func:`update_index` and :func:`compact_index`.

Nothing here imports TensorFlow except :meth:`SemanticIndex.build`.
"""

from ..errors import REBUILD
from ..integrity import sha256_file
from ..manifest import FORMAT, FORMAT_VERSION
from ..manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from .access import compact_index, open_index, update_index
from .config import IndexConfig
from .homes import DEFAULT_HOME, DEFAULT_NAME, index_home, resolve_index_path
from .layout import (
                     BLOCK_FILES,
                     BLOCKS_FILE,
                     DECODER_FILE,
                     ENCODER_FILE,
                     FAISS_FILE,
                     KERAS_FILE,
                     KNOWN_FILES,
                     LEXICAL_FILES,
                     MANIFEST,
                     NOT_ON_QUERY_PATH,
                     READ_ERRORS,
                     REQUIRED_FILES,
                     ROW_DIGESTS_FILE,
                     SKIPPED_FILE,
                     TFIDF_FILES,
                     TFIDF_PREFIX,
                     TRAINING_FILE,
                     WHOLE_FILES,
)
from .semantic import SemanticIndex
from .transactions import (
                     atomic_write_folder,
                     check_replaceable,
                     recover,
                     recover_if_idle,
                     writer_lock,
                     writer_path,
)
from .updates import DRIFT_MIN_DOCS, DRIFT_MIN_SHIFT, DRIFT_Z, drifted_bits

__all__ = [
    "BLOCKS_FILE", "BLOCK_FILES", "DECODER_FILE", "DEFAULT_HOME", "DEFAULT_NAME", "DRIFT_MIN_DOCS",
    "DRIFT_MIN_SHIFT", "DRIFT_Z", "ENCODER_FILE", "FAISS_FILE", "FORMAT", "FORMAT_VERSION", "KERAS_FILE",
    "KNOWN_FILES", "LEXICAL_FILES", "MANIFEST", "MANIFEST_MAX_BYTES", "NOT_ON_QUERY_PATH", "READ_ERRORS", "REBUILD",
    "REQUIRED_FILES", "ROW_DIGESTS_FILE", "SKIPPED_FILE", "TFIDF_FILES", "TFIDF_PREFIX", "TRAINING_FILE",
    "WHOLE_FILES", "IndexConfig", "SemanticIndex", "atomic_write_folder", "check_replaceable", "drifted_bits",
    "compact_index", "index_home", "open_index", "recover", "recover_if_idle", "resolve_index_path", "sha256_file", "update_index",
    "writer_lock", "writer_path",
]
