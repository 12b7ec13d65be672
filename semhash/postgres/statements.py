"""The SQL semhash sends: schema, load and the query pipeline's reads. Every value is a bound
parameter and every table name goes through ``psycopg.sql.Identifier``."""

from __future__ import annotations

from typing import Any

from .connection import sql

META_SCHEMA = (
    "CREATE TABLE semhash_meta ("
    " table_name text PRIMARY KEY, n_bits integer NOT NULL, n_docs bigint NOT NULL,"
    " vocabulary integer NOT NULL, fingerprint text NOT NULL, semhash_version text NOT NULL,"
    " loaded_at timestamptz NOT NULL DEFAULT now(), table_oid oid, lexical_table text, lexical_oid oid)"
)
# semhash_meta of semhash versions that did not record the table's OID, or its lexical table
META_ADD_OID = "ALTER TABLE semhash_meta ADD COLUMN table_oid oid"
META_ADD_LEXICAL = "ALTER TABLE semhash_meta ADD COLUMN lexical_table text, ADD COLUMN lexical_oid oid"
# the record of a loaded table: params (table, n_bits, n_docs, vocabulary, fingerprint, version, quoted staging
# name, lexical table, quoted lexical table)
META_UPSERT = (
    "INSERT INTO semhash_meta (table_name, n_bits, n_docs, vocabulary, fingerprint, semhash_version,"
    " table_oid, lexical_table, lexical_oid) VALUES (%s, %s, %s, %s, %s, %s, to_regclass(%s)::oid, %s,"
    " to_regclass(%s)::oid) ON CONFLICT (table_name) DO"
    " UPDATE SET n_bits = EXCLUDED.n_bits, n_docs = EXCLUDED.n_docs, vocabulary = EXCLUDED.vocabulary,"
    " fingerprint = EXCLUDED.fingerprint, semhash_version = EXCLUDED.semhash_version,"
    " table_oid = EXCLUDED.table_oid, lexical_table = EXCLUDED.lexical_table,"
    " lexical_oid = EXCLUDED.lexical_oid, loaded_at = now()"
)
# what a search checks about its table: params (quoted table, table)
META_CHECK = "SELECT n_bits, n_docs, fingerprint, table_oid, to_regclass(%s)::oid FROM semhash_meta WHERE table_name = %s"
# the lexical table recorded for a table, its recorded OID and the OID of the table of that name now
# (through to_jsonb: NULLs from a semhash_meta written before these columns): params (table,)
META_LEXICAL = (
    "SELECT j ->> 'lexical_table', (j ->> 'lexical_oid')::oid, to_regclass(quote_ident(j ->> 'lexical_table'))::oid"
    " FROM (SELECT to_jsonb(m) AS j FROM semhash_meta AS m WHERE table_name = %s) AS meta"
)
COLUMNS = ("row", "id", "path", "title", "snippet", "code_int", "code_int2", "code_bits", "tfidf_idx", "tfidf_val")


def schema_sql(table: str, n_bits: int) -> list[Any]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for a documents table."""
    s = sql()
    n_bits = int(n_bits)
    t = s.Identifier(table)
    return [
        s.SQL(
            "CREATE TABLE {} ("
            " row bigint PRIMARY KEY, id text NOT NULL UNIQUE, path text NOT NULL, title text NOT NULL,"
            " snippet text NOT NULL, code_int bigint NOT NULL, code_int2 bigint,"
            " code_bits bit({}) NOT NULL, tfidf_idx integer[] NOT NULL, tfidf_val real[] NOT NULL)"
        ).format(t, s.Literal(n_bits)),
        s.SQL("CREATE INDEX ON {} (code_int, code_int2)").format(t),
    ]


def copy_sql(table: str) -> Any:
    """``COPY`` of every column of a documents table, in :data:`COLUMNS` order."""
    s = sql()
    return s.SQL("COPY {} ({}) FROM STDIN").format(
        s.Identifier(table), s.SQL(", ").join(s.SQL(c) for c in COLUMNS)
    )


def table_sql(template: str, *tables: str) -> Any:
    """``template`` (``{}`` placeholders) with each of ``tables`` as a quoted identifier."""
    s = sql()
    return s.SQL(template).format(*(s.Identifier(t) for t in tables))


def ball_sql(table: str, wide: bool) -> Any:
    """``(row, distance, code as '0101...')`` of every row within the probed keys, nearest
    first: params ``(query bits, keys[, keys2])``."""
    where = (
        "(code_int, code_int2) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))"
        if wide else "code_int = ANY(%s::bigint[])"
    )
    return table_sql(
        "SELECT row, d, code FROM (SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text AS code"
        " FROM {} WHERE " + where + ") AS ball ORDER BY d, row", table)


def range_sql(table: str) -> Any:
    """``(row, distance, code)`` of every row within a radius by a full scan, nearest first:
    params ``(query bits, radius)``."""
    return table_sql(
        "SELECT row, d, code FROM (SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text AS code"
        " FROM {}) AS scan WHERE d <= %s ORDER BY d, row", table)


def knn_sql(table: str) -> Any:
    """``(row, distance, code)`` of the nearest rows by ``(distance, row)``: params ``(query bits, limit)``."""
    return table_sql(
        "SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text FROM {} ORDER BY d, row LIMIT %s",
        table)


def rows_sql(table: str, columns: tuple[str, ...]) -> Any:
    """Selected columns of the rows in an array: params ``(rows,)``."""
    s = sql()
    return s.SQL("SELECT {} FROM {} WHERE row = ANY(%s::bigint[])").format(
        s.SQL(", ").join(s.Identifier(c) for c in columns), s.Identifier(table)
    )


def lexical_schema_sql(table: str) -> Any:
    """``CREATE TABLE`` of a lexical table: one row per vocabulary column (``term``), its BM25
    ``idf`` and its postings, the ``rows`` holding the word and each one's BM25 term (``scores``,
    :meth:`semhash.lexical.LexicalIndex.column_terms`)."""
    return table_sql(
        "CREATE TABLE {} (term integer PRIMARY KEY, idf double precision NOT NULL, rows bigint[] NOT NULL,"
        " scores double precision[] NOT NULL)", table)


def lexical_copy_sql(table: str) -> Any:
    """``COPY`` of a lexical table's rows ``(term, idf, rows, scores)``."""
    return table_sql("COPY {} (term, idf, rows, scores) FROM STDIN", table)


def idf_sql(lexical: str) -> Any:
    """``(term, idf)`` of the query's columns: params ``(columns,)``."""
    return table_sql("SELECT term, idf FROM {} WHERE term = ANY(%s::integer[])", lexical)


def lexical_sql(lexical: str, table: str) -> Any:
    """The BM25 sum of every row holding a query word (exact in any order: the terms are fixed
    point), then ``(row, sum, code as '0101...')`` of the best ``n`` rows (sum > 0, by sum, then
    row) and ``(row, sum, NULL)`` of the given rows that hold a query word: params ``(columns, n, rows)``."""
    return table_sql(
        "WITH sums AS MATERIALIZED (SELECT u.r, sum(u.v) AS v FROM {} AS p, unnest(p.rows, p.scores) AS u(r, v)"
        " WHERE p.term = ANY(%s::integer[]) GROUP BY u.r),"
        " best AS (SELECT r, v FROM sums WHERE v > 0 ORDER BY v DESC, r LIMIT %s)"
        " SELECT best.r, best.v, d.code_bits::text FROM best JOIN {} AS d ON d.row = best.r"
        " UNION ALL SELECT sums.r, sums.v, NULL FROM sums JOIN unnest(%s::bigint[]) AS q(r) ON q.r = sums.r",
        lexical, table)
