"""Document store: what a hit shows (id, path, title, snippet), kept in SQLite.

Rows are the internal integer ids used by the hash table and the FAISS index; ``id`` is the
user's document id (a relative path or a record id). All SQL uses bound parameters.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, IndexFormatError

STORE_FILE = "documents.sqlite"
SNIPPET_CHARS = 300
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


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise IndexFormatError(f"document store missing: {path}; rebuild the index with `semhash index`")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.executescript(SCHEMA)
    return conn


STORED_FIELDS = ("id", "path", "title", "text")


def _shown(value: str) -> str:
    """``value`` quoted for a message, lone surrogates written as escapes (``'bad\\udcff'``)."""
    return "'" + value.encode("utf-8", "backslashreplace").decode("utf-8") + "'"


def check_documents(documents) -> list:
    """The documents, checked to be storable, with exact repeats dropped; raises :class:`ConfigError`.

    Every field the store keeps must be a string of valid Unicode (no lone surrogates, which
    SQLite cannot encode), and two different documents must not share an id (one would
    silently replace the other). Called before training and before an add, so bad input is
    refused before any work is done and nothing is changed.
    """
    by_id: dict[str, object] = {}
    for n, doc in enumerate(documents, 1):
        for name in STORED_FIELDS:
            value = getattr(doc, name, None)
            if not isinstance(value, str):
                raise ConfigError(f"document {n}: its {name} must be a string, got {type(value).__name__}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                where = "" if name == "id" else f" of document {_shown(doc.id)}"
                near = value[max(0, exc.start - 30) : exc.start + 30]
                raise ConfigError(
                    f"the {name}{where} is not valid Unicode (a lone surrogate at character {exc.start}: "
                    f"{_shown(near)}); escape or replace it (semhash.corpus.escape_surrogates)"
                ) from None
        first = by_id.setdefault(doc.id, doc)
        if first is not doc and first != doc:
            raise ConfigError(
                f"two different documents have the id {_shown(doc.id)} (from {_shown(first.path)} and "
                f"{_shown(doc.path)}); ids must be unique (nothing was changed)"
            )
    return list(by_id.values())


def write_documents(conn: sqlite3.Connection, rows, added: bool = False) -> None:
    """Insert or replace ``(row, id, path, title, text)`` tuples."""
    conn.executemany(
        "INSERT OR REPLACE INTO documents(row, id, path, title, snippet, chars, added) VALUES (?,?,?,?,?,?,?)",
        [(int(r), i, p, t, make_snippet(x, t), len(x), int(added)) for r, i, p, t, x in rows],
    )
    conn.commit()


def titles_and_lengths(conn: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    """``{id: (title, characters)}`` of every stored document."""
    try:
        return {doc_id: (title, chars) for doc_id, title, chars in conn.execute("SELECT id, title, chars FROM documents")}
    except sqlite3.DatabaseError as exc:
        raise IndexFormatError(f"document store unreadable ({exc}); rebuild the index") from exc


def fetch(conn: sqlite3.Connection, rows) -> dict[int, StoredDoc]:
    """Stored documents by row, for the given rows (missing rows are left out)."""
    rows = [int(r) for r in rows]
    out: dict[int, StoredDoc] = {}
    for start in range(0, len(rows), 500):  # stay under SQLite's bound-parameter limit
        chunk = rows[start : start + 500]
        marks = ",".join("?" * len(chunk))
        try:
            cur = conn.execute(f"SELECT row, id, path, title, snippet FROM documents WHERE row IN ({marks})", chunk)
        except sqlite3.DatabaseError as exc:
            raise IndexFormatError(f"document store unreadable ({exc}); rebuild the index") from exc
        for r in cur:
            out[r[0]] = StoredDoc(*r)
    return out


def rows_for_ids(conn: sqlite3.Connection, ids) -> dict[str, int]:
    """Row of each known document id."""
    ids = list(ids)
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
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
    try:
        return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise IndexFormatError(f"document store unreadable ({exc}); rebuild the index") from exc
