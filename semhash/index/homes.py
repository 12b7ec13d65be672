"""Index names: where a name resolves (``$SEMHASH_HOME`` or the nearest ``indexes/``), and the
message that says so when no index is there."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import IndexNotFoundError
from .layout import MANIFEST

DEFAULT_HOME = Path("indexes")
DEFAULT_NAME = "default"


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


def is_name(name_or_path: str | os.PathLike | None) -> bool:
    """Whether ``name_or_path`` is an index name (no separator, not starting with ``.``), not a path."""
    text = "" if name_or_path is None else str(name_or_path)
    return not (os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."))


def resolve_index_path(name_or_path: str | os.PathLike | None, home: str | os.PathLike | None = None) -> Path:
    """``None`` -> ``<home>/default``; a bare name -> ``<home>/<name>``; a path stays a path.

    ``home`` defaults to :func:`index_home`. A path is anything with a separator or starting
    with ``.``; it is taken relative to the current directory.
    """
    if not is_name(name_or_path):
        return Path(str(name_or_path))
    home = Path(home) if home is not None else index_home()[0]
    return home / (str(name_or_path or "") or DEFAULT_NAME)


def index_not_found(name_or_path: str | os.PathLike | None, dest: Path) -> IndexNotFoundError:
    """The error for a missing index: for a name, where names resolve and which indexes are there."""
    message = f"no index at {dest}"
    target: str | os.PathLike = dest
    if is_name(name_or_path):
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


__all__ = ["DEFAULT_HOME", "DEFAULT_NAME", "index_home", "index_not_found", "is_name", "resolve_index_path"]
