"""Connecting to PostgreSQL and reading its catalog: the DSN and table-name checks, the
connection, and which table of a name is semhash's.

psycopg is an optional extra: it is imported on first use (:func:`psycopg`), so the rest of
semhash never needs it and a missing install is a :class:`PostgresConfigError` that says how to
get it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ..errors import PostgresConfigError, PostgresConnectionError, PostgresTableError

DEFAULT_TABLE = "semhash_docs"
META_TABLE = "semhash_meta"
CONNECT_TIMEOUT = 10
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
DSN_HELP = "give a DSN like postgresql://USER:PASSWORD@HOST:5432/DBNAME"


def psycopg() -> ModuleType:
    """The psycopg module, or a :class:`PostgresConfigError` saying how to install it."""
    try:
        import psycopg as module  # the optional [postgres] extra: only PostgreSQL users need it
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PostgresConfigError(
            "the PostgreSQL backend needs psycopg 3; install it with: pip install 'semhash[postgres]'"
        ) from exc
    return module


def sql() -> Any:
    """``psycopg.sql``: composing statements with quoted identifiers and bound literals."""
    return psycopg().sql


def first_line(exc: Exception) -> str:
    """The first line of an error's message (its class name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_table_name(table: Any) -> str:
    """The table name, if PostgreSQL can hold it as one identifier (it is always quoted)."""
    if not isinstance(table, str) or not table:
        raise PostgresConfigError(f"the table name must be a non-empty string, got {table!r}")
    if "\x00" in table:
        raise PostgresConfigError("the table name must not contain a NUL character")
    if len(table.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        raise PostgresConfigError(
            f"the table name {table[:20]!r}... is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes; choose a shorter one"
        )
    if table == META_TABLE:
        raise PostgresConfigError(f"{META_TABLE!r} is semhash's own metadata table; choose another table name")
    return table


def connect(dsn: Any) -> Any:
    """A psycopg connection, or a :class:`PostgresError` that says what to fix."""
    pg = psycopg()
    if not isinstance(dsn, str) or not dsn.strip():
        raise PostgresConfigError(f"no PostgreSQL DSN given; {DSN_HELP}")
    if "\x00" in dsn:
        raise PostgresConfigError(f"the PostgreSQL DSN contains a NUL character; {DSN_HELP}")
    try:
        pg.conninfo.conninfo_to_dict(dsn)
    except pg.ProgrammingError as exc:
        raise PostgresConfigError(f"invalid PostgreSQL DSN ({first_line(exc)}); {DSN_HELP}") from exc
    try:
        return pg.connect(dsn, connect_timeout=CONNECT_TIMEOUT)
    except pg.OperationalError as exc:
        raise PostgresConnectionError(
            f"cannot connect to PostgreSQL ({first_line(exc)}); check that the server is running and that "
            "the DSN's host, port, user, password and database are right"
        ) from exc
    except pg.Error as exc:
        raise PostgresConnectionError(f"cannot connect to PostgreSQL ({first_line(exc)}); {DSN_HELP}") from exc


def quoted(context: Any, table: str) -> str:
    """``table`` as a quoted identifier, for ``to_regclass`` (``context``: a connection or cursor)."""
    return sql().Identifier(table).as_string(context)


def table_oid(cur: Any, table: str) -> int | None:
    """The OID of the relation ``table`` names now (search path), ``None`` when there is none."""
    cur.execute("SELECT to_regclass(%s)::oid", (quoted(cur, table),))
    oid = cur.fetchone()[0]
    return None if oid is None else int(oid)


def table_exists(cur: Any, table: str) -> bool:
    return table_oid(cur, table) is not None


def has_column(cur: Any, table: str, column: str) -> bool:
    cur.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        (quoted(cur, table), column),
    )
    return cur.fetchone() is not None


def not_ours(table: str, why: str) -> PostgresTableError:
    """The error for a table of that name that semhash did not create."""
    return PostgresTableError(
        f"table {table!r} already exists and was not loaded by semhash ({why}); semhash replaces only the "
        f"tables it created: choose another name with --table, or drop that table yourself if it is no "
        f"longer needed"
    )


def check_replaceable(cur: Any, table: str) -> int | None:
    """The OID of semhash's current table ``table`` (``None`` when no table has that name).

    A table of that name counts as semhash's only when its OID is the one ``semhash_meta``
    recorded when semhash created it; any other raises :class:`PostgresTableError`.
    """
    oid = table_oid(cur, table)
    if oid is None:
        return None
    cur.execute("SELECT table_oid FROM semhash_meta WHERE table_name = %s", (table,))
    row = cur.fetchone()
    if row is None:
        raise not_ours(table, "semhash_meta has no record of it")
    if row[0] is None:
        raise not_ours(table, "semhash_meta, written by an older semhash, does not record which table it created")
    if int(row[0]) != oid:
        raise not_ours(table, "it is not the table semhash created under that name, which was dropped")
    return oid
