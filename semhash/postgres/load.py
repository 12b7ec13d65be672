"""Loading an index into PostgreSQL (``semhash export --postgres``).

An export holds a transaction-level advisory lock (:data:`EXPORT_LOCK_KEY`), so concurrent
exports into one database run one after the other. It loads a new table under a unique
temporary name, builds its index and analyzes it, and only then, in the same transaction, locks
the old table, drops it and renames the new one into its place: readers wait for that swap
alone, not for the load.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from .. import __version__
from ..errors import PostgresConnectionError, PostgresError
from .connection import (
    DEFAULT_TABLE,
    META_TABLE,
    check_replaceable,
    check_table_name,
    connect,
    first_line,
    has_column,
    not_ours,
    psycopg,
    quoted,
    table_exists,
    table_oid,
)
from .statements import (
    META_ADD_LEXICAL,
    META_ADD_OID,
    META_SCHEMA,
    META_UPSERT,
    copy_sql,
    lexical_copy_sql,
    lexical_schema_sql,
    schema_sql,
    table_sql,
)
from .values import check_document_rows, document_rows, lexical_rows, query_model_fingerprint

# pg_advisory_xact_lock key every export holds from before its first DDL to its commit ("semhash!")
EXPORT_LOCK_KEY = int.from_bytes(b"semhash!", "big", signed=True)
# a table is loaded under this prefix plus random hex, then renamed into place
STAGING_PREFIX = "semhash_load_"
# its lexical table (BM25 postings, for modes lexical and hybrid) keeps this prefix and the same hex:
# semhash_meta records its name and OID beside the table's
LEXICAL_PREFIX = "semhash_lex_"


def prepare_meta(conn: Any) -> None:
    """Create ``semhash_meta``, or add the columns older versions did not write, in
    a short transaction of its own (readers of ``semhash_meta`` wait for it, not for a load)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
        if not table_exists(cur, META_TABLE):
            cur.execute(META_SCHEMA)
        else:
            if not has_column(cur, META_TABLE, "table_oid"):
                cur.execute(META_ADD_OID)
            if not has_column(cur, META_TABLE, "lexical_oid"):
                cur.execute(META_ADD_LEXICAL)


def recorded_lexical(cur: Any, table: str) -> tuple[str, int] | None:
    """The lexical table semhash recorded for ``table`` and its OID, while a table of that name
    still has that OID (``None``: none recorded, or it is gone or another table now)."""
    cur.execute("SELECT lexical_table, lexical_oid FROM semhash_meta WHERE table_name = %s", (table,))
    row = cur.fetchone()
    if row is None or row[0] is None or row[1] is None or table_oid(cur, row[0]) != int(row[1]):
        return None
    return str(row[0]), int(row[1])


def swap_in(cur: Any, staging: str, table: str, old_oid: int | None, old_lexical: tuple[str, int] | None) -> None:
    """Replace semhash's table ``table`` (OID ``old_oid``) with the loaded ``staging`` table, and
    drop the old table's lexical table (``old_lexical``: its name and OID).

    The only statements of an export that lock the old tables: readers wait for them alone (a
    reader locks ``table`` before it reads the lexical table semhash_meta names, so the lock on
    ``table`` is waited for first).
    """
    if old_oid is not None:
        cur.execute(table_sql("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", table))
        if table_oid(cur, table) != old_oid:  # replaced since the check, by someone else
            raise not_ours(table, "it was replaced while semhash loaded the new one")
        cur.execute(table_sql("DROP TABLE {}", table))
    elif table_exists(cur, table):
        raise not_ours(table, "it was created while semhash loaded the new one")
    if old_lexical is not None and table_oid(cur, old_lexical[0]) == old_lexical[1]:
        cur.execute(table_sql("DROP TABLE {}", old_lexical[0]))
    cur.execute(table_sql("ALTER TABLE {} RENAME TO {}", staging, table))


def fill_staging(cur: Any, staging: str, lexical: str, index: Any, rows: Iterable[tuple]) -> None:
    """Create the ``staging`` table, copy ``rows`` into it, index and analyze it; the same for
    its ``lexical`` table (the index's BM25 postings)."""
    create_table, create_index = schema_sql(staging, index.n_bits)
    cur.execute(create_table)
    with cur.copy(copy_sql(staging)) as cp:
        for r in rows:
            cp.write_row(r)
    cur.execute(create_index)
    cur.execute(table_sql("ANALYZE {}", staging))
    cur.execute(lexical_schema_sql(lexical))
    with cur.copy(lexical_copy_sql(lexical)) as cp:
        for r in lexical_rows(index):
            cp.write_row(r)
    cur.execute(table_sql("ANALYZE {}", lexical))


def load_index(index: Any, dsn: str, table: str = DEFAULT_TABLE) -> int:
    """Copy ``index`` (documents, codes, TF-IDF rows) into ``table``, and its BM25 postings into
    the lexical table ``semhash_meta`` records beside it; returns the rows loaded.

    The rows go into a new table under a temporary name, which replaces the old one by a rename
    at the end of the same transaction: readers see the old or the new contents, never a mix,
    and wait only for the swap. A table that exists but was not created by semhash (its OID is
    not the one ``semhash_meta`` recorded) is never touched. Concurrent exports into one
    database are serialized by an advisory lock.
    """
    table = check_table_name(table)
    n_rows = check_document_rows(index)  # every document checked before the database is touched
    pg = psycopg()
    token = secrets.token_hex(8)
    staging, lexical = STAGING_PREFIX + token, LEXICAL_PREFIX + token
    with connect(dsn) as conn:
        try:
            prepare_meta(conn)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
                old_oid = check_replaceable(cur, table)  # before the load: refuse early
                old_lexical = recorded_lexical(cur, table)
                fill_staging(cur, staging, lexical, index, document_rows(index))
                # the new table keeps its OID through the rename, so it is recorded now: the swap
                # is then the transaction's last step, and the old table is locked only until commit
                cur.execute(META_UPSERT, (table, int(index.n_bits), n_rows, len(index.vectorizer.vocabulary_),
                                          query_model_fingerprint(index), __version__, quoted(cur, staging),
                                          lexical, quoted(cur, lexical)))
                swap_in(cur, staging, table, old_oid, old_lexical)
        except PostgresError:
            raise
        except pg.errors.InsufficientPrivilege as exc:
            raise PostgresConnectionError(
                f"the database user may not create or fill {table!r} ({first_line(exc)}); "
                "grant it CREATE on the schema (and ownership of an existing table)"
            ) from exc
        except pg.Error as exc:
            raise PostgresError(f"loading {table!r} into PostgreSQL failed: {first_line(exc)}") from exc
    return n_rows
