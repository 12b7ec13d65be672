"""The records a corpus is read into, and the limits every reader keeps."""

from __future__ import annotations

from dataclasses import dataclass

MAX_DOC_CHARS = 1_000_000
"""Longest document text kept; longer ones are truncated (not skipped)."""

BYTES_PER_CHAR = 4
"""At most ``BYTES_PER_CHAR * max_chars`` bytes of a file are read from disk."""


@dataclass(frozen=True)
class Document:
    """One document: ``id`` is unique in a corpus; ``path`` is the file it came from."""

    id: str
    path: str
    title: str
    text: str


@dataclass(frozen=True)
class Skipped:
    """A file (``a.txt``) or record (``a.jsonl:3``) that was not read, and why."""

    path: str
    reason: str


@dataclass
class CorpusReport:
    """What :func:`semhash.corpus.read_corpus` read and what it skipped, both in file order."""

    documents: list[Document]
    skipped: list[Skipped]


# what a reader of one file returns: its documents and what it skipped
FileResult = tuple[list[Document], list[Skipped]]

__all__ = ["BYTES_PER_CHAR", "CorpusReport", "Document", "FileResult", "MAX_DOC_CHARS", "Skipped"]
