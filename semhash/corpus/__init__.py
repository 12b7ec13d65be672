"""Read a folder of documents into :class:`Document` records, reporting every file it skips.

Supported files: ``.txt``, ``.md``, ``.rst``, ``.html``/``.htm``, ``.jsonl`` (one record per
line), ``.csv`` (one record per row) and files without an extension (read as plain text, as in
20 Newsgroups: ``train/sci.space/60804``). Nothing here raises for a single bad file: it becomes
a :class:`Skipped` entry with a short reason. Only corpus-level failures raise
:class:`~semhash.errors.CorpusError`.

The package: :mod:`.walk` (the folder), :mod:`.readers` (one reader per kind of file, by
extension), :mod:`.decoding` (bytes to text), :mod:`.titles` (titles, HTML), :mod:`.names`
(ids and paths) and :mod:`.documents` (the records).
"""

from ..errors import BinaryDataError
from .decoding import SNIFF_BYTES, decode_bytes, looks_binary
from .documents import BYTES_PER_CHAR, MAX_DOC_CHARS, CorpusReport, Document, Skipped
from .names import document_path, escape_surrogates
from .readers import (
    CSV_DELIMITERS,
    CSV_TEXT_COLUMNS,
    READERS,
    SUPPORTED_DESCRIPTION,
    SUPPORTED_EXTENSIONS,
    read_file,
)
from .titles import TITLE_MAX_CHARS, extract_title, html_to_text
from .walk import NO_DOCS_EXAMPLES, NO_DOCS_REASONS, CorpusStream, iter_files, read_corpus

__all__ = [
    "BYTES_PER_CHAR", "BinaryDataError", "CSV_DELIMITERS", "CSV_TEXT_COLUMNS", "CorpusReport", "CorpusStream", "Document",
    "MAX_DOC_CHARS", "NO_DOCS_EXAMPLES", "NO_DOCS_REASONS", "READERS", "SNIFF_BYTES", "SUPPORTED_DESCRIPTION",
    "SUPPORTED_EXTENSIONS", "Skipped", "TITLE_MAX_CHARS", "decode_bytes", "document_path", "escape_surrogates",
    "extract_title", "html_to_text", "iter_files", "looks_binary", "read_corpus", "read_file",
]
