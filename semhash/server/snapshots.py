"""The index a service answers with: immutable snapshots, and the one writer that replaces them.

:class:`IndexService` holds the current *snapshot*, a loaded :class:`~semhash.index.SemanticIndex`
that is never changed after it is published. Readers take the current snapshot once per request
and use only it. Writers are serialized by a lock in the process and by the index's on-disk
writer lock (:func:`semhash.index.update_index`): the change is applied to a fresh copy loaded
from disk and saved atomically, the saved index is loaded as a new snapshot, and only then does
one assignment publish it. A reader therefore sees the index before or after an update, never in
between. An update made by another process (``semhash add``) is noticed within
``check_interval`` seconds (the manifest's inode and mtime change) and loaded the same way.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import search as search_mod
from ..corpus import Document
from ..errors import IndexNotFoundError, SemhashError
from ..index import MANIFEST, SemanticIndex, resolve_index_path, update_index
from ..similar import UnknownDocumentError


@dataclass(frozen=True)
class Snapshot:
    """A loaded index that no one changes, with what ``/info`` reports about it."""

    index: SemanticIndex
    info: dict
    stamp: tuple | None


def _manifest_stamp(folder: Path) -> tuple:
    st = os.stat(folder / MANIFEST)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def load_snapshot(folder: Path) -> Snapshot:
    """Load ``folder`` and prepare it for concurrent readers.

    Everything a query reads lazily from the folder is read now (FAISS where the search uses
    it, the skipped files for ``info``), so a snapshot never reads files of a newer index that
    replaced its folder; the hash table's lookup caches are built once here, not by racing
    threads.
    """
    try:
        stamp = _manifest_stamp(folder)  # before loading: a change during the load is seen next time
    except OSError:
        stamp = None  # no index there: load says so
    index = SemanticIndex.load(folder)
    info = index.info()
    index.skipped = info["skipped_files"]
    if len(index.table) >= getattr(search_mod, "FAISS_FILL_ABOVE", 0):
        index.faiss  # noqa: B018 - load it now, from this folder
    if len(index.table):
        index.table.ball(np.zeros(index.n_bits // 8, dtype=np.uint8), search_mod.default_radius(index.n_bits))
    return Snapshot(index, info, stamp)


class IndexService:
    """The current snapshot of one index folder, and the one writer that replaces it."""

    def __init__(self, name_or_path: str | os.PathLike | None, check_interval: float = 1.0) -> None:
        self.folder = resolve_index_path(name_or_path)
        self.check_interval = check_interval
        self._write_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0

    def start(self) -> IndexService:
        """Load the index; returns the service."""
        self._snapshot = load_snapshot(self.folder)
        self._checked = time.monotonic()
        return self

    def current(self) -> Snapshot:
        """The snapshot to answer one request with (reloaded if another process changed it)."""
        snap = self._snapshot
        if snap is None:
            raise IndexNotFoundError("the service has not loaded its index yet")
        now = time.monotonic()
        if self.check_interval >= 0 and now - self._checked >= self.check_interval:
            self._checked = now
            self._reload_if_changed(snap)
        return cast(Snapshot, self._snapshot)  # set by start(); a reload only replaces it

    def _reload_if_changed(self, snap: Snapshot) -> None:
        try:
            changed = _manifest_stamp(self.folder) != snap.stamp
        except OSError:  # between the two renames of a save: keep serving the current one
            return
        if changed and self._write_lock.acquire(blocking=False):  # a writer publishes its own
            try:
                if self._snapshot is snap:
                    self._snapshot = load_snapshot(self.folder)
            except SemhashError:
                pass  # caught mid-swap or damaged: keep serving the snapshot we have
            finally:
                self._write_lock.release()

    def update(self, change: Callable[[SemanticIndex], Any]) -> Any:
        """Apply ``change(index)`` under both writer locks, save, then publish the result."""
        with self._write_lock:
            result = update_index(self.folder, change)
            self._snapshot = load_snapshot(self.folder)
        return result

    def add(self, documents: list[Document]) -> dict:
        """Add (or replace) ``documents``; what :meth:`SemanticIndex.add` returns."""
        return self.update(lambda index: index.add(documents))

    def remove(self, ids: list[str]) -> int:
        """Remove the documents ``ids``, all of which must be indexed (else nothing is removed)."""
        def change(index: SemanticIndex) -> int:
            known = index.rows_for_ids(ids)
            unknown = [i for i in dict.fromkeys(ids) if i not in known]
            if unknown:
                shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
                raise UnknownDocumentError(f"unknown document id(s): {shown}; nothing was removed")
            return index.remove(ids)

        return self.update(change)


__all__ = ["IndexService", "Snapshot", "load_snapshot"]
