"""Opening and changing an index by name or path: :func:`open_index` for readers,
:func:`update_index` for a change saved under the writer lock."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from ..errors import IndexNotFoundError
from .homes import index_not_found, resolve_index_path
from .semantic import SemanticIndex
from .transactions import leftovers, recover, writer_lock

T = TypeVar("T")


def update_index(name_or_path: str | os.PathLike | None, change: Callable[[SemanticIndex], T],
                 compact: bool = False) -> T:
    """Load, change and save an index under its writer lock; returns what ``change`` returned.

    ``change(index)`` edits the loaded index (``add``/``remove``); if it raises, nothing is saved.
    The change is saved as one delta segment (:mod:`semhash.index.segments`): only the added
    rows and the tombstones are written. With ``compact``, or when a compaction is due, the
    whole index is written anew as one base segment and swapped in.
    """
    dest = resolve_index_path(name_or_path)
    if not dest.exists() and not (dest.parent.is_dir() and leftovers(dest)[0]):
        raise index_not_found(name_or_path, dest)  # before the lock: no lock file for a typo
    with writer_lock(dest):
        recover(dest)  # a writer killed mid-swap: put its previous index back first
        # memory-mapped, each byte checked when read: a delta segment reads little of the index,
        # and a compaction reads (and so checks) every file it carries into the new folder
        try:
            index = SemanticIndex.load(dest, mmap=True, verify=True)
        except IndexNotFoundError:
            raise index_not_found(name_or_path, dest) from None
        try:
            result = change(index)
            index.save_locked(dest, compact)
        finally:
            index.close()
    return result


def compact_index(name_or_path: str | os.PathLike | None) -> dict:
    """Merge an index's delta segments into a new base segment (``semhash compact``); returns
    the segments, added rows and removed rows merged."""
    def change(index: SemanticIndex) -> dict:
        return index.segment_info()

    return update_index(name_or_path, change, compact=True)


def open_index(name_or_path: str | os.PathLike | None = None, mmap: bool = False,
               verify: bool | str = True) -> SemanticIndex:
    """Load an index by name (under :func:`index_home`) or path (``verify``: see :meth:`SemanticIndex.load`)."""
    dest = resolve_index_path(name_or_path)
    try:
        return SemanticIndex.load(dest, mmap=mmap, verify=verify)
    except IndexNotFoundError:
        raise index_not_found(name_or_path, dest) from None


__all__ = ["compact_index", "open_index", "update_index"]
