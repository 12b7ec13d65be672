"""Names of documents: valid Unicode whatever the file system holds, and the id a path gets."""

from __future__ import annotations

import os
import re
from pathlib import Path

_SURROGATES = re.compile("[\ud800-\udfff]")


def escape_surrogates(name: str) -> str:
    """``name`` as valid Unicode: every lone surrogate becomes a backslash escape.

    Python keeps the bytes of a file name that are not UTF-8 as lone surrogates U+DC80-U+DCFF
    (``os.fsdecode``), which neither SQLite nor a UTF-8 file can store. Each becomes ``\\xNN``,
    the byte it stands for (``bad\\xff\\xfename.txt``); any other lone surrogate (from JSON)
    becomes ``\\uNNNN``. Valid names are returned unchanged.
    """
    return _SURROGATES.sub(_escape_surrogate, name)


def _escape_surrogate(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the text itself, not a name)."""
    return _SURROGATES.sub("\ufffd", text)


def shown(path: str) -> str:
    """A path as one printable line (names may hold newlines or control characters)."""
    return path if path.isprintable() else ascii(path)


def document_path(path: str | os.PathLike, root: str | os.PathLike | None) -> str:
    """The path (and id) a file or folder on disk gets in an index whose corpus is ``root``.

    Relative to ``root`` (POSIX, ``""`` for ``root`` itself) when the file lies under it, as
    :func:`semhash.corpus.read_corpus` names it; otherwise its absolute path, so two different
    files never get one id. The folders above the file are resolved (symlinks followed) but its
    own name is kept, as the walk names a symlinked file by its link; the file need not exist
    (``semhash remove`` of a deleted file). Bytes that are not UTF-8 are escaped
    (:func:`escape_surrogates`).
    """
    absolute = Path(os.path.abspath(path))
    kept = absolute.parent.resolve() / absolute.name if absolute.name else absolute
    if root is not None:
        root_path = Path(root)
        for candidate in (kept, absolute.resolve()):
            if candidate == root_path:
                return ""
            if root_path in candidate.parents:
                return escape_surrogates(candidate.relative_to(root_path).as_posix())
    return escape_surrogates(kept.as_posix())


__all__ = ["document_path", "escape_surrogates", "shown", "valid_text"]
