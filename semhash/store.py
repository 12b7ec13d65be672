"""Document store: what a hit shows (id, path, title, snippet), kept in SQLite.

Rows are the internal integer ids used by the hash table and the FAISS index; ``id`` is the
user's document id (a relative path or a record id). All SQL uses bound parameters.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexFormatError

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


def count(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise IndexFormatError(f"document store unreadable ({exc}); rebuild the index") from exc
