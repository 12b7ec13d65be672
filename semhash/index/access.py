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
                 mmap: bool = False) -> T:
    """Load, change and save an index under its writer lock; returns what ``change`` returned.

    ``change(index)`` edits the loaded index (``add``/``remove``); if it raises, nothing is saved.
    """
    dest = resolve_index_path(name_or_path)
    if not dest.exists() and not (dest.parent.is_dir() and leftovers(dest)[0]):
        raise index_not_found(name_or_path, dest)  # before the lock: no lock file for a typo
    with writer_lock(dest):
        recover(dest)  # a writer killed mid-swap: put its previous index back first
        # every checksum (model.keras included, which the saved index copies): never
        # carry a damaged file into the new index
        try:
            index = SemanticIndex.load(dest, mmap=mmap, verify="full")
        except IndexNotFoundError:
            raise index_not_found(name_or_path, dest) from None
        try:
            result = change(index)
            index.save_locked(dest)
        finally:
            index.close()
    return result


def open_index(name_or_path: str | os.PathLike | None = None, mmap: bool = False,
               verify: bool | str = True) -> SemanticIndex:
    """Load an index by name (under :func:`index_home`) or path (``verify``: see :meth:`SemanticIndex.load`)."""
    dest = resolve_index_path(name_or_path)
    try:
        return SemanticIndex.load(dest, mmap=mmap, verify=verify)
    except IndexNotFoundError:
        raise index_not_found(name_or_path, dest) from None


__all__ = ["open_index", "update_index"]
