"""``SemanticIndex``: a searchable semantic-hashing index, in memory or opened from its folder.

The class orchestrates: building is :mod:`~semhash.index.building`, the files are
:mod:`~semhash.index.writing` and :mod:`~semhash.index.loading`, saving is a folder
transaction (:mod:`~semhash.index.transactions`), updates are :mod:`~semhash.index.updates`.
Nothing here imports TensorFlow, scikit-learn, SciPy or FAISS at import time: ``build``
(training), ``add``/``remove`` (SciPy) and the FAISS fallback import them when used.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .. import store as docstore
from ..checks import check_fitted, check_list
from ..codes import CsrArrays, EncoderWeights, encode_packed
from ..errors import REBUILD, IndexFormatError, IndexNotFoundError, SemhashError
from ..hashtable import CodeTable, HammingTable
from ..integrity import ArrayCheck, FolderReader, mismatch, sha256_hex
from ..lexical import LexicalIndex
from ..search import Hit, encode_rows, query_idf, query_terms
from ..search import search as search_index
from ..search import search_batch as search_index_batch
from ..train.config import ModelConfig
from ..vectorize import Vectorizer, l2_normalize, weight_counts
from . import segments, updates, writing
from .config import IndexConfig
from .describe import describe
from .documents import StoredDocuments
from .layout import (
    ENCODER_FILE,
    FAISS_FILE,
    ROW_DIGESTS_FILE,
    STORE_FILE,
    TFIDF_PREFIX,
    TRAINING_FILES,
)
from .loading import Loaded, StoredPostings, load_parts, read_skipped
from .segments import Delta
from .transactions import atomic_write_folder, recover_if_idle, writer_lock, writer_path
from .views import base_lexical, lexical_with_delta, merged, segmented

if TYPE_CHECKING:
    from ..corpus import Document
    from ..faiss_index import FaissBinaryIndex
    from ..train.trainer import TrainingResult
    from .building import Parts
    from .staging import StagedStore


class SemanticIndex(StoredDocuments):
    """A searchable semantic-hashing index: vocabulary, encoder, hash table, FAISS, store.

    Made by :meth:`build` (trains the model), :meth:`from_model` or :meth:`load`; its state is
    declared here, once. The four parts a query reads (``vectorizer``, ``encoder``, ``table``,
    ``tfidf``) are set by those constructors, like the learned state of a fitted estimator.
    """

    # ---- what a query reads (set by build / from_model / load)
    vectorizer: Vectorizer
    encoder: EncoderWeights
    _table: HammingTable  # the base segment's codes and row ids (table property: with the delta segments)
    _tfidf: Any  # the base segment's L2-normalized TF-IDF rows by row id: CsrArrays / LazyCsr
    _delta: Delta | None  # rows added and removed since the base segment (semhash.index.segments)
    _views: tuple | None  # (delta version, table, tfidf) of the base seen with the delta
    _base_lexical: LexicalIndex | None  # the base segment's postings (read or built on first use)
    _lexical: LexicalIndex | None  # the postings of every live row (lexical property)
    _postings: StoredPostings | None  # the postings as read from the folder (None: none stored, or changed)
    # ---- what describes it
    folder: Path | None  # the folder it was loaded from or saved to (None: only in memory)
    manifest: dict  # the saved manifest; in memory, the counts and statistics the next save writes
    model_params: dict  # the model's options as the manifest keeps them ({}: no model trained here)
    skipped: list | None  # files skipped while reading the corpus (None: not read from skipped.json yet)
    training_: TrainingResult | None  # the trained model after build(), until saved or dropped
    # ---- the open folder (a loaded or saved index)
    conn: sqlite3.Connection | None  # the document store: read-only, or (built, unsaved) the staged one
    _staging: StagedStore | None  # a built index's documents until it is saved (building.stage_documents)
    _reader: FolderReader | None  # the folder's files, opened relative to one handle
    _faiss: FaissBinaryIndex | None  # loaded (or built) on first use
    _faiss_file: IO[bytes] | None  # faiss.index, opened at load (never one of a newer index)
    _row_digests: np.ndarray | None  # digest of each stored row (format 2)
    _digest_check: ArrayCheck | None  # block checks of _row_digests (mmap + verify)
    _saved_digests: np.ndarray | None  # the row digests the last save wrote
    _verify: bool  # checksums are checked on read
    _verified_full: bool  # every file was checked (verify="full" or just written)
    # ---- unsaved changes: the documents of rows added since the last save (rows removed are in _delta)
    _new_docs: dict[int, tuple]  # row -> (row, id, path, title, text)
    _written: tuple  # (table, tfidf, lexical) of the last whole folder written

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.manifest, self.model_params, self.skipped, self.training_ = {}, {}, None, None
        self.conn, self._reader, self._faiss, self._faiss_file = None, None, None, None
        self._row_digests, self._digest_check, self._saved_digests = None, None, None
        self._verify, self._verified_full = True, False
        self._lexical, self._base_lexical, self._postings, self._staging = None, None, None, None
        self._delta, self._views = None, None
        self._new_docs = {}

    # ------------------------------------------------------------------ segments

    @property
    def table(self) -> CodeTable:
        """The live codes: the base segment's hash table with the delta segments (added rows in,
        removed rows out), searched by Hamming distance."""
        return self._view()[0]

    @table.setter
    def table(self, table: HammingTable) -> None:
        self._table, self._views = table, None

    @property
    def tfidf(self) -> Any:
        """The L2-normalized TF-IDF rows by row id: the base segment's (CsrArrays / LazyCsr), or
        with delta segments a :class:`semhash.index.views.SegmentedRows`."""
        return self._view()[1]

    @tfidf.setter
    def tfidf(self, tfidf: Any) -> None:
        self._tfidf, self._views = tfidf, None

    def _view(self) -> tuple[Any, Any]:
        delta = self._delta
        if delta is None or delta.empty:
            return self._table, self._tfidf
        if self._views is None or self._views[0] != delta.version:
            self._views = (delta.version, *segmented(self._table, self._tfidf, delta))
        return self._views[1], self._views[2]

    def _delta_state(self) -> Delta:
        """The delta of this index, made empty on first use."""
        if self._delta is None:
            self._delta = Delta(int(self._tfidf.shape[0]), self.n_bits // 8, len(self.vectorizer.vocabulary_))
        return self._delta

    def _changed(self) -> None:
        """After an add or remove: what is derived from the live rows is made again on next use."""
        self._lexical, self._faiss = None, None

    @property
    def config(self) -> IndexConfig:
        """The options this index was built with (for a loaded index, read from its manifest)."""
        model = ModelConfig.from_dict(self.model_params) if self.model_params else None
        return IndexConfig(self.vectorizer.config, model)

    @property
    def n_bits(self) -> int:
        return self.encoder.n_bits

    # ------------------------------------------------------------------ build

    @classmethod
    def build(cls, documents: Iterable[Document], config: IndexConfig | None = None, skipped: Iterable = (),
              progress: bool = False, source: str | os.PathLike | None = None) -> SemanticIndex:
        """Fit the vocabulary, train the model and index ``documents`` (in memory).

        ``documents`` are :class:`semhash.corpus.Document`; ``skipped`` the files skipped
        while reading them. Documents with no word of the vocabulary are skipped too.
        ``source`` is the corpus folder: files added later under it get ids relative to it.
        Documents the store cannot keep (a field that is not valid Unicode, two different
        documents with one id) raise :class:`ConfigError` before anything is trained.
        ``documents`` may be any iterable (a generator reading a corpus): they are read a chunk
        at a time and their texts are not kept (the store is staged in ``$TMPDIR`` until saved).
        """
        from . import building  # trains with TensorFlow and shows tqdm progress: never on the query path

        config = config or IndexConfig()
        model = config.model if config.model is not None else ModelConfig()  # the default; config stays as given
        vectorizer = Vectorizer(config.vectorizer)
        result, parts, skipped = building.build_parts(documents, vectorizer, model, skipped, progress)
        self = cls._assemble(vectorizer, result.encoder, model.to_dict(), parts, skipped)
        self.training_ = result
        self.manifest["corpus_root"] = str(Path(source).resolve()) if source is not None else None
        return self

    @classmethod
    def from_model(cls, vectorizer: Vectorizer, encoder: EncoderWeights, documents: Iterable[Document],
                   config: IndexConfig | None = None, skipped: Iterable = (), progress: bool = False) -> SemanticIndex:
        """Index ``documents`` with an already trained vocabulary and encoder (no training);
        the manifest keeps ``config``'s model options (none without ``config``)."""
        from . import building  # shows tqdm progress: never on the query path

        staged = building.stage_documents(documents, vectorizer, False, skipped, progress)
        try:
            X = weight_counts(staged.counts, vectorizer.idf_, in_place=True)  # the counts are not needed after
            parts = building.encode_documents(encoder, staged, X, progress)
        except BaseException:
            staged.store.close()
            raise
        model_params = config.model_dict() if config is not None else {}
        return cls._assemble(vectorizer, encoder, model_params, parts, staged.skipped)

    @classmethod
    def _assemble(cls, vectorizer: Vectorizer, encoder: EncoderWeights, model_params: dict, parts: Parts,
                  skipped: list) -> SemanticIndex:
        """A new in-memory index of ``parts`` (:class:`semhash.index.building.Parts`)."""
        self = cls()
        self.vectorizer, self.encoder, self.model_params, self.skipped = vectorizer, encoder, model_params, skipped
        self._table, self._tfidf, self.manifest = parts.table, parts.tfidf, parts.manifest
        self._staging, self.conn = parts.store, parts.store.conn  # the documents, until saved
        return self

    # ------------------------------------------------------------------ save

    def save(self, folder: str | os.PathLike, compact: bool = False) -> Path:
        """Write the index to ``folder`` atomically (under a writer lock).

        An index saved to the folder it was loaded from writes only what changed since, as a
        new delta segment (:mod:`semhash.index.segments`), unless ``compact`` or a compaction is
        due (:func:`semhash.index.segments.compaction_due`): then, as for any other folder, a
        whole new folder (one base segment) is written and swapped in."""
        dest = Path(folder)
        with writer_lock(dest):
            return self.save_locked(dest, compact)

    def save_locked(self, dest: Path, compact: bool = False) -> Path:
        """:meth:`save` for a caller that already holds :func:`writer_lock` on ``dest``."""
        if self._same_folder(dest):
            delta = self._delta
            if compact and (delta is None or delta.empty):
                return dest  # one base segment already: nothing to merge
            if not compact and delta is not None and not segments.compaction_due(self.manifest, delta):
                return self._save_segment(dest)
        if self.skipped is None:
            self.skipped = read_skipped(self._reader, self.manifest)
        _ = self.faiss  # make sure it is loaded (or built) from the current folder before the swap
        self._check_carried()
        atomic_write_folder(dest, self._write)
        self._table, self._tfidf, self._lexical = self._written
        self._base_lexical, self._postings = self._lexical, None
        self.close()
        if self._staging is not None:  # its rows are in the folder now
            self._staging.close()
            self._staging = None
        self.folder = dest
        self._reader = FolderReader(dest)
        self.conn = docstore.connect(dest / STORE_FILE, readonly=True)
        self._new_docs, self._delta, self._views = {}, None, None
        self._verified_full = True  # every file was just written from memory
        self._row_digests, self._digest_check = self._saved_digests, None
        return dest

    def _same_folder(self, dest: Path) -> bool:
        """Whether a save to ``dest`` may write only a segment (:func:`segments.unchanged_since_read`)."""
        return (self._reader is not None and self.folder is not None and self._staging is None
                and segments.unchanged_since_read(self._reader, self.folder, dest, self.manifest))

    def _save_segment(self, dest: Path) -> Path:
        """Write the changes since the last save as a delta segment of ``dest`` (the folder read)."""
        delta = self._delta
        assert delta is not None
        if not delta.pending:
            return dest
        manifest = {**self.manifest, "updated": time.strftime(writing.STAMP),
                    "counts": {**self.manifest.get("counts", {}), "documents": len(self.table)}}
        documents = [self._new_docs[r] for r in sorted(self._new_docs)]
        folder = writer_path(dest)
        self.manifest = segments.write_segment(folder, manifest, delta, documents)
        name = self.manifest["segments"][-1]["name"]
        delta.saved(docstore.connect(folder / segments.segment_files(name)[1], readonly=True))
        self._new_docs = {}
        return dest

    def _check_carried(self) -> None:
        """Check the stored rows a save copies from the current folder, unless already checked
        (files are copied by :meth:`_write`, which checks them on the way)."""
        meta = self.manifest.get("files", {}).get(STORE_FILE)
        if self._reader is not None and meta is not None and self.conn is not None and not self._verified_full:
            self._reader.check(STORE_FILE, meta)

    def _write(self, tmp: Path) -> None:
        """Every file of the index into ``tmp``, the manifest last (it lists the others)."""
        files = list(self.vectorizer.save(tmp))
        self.encoder.save(tmp / ENCODER_FILE)
        files.append(ENCODER_FILE)
        if self.training_ is not None:
            files += writing.write_training(tmp, self.training_)
        elif self._reader is not None:  # only files the manifest lists, checked on the way
            files += writing.copy_listed(self._reader, self.manifest["files"], TRAINING_FILES, tmp)
        table, tfidf = merged(self.table, self.tfidf)  # one base segment of the live rows
        files += table.save(tmp)
        self.faiss.save(tmp / FAISS_FILE)
        files.append(FAISS_FILE)
        files += tfidf.save(tmp, TFIDF_PREFIX)
        delta = self._delta
        lexical = self.lexical if delta is None or delta.empty else LexicalIndex.from_rows(tfidf, self.vectorizer)
        files += lexical.save(tmp)
        writing.write_store(tmp / STORE_FILE, self._stores(), self._new_docs,
                            set(delta.dead().tolist()) if delta is not None else set())
        files.append(STORE_FILE)
        self._saved_digests = writing.write_row_digests(tmp, tfidf.shape[0])
        files.append(ROW_DIGESTS_FILE)
        files.append(writing.write_skipped(tmp, self.skipped or []))
        manifest = writing.manifest_for(self.manifest, self.vectorizer, self.model_params, table,
                                        tfidf.shape[0], len(self.skipped or []))
        self._written = (table, tfidf, lexical)  # what the index is once the folder is swapped in
        self.manifest = writing.write_manifest(tmp, {**manifest, **writing.checksums(tmp, files)})

    # ------------------------------------------------------------------ load

    @classmethod
    def load(cls, folder: str | os.PathLike, mmap: bool = False, verify: bool | str = True) -> SemanticIndex:
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
                return cls._opened(folder, reader, load_parts(reader, mmap, verify), verify)
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
    def _opened(cls, folder: Path, reader: FolderReader, parts: Loaded, verify: bool | str) -> SemanticIndex:
        """The index of the ``parts`` read from ``folder``, keeping its files open."""
        self = cls(folder)
        self.vectorizer, self.encoder, self._table, self._tfidf = parts.vectorizer, parts.encoder, parts.table, parts.tfidf
        self._delta = parts.delta
        self.manifest, self.model_params = parts.manifest, parts.manifest["params"]["model"]
        self._reader, self.conn, self._faiss_file = reader, parts.conn, parts.faiss_file
        self._row_digests, self._digest_check = parts.row_digests, parts.digest_check
        self._postings = parts.postings
        self._verify, self._verified_full = bool(verify), verify == "full"
        return self

    @property
    def lexical(self) -> LexicalIndex:
        """The inverted index of the live TF-IDF rows (:mod:`semhash.lexical`): the base segment's
        stored postings (an index saved before them: built from its rows on first use), with the
        postings of the rows added since and without the rows removed."""
        if self._lexical is None:
            if self._base_lexical is None:
                self._base_lexical = base_lexical(self._postings, self._tfidf, self.vectorizer)
            base = self._base_lexical
            delta = self._delta
            self._lexical = base if delta is None or delta.empty else lexical_with_delta(base, delta, self.vectorizer)
        return self._lexical

    @property
    def faiss_loaded(self) -> bool:
        """Whether :attr:`faiss` is loaded already (the query path uses it then, whatever the size)."""
        return self._faiss is not None

    @property
    def faiss(self) -> FaissBinaryIndex:
        """The FAISS binary index, loaded (or built) on first use: FAISS is only a fallback."""
        if self._faiss is None:
            from ..faiss_index import FaissBinaryIndex  # FAISS: only the fallback pays for it

            source = self._faiss_file
            if source is not None and self._reader is not None and (self._delta is None or self._delta.empty):
                path = self._reader.path(FAISS_FILE)
                source.seek(0)
                data = source.read()  # the file opened at load: never one of a newer index
                if self._verify and sha256_hex(data) != self.manifest["files"][FAISS_FILE]["sha256"]:
                    raise mismatch(path)
                self._faiss = FaissBinaryIndex.from_bytes(data, self.n_bits, path)
            else:
                self._faiss = FaissBinaryIndex.build(np.asarray(self.table.codes_), np.asarray(self.table.ids_), self.n_bits)
        return self._faiss

    def close(self, keep_reader: bool = False) -> None:
        """Close the store, FAISS's file and (unless ``keep_reader``) the folder handle (a built,
        unsaved index keeps its staged documents: :meth:`save` still writes them)."""
        if self.conn is not None and (self._staging is None or self.conn is not self._staging.conn):
            self.conn.close()
            self.conn = None
        if self._faiss_file is not None:
            self._faiss_file.close()
            self._faiss_file = None
        if not keep_reader and self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._delta is not None and not keep_reader:
            self._delta.close()

    def checked_path(self, name: str) -> Path:
        """The path of the index file ``name`` (one the manifest lists), after checking that it is
        a regular file with the size and sha256 the manifest gives."""
        meta = self.manifest.get("files", {}).get(name)
        if self._reader is None or meta is None:
            raise IndexFormatError(f"{name} is not a file of the index in {self.folder}; {REBUILD}")
        self._reader.check(name, meta)
        return self._reader.path(name)

    # ------------------------------------------------------------------ use

    def encode(self, texts: list[str]) -> np.ndarray:
        """Packed codes ``(n, n_bits // 8)`` of ``texts``: the codes a search computes for them,
        with NumPy only (no SciPy, scikit-learn or TensorFlow)."""
        texts = check_list(texts, "texts", "encode")
        vec = self.vectorizer
        check_fitted(vec, "vocabulary_", "call fit(texts) or load() first")
        idf = query_idf(vec)
        return encode_rows(self.encoder, [query_terms(vec.vocabulary_, idf, t) for t in texts])[0]

    def search(self, text: str, k: int = 10, radius: int | None = None, rerank: bool = True,
               lookup: str = "auto", mode: str | None = None) -> list[Hit]:
        """The ``k`` best documents for ``text``; see :func:`semhash.search.search`.

        ``mode``: ``hybrid`` (Hamming ball and BM25 candidates, one score of both), ``semantic``
        (the ball re-ranked by TF-IDF cosine) or ``lexical`` (BM25 alone); ``None``: the default
        (``semhash.choices.DEFAULT_MODE``; ``semantic`` with ``rerank=False``).
        ``lookup`` forces the Hamming-ball method: ``auto`` (by estimated cost), ``table``
        (bit flipping over the sorted codes), ``mih`` (multi-index hashing) or ``scan``.
        """
        return search_index(self, text, k=k, radius=radius, rerank=rerank, lookup=lookup, mode=mode)

    def search_batch(self, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                     lookup: str = "auto", threads: int | None = None, mode: str | None = None) -> list[list[Hit]]:
        """:meth:`search` for each text, in input order, on ``threads`` threads (default: the cores)."""
        return search_index_batch(self, texts, k=k, radius=radius, rerank=rerank, lookup=lookup, threads=threads,
                                  mode=mode)

    # ------------------------------------------------------------------ live updates

    def add(self, documents: Iterable[Document]) -> dict:
        """Encode ``documents`` with the trained model and add them; an existing id is replaced.

        Documents with no word of the vocabulary are skipped. Two different documents with one
        id raise :class:`ConfigError` and nothing is added. Returns counts and the skipped ids;
        call :meth:`save` to persist (the added rows become one delta segment).
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
        codes = encode_packed(self.encoder, X)
        rows = self._delta_state().append(codes, CsrArrays.from_matrix(l2_normalize(X)))
        self._changed()
        for r, d in zip(rows.tolist(), docs):
            self._new_docs[r] = (r, d.id, d.path, d.title, d.text)
        updates.count_added(self.manifest, codes, self.n_bits, added=len(docs) - len(replaced),
                            replaced=len(replaced), next_row=int(rows[-1]) + 1)
        return {"added": len(docs) - len(replaced), "replaced": len(replaced), "skipped": skipped}

    def remove(self, ids: Iterable[str]) -> int:
        """Remove documents by id; every id must be in the index (nothing is removed otherwise)."""
        ids = list(dict.fromkeys(check_list(ids, "ids", "remove")))
        rows = self.rows_for_ids(ids)
        unknown = [i for i in ids if i not in rows]
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise SemhashError(f"unknown document id(s): {shown}; nothing was removed (see `semhash query` for ids)")
        self._remove_rows(np.fromiter(rows.values(), dtype=np.int64, count=len(rows)), count=True)
        return len(rows)

    def _remove_rows(self, rows: np.ndarray, count: bool) -> None:
        self._delta_state().kill(rows)
        self._changed()
        for r in rows.tolist():
            self._new_docs.pop(r, None)
        if count:
            updates.count_removed(self.manifest, len(rows))

    def segment_info(self) -> dict:
        """The delta segments of the saved index: how many, the rows they add and remove."""
        listed = self.manifest.get("segments") or []
        return {"segments": len(listed), "added_rows": sum(s["rows"] for s in listed),
                "removed_rows": sum(s["removed"] for s in listed), "max_segments": segments.MAX_SEGMENTS}

    def info(self) -> dict:
        """Parameters and statistics, as shown by ``semhash info`` (:func:`semhash.index.describe.describe`)."""
        return describe(self)

    def drift(self) -> dict:
        """Update counts since training, and whether the added documents' codes drifted from it
        (:func:`semhash.index.updates.drift`)."""
        return updates.drift(self.manifest)



__all__ = ["SemanticIndex"]
