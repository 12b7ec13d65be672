"""Read a folder of documents into :class:`Document` records, reporting every file it skips.

Supported files: ``.txt``, ``.md``, ``.rst``, ``.html``/``.htm``, ``.jsonl`` (one record per
line), ``.csv`` (one record per row) and files without an extension (read as plain text, as in
20 Newsgroups: ``train/sci.space/60804``). Nothing here raises for a single bad file: it becomes
a :class:`Skipped` entry with a short reason. Only corpus-level failures raise
:class:`~semhash.errors.CorpusError`.
"""

from __future__ import annotations

import codecs
import csv
import errno
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from semhash.errors import ConfigError, CorpusError, NoDocumentsError

MAX_DOC_CHARS = 1_000_000
"""Longest document text kept; longer ones are truncated (not skipped)."""

BYTES_PER_CHAR = 4
"""At most ``BYTES_PER_CHAR * max_chars`` bytes of a file are read from disk."""

TEXT_EXTENSIONS = ("", ".txt", ".md", ".rst")
HTML_EXTENSIONS = (".html", ".htm")
RECORD_EXTENSIONS = (".jsonl", ".csv")
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS + HTML_EXTENSIONS + RECORD_EXTENSIONS
SUPPORTED_DESCRIPTION = ".txt, .md, .rst, .html, .htm, .jsonl, .csv and files without extension"

CSV_TEXT_COLUMNS = ("text", "body", "content", "document")
CSV_DELIMITERS = (",", ";", "\t", "|")
TITLE_MAX_CHARS = 120
SNIFF_BYTES = 8192
NO_DOCS_REASONS = 5  # a corpus with no readable document: reasons named in the error
NO_DOCS_EXAMPLES = 3  # ... and example paths per reason

# bytes that do not occur in text files (tab, newlines, \v, \f, \b and ESC are allowed)
_CONTROL_BYTES = bytes([*range(0, 7), *range(14, 27), *range(28, 32), 127])
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CONTROL_SHARE_BINARY = 0.3
_CONTROL_SHARE_SUSPECT = 0.05
_HEADER_LINE = re.compile(r"[A-Za-z][^\s:]*:(?:[ \t]|$)")
_NOT_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_SURROGATES = re.compile("[\ud800-\udfff]")


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
    """What :func:`read_corpus` read and what it skipped, both in file order."""

    documents: list[Document]
    skipped: list[Skipped]


class BinaryDataError(ValueError):
    """Raised by :func:`decode_bytes` for data that is not text."""


# --------------------------------------------------------------------------- folder walking


def read_corpus(
    root: str | os.PathLike, *, max_chars: int = MAX_DOC_CHARS, progress: bool = False
) -> CorpusReport:
    """Read every supported file under ``root`` (recursively, in sorted order).

    Raises :class:`CorpusError` when ``root`` is missing, is not a folder, or yields no
    document. Duplicate ids keep the first document and skip the later ones.
    """
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ConfigError(f"max_chars must be a positive integer, got {max_chars!r}")
    root_path = _check_root(root)
    skipped: list[Skipped] = []
    files = list(_walk(root_path, skipped))
    documents: list[Document] = []
    seen: set[str] = set()
    for path, rel in tqdm(files, desc="reading corpus", unit="file", file=sys.stderr, disable=not progress):
        docs, skips = read_file(path, rel, max_chars)
        skipped.extend(skips)
        for doc in docs:
            if doc.id in seen:
                skipped.append(Skipped(doc.path, f"duplicate id {doc.id}"))
            else:
                seen.add(doc.id)
                documents.append(doc)
    if not documents:
        if skipped:
            raise NoDocumentsError(_no_documents_message(root, skipped), skipped)
        raise CorpusError(_no_documents_message(root, skipped))
    return CorpusReport(documents=documents, skipped=skipped)


def iter_files(root: str | os.PathLike) -> Iterator[Path]:
    """Yield the files under ``root``: sorted, hidden names skipped, symlinks followed once."""
    for path, _rel in _walk(_check_root(root), []):
        yield path


def _check_root(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not path.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")
    return path


def _no_documents_message(root: str | os.PathLike, skipped: list[Skipped]) -> str:
    if not skipped:
        detail = "the folder holds no files"
    else:
        by_reason: dict[str, list[str]] = {}
        for s in skipped:
            by_reason.setdefault(s.reason, []).append(s.path)
        ranked = sorted(by_reason.items(), key=lambda item: -len(item[1]))  # stable: ties in file order
        parts = [f"{reason} ({len(paths)}x) e.g. {', '.join(_shown(p) for p in paths[:NO_DOCS_EXAMPLES])}"
                 for reason, paths in ranked[:NO_DOCS_REASONS]]
        if len(ranked) > NO_DOCS_REASONS:
            parts.append(f"{len(ranked) - NO_DOCS_REASONS} other reasons")
        detail = f"{len(skipped)} skipped: {'; '.join(parts)}"
    return f"no readable documents in {root} ({detail}); supported: {SUPPORTED_DESCRIPTION}"


def _shown(path: str) -> str:
    """A path as one printable line (names may hold newlines or control characters)."""
    return path if path.isprintable() else ascii(path)


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    """Depth-first walk yielding ``(path, relative POSIX path)``; problems go to ``skipped``.

    Directory symlinks are followed, but a folder whose real path is an ancestor (a loop) or
    was already visited is skipped, so the walk always ends.
    """
    root_real = os.path.realpath(root)
    visited = {root_real: "."}
    try:
        top = _sorted_entries(root)
    except OSError as exc:
        raise CorpusError(f"cannot read corpus folder {root}: {_strerror(exc)}") from exc
    stack = [(iter(top), "", (root_real,))]
    while stack:
        entries, prefix, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        rel = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=True):
                real = os.path.realpath(entry.path)
                if real in ancestors:
                    skipped.append(Skipped(escape_surrogates(rel), "symlink loop"))
                elif real in visited:
                    skipped.append(Skipped(escape_surrogates(rel),
                                           f"same folder as {escape_surrogates(visited[real])} (symlink)"))
                else:
                    visited[real] = rel
                    stack.append((iter(_sorted_entries(Path(entry.path))), rel + "/", ancestors + (real,)))
            elif entry.is_file(follow_symlinks=True):
                yield Path(entry.path), rel
            elif entry.is_symlink():
                skipped.append(Skipped(escape_surrogates(rel), "broken symlink"))
            else:
                skipped.append(Skipped(escape_surrogates(rel), "not a regular file"))
        except OSError as exc:
            reason = "symlink loop" if exc.errno == errno.ELOOP else f"unreadable: {_strerror(exc)}"
            skipped.append(Skipped(escape_surrogates(rel), reason))


def _sorted_entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------- one file


def read_file(path: Path, rel: str, max_chars: int = MAX_DOC_CHARS) -> tuple[list[Document], list[Skipped]]:
    """Read one file into documents (several for ``.jsonl``/``.csv``); never raises for bad input.

    ``rel`` (the file's id and path in the corpus) has its bytes that are not UTF-8 escaped
    (:func:`escape_surrogates`), so every id can be stored and shown.
    """
    rel = escape_surrogates(rel)
    ext = PurePosixPath(rel).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        return [], [Skipped(rel, f"unsupported extension {ext}")]
    try:
        if ext == ".jsonl":
            return _read_jsonl(Path(path), rel, max_chars)
        if ext == ".csv":
            return _read_csv(Path(path), rel, max_chars)
        return _read_single(Path(path), rel, ext, max_chars)
    except FileNotFoundError:
        return [], [Skipped(rel, "file vanished before it was read")]
    except OSError as exc:
        return [], [Skipped(rel, f"unreadable: {_strerror(exc)}")]
    except BinaryDataError:
        return [], [Skipped(rel, "binary file")]


def _read_single(path: Path, rel: str, ext: str, max_chars: int) -> tuple[list[Document], list[Skipped]]:
    with open(path, "rb") as f:
        data = f.read(BYTES_PER_CHAR * max_chars)
    if not data:
        return [], [Skipped(rel, "empty file")]
    text = _normalize_newlines(decode_bytes(data))
    if ext in HTML_EXTENSIONS:
        title, text = _html_parts(text)
    else:
        title = ""
    text = text[:max_chars]
    if not text.strip():
        return [], [Skipped(rel, "empty file")]
    title = title or extract_title(text) or PurePosixPath(rel).name
    return [Document(id=rel, path=rel, title=title, text=text)], []


def _read_jsonl(path: Path, rel: str, max_chars: int) -> tuple[list[Document], list[Skipped]]:
    encoding = _sniff_encoding(path)
    docs: list[Document] = []
    skips: list[Skipped] = []
    seen: set[str] = set()
    line_limit = BYTES_PER_CHAR * max_chars + 4096
    with open(path, encoding=encoding, errors="replace", newline=None) as f:
        lineno = 0
        while True:
            line = f.readline(line_limit)
            if not line:
                break
            lineno += 1
            where = f"{rel}:{lineno}"
            if not line.endswith("\n") and len(line) >= line_limit:
                while (rest := f.readline(line_limit)) and not rest.endswith("\n"):
                    pass  # drop the rest of an overlong line without holding it in memory
                skips.append(Skipped(where, f"line {lineno} is longer than {line_limit} characters"))
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                skips.append(Skipped(where, f"invalid JSON on line {lineno}"))
                continue
            if not isinstance(record, dict):
                skips.append(Skipped(where, f"line {lineno} is not a JSON object"))
                continue
            text = record.get("text")
            if not isinstance(text, str):
                skips.append(Skipped(where, f"no string 'text' field on line {lineno}"))
                continue
            default_id = f"{rel}#{lineno}"
            title = record.get("title")
            _add_record(docs, skips, seen, rel, where, default_id, record.get("id"), title, text, max_chars)
    if not docs and not skips:
        skips.append(Skipped(rel, "empty file"))
    return docs, skips


def _read_csv(path: Path, rel: str, max_chars: int) -> tuple[list[Document], list[Skipped]]:
    encoding = _sniff_encoding(path)
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
        docs: list[Document] = []
        skips: list[Skipped] = []
        seen: set[str] = set()
        rowno = 1  # the header is row 1, as in a spreadsheet
        try:
            next(reader)
            for row in reader:
                if not row:
                    continue  # blank line
                rowno += 1
                where = f"{rel}:{rowno}"
                text = row[text_col] if text_col < len(row) else ""
                doc_id = row[id_col] if id_col is not None and id_col < len(row) else None
                title = row[title_col] if title_col is not None and title_col < len(row) else None
                _add_record(docs, skips, seen, rel, where, f"{rel}#{rowno}", doc_id, title, text, max_chars)
        except csv.Error as exc:
            skips.append(Skipped(rel, f"invalid CSV after row {rowno}: {exc}"))
    if not docs and not skips:
        skips.append(Skipped(rel, "empty file"))
    return docs, skips


def _csv_layout(first_line: str) -> tuple[str, list[str]] | None:
    """The delimiter and header whose columns include a text column, or ``None``."""
    for delimiter in CSV_DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if any(name.strip().lower() in CSV_TEXT_COLUMNS for name in header):
            return delimiter, header
    return None


def _add_record(
    docs: list[Document],
    skips: list[Skipped],
    seen: set[str],
    rel: str,
    where: str,
    default_id: str,
    raw_id: object,
    raw_title: object,
    text: str,
    max_chars: int,
) -> None:
    """Append one ``.jsonl``/``.csv`` record as a document, or a skip when empty or duplicated.

    JSON can hold lone surrogates (``"\\ud800"``), which cannot be stored: in the id they are
    escaped, in the text and title replaced by U+FFFD.
    """
    text = _valid_text(_normalize_newlines(text))[:max_chars]
    if not text.strip():
        skips.append(Skipped(where, "empty record"))
        return
    doc_id = default_id
    if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id).strip():
        doc_id = escape_surrogates(str(raw_id).strip())
    if doc_id in seen:
        skips.append(Skipped(where, f"duplicate id {doc_id}"))
        return
    seen.add(doc_id)
    title = " ".join(_valid_text(raw_title).split())[:TITLE_MAX_CHARS] if isinstance(raw_title, str) else ""
    docs.append(Document(id=doc_id, path=rel, title=title or extract_title(text) or doc_id, text=text))


def _sniff_encoding(path: Path) -> str:
    """Codec name for a record file, judged from its first bytes; raises BinaryDataError."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    if looks_binary(head):
        raise BinaryDataError("binary data")
    return "utf-8" if _is_utf8(head) else "cp1252"


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- names


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


def _valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the text itself, not a name)."""
    return _SURROGATES.sub("\ufffd", text)


def document_path(path: str | os.PathLike, root: str | os.PathLike | None) -> str:
    """The path (and id) a file or folder on disk gets in an index whose corpus is ``root``.

    Relative to ``root`` (POSIX, ``""`` for ``root`` itself) when the file lies under it, as
    :func:`read_corpus` names it; otherwise its absolute path, so two different files never get
    one id. The folders above the file are resolved (symlinks followed) but its own name is kept,
    as the walk names a symlinked file by its link; the file need not exist (``semhash remove``
    of a deleted file). Bytes that are not UTF-8 are escaped (:func:`escape_surrogates`).
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


# --------------------------------------------------------------------------- bytes to text


def looks_binary(data: bytes) -> bool:
    """True for data that is not text, judged from its first 8 KB.

    Binary: NUL bytes not explained by UTF-16, more than 30 % control bytes, or more than 5 %
    control bytes together with many high bytes that are not UTF-8.
    """
    sample = data[:SNIFF_BYTES]
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(sample):
        return False
    if b"\x00" in sample:
        return True
    controls = _share(sample, _CONTROL_BYTES)
    if controls > _CONTROL_SHARE_BINARY:
        return True
    if controls > _CONTROL_SHARE_SUSPECT:  # a few stray control bytes occur in real mail
        return _share(sample, _HIGH_BYTES) > 0.3 and not _is_utf8(sample)
    return False


def _share(data: bytes, members: bytes) -> float:
    """Fraction of ``data`` made of the byte values in ``members``."""
    return (len(data) - len(data.translate(None, members))) / len(data)


def _is_utf8(data: bytes) -> bool:
    try:
        _decode_utf8_strict(data)
    except UnicodeDecodeError:
        return False
    return True


def decode_bytes(data: bytes) -> str:
    """Decode file contents: UTF-8 (BOM or not), UTF-16/32 (BOM or NUL pattern), else cp1252/latin-1.

    Raises :class:`BinaryDataError` when :func:`looks_binary` says the data is not text. A
    multi-byte character cut off at the end (a truncated read) is dropped.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode_utf8(data[len(codecs.BOM_UTF8):])
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _decode_wide(data[len(bom):], codec)
    utf16 = _utf16_without_bom(data[:SNIFF_BYTES])
    if utf16:
        return _decode_wide(data, utf16)
    if looks_binary(data):
        raise BinaryDataError("binary data")
    return _decode_utf8(data)


def _decode_utf8(data: bytes) -> str:
    """UTF-8 when the data is (mostly) UTF-8, else cp1252, else latin-1 (which never fails)."""
    try:
        return _decode_utf8_strict(data)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if len(_NOT_ASCII.findall(text)) > text.count("\ufffd"):
        return text  # UTF-8 with a few stray bytes
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_utf8_strict(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")
        raise


def _decode_wide(data: bytes, codec: str) -> str:
    unit = 4 if "32" in codec else 2
    return data[: len(data) - len(data) % unit].decode(codec, errors="replace")


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when NUL bytes fill one of the alternating positions."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.4 and nul_even < 0.05:
        return "utf-16-le"
    if nul_even > 0.4 and nul_odd < 0.05:
        return "utf-16-be"
    return None


# --------------------------------------------------------------------------- titles and HTML


def extract_title(text: str) -> str:
    """A one-line title: the ``Subject:`` of a mail/news text, else the first meaningful line.

    The first meaningful line is the first with a letter or digit, without Markdown ``#``
    marks, with whitespace collapsed and cut to 120 characters. Returns ``""`` when none.
    """
    subject, body = _mail_subject(text)
    if subject:
        return subject[:TITLE_MAX_CHARS].rstrip()
    for line in body.splitlines():
        line = line.strip()
        if not any(ch.isalnum() for ch in line) or line.startswith(".. "):
            continue
        line = re.sub(r"\s+#+$", "", re.sub(r"^#{1,6}(?=\s|$)", "", line))
        line = " ".join(line.split())
        if line:
            return line[:TITLE_MAX_CHARS].rstrip()
    return ""


def _mail_subject(text: str) -> tuple[str, str]:
    """``(subject, body)`` when ``text`` starts with RFC-822 headers, else ``("", text)``."""
    lines = text.lstrip("\n").split("\n", 200)
    if not lines or not _HEADER_LINE.match(lines[0]):
        return "", text
    subject, current = None, ""
    for i, line in enumerate(lines):
        if not line.strip():
            body = "\n".join(lines[i + 1:])
            break
        if line[0] in " \t":  # folded header continuation
            if subject is not None and current == "subject":
                subject += " " + line.strip()
            continue
        if not _HEADER_LINE.match(line):
            return "", text
        current, _, value = line.partition(":")
        current = current.lower()
        if current == "subject" and subject is None:
            subject = value.strip()
    else:
        body = ""
    if subject is None:
        return "", text
    return " ".join(subject.split()), body


def html_to_text(html: str) -> str:
    """Visible text of an HTML page: no tags, scripts, styles or ``<title>``; one block per line."""
    return _html_parts(html)[1]


def _html_parts(html: str) -> tuple[str, str]:
    """``(title, visible text)``: the title is ``<title>``, else the first ``<h1>``-``<h6>``."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.heading).split())
    return title[:TITLE_MAX_CHARS].rstrip(), text


class _TextExtractor(HTMLParser):
    """Collects visible text, the ``<title>`` and the first heading of an HTML page."""

    HIDDEN = frozenset({"script", "style", "template", "noscript", "title"})
    BLOCKS = frozenset(
        "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
        "h4 h5 h6 header hr li main nav ol p pre section table tr ul".split()
    )
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.heading: list[str] = []
        self._hidden: list[str] = []
        self._in_title = False
        self._heading_open: str | None = None
        self._heading_done = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.HIDDEN:
            self._hidden.append(tag)
            self._in_title = self._in_title or tag == "title"
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self._pre += 1
        if tag in self.HEADINGS and not self._heading_done and self._heading_open is None:
            self._heading_open = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and tag in self._hidden:
            while self._hidden and self._hidden.pop() != tag:
                pass
            self._in_title = "title" in self._hidden
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag == self._heading_open:
            self._heading_open = None
            self._heading_done = bool("".join(self.heading).strip())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if self._hidden:
            return
        if self._heading_open:
            self.heading.append(data)
        self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))

