"""An index folder: build it from documents, save it atomically, load and check it.

Layout of ``indexes/<name>/`` (format version 2; version 1 is still read)::

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
    documents.sqlite            document store: id, path, title, snippet
    skipped.json                every file skipped while reading the corpus, with the reason
    training.json               loss curves of pretraining and fine-tuning

Saving writes everything into a temporary sibling folder and swaps it in with renames; if the
process dies between the two renames the previous index is restored on the next load, and
temporary folders of killed writers are removed by the next reader or writer that finds no
live writer (the writer lock tells). Loading reads only the files the manifest lists, never
through a symlink, and checks every byte the query path reads against the manifest's
checksums before it is used (see :meth:`SemanticIndex.load`).
Nothing here imports TensorFlow except :meth:`SemanticIndex.build` (and
:meth:`SemanticIndex.reconstruction_errors` for an index without ``decoder.npz``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from . import store as docstore
from .codes import CsrArrays, EncoderWeights, LazyCsr, bit_balance, check_csr, encode_packed, unpack_bits
from .errors import REBUILD, ConfigError, IndexFormatError, IndexNotFoundError, SemhashError
from .hashtable import FILES as TABLE_FILES
from .hashtable import HammingTable
from .integrity import (BLOCK_BYTES, DIGEST_BYTES, FolderReader, file_meta, lazy_npy, mismatch, npy_array, sha256_file,  # noqa: F401 - sha256_file re-exported
                        sha256_hex)
from .manifest import FORMAT, FORMAT_VERSION
from .manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from .manifest import dumps as dump_manifest
from .manifest import parse as parse_manifest
from .vectorize import DF_FILE, VOCAB_FILE, Vectorizer, VectorizerConfig, l2_normalize

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
DEFAULT_HOME = Path("indexes")
DEFAULT_NAME = "default"

# The files of the format, by how a query reads them.
# Read whole at load and checked whole:
WHOLE_FILES = (VOCAB_FILE, DF_FILE, ENCODER_FILE, *TABLE_FILES.values())
TFIDF_FILES = tuple(CsrArrays.files(TFIDF_PREFIX))
# Memory-mapped (mmap=True) and checked block by block the first time a query reads them:
BLOCK_FILES = (*TFIDF_FILES, ROW_DIGESTS_FILE)
# Not on the query path: neither required nor read to query; a full check (add, remove,
# `semhash info --verify`) checks them.
NOT_ON_QUERY_PATH = {KERAS_FILE, TRAINING_FILE, SKIPPED_FILE, DECODER_FILE}
REQUIRED_FILES = {
    1: {*WHOLE_FILES, *TFIDF_FILES, FAISS_FILE, docstore.STORE_FILE, SKIPPED_FILE},
    2: {*WHOLE_FILES, *BLOCK_FILES, FAISS_FILE, docstore.STORE_FILE, SKIPPED_FILE, BLOCKS_FILE},
}
KNOWN_FILES = REQUIRED_FILES[FORMAT_VERSION] | {KERAS_FILE, TRAINING_FILE, DECODER_FILE}
# what the loaders raise on a damaged file (IndexFormatError at this layer)
READ_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, EOFError, RecursionError,
               zipfile.BadZipFile, zlib.error)
# `semhash info` advises retraining when at least DRIFT_MIN_DOCS documents were added and a bit's
# share among them differs from training by more than DRIFT_MIN_SHIFT and DRIFT_Z standard errors
DRIFT_MIN_DOCS = 30
DRIFT_MIN_SHIFT = 0.1
DRIFT_Z = 4.0


@dataclass
class IndexConfig:
    """Options of an index: the vocabulary and the model."""

    vectorizer: VectorizerConfig = field(default_factory=VectorizerConfig)
    model: "object" = None  # semhash.model.ModelConfig; a dict once loaded from a manifest

    def model_dict(self) -> dict:
        m = self.model
        return m.to_dict() if hasattr(m, "to_dict") else dict(m or {})


def index_home() -> tuple[Path, str]:
    """The folder index names resolve in, and how it was chosen (for messages).

    ``$SEMHASH_HOME`` when set; else the nearest ``indexes/`` folder in the current directory
    or one of its parents (as git finds ``.git``), so a name means the same index from any
    folder of a project; else ``./indexes`` (created by the first ``semhash index``).
    """
    env = os.environ.get("SEMHASH_HOME")
    if env:
        return Path(env), "$SEMHASH_HOME"
    try:
        cwd = Path.cwd()
    except OSError:  # the current directory was deleted
        return DEFAULT_HOME, "the current directory"
    for folder in (cwd, *cwd.parents):
        if (folder / DEFAULT_HOME).is_dir():
            where = DEFAULT_HOME if folder == cwd else folder / DEFAULT_HOME
            return where, f"the nearest {DEFAULT_HOME}/ folder from {cwd}"
    return DEFAULT_HOME, f"no {DEFAULT_HOME}/ folder in {cwd} or above it"


def _is_name(name_or_path) -> bool:
    text = "" if name_or_path is None else str(name_or_path)
    return not (os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."))


def resolve_index_path(name_or_path: str | os.PathLike | None, home: str | os.PathLike | None = None) -> Path:
    """``None`` -> ``<home>/default``; a bare name -> ``<home>/<name>``; a path stays a path.

    ``home`` defaults to :func:`index_home`. A path is anything with a separator or starting
    with ``.``; it is taken relative to the current directory.
    """
    if not _is_name(name_or_path):
        return Path(str(name_or_path))
    home = Path(home) if home is not None else index_home()[0]
    return home / (str(name_or_path or "") or DEFAULT_NAME)


def _index_not_found(name_or_path, dest: Path) -> IndexNotFoundError:
    """The error for a missing index: for a name, where names resolve and which indexes are there."""
    message, target = f"no index at {dest}", dest
    if _is_name(name_or_path):
        target = name_or_path or DEFAULT_NAME
        home, why = index_home()
        try:
            names = sorted(p.name for p in home.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file())
        except OSError:
            names = None
        there = ("which does not exist" if names is None else "which holds no index" if not names
                 else "which holds: " + ", ".join(names))
        message += f"; index names resolve in {home.absolute()} ({why}), {there}"
    return IndexNotFoundError(f"{message}; build one with `semhash index DIR --index {target}`")


def _fsync_tree(folder: Path) -> None:
    for p in folder.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def writer_path(dest: str | os.PathLike) -> Path:
    """The real folder behind ``dest``, where its writers work: a symlinked index folder is
    updated where the link points (the link stays a link), and ``.`` gets a name."""
    return Path(os.path.realpath(dest))


def _leftovers(dest: Path) -> tuple[list[Path], list[Path]]:
    """Previous folders (oldest first) and temporary folders that writers left beside ``dest``."""
    old, tmp = f".{dest.name}.old-", f".{dest.name}.tmp-"
    backups, temporary = [], []
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest.parent):
            if entry.name.startswith(old):
                backups.append(Path(entry.path))
            elif entry.name.startswith(tmp):
                temporary.append(Path(entry.path))
    mtime = lambda p: p.lstat().st_mtime  # noqa: E731
    with contextlib.suppress(OSError):
        backups.sort(key=mtime)
    return backups, temporary


def recover(dest: Path) -> None:
    """Finish or undo a swap that a crash interrupted, and drop leftover temporary folders.

    Only for a caller that holds :func:`writer_lock` on ``dest`` (or where no writer ever
    took it): then no temporary folder beside it belongs to a live writer.
    """
    dest = writer_path(dest)
    backups, temporary = _leftovers(dest)
    if not dest.exists() and backups:
        os.rename(backups[-1], dest)  # the crash fell between the two renames: put the old one back
        backups = backups[:-1]
    for leftover in backups + temporary:
        shutil.rmtree(leftover, ignore_errors=True)


def _lock_path(dest: Path) -> Path:
    dest = writer_path(dest)
    return dest.parent / f".{dest.name}.lock"


def recover_if_idle(dest: Path, wait: float = 10.0) -> None:
    """:func:`recover` for a reader: only when no writer holds the lock on ``dest``.

    While a writer holds it, its temporary folder and its swap are its own (a reader never
    touches them); a reader that finds ``dest`` missing mid-swap waits up to ``wait`` seconds
    for it to reappear. Once the lock is free, what killed writers left behind (a half-done
    swap, full-size temporary copies) is undone or removed.
    """
    import fcntl

    dest = writer_path(dest)
    backups, temporary = _leftovers(dest)
    if dest.exists() and not backups and not temporary:
        return  # nothing to recover: no lock needed
    try:
        fd = os.open(_lock_path(dest), os.O_RDONLY)
    except OSError:
        recover(dest)  # no writer ever locked this index
        return
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if dest.exists() or time.monotonic() >= deadline:
                    return  # a live writer: its folders are its own
                time.sleep(0.05)
                continue
            recover(dest)
            return
    finally:
        os.close(fd)


def check_replaceable(dest: Path) -> None:
    """:class:`ConfigError` unless a writer may replace ``dest``: a new folder, an empty one or
    a semhash index (even a damaged one), never the current folder or a folder of other files."""
    dest = writer_path(dest)
    cwd = Path(os.path.realpath(os.getcwd()))
    if dest == cwd or dest in cwd.parents:
        raise ConfigError(f"cannot write an index to {dest}: it is the current folder or holds it; "
                          "run semhash from another folder, or choose another --index")
    if not os.path.lexists(dest):
        return
    if not dest.is_dir():
        raise ConfigError(f"cannot write an index to {dest}: it is a file, not a folder; choose another --index")
    with contextlib.suppress(OSError, ValueError, RecursionError, AttributeError):
        if json.loads((dest / MANIFEST).read_bytes()[:MANIFEST_MAX_BYTES]).get("format") == FORMAT:
            return
    others = sorted(n for n in os.listdir(dest) if n not in KNOWN_FILES and n != MANIFEST)
    if others:
        raise ConfigError(f"cannot write an index to {dest}: it is a folder that is not a semhash index "
                          f"(it holds {others[0]!r}); choose another --index, or empty the folder")


@contextlib.contextmanager
def writer_lock(dest: Path, wait: float | None = None):
    """Serialize writers of one index with an exclusive ``flock`` on a sibling lock file."""
    import fcntl

    check_replaceable(dest)
    dest = writer_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if wait is None:
        raw = os.environ.get("SEMHASH_LOCK_WAIT", "600")
        try:
            wait = float(raw)
        except ValueError:
            raise ConfigError(f"SEMHASH_LOCK_WAIT must be a number of seconds, got {raw!r}") from None
    lock_path = _lock_path(dest)
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SemhashError(
                        f"another semhash process is writing {dest}; wait for it to finish and retry "
                        f"(SEMHASH_LOCK_WAIT={wait:g} seconds)"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _test_pause() -> None:
    """Test hook only: ``SEMHASH_TEST_PAUSE_BEFORE_SWAP=seconds`` sleeps after the temporary
    folder is written and again between the two renames, so a crash test can kill the process
    inside the save window. Never set it in normal use."""
    pause = os.environ.get("SEMHASH_TEST_PAUSE_BEFORE_SWAP")
    if pause:
        time.sleep(float(pause))


def atomic_write_folder(dest: Path, write) -> None:
    """Call ``write(tmp_folder)``, then swap the result in place of ``dest`` (under the writer
    lock; a symlinked ``dest`` is replaced where it points, see :func:`writer_path`)."""
    check_replaceable(dest)
    dest = writer_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)  # also removes killed writers' temporary folders: we hold the lock
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{time.time_ns()}"
    tmp.mkdir()
    try:
        write(tmp)
        _fsync_tree(tmp)
        _test_pause()
        if dest.exists():
            backup = dest.parent / f".{dest.name}.old-{os.getpid()}-{time.time_ns()}"
            os.rename(dest, backup)
            _test_pause()
            os.rename(tmp, dest)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def _reading(path: Path):
    """Turn what a loader raises on a damaged file into :class:`IndexFormatError` naming ``path``."""
    try:
        yield
    except IndexFormatError:
        raise
    except READ_ERRORS as exc:
        raise IndexFormatError(f"cannot read {path} ({exc}); {REBUILD}") from exc


class SemanticIndex:
    """A searchable semantic-hashing index: vocabulary, encoder, hash table, FAISS, store."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else None

    # ------------------------------------------------------------------ build

    @classmethod
    def build(cls, documents, config: IndexConfig | None = None, skipped=(), progress: bool = False,
              source: str | os.PathLike | None = None):
        """Fit the vocabulary, train the model and index ``documents`` (in memory).

        ``documents`` are :class:`semhash.corpus.Document`; ``skipped`` the files skipped
        while reading them. Documents with no word of the vocabulary are skipped too.
        ``source`` is the corpus folder: files added later under it get ids relative to it.
        Documents the store cannot keep (a field that is not valid Unicode, two different
        documents with one id) raise :class:`ConfigError` before anything is trained.
        """
        documents = docstore.check_documents(documents)  # before any training: bad ids fail now
        from .model import ModelConfig, train  # TensorFlow: training only

        config = config or IndexConfig()
        if config.model is None:
            config.model = ModelConfig()
        elif isinstance(config.model, dict):
            config.model = ModelConfig.from_dict(config.model)
        if not documents:
            raise ConfigError("no documents to index")
        started = time.time()
        vectorizer = Vectorizer(config.vectorizer).fit([d.text for d in documents])
        documents, X, skipped = cls._vectorize(vectorizer, documents, skipped)
        if len(documents) < 2:
            raise ConfigError(
                f"only {len(documents)} document(s) have words of the vocabulary; at least 2 are needed to train"
            )
        result = train(X, config.model, progress=progress)
        self = cls._assemble(vectorizer, result.encoder, config, documents, X, skipped, progress)
        self.training_ = result
        self.manifest["training"]["seconds"] = round(time.time() - started, 2)
        self.manifest["corpus_root"] = str(Path(source).resolve()) if source is not None else None
        return self

    @classmethod
    def from_model(cls, vectorizer: Vectorizer, encoder: EncoderWeights, documents, config=None, skipped=(),
                   progress: bool = False) -> "SemanticIndex":
        """Index ``documents`` with an already trained vocabulary and encoder (no training)."""
        documents, X, skipped = cls._vectorize(vectorizer, docstore.check_documents(documents), skipped)
        return cls._assemble(vectorizer, encoder, config or IndexConfig(vectorizer.config, {}), documents, X,
                             skipped, progress)

    @staticmethod
    def _vectorize(vectorizer: Vectorizer, documents, skipped):
        """Weighted rows of the documents that have words of the vocabulary; the others skipped."""
        from .corpus import escape_surrogates  # skipped.json is UTF-8: names that are not get escaped

        X = vectorizer.transform([d.text for d in documents])
        has_words = np.diff(X.indptr) > 0
        skipped = [dict(path=s.path, reason=s.reason) if hasattr(s, "reason") else dict(s) for s in skipped]
        skipped = [{k: escape_surrogates(v) if isinstance(v, str) else v for k, v in s.items()} for s in skipped]
        for d, ok in zip(documents, has_words):
            if not ok:
                skipped.append({"path": d.id, "reason": "no word of the vocabulary (too short or only stop words)"})
        return [d for d, ok in zip(documents, has_words) if ok], X[has_words], skipped

    @classmethod
    def _assemble(cls, vectorizer, encoder, config, documents, X, skipped, progress) -> "SemanticIndex":
        self = cls()
        self.vectorizer = vectorizer
        self.encoder = encoder
        self.training_ = None
        self.config = config
        rows = np.arange(len(documents), dtype=np.int64)
        codes = cls._encode_in_batches(encoder, X, progress)
        self.table = HammingTable.build(codes, rows, encoder.n_bits)
        self._faiss = None
        self.tfidf = l2_normalize(X)
        self.skipped = skipped
        self._new_docs = {int(r): (int(r), d.id, d.path, d.title, d.text) for r, d in zip(rows, documents)}
        self._dropped: set[int] = set()
        self._added_rows: set[int] = set()
        self.conn = None
        self._reader = self._faiss_file = self._row_digests = self._digest_check = None
        self._verified_full = False
        self.manifest = {
            "counts": {"added_since_training": 0, "replaced_since_training": 0, "removed_since_training": 0},
            "training": {"n_docs": len(documents),
                         "bit_balance": bit_balance(unpack_bits(codes, encoder.n_bits)).round(4).tolist()},
        }
        return self

    @staticmethod
    def _encode_in_batches(encoder: EncoderWeights, X, progress: bool, batch: int = 4096) -> np.ndarray:
        from tqdm.auto import tqdm

        parts = []
        with tqdm(total=X.shape[0], desc="encode", disable=not progress, leave=False, unit="doc") as bar:
            for start in range(0, X.shape[0], batch):
                parts.append(encode_packed(encoder, X[start : start + batch]))
                bar.update(min(batch, X.shape[0] - start))
        return np.concatenate(parts) if parts else np.zeros((0, encoder.n_bits // 8), np.uint8)

    # ------------------------------------------------------------------ save

    @property
    def n_bits(self) -> int:
        return self.encoder.n_bits

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the index to ``folder`` atomically (under a writer lock)."""
        dest = Path(folder)
        with writer_lock(dest):
            return self.save_locked(dest)

    def save_locked(self, dest: Path) -> Path:
        """:meth:`save` for a caller that already holds :func:`writer_lock` on ``dest``."""
        if self.skipped is None:
            self.skipped = self._read_skipped()
        self.faiss  # make sure it is loaded (or built) from the current folder before the swap
        self._check_carried()
        atomic_write_folder(dest, self._write)
        self.close()
        self.folder = dest
        self._reader = FolderReader(dest)
        self.conn = docstore.connect(dest / docstore.STORE_FILE, readonly=True)
        self._new_docs, self._dropped, self._added_rows = {}, set(), set()
        self._verified_full = True  # every file was just written from memory
        self._row_digests, self._digest_check = self._saved_digests, None
        return dest

    def _check_carried(self) -> None:
        """Check the stored rows a save copies from the current folder, unless already checked
        (files are copied by :meth:`_write`, which checks them on the way)."""
        reader = getattr(self, "_reader", None)
        meta = (getattr(self, "manifest", None) or {}).get("files", {}).get(docstore.STORE_FILE)
        if reader is not None and meta is not None and self.conn is not None and not self._verified_full:
            reader.check(docstore.STORE_FILE, meta)

    def _read_skipped(self) -> list:
        reader = getattr(self, "_reader", None)
        meta = (getattr(self, "manifest", None) or {}).get("files", {}).get(SKIPPED_FILE)
        if reader is None or meta is None:
            return []
        path = reader.path(SKIPPED_FILE)
        try:
            skipped = json.loads(reader.read(SKIPPED_FILE, meta).decode("utf-8"))
            if not isinstance(skipped, list) or not all(
                    isinstance(s, dict) and isinstance(s.get("path"), str) and isinstance(s.get("reason"), str)
                    for s in skipped):
                raise ValueError("not a list of skipped files")
        except IndexFormatError:
            raise
        except READ_ERRORS as exc:  # UnicodeDecodeError is a ValueError
            raise IndexFormatError(f"index file {path} is corrupted ({exc}); {REBUILD}") from exc
        return skipped

    def _write(self, tmp: Path) -> None:
        files = list(self.vectorizer.save(tmp))
        self.encoder.save(tmp / ENCODER_FILE)
        files.append(ENCODER_FILE)
        if getattr(self, "training_", None) is not None:
            self.training_.save_keras(tmp / KERAS_FILE)
            (tmp / TRAINING_FILE).write_text(json.dumps({
                "pretrain_losses": self.training_.pretrain_losses,
                "finetune_losses": self.training_.finetune_losses,
                "validation_losses": self.training_.validation_losses,
            }))
            files += [KERAS_FILE, TRAINING_FILE]
            if self.training_.decoder is not None:
                self.training_.decoder.save(tmp / DECODER_FILE)
                files.append(DECODER_FILE)
        elif getattr(self, "_reader", None) is not None:
            for name in (KERAS_FILE, TRAINING_FILE, DECODER_FILE):  # only files the manifest lists, checked on the way
                meta = self.manifest["files"].get(name)
                if meta is not None:
                    self._reader.copy(name, meta, tmp / name)
                    files.append(name)
        files += self.table.save(tmp)
        self.faiss.save(tmp / FAISS_FILE)
        files.append(FAISS_FILE)
        tfidf = self.tfidf if isinstance(self.tfidf, CsrArrays) else CsrArrays.from_matrix(self.tfidf)
        files += tfidf.save(tmp, TFIDF_PREFIX)
        self._write_store(tmp / docstore.STORE_FILE)
        files.append(docstore.STORE_FILE)
        self._saved_digests = self._write_row_digests(tmp, tfidf.shape[0])
        files.append(ROW_DIGESTS_FILE)
        (tmp / SKIPPED_FILE).write_text(json.dumps(self.skipped, ensure_ascii=False, indent=1), encoding="utf-8")
        files.append(SKIPPED_FILE)
        model_params = self.config.model_dict() if hasattr(self.config, "model_dict") else self.config["model"]
        vec_params = asdict(self.vectorizer.config)
        n_docs = len(self.table)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "semhash_version": __version__,
            "created": self.manifest.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "params": {"vectorizer": vec_params, "model": model_params},
            "n_bits": self.n_bits,
            "counts": {
                **self.manifest.get("counts", {}),
                "documents": n_docs,
                "skipped": len(self.skipped),
                "vocabulary": len(self.vectorizer.vocabulary_),
            },
            "training": self.manifest.get("training", {}),
            "bit_balance": bit_balance(unpack_bits(np.asarray(self.table.codes_), self.n_bits)).round(4).tolist(),
            "buckets": self.table.bucket_stats(),
            "corpus_root": self.manifest.get("corpus_root"),
            "added_bit_sum": self.manifest.get("added_bit_sum"),
            "next_row": self.manifest.get("next_row", int(self.tfidf.shape[0])),
            **self._checksums(tmp, files),
        }
        text = dump_manifest(manifest)
        (tmp / MANIFEST).write_text(text, encoding="utf-8")
        self.manifest = json.loads(text)

    @staticmethod
    def _write_row_digests(tmp: Path, n_rows: int) -> np.ndarray:
        """``documents_digest.npy``: the digest of each stored row, so a query checks the rows it
        shows without reading the whole store."""
        conn = sqlite3.connect(tmp / docstore.STORE_FILE)
        try:
            digests = docstore.row_digests(conn, int(n_rows))
        finally:
            conn.close()
        np.save(tmp / ROW_DIGESTS_FILE, digests, allow_pickle=False)
        return digests

    @staticmethod
    def _checksums(tmp: Path, files: list[str]) -> dict:
        """The manifest's ``files`` (size and sha256 of each) and ``blocks`` (where each
        block-checked file's block digests start in ``block_checksums.npy``, written here)."""
        metas, first, digests = {}, {}, []
        for name in files:
            metas[name], blocks = file_meta(tmp / name, blocks=name in BLOCK_FILES)
            if blocks is not None:
                first[name] = sum(len(d) for d in digests)
                digests.append(blocks)
        np.save(tmp / BLOCKS_FILE, np.concatenate(digests), allow_pickle=False)
        metas[BLOCKS_FILE] = file_meta(tmp / BLOCKS_FILE)[0]
        return {"files": metas, "blocks": {"bytes": BLOCK_BYTES, "first": first}}

    def _write_store(self, path: Path) -> None:
        """The current store: the saved rows still live, plus the unsaved additions."""
        conn = docstore.connect(path)
        try:
            if self.conn is not None:
                skip = self._dropped | set(self._new_docs)
                rows = [r for r in self.conn.execute(
                    "SELECT row, id, path, title, snippet, chars, added FROM documents") if r[0] not in skip]
                conn.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?)", rows)
                conn.commit()
            new = list(self._new_docs.values())
            docstore.write_documents(conn, [d for d in new if d[0] not in self._added_rows])
            docstore.write_documents(conn, [d for d in new if d[0] in self._added_rows], added=True)
        finally:
            conn.close()

    # ------------------------------------------------------------------ load

    @classmethod
    def load(cls, folder: str | os.PathLike, mmap: bool = False, verify: bool | str = True) -> "SemanticIndex":
        """Open a saved index, checking its manifest, file sizes and checksums.

        ``verify=True`` checks every byte the query path reads before it is used: the files
        read whole at load (vocabulary, document frequencies, encoder, hash table) against
        their sha256; with ``mmap`` the TF-IDF rows and the stored documents' digests block by
        block (8 KiB) the first time a query reads them, and each document a query shows
        against its row digest; FAISS on first use. An index of format 1 (no block or row
        checksums) has its TF-IDF rows and document store checked whole at load.
        ``"full"`` checks every file, those the query path never reads included;
        ``False`` checks the manifest and the file sizes only.
        Files the query path never reads (model.keras, training.json, skipped.json) are only
        required by ``"full"``. A symlink in the folder, or a file the manifest does not list,
        is never read.
        """
        folder = Path(folder)
        if folder.parent.is_dir():
            with contextlib.suppress(OSError):
                recover_if_idle(folder)
        for attempt in range(3):
            try:
                reader = FolderReader(folder)
            except FileNotFoundError:
                raise IndexNotFoundError(f"no index at {folder}; build one with `semhash index DIR --index {folder}`") from None
            except OSError as exc:
                raise IndexFormatError(f"{folder} is not an index folder ({exc.strerror}); {REBUILD}") from None
            try:
                return cls._load(reader, mmap, verify)
            except IndexFormatError:
                retry = attempt < 2 and reader.replaced()  # a writer swapped a new index in meanwhile
                reader.close()
                if not retry:
                    raise
            except BaseException:
                reader.close()
                raise
        raise AssertionError("unreachable")

    @classmethod
    def _load(cls, reader: FolderReader, mmap: bool, verify: bool | str) -> "SemanticIndex":
        folder = reader.folder
        manifest_path = folder / MANIFEST
        if not reader.exists(MANIFEST):
            raise IndexFormatError(f"{manifest_path} is missing: this is not a semhash index ({REBUILD})")
        manifest = parse_manifest(reader.read(MANIFEST, None, limit=MANIFEST_MAX_BYTES), manifest_path,
                                  REQUIRED_FILES.__getitem__, KNOWN_FILES)
        files, full = manifest["files"], verify == "full"
        lazy = bool(verify) and not full and mmap and "blocks" in manifest
        n_bits = manifest["n_bits"]

        def whole(name: str, check: bool = bool(verify)):
            if mmap:
                return reader.map(name, files[name], verify=check)
            return reader.read(name, files[name], verify=check)

        def array(name: str) -> np.ndarray:
            return npy_array(reader.path(name), whole(name))

        block_checks = {}
        if BLOCKS_FILE in files:  # small (16 bytes per 8 KiB): checked whenever it is listed
            digests = npy_array(reader.path(BLOCKS_FILE), reader.read(BLOCKS_FILE, files[BLOCKS_FILE],
                                                                      verify=bool(verify)))
            if digests.ndim != 2 or digests.dtype != np.uint8 or digests.shape[1] != DIGEST_BYTES:
                raise IndexFormatError(f"index file {reader.path(BLOCKS_FILE)} is not a table of digests; {REBUILD}")

        def block_checked(name: str) -> np.ndarray:
            if not lazy:
                return array(name)
            meta, at, size = files[name], manifest["blocks"]["first"].get(name), manifest["blocks"]["bytes"]
            n = -(-meta["bytes"] // size)
            if at is None or at + n > len(digests):
                raise IndexFormatError(f"{manifest_path} has no block checksums for {name}; {REBUILD}")
            arr, block_checks[name] = lazy_npy(reader.path(name), reader.map(name, meta, verify=False),
                                               digests[at : at + n], size)
            return arr

        self = cls(folder)
        self._reader, self.conn, self._faiss, self._faiss_file = reader, None, None, None
        try:
            with _reading(reader.path(VOCAB_FILE)):
                self.vectorizer = Vectorizer.from_saved(whole(VOCAB_FILE), array(DF_FILE))
            with _reading(reader.path(ENCODER_FILE)):
                # BytesIO shares the bytes read: the file is read once, then np.load copies the arrays out
                self.encoder = EncoderWeights.load(io.BytesIO(reader.read(ENCODER_FILE, files[ENCODER_FILE],
                                                                          verify=bool(verify))))
            with _reading(folder / "hashtable_*.npy"):
                self.table = HammingTable.from_arrays({k: array(f) for k, f in TABLE_FILES.items()}, n_bits, folder)
            with _reading(reader.path(TFIDF_FILES[0])):
                self.tfidf = self._load_tfidf(block_checked, block_checks, len(self.vectorizer.vocabulary_))
            self._row_digests = self._digest_check = None
            if ROW_DIGESTS_FILE in files:
                with _reading(reader.path(ROW_DIGESTS_FILE)):
                    self._row_digests = block_checked(ROW_DIGESTS_FILE)
                    self._digest_check = block_checks.get(ROW_DIGESTS_FILE)
                    if self._row_digests.dtype != np.dtype("<u8"):
                        raise ValueError("not an array of 64-bit digests")
            self._check_fit(manifest)
            # read later or by SQLite: checked now when nothing finer protects them
            for name in (docstore.STORE_FILE, FAISS_FILE, *sorted(NOT_ON_QUERY_PATH & set(files))):
                if full or (name == docstore.STORE_FILE and verify and self._row_digests is None):
                    reader.check(name, files[name])
                elif name not in NOT_ON_QUERY_PATH:
                    os.close(reader.open(name, files[name]["bytes"]))
            self._faiss_file = os.fdopen(reader.open(FAISS_FILE, files[FAISS_FILE]["bytes"]), "rb")
            self.conn = docstore.connect(reader.path(docstore.STORE_FILE), readonly=True)
        except BaseException:
            self.close(keep_reader=True)
            raise
        self.manifest = manifest
        self.config = {"vectorizer": manifest["params"]["vectorizer"], "model": manifest["params"]["model"]}
        self._verify = bool(verify)
        self._verified_full = full
        self.skipped = None
        self._new_docs: dict[int, tuple] = {}
        self._dropped: set[int] = set()
        self._added_rows: set[int] = set()
        return self

    @staticmethod
    def _load_tfidf(read, checks: dict, n_cols: int) -> CsrArrays:
        data, indices, indptr = (read(name) for name in TFIDF_FILES)
        lazy = {part: checks[name] for part, name in zip(CsrArrays.PARTS, TFIDF_FILES) if name in checks}
        if lazy:
            if indptr.ndim == 1 and len(indptr):
                lazy["indptr"].items([0, len(indptr) - 1])
            check_csr(data, indices, indptr, TFIDF_PREFIX)
            return LazyCsr(data, indices, indptr, (len(indptr) - 1, n_cols), lazy)
        check_csr(data, indices, indptr, TFIDF_PREFIX)
        return CsrArrays(data, indices, indptr, (len(indptr) - 1, n_cols))

    def _check_fit(self, manifest: dict) -> None:
        """The files agree with each other and with the manifest."""
        folder, n_bits = self.folder, manifest["n_bits"]
        if self.encoder.n_bits != n_bits or self.encoder.n_inputs != len(self.vectorizer.vocabulary_):
            raise IndexFormatError(f"{folder / ENCODER_FILE} does not fit the vocabulary or code length; rebuild the index")
        expected = manifest["counts"]["documents"]
        if len(self.table) != expected:
            raise IndexFormatError(
                f"{folder / 'hashtable_codes.npy'} holds {len(self.table)} codes, the manifest says {expected}; "
                "rebuild the index"
            )
        n_rows = self.tfidf.shape[0]
        if manifest.get("next_row", n_rows) != n_rows:
            raise IndexFormatError(f"{folder / MANIFEST} is damaged (next_row {manifest['next_row']} is not the "
                                   f"number of TF-IDF rows in {TFIDF_FILES[2]}, {n_rows}); {REBUILD}")
        if len(self.table) and int(np.max(self.table.ids_)) >= n_rows:
            raise IndexFormatError(f"{folder / 'hashtable_ids.npy'} names rows beyond the {n_rows} TF-IDF rows; {REBUILD}")
        if self._row_digests is not None and len(self._row_digests) < n_rows:
            raise IndexFormatError(f"{folder / ROW_DIGESTS_FILE} has fewer rows than the index; {REBUILD}")

    @property
    def faiss(self):
        """The FAISS binary index, loaded (or built) on first use: FAISS is only a fallback."""
        if self._faiss is None:
            from .faiss_index import FaissBinaryIndex

            source = getattr(self, "_faiss_file", None)
            if source is not None:
                path = self._reader.path(FAISS_FILE)
                source.seek(0)
                data = source.read()  # the file opened at load: never one of a newer index
                if getattr(self, "_verify", True) and sha256_hex(data) != self.manifest["files"][FAISS_FILE]["sha256"]:
                    raise mismatch(path)
                self._faiss = FaissBinaryIndex.from_bytes(data, self.n_bits, path)
            else:
                self._faiss = FaissBinaryIndex.build(np.asarray(self.table.codes_), np.asarray(self.table.ids_), self.n_bits)
        return self._faiss

    def close(self, keep_reader: bool = False) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        source = getattr(self, "_faiss_file", None)
        if source is not None:
            source.close()
            self._faiss_file = None
        if not keep_reader and getattr(self, "_reader", None) is not None:
            self._reader.close()
            self._reader = None

    def checked_path(self, name: str) -> Path:
        """The path of the index file ``name`` (one the manifest lists), after checking that it is
        a regular file with the size and sha256 the manifest gives."""
        meta = self.manifest.get("files", {}).get(name)
        if self._reader is None or meta is None:
            raise IndexFormatError(f"{name} is not a file of the index in {self.folder}; {REBUILD}")
        self._reader.check(name, meta)
        return self._reader.path(name)

    def _check_stored(self, rows: list[int], found: dict) -> None:
        """Each row read from the store matches its digest, and none that was stored is missing."""
        digests = getattr(self, "_row_digests", None)
        if digests is None:
            return
        at = np.asarray(rows, dtype=np.int64)
        inside = at < len(digests)
        if self._digest_check is not None:
            self._digest_check.items(at[inside])
        expected = np.zeros(len(at), dtype=np.uint64)
        expected[inside] = digests[at[inside]]
        for r, want in zip(rows, expected.tolist()):
            doc = found.get(r)
            got = 0 if doc is None else docstore.row_digest(doc.row, doc.id, doc.path, doc.title, doc.snippet)
            if got != want:
                raise IndexFormatError(f"index file {self._reader.path(docstore.STORE_FILE)} does not match its "
                                       f"checksum (row {r}, corrupted); {REBUILD}")

    # ------------------------------------------------------------------ use

    def documents(self, rows) -> dict[int, "docstore.StoredDoc"]:
        """Stored documents by row: unsaved additions first, then the SQLite store."""
        out, rest = {}, []
        for r in (int(r) for r in rows):
            if r in self._new_docs:
                _, i, p, t, x = self._new_docs[r]
                out[r] = docstore.StoredDoc(r, i, p, t, docstore.make_snippet(x, t))
            elif self.conn is not None and r not in self._dropped:
                rest.append(r)
        if rest:
            try:
                found = docstore.fetch(self.conn, rest)
            except sqlite3.DatabaseError as exc:
                raise IndexFormatError(f"cannot read {self.folder / docstore.STORE_FILE} ({exc}); "
                                       "rebuild the index with `semhash index`") from exc
            self._check_stored(rest, found)
            out.update(found)
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """Packed codes ``(n, n_bits // 8)`` of ``texts``: the codes a search computes for them,
        with NumPy only (no SciPy, scikit-learn or TensorFlow)."""
        if isinstance(texts, str):
            raise ConfigError("encode expects a list of texts, not a single string; wrap it in a list")
        from .search import encode_rows, query_idf, query_terms  # the query's own path

        vec = self.vectorizer
        vec._check_fitted()
        idf = query_idf(vec)
        return encode_rows(self.encoder, [query_terms(vec.vocabulary_, idf, t) for t in texts])[0]

    def search(self, text: str, k: int = 10, radius: int | None = None, rerank: bool = True,
               lookup: str = "auto"):
        """The ``k`` best documents for ``text``; see :func:`semhash.search.search`.

        ``lookup`` forces the Hamming-ball method: ``auto`` (by estimated cost), ``table``
        (bit flipping over the sorted codes), ``mih`` (multi-index hashing) or ``scan``.
        """
        from .search import search

        return search(self, text, k=k, radius=radius, rerank=rerank, lookup=lookup)

    def search_batch(self, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                     lookup: str = "auto", threads: int | None = None):
        """:meth:`search` for each text, in input order, on ``threads`` threads (default: the cores)."""
        from .search import search_batch

        return search_batch(self, texts, k=k, radius=radius, rerank=rerank, lookup=lookup, threads=threads)

    def reconstruction_errors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, errors)``: each document's reconstruction error by the autoencoder (NumPy;
        TensorFlow for an index without ``decoder.npz``); see :mod:`semhash.outliers`."""
        from .outliers import reconstruction_errors

        return reconstruction_errors(self)

    # ------------------------------------------------------------------ live updates

    def rows_for_ids(self, ids) -> dict[str, int]:
        """Row of each of ``ids`` that is in the index (unsaved changes included)."""
        ids = list(ids)
        wanted = set(ids)
        found = {}
        if self.conn is not None:
            found = {i: r for i, r in docstore.rows_for_ids(self.conn, ids).items()
                     if r not in self._dropped and r not in self._new_docs}
        found.update({d[1]: r for r, d in self._new_docs.items() if d[1] in wanted})
        return found

    def ids_with_path(self, path: str, folder: bool = False) -> list[str]:
        """Ids of the documents stored with ``path`` (with ``folder``: under ``path/``), unsaved ones included."""
        found = {}
        if self.conn is not None:
            found = {i: r for i, r in docstore.ids_for_path(self.conn, path, folder).items()
                     if r not in self._dropped and r not in self._new_docs}
        prefix = path + "/"
        found.update({d[1]: r for r, d in self._new_docs.items() if (d[2].startswith(prefix) if folder else d[2] == path)})
        return sorted(found, key=found.get)

    def add(self, documents) -> dict:
        """Encode ``documents`` with the trained model and add them; an existing id is replaced.

        Documents with no word of the vocabulary are skipped. Two different documents with one
        id raise :class:`ConfigError` and nothing is added. Returns counts and the skipped ids;
        call :meth:`save` to persist.
        """
        docs = docstore.check_documents(documents)
        if not docs:
            return {"added": 0, "replaced": 0, "skipped": []}
        X = self.vectorizer.transform([d.text for d in docs])
        has_words = np.diff(X.indptr) > 0
        skipped = [{"path": d.id, "reason": "no word of the vocabulary"} for d, ok in zip(docs, has_words) if not ok]
        docs = [d for d, ok in zip(docs, has_words) if ok]
        X = X[has_words]
        if not docs:
            return {"added": 0, "replaced": 0, "skipped": skipped}
        replaced = self.rows_for_ids([d.id for d in docs])
        if replaced:
            self._remove_rows(np.fromiter(replaced.values(), dtype=np.int64), count=False)
        live_max = max(int(np.max(self.table.ids_)) if len(self.table) else -1, max(self._new_docs, default=-1))
        start = max(live_max + 1, int(self.manifest.get("next_row", 0)), self.tfidf.shape[0])
        rows = np.arange(start, start + len(docs), dtype=np.int64)
        codes = encode_packed(self.encoder, X)
        faiss = self.faiss
        self.table = self.table.add(codes, rows)
        faiss.add(codes, rows)
        import scipy.sparse as sp

        gap = sp.csr_matrix((start - self.tfidf.shape[0], self.tfidf.shape[1]), dtype=np.float32)
        self.tfidf = sp.vstack([self.tfidf.tocsr(), gap, l2_normalize(X)]).tocsr()
        for r, d in zip(rows.tolist(), docs):
            self._new_docs[r] = (r, d.id, d.path, d.title, d.text)
            self._added_rows.add(r)
        counts = self.manifest.setdefault("counts", {})
        counts["added_since_training"] = counts.get("added_since_training", 0) + len(docs) - len(replaced)
        counts["replaced_since_training"] = counts.get("replaced_since_training", 0) + len(replaced)
        bits = unpack_bits(codes, self.n_bits).sum(axis=0)
        prev = np.asarray(self.manifest.get("added_bit_sum") or np.zeros(self.n_bits), dtype=np.int64)
        self.manifest["added_bit_sum"] = (prev + bits).tolist()
        self.manifest["next_row"] = int(rows[-1]) + 1
        return {"added": len(docs) - len(replaced), "replaced": len(replaced), "skipped": skipped}

    def remove(self, ids) -> int:
        """Remove documents by id; every id must be in the index (nothing is removed otherwise)."""
        if isinstance(ids, str):
            raise ConfigError("remove expects a list of ids, not a single string; wrap it in a list")
        ids = list(dict.fromkeys(ids))
        rows = self.rows_for_ids(ids)
        unknown = [i for i in ids if i not in rows]
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise SemhashError(f"unknown document id(s): {shown}; nothing was removed (see `semhash query` for ids)")
        self._remove_rows(np.fromiter(rows.values(), dtype=np.int64, count=len(rows)), count=True)
        return len(rows)

    def _remove_rows(self, rows: np.ndarray, count: bool) -> None:
        faiss = self.faiss
        self.table = self.table.remove(rows)
        faiss.remove(rows)
        mask = np.ones(self.tfidf.shape[0], dtype=np.float32)
        mask[rows] = 0.0
        import scipy.sparse as sp

        self.tfidf = (sp.diags(mask) @ self.tfidf.tocsr()).tocsr()
        self.tfidf.eliminate_zeros()
        for r in rows.tolist():
            if self._new_docs.pop(r, None) is None:
                self._dropped.add(r)
            self._added_rows.discard(r)
        if count:
            counts = self.manifest.setdefault("counts", {})
            counts["removed_since_training"] = counts.get("removed_since_training", 0) + len(rows)

    def drift(self) -> dict:
        """Update counts since training, and whether the added documents' codes drifted from it.

        ``mean_abs``/``max_abs``: mean and largest per-bit difference between the share of added
        (and replacing) documents with the bit set and the training codes' share;
        ``drifted_bits``/``retrain_advised``: the bits whose difference is real, by
        :func:`drifted_bits` (``None``/``False`` below ``DRIFT_MIN_DOCS`` documents).
        """
        counts = self.manifest.get("counts", {})
        added = counts.get("added_since_training", 0)
        replaced = counts.get("replaced_since_training", 0)
        out = {"added_since_training": added, "replaced_since_training": replaced,
               "removed_since_training": counts.get("removed_since_training", 0),
               "mean_abs": None, "max_abs": None, "drifted_bits": None, "retrain_advised": False,
               "drift_min_docs": DRIFT_MIN_DOCS}
        training = self.manifest.get("training", {})
        train_balance = np.asarray(training.get("bit_balance") or [], dtype=float)
        encoded = added + replaced  # every document whose code is summed in added_bit_sum
        if not encoded or not train_balance.size or not self.manifest.get("added_bit_sum"):
            return out
        added_balance = np.asarray(self.manifest["added_bit_sum"], dtype=float) / encoded
        diff = np.abs(added_balance - train_balance)
        out.update(mean_abs=round(float(diff.mean()), 4), max_abs=round(float(diff.max()), 4),
                   added_bit_balance=added_balance.round(4).tolist())
        if encoded >= DRIFT_MIN_DOCS:
            drifted = drifted_bits(train_balance, int(training.get("n_docs") or 0), added_balance, encoded)
            out.update(drifted_bits=int(drifted.sum()), retrain_advised=bool(drifted.any()))
        return out

    def info(self) -> dict:
        """Parameters and statistics, as shown by ``semhash info``."""
        m = self.manifest
        balance = np.asarray(m.get("bit_balance", []))
        skipped = self.skipped if self.skipped is not None else self._read_skipped()
        return {
            "updates": self.drift(),
            "path": str(self.folder) if self.folder else None,
            "format_version": m.get("format_version"),
            "semhash_version": m.get("semhash_version"),
            "created": m.get("created"),
            "documents": m.get("counts", {}).get("documents"),
            "vocabulary": m.get("counts", {}).get("vocabulary"),
            "n_bits": m.get("n_bits"),
            "params": m.get("params"),
            "training_seconds": m.get("training", {}).get("seconds"),
            "bit_balance": {
                "mean": float(balance.mean()) if balance.size else None,
                "min": float(balance.min()) if balance.size else None,
                "max": float(balance.max()) if balance.size else None,
                "per_bit": balance.tolist(),
            },
            "buckets": m.get("buckets"),
            "skipped": len(skipped or []),
            "skipped_files": skipped or [],
        }


def drifted_bits(train_share: np.ndarray, n_train: int, added_share: np.ndarray, n_added: int) -> np.ndarray:
    """Boolean per bit: the added documents set it in a share that really differs from training's.

    A two-proportion z-test per bit (pooled share, binomial standard error
    ``sqrt(p (1 - p) (1/n_train + 1/n_added))``; ``n_train = 0`` treats the training share as
    exact): a bit drifted when its share moved by more than ``DRIFT_MIN_SHIFT`` and by more than
    ``DRIFT_Z`` standard errors (4: under 1 % chance that any of 128 bits passes by sampling
    noise alone).
    """
    train_share, added_share = np.asarray(train_share, float), np.asarray(added_share, float)
    inv_train = 1.0 / n_train if n_train > 0 else 0.0
    pooled = (train_share * n_train + added_share * n_added) / (n_train + n_added)
    se = np.sqrt(pooled * (1.0 - pooled) * (inv_train + 1.0 / n_added))
    diff = np.abs(added_share - train_share)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff > 0, np.inf, 0.0))
    return (diff > DRIFT_MIN_SHIFT) & (z > DRIFT_Z)


def update_index(name_or_path, change, mmap: bool = False):
    """Load, change and save an index under its writer lock; returns what ``change`` returned.

    ``change(index)`` edits the loaded index (``add``/``remove``); if it raises, nothing is saved.
    """
    dest = resolve_index_path(name_or_path)
    if not dest.exists() and not (dest.parent.is_dir() and _leftovers(dest)[0]):
        raise _index_not_found(name_or_path, dest)  # before the lock: no lock file for a typo
    with writer_lock(dest):
        recover(dest)  # a writer killed mid-swap: put its previous index back first
        # every checksum (model.keras included, which the saved index copies): never
        # carry a damaged file into the new index
        try:
            index = SemanticIndex.load(dest, mmap=mmap, verify="full")
        except IndexNotFoundError:
            raise _index_not_found(name_or_path, dest) from None
        try:
            result = change(index)
            index.save_locked(dest)
        finally:
            index.close()
    return result


def open_index(name_or_path=None, mmap: bool = False, verify: bool | str = True) -> SemanticIndex:
    """Load an index by name (under :func:`index_home`) or path (``verify``: see :meth:`SemanticIndex.load`)."""
    dest = resolve_index_path(name_or_path)
    try:
        return SemanticIndex.load(dest, mmap=mmap, verify=verify)
    except IndexNotFoundError:
        raise _index_not_found(name_or_path, dest) from None


__all__ = ["IndexConfig", "SemanticIndex", "index_home", "open_index", "resolve_index_path", "update_index"]
