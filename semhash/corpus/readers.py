"""One file into documents: a reader per kind of file, looked up by extension (:data:`READERS`).

Plain text (``.txt``, ``.md``, ``.rst`` and files without an extension, as in 20 Newsgroups:
``train/sci.space/60804``) and HTML give one document; ``.jsonl`` gives one per line and
``.csv`` one per row. A reader never raises for bad input: what it cannot read becomes a
:class:`~semhash.corpus.documents.Skipped` entry with a short reason. Adding a kind of file is
one reader and one line of :data:`READERS`.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..errors import BinaryDataError
from .decoding import decode_bytes, normalize_newlines, sniff_encoding
from .documents import BYTES_PER_CHAR, MAX_DOC_CHARS, Document, FileResult, Skipped
from .names import escape_surrogates, valid_text
from .titles import TITLE_MAX_CHARS, extract_title, html_parts

CSV_TEXT_COLUMNS = ("text", "body", "content", "document")
CSV_DELIMITERS = (",", ";", "\t", "|")


def read_file(path: Path, rel: str, max_chars: int = MAX_DOC_CHARS) -> FileResult:
    """Read one file into documents (several for ``.jsonl``/``.csv``); never raises for bad input.

    ``rel`` (the file's id and path in the corpus) has its bytes that are not UTF-8 escaped
    (:func:`escape_surrogates`), so every id can be stored and shown.
    """
    rel = escape_surrogates(rel)
    ext = PurePosixPath(rel).suffix.lower()
    reader = READERS.get(ext)
    if reader is None:
        return [], [Skipped(rel, f"unsupported extension {ext}")]
    try:
        return reader(Path(path), rel, max_chars)
    except FileNotFoundError:
        return [], [Skipped(rel, "file vanished before it was read")]
    except OSError as exc:
        return [], [Skipped(rel, f"unreadable: {strerror(exc)}")]
    except BinaryDataError:
        return [], [Skipped(rel, "binary file")]


def strerror(exc: OSError) -> str:
    """The operating system's words for ``exc``."""
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------- one document per file


def _whole_text(path: Path, max_chars: int) -> str | None:
    """The decoded text of a file (its first ``BYTES_PER_CHAR * max_chars`` bytes); ``None`` when empty."""
    with open(path, "rb") as f:
        data = f.read(BYTES_PER_CHAR * max_chars)
    return normalize_newlines(decode_bytes(data)) if data else None


def _one_document(rel: str, title: str, text: str, max_chars: int) -> FileResult:
    text = text[:max_chars]
    if not text.strip():
        return [], [Skipped(rel, "empty file")]
    title = title or extract_title(text) or PurePosixPath(rel).name
    return [Document(id=rel, path=rel, title=title, text=text)], []


def read_text(path: Path, rel: str, max_chars: int) -> FileResult:
    """A plain-text file: one document titled by its ``Subject:`` or first meaningful line."""
    text = _whole_text(path, max_chars)
    if text is None:
        return [], [Skipped(rel, "empty file")]
    return _one_document(rel, "", text, max_chars)


def read_html(path: Path, rel: str, max_chars: int) -> FileResult:
    """An HTML page: one document of its visible text, titled by ``<title>`` or its first heading."""
    html = _whole_text(path, max_chars)
    if html is None:
        return [], [Skipped(rel, "empty file")]
    title, text = html_parts(html)
    return _one_document(rel, title, text, max_chars)


# --------------------------------------------------------------------------- one document per record


class _Records:
    """The documents and skips of one ``.jsonl``/``.csv`` file, and the ids it has used."""

    def __init__(self, rel: str, max_chars: int) -> None:
        self.rel = rel
        self.max_chars = max_chars
        self.docs: list[Document] = []
        self.skips: list[Skipped] = []
        self.seen: set[str] = set()

    def skip(self, where: str, reason: str) -> None:
        self.skips.append(Skipped(where, reason))

    def add(self, where: str, default_id: str, raw_id: object, raw_title: object, text: str) -> None:
        """Append one record as a document, or a skip when empty or duplicated.

        JSON can hold lone surrogates (``"\\ud800"``), which cannot be stored: in the id they
        are escaped, in the text and title replaced by U+FFFD.
        """
        text = valid_text(normalize_newlines(text))[:self.max_chars]
        if not text.strip():
            self.skip(where, "empty record")
            return
        doc_id = default_id
        if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
            doc_id = escape_surrogates(str(raw_id).strip())
        if doc_id in self.seen:
            self.skip(where, f"duplicate id {doc_id}")
            return
        self.seen.add(doc_id)
        title = " ".join(valid_text(raw_title).split())[:TITLE_MAX_CHARS] if isinstance(raw_title, str) else ""
        self.docs.append(Document(id=doc_id, path=self.rel, title=title or extract_title(text) or doc_id, text=text))

    def result(self) -> FileResult:
        if not self.docs and not self.skips:
            self.skips.append(Skipped(self.rel, "empty file"))
        return self.docs, self.skips


def read_jsonl(path: Path, rel: str, max_chars: int) -> FileResult:
    """One document per line: a JSON object with a string ``text`` (``id`` and ``title`` optional)."""
    encoding = sniff_encoding(path)
    records = _Records(rel, max_chars)
    line_limit = BYTES_PER_CHAR * max_chars + 4096
    with open(path, encoding=encoding, errors="replace", newline=None) as f:
        lineno = 0
        while line := f.readline(line_limit):
            lineno += 1
            where = f"{rel}:{lineno}"
            if not line.endswith("\n") and len(line) >= line_limit:
                while (rest := f.readline(line_limit)) and not rest.endswith("\n"):
                    pass  # drop the rest of an overlong line without holding it in memory
                records.skip(where, f"line {lineno} is longer than {line_limit} characters")
            elif line.strip():
                _jsonl_record(records, where, lineno, line)
    return records.result()


def _jsonl_record(records: _Records, where: str, lineno: int, line: str) -> None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        records.skip(where, f"invalid JSON on line {lineno}")
        return
    if not isinstance(record, dict):
        records.skip(where, f"line {lineno} is not a JSON object")
        return
    text = record.get("text")
    if not isinstance(text, str):
        records.skip(where, f"no string 'text' field on line {lineno}")
        return
    records.add(where, f"{records.rel}#{lineno}", record.get("id"), record.get("title"), text)


def read_csv(path: Path, rel: str, max_chars: int) -> FileResult:
    """One document per row: a header naming a text column (:data:`CSV_TEXT_COLUMNS`), ``id``
    and ``title`` optional; the delimiter is the first of :data:`CSV_DELIMITERS` that finds it."""
    encoding = sniff_encoding(path)
    csv.field_size_limit(max(csv.field_size_limit(), min(sys.maxsize, 2**31 - 1)))
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        first_line = f.readline()
        if not first_line.strip():
            return [], [Skipped(rel, "empty file")]
        found = _csv_layout(first_line)
        if found is None:
            expected = ", ".join(CSV_TEXT_COLUMNS)
            return [], [Skipped(rel, f"no text column (expected one of {expected})")]
        delimiter, header = found
        columns = {name.strip().lower(): i for i, name in reversed(list(enumerate(header)))}
        text_col = next(columns[c] for c in CSV_TEXT_COLUMNS if c in columns)
        id_col, title_col = columns.get("id"), columns.get("title")
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        records = _Records(rel, max_chars)
        rowno = 1  # the header is row 1, as in a spreadsheet
        try:
            next(reader)
            for row in reader:
                if not row:
                    continue  # blank line
                rowno += 1
                records.add(f"{rel}:{rowno}", f"{rel}#{rowno}", _cell(row, id_col), _cell(row, title_col),
                            _cell(row, text_col) or "")
        except csv.Error as exc:
            records.skip(rel, f"invalid CSV after row {rowno}: {exc}")
    return records.result()


def _cell(row: list[str], col: int | None) -> str | None:
    """The value of column ``col`` of ``row``; ``None`` for no such column or a short row."""
    return row[col] if col is not None and col < len(row) else None


def _csv_layout(first_line: str) -> tuple[str, list[str]] | None:
    """The delimiter and header whose columns include a text column, or ``None``."""
    for delimiter in CSV_DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if any(name.strip().lower() in CSV_TEXT_COLUMNS for name in header):
            return delimiter, header
    return None


# extension (lower case; "" for none) -> reader of such a file
READERS: dict[str, Callable[[Path, str, int], FileResult]] = {
    "": read_text,
    ".txt": read_text,
    ".md": read_text,
    ".rst": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".jsonl": read_jsonl,
    ".csv": read_csv,
}
SUPPORTED_EXTENSIONS = tuple(READERS)
SUPPORTED_DESCRIPTION = ", ".join(ext for ext in READERS if ext) + " and files without extension"

__all__ = ["CSV_DELIMITERS", "CSV_TEXT_COLUMNS", "READERS", "SUPPORTED_DESCRIPTION", "SUPPORTED_EXTENSIONS",
           "read_csv", "read_file", "read_html", "read_jsonl", "read_text", "strerror"]
