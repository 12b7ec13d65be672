"""Document store: what a hit shows (id, path, title, snippet), kept in SQLite.

Rows are the internal integer ids used by the hash table and the FAISS index; ``id`` is the
user's document id (a relative path or a record id). All SQL uses bound parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from .errors import REBUILD, ConfigError, IndexFormatError

STORE_FILE = "documents.sqlite"
# the columns a hit reads; a saved index keeps a digest of each row's values (row_digests)
ROW_COLUMNS = ("row", "id", "path", "title", "snippet")
# a read-only store may run at most this many SQLite VM steps per statement, plus this many per
# byte of the file (a full scan costs far less); a runaway statement stops with an error
WORK_BASE = 50_000_000
WORK_PER_BYTE = 200
PROGRESS_EVERY = 10_000
SNIPPET_CHARS = 300
DIGEST_BATCH = 20_000  # stored rows read at a time to compute their digests
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    row     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    path    TEXT NOT NULL,
    title   TEXT NOT NULL,
    snippet TEXT NOT NULL,
    chars   INTEGER NOT NULL,
    added   INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class StoredDoc:
    row: int
    id: str
    path: str
    title: str
    snippet: str


def make_snippet(text: str, title: str = "", limit: int = SNIPPET_CHARS) -> str:
    """The first ``limit`` characters of the body on one line (the title line left out)."""
    body = text
    if title and body.lstrip().startswith(title):
        body = body.lstrip()[len(title) :]
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class GuardedConnection(sqlite3.Connection):
    """A read-only store's connection: its statements run one at a time (``lock``).

    Its progress handler is Python code, which needs the GIL while SQLite holds the
    connection's mutex; two threads running statements on one connection at once could each
    wait for the other. The store functions below hold ``lock`` while a statement runs and its
    rows are read.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()


def _serial(conn: sqlite3.Connection) -> Any:
    return getattr(conn, "lock", None) or nullcontext()


def store_uri(path: str | Path) -> str:
    """A read-only, immutable SQLite URI for ``path`` (any character in the path is quoted)."""
    return f"file:{quote(os.fsencode(Path(path).absolute()))}?mode=ro&immutable=1"


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    """Open a store. Read-only stores are checked and bounded (:func:`harden`): index folders
    are never changed in place, so they are opened immutable and nothing is written beside them."""
    path = Path(path)
    if readonly:
        if not path.is_file() or path.is_symlink():
            raise IndexFormatError(f"document store missing: {path}; {REBUILD}")
        conn: sqlite3.Connection = sqlite3.connect(store_uri(path), uri=True, check_same_thread=False,
                                                   factory=GuardedConnection)
        try:
            harden(conn, path)
        except BaseException:
            conn.close()
            raise
    else:
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.executescript(SCHEMA)
    return conn


STORED_FIELDS = ("id", "path", "title", "text")


def _shown(value: str) -> str:
    """``value`` quoted for a message, lone surrogates written as escapes (``'bad\\udcff'``)."""
    return "'" + value.encode("utf-8", "backslashreplace").decode("utf-8") + "'"


class DocumentCheck:
    """:func:`check_documents` one document at a time, for documents read as a stream: it keeps
    a hash of each id's document, not the document."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, str]] = {}  # id -> (hash of the document, its path)
        self.n = 0

    def __call__(self, doc: Any) -> bool:
        """Whether ``doc`` is new (``False``: an exact repeat of an earlier one); raises
        :class:`ConfigError` for a document the store cannot keep."""
        self.n += 1
        for name in STORED_FIELDS:
            value = getattr(doc, name, None)
            if not isinstance(value, str):
                raise ConfigError(f"document {self.n}: its {name} must be a string, got {type(value).__name__}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                where = "" if name == "id" else f" of document {_shown(doc.id)}"
                near = value[max(0, exc.start - 30) : exc.start + 30]
                raise ConfigError(
                    f"the {name}{where} is not valid Unicode (a lone surrogate at character {exc.start}: "
                    f"{_shown(near)}); escape or replace it (semhash.corpus.escape_surrogates)"
                ) from None
        digest = hash(tuple(getattr(doc, name) for name in STORED_FIELDS))
        first = self._seen.get(doc.id)
        if first is None:
            self._seen[doc.id] = (digest, doc.path)
            return True
        if first[0] != digest:
            raise ConfigError(
                f"two different documents have the id {_shown(doc.id)} (from {_shown(first[1])} and "
                f"{_shown(doc.path)}); ids must be unique (nothing was changed)"
            )
        return False


def check_documents(documents: Iterable) -> list:
    """The documents, checked to be storable, with exact repeats dropped; raises :class:`ConfigError`.

    Every field the store keeps must be a string of valid Unicode (no lone surrogates, which
    SQLite cannot encode), and two different documents must not share an id (one would
    silently replace the other). Called before training and before an add, so bad input is
    refused before any work is done and nothing is changed.
    """
    check = DocumentCheck()
    return [doc for doc in documents if check(doc)]


def harden(conn: sqlite3.Connection, path: Path) -> None:
    """Make a read-only store safe to query, or raise :class:`IndexFormatError`.

    Nothing in the file may run code or loop: ``documents`` must be a plain table with the
    expected columns and the file may hold no view or trigger; schema functions are untrusted
    (``trusted_schema=OFF``), writes are refused (``query_only``), and every statement is
    stopped after a budget of VM steps proportional to the file's size.
    """
    def bad(problem: str) -> IndexFormatError:
        return IndexFormatError(f"document store {path} {problem}; {REBUILD}")

    budget = (WORK_BASE + WORK_PER_BYTE * path.stat().st_size) // PROGRESS_EVERY
    left = [budget]

    def reset(_statement: str) -> None:  # called as each statement starts
        left[0] = budget

    def step() -> int:  # a non-zero return stops the statement
        left[0] -= 1
        return left[0] < 0

    try:
        conn.execute("PRAGMA trusted_schema=OFF")
        conn.execute("PRAGMA query_only=ON")
        conn.set_trace_callback(reset)
        conn.set_progress_handler(step, PROGRESS_EVERY)
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        columns = conn.execute("SELECT name, pk, hidden FROM pragma_table_xinfo('documents')").fetchall()
    except sqlite3.DatabaseError as exc:
        raise bad(f"is unreadable ({exc})") from exc
    kinds = {(t, n): sql for t, n, sql in objects}
    if any(t in ("view", "trigger") for t, _ in kinds):
        raise bad("holds a view or trigger (a semhash store holds only its table)")
    sql = kinds.get(("table", "documents"))
    if sql is None or sql.lstrip().upper().startswith("CREATE VIRTUAL"):
        raise bad("has no documents table")
    found = {name: (pk, hidden) for name, pk, hidden in columns}
    if any(hidden for _, hidden in found.values()) or found.get("row", (0, 0))[0] != 1 \
            or not set(ROW_COLUMNS) <= set(found):
        raise bad(f"does not have the columns {', '.join(ROW_COLUMNS)} (row the primary key, none generated)")


def row_digest(row: int, doc_id: str, path: str, title: str, snippet: str) -> int:
    """A non-zero 64-bit digest of what a hit shows of one stored row."""
    payload = json.dumps([int(row), doc_id, path, title, snippet], ensure_ascii=True).encode("ascii")
    return int.from_bytes(hashlib.sha256(payload).digest()[:8], "little") or 1


def row_digests(conn: sqlite3.Connection, n_rows: int) -> np.ndarray:
    """``(n,)`` uint64, ``n >= n_rows``: each stored row's :func:`row_digest`, 0 where no row is."""
    with _serial(conn):
        last = conn.execute("SELECT MAX(row) FROM documents").fetchone()[0]
        out = np.zeros(max(n_rows, last + 1 if last is not None else 0), dtype="<u8")
        cursor = conn.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM documents ORDER BY row")
        while batch := cursor.fetchmany(DIGEST_BATCH):  # a million rows never held at once
            for r in batch:
                out[r[0]] = row_digest(*r)
    return out


def write_documents(conn: sqlite3.Connection, rows: Iterable[tuple], added: bool = False) -> None:
    """Insert or replace ``(row, id, path, title, text)`` tuples."""
    conn.executemany(
        "INSERT OR REPLACE INTO documents(row, id, path, title, snippet, chars, added) VALUES (?,?,?,?,?,?,?)",
        [(int(r), i, p, t, make_snippet(x, t), len(x), int(added)) for r, i, p, t, x in rows],
    )
    conn.commit()


def unreadable(exc: Exception) -> IndexFormatError:
    """The error for a store SQLite cannot read."""
    return IndexFormatError(f"document store unreadable ({exc}); rebuild the index")


def titles_and_lengths(conn: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    """``{id: (title, characters)}`` of every stored document."""
    try:
        return {doc_id: (title, chars) for doc_id, title, chars in conn.execute("SELECT id, title, chars FROM documents")}
    except sqlite3.DatabaseError as exc:
        raise unreadable(exc) from exc


def fetch(conn: sqlite3.Connection, rows: Iterable[int]) -> dict[int, StoredDoc]:
    """Stored documents by row, for the given rows (missing rows are left out)."""
    rows = [int(r) for r in rows]
    out: dict[int, StoredDoc] = {}
    for start in range(0, len(rows), 500):  # stay under SQLite's bound-parameter limit
        chunk = rows[start : start + 500]
        marks = ",".join("?" * len(chunk))
        with _serial(conn):
            try:
                cur = conn.execute(f"SELECT row, id, path, title, snippet FROM documents WHERE row IN ({marks})", chunk)
            except sqlite3.DatabaseError as exc:
                raise unreadable(exc) from exc
            for r in cur:
                out[r[0]] = StoredDoc(*r)
    return out


def rows_for_ids(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, int]:
    """Row of each known document id."""
    ids = list(ids)
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        with _serial(conn):
            for doc_id, row in conn.execute(f"SELECT id, row FROM documents WHERE id IN ({marks})", chunk):
                out[doc_id] = row
    return out


def ids_for_path(conn: sqlite3.Connection, path: str, folder: bool = False) -> dict[str, int]:
    """Row of each document whose ``path`` is ``path``, or with ``folder`` lies under ``path/``."""
    if folder:
        prefix = path + "/"
        cur = conn.execute("SELECT id, row FROM documents WHERE substr(path, 1, ?) = ?", (len(prefix), prefix))
    else:
        cur = conn.execute("SELECT id, row FROM documents WHERE path = ?", (path,))
    return dict(cur.fetchall())


def count(conn: sqlite3.Connection) -> int:
    """The number of stored documents."""
    try:
        with _serial(conn):
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise unreadable(exc) from exc
