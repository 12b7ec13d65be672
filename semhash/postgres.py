"""PostgreSQL backend: store an index's documents and codes in a table and search them there.

The database holds the documents, their binary codes and their TF-IDF rows; the query is still
vectorized and encoded locally with the index the table was loaded from (the vocabulary and the
encoder are not stored). :class:`PostgresSearcher` answers exactly as :func:`semhash.search.search`
does on that index: same ids, same order, same distances, same scores.

Schema of a documents table (default ``semhash_docs``)::

    row        bigint PRIMARY KEY   -- the index's internal row number
    id         text NOT NULL UNIQUE -- the document id
    path, title, snippet  text NOT NULL
    code_int   bigint NOT NULL      -- the code as an integer key (n_bits <= 64), or its high word
    code_int2  bigint               -- the low 64 bits of a code longer than 64 bits, else NULL
    code_bits  bit(n_bits) NOT NULL -- the code, first bit first
    tfidf_idx  integer[] NOT NULL   -- the L2-normalized TF-IDF row: columns ...
    tfidf_val  real[] NOT NULL      -- ... and values, in the index's CSR order
    + a btree index on (code_int, code_int2)

plus one row per loaded table in ``semhash_meta`` (n_bits, document count, a fingerprint of
the vocabulary and encoder that made the codes, and the OID of the table the export created).
A table counts as semhash's only while its OID is the one recorded: a user's table of the same
name (created after dropping semhash's) has another OID and is never replaced or searched.

An export holds a transaction-level advisory lock (:data:`EXPORT_LOCK_KEY`), so concurrent
exports into one database run one after the other. It loads a new table under a unique
temporary name, builds its index and analyzes it, and only then, in the same transaction, locks
the old table, drops it and renames the new one into its place: readers wait for that swap
alone, not for the load. A search runs each query in one read-only repeatable-read
transaction that first locks the table (``ACCESS SHARE``), so it sees the old contents or the
new ones, never a mix, and checks the table's OID and fingerprint in the same snapshot.

The Hamming ball is an exact-match probe: the query key XORed with every flip mask of
popcount <= radius (:func:`semhash.hashtable.flip_masks`) is sent as one array and matched
with ``code_int = ANY(...)`` over the btree index; a ball larger than ``MAX_PROBES`` masks,
and the k-nearest fill, use ``bit_count(code_bits # query)``. Every value is a bound
parameter and every table name goes through :class:`psycopg.sql.Identifier`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np

from .errors import SemhashError

DEFAULT_TABLE = "semhash_docs"
META_TABLE = "semhash_meta"
# larger Hamming balls are answered by a bit_count range query instead of a key probe
MAX_PROBES = 65_536
CONNECT_TIMEOUT = 10
MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
DSN_HELP = "give a DSN like postgresql://USER:PASSWORD@HOST:5432/DBNAME"
# pg_advisory_xact_lock key every export holds from before its first DDL to its commit ("semhash!")
EXPORT_LOCK_KEY = int.from_bytes(b"semhash!", "big", signed=True)
# a table is loaded under this prefix plus random hex, then renamed into place
STAGING_PREFIX = "semhash_load_"


class PostgresError(SemhashError):
    """A PostgreSQL backend operation failed."""


class PostgresConfigError(PostgresError, ValueError):
    """A DSN, table name or document cannot be used with PostgreSQL."""


class PostgresConnectionError(PostgresError):
    """The server cannot be reached or refused the login."""


class PostgresTableError(PostgresError):
    """The table is missing, was not made by semhash, or belongs to another index."""


# ----------------------------------------------------------------------------- pure helpers


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PostgresConfigError(
            "the PostgreSQL backend needs psycopg 3; install it with: pip install 'semhash[postgres]'"
        ) from exc
    return psycopg


def check_table_name(table) -> str:
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


def code_keys(packed: np.ndarray) -> np.ndarray:
    """Signed 64-bit keys ``(n, n_words)`` of packed codes: :func:`semhash.hashtable.pack_keys`
    reinterpreted as PostgreSQL ``bigint`` (two's complement, the same bits)."""
    from .hashtable import pack_keys

    return np.ascontiguousarray(pack_keys(packed)).view(np.int64)


def code_bits(packed: np.ndarray, n_bits: int) -> list[str]:
    """``'0101...'`` strings of packed codes, first bit first: PostgreSQL ``bit(n)`` input."""
    bits = np.unpackbits(np.asarray(packed, dtype=np.uint8).reshape(len(packed), -1), axis=1)[:, :n_bits]
    return ["".join(row) for row in np.where(bits.astype(bool), "1", "0")]


def probe_keys(query: np.ndarray, n_bits: int, radius: int) -> np.ndarray:
    """Signed keys ``(n_masks, n_words)`` of every code within ``radius`` of ``query``."""
    from .hashtable import flip_masks

    masks, _ = flip_masks(n_bits, radius)
    qkey = np.ascontiguousarray(code_keys(query.reshape(1, -1))).view(np.uint64)
    return np.ascontiguousarray(masks ^ qkey).view(np.int64)


def query_model_fingerprint(index) -> str:
    """SHA-256 of what turns a query into a code: vocabulary, idf and encoder weights."""
    h = hashlib.sha256()
    vec, enc = index.vectorizer, index.encoder
    h.update(json.dumps(sorted((str(w), int(j)) for w, j in vec.vocabulary_.items())).encode("utf-8"))
    idf = getattr(vec, "idf_", None)
    h.update(b"idf:none" if idf is None else np.ascontiguousarray(idf, dtype=np.float64).tobytes())
    for arr in [*enc.kernels, *enc.biases, enc.thresholds]:
        h.update(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
    h.update(json.dumps([list(enc.activations), float(enc.input_length)]).encode("utf-8"))
    return h.hexdigest()


def schema_sql(table: str, n_bits: int):
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for a documents table."""
    from psycopg import sql

    n_bits = int(n_bits)
    t = sql.Identifier(table)
    return [
        sql.SQL(
            "CREATE TABLE {} ("
            " row bigint PRIMARY KEY, id text NOT NULL UNIQUE, path text NOT NULL, title text NOT NULL,"
            " snippet text NOT NULL, code_int bigint NOT NULL, code_int2 bigint,"
            " code_bits bit({}) NOT NULL, tfidf_idx integer[] NOT NULL, tfidf_val real[] NOT NULL)"
        ).format(t, sql.Literal(n_bits)),
        sql.SQL("CREATE INDEX ON {} (code_int, code_int2)").format(t),
    ]


META_SCHEMA = (
    "CREATE TABLE semhash_meta ("
    " table_name text PRIMARY KEY, n_bits integer NOT NULL, n_docs bigint NOT NULL,"
    " vocabulary integer NOT NULL, fingerprint text NOT NULL, semhash_version text NOT NULL,"
    " loaded_at timestamptz NOT NULL DEFAULT now(), table_oid oid)"
)
# semhash_meta of semhash versions that did not record the table's OID
META_ADD_OID = "ALTER TABLE semhash_meta ADD COLUMN table_oid oid"


def ball_sql(table: str, wide: bool):
    """``(row, distance, code as '0101...')`` of every row within the probed keys, nearest
    first: params ``(query bits, keys[, keys2])``."""
    from psycopg import sql

    where = (
        "(code_int, code_int2) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))"
        if wide else "code_int = ANY(%s::bigint[])"
    )
    return sql.SQL(
        "SELECT row, d, code FROM (SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text AS code"
        " FROM {} WHERE " + where + ") AS ball ORDER BY d, row"
    ).format(sql.Identifier(table))


def range_sql(table: str):
    """``(row, distance, code)`` of every row within a radius by a full scan, nearest first:
    params ``(query bits, radius)``."""
    from psycopg import sql

    return sql.SQL(
        "SELECT row, d, code FROM (SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text AS code"
        " FROM {}) AS scan WHERE d <= %s ORDER BY d, row"
    ).format(sql.Identifier(table))


def knn_sql(table: str):
    """``(row, distance, code)`` of the nearest rows by ``(distance, row)``: params ``(query bits, limit)``."""
    from psycopg import sql

    return sql.SQL(
        "SELECT row, bit_count(code_bits # %s::bit varying) AS d, code_bits::text FROM {} ORDER BY d, row LIMIT %s"
    ).format(sql.Identifier(table))


def packed_from_bits(strings: list[str], n_bits: int) -> np.ndarray:
    """Packed codes ``(n, n_bits // 8)`` of ``'0101...'`` strings (the inverse of :func:`code_bits`)."""
    if not strings:
        return np.zeros((0, n_bits // 8), dtype=np.uint8)
    bits = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(len(strings), n_bits) - ord("0")
    return np.packbits(bits, axis=1)


def rows_sql(table: str, columns: tuple[str, ...]):
    """Selected columns of the rows in an array: params ``(rows,)``."""
    from psycopg import sql

    return sql.SQL("SELECT {} FROM {} WHERE row = ANY(%s::bigint[])").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(table)
    )


# ----------------------------------------------------------------------------- connections


def connect(dsn):
    """A psycopg connection, or a :class:`PostgresError` that says what to fix."""
    psycopg = _psycopg()
    if not isinstance(dsn, str) or not dsn.strip():
        raise PostgresConfigError(f"no PostgreSQL DSN given; {DSN_HELP}")
    if "\x00" in dsn:
        raise PostgresConfigError(f"the PostgreSQL DSN contains a NUL character; {DSN_HELP}")
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise PostgresConfigError(f"invalid PostgreSQL DSN ({_first_line(exc)}); {DSN_HELP}") from exc
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        raise PostgresConnectionError(
            f"cannot connect to PostgreSQL ({_first_line(exc)}); check that the server is running and that "
            "the DSN's host, port, user, password and database are right"
        ) from exc
    except psycopg.Error as exc:
        raise PostgresConnectionError(f"cannot connect to PostgreSQL ({_first_line(exc)}); {DSN_HELP}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _quoted(context, table: str) -> str:
    """``table`` as a quoted identifier, for ``to_regclass`` (``context``: a connection or cursor)."""
    from psycopg import sql

    return sql.Identifier(table).as_string(context)


def _table_oid(cur, table: str) -> int | None:
    """The OID of the relation ``table`` names now (search path), ``None`` when there is none."""
    cur.execute("SELECT to_regclass(%s)::oid", (_quoted(cur, table),))
    oid = cur.fetchone()[0]
    return None if oid is None else int(oid)


def _table_exists(cur, table: str) -> bool:
    return _table_oid(cur, table) is not None


def _has_column(cur, table: str, column: str) -> bool:
    cur.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        (_quoted(cur, table), column),
    )
    return cur.fetchone() is not None


def _not_ours(table: str, why: str) -> PostgresTableError:
    return PostgresTableError(
        f"table {table!r} already exists and was not loaded by semhash ({why}); semhash replaces only the "
        f"tables it created: choose another name with --table, or drop that table yourself if it is no "
        f"longer needed"
    )


def _check_replaceable(cur, table: str) -> int | None:
    """The OID of semhash's current table ``table`` (``None`` when no table has that name).

    A table of that name counts as semhash's only when its OID is the one ``semhash_meta``
    recorded when semhash created it; any other raises :class:`PostgresTableError`.
    """
    oid = _table_oid(cur, table)
    if oid is None:
        return None
    cur.execute("SELECT table_oid FROM semhash_meta WHERE table_name = %s", (table,))
    row = cur.fetchone()
    if row is None:
        raise _not_ours(table, "semhash_meta has no record of it")
    if row[0] is None:
        raise _not_ours(table, "semhash_meta, written by an older semhash, does not record which table it created")
    if int(row[0]) != oid:
        raise _not_ours(table, "it is not the table semhash created under that name, which was dropped")
    return oid


# ----------------------------------------------------------------------------- loading


def _document_rows(index, table_name: str):
    """``(row, id, path, title, snippet, key, key2, bits, idx, val)`` for every indexed row."""
    rows = np.asarray(index.table.ids_, dtype=np.int64)
    codes = np.asarray(index.table.codes_, dtype=np.uint8)
    order = np.argsort(rows, kind="stable")
    rows, codes = rows[order], codes[order]
    docs = index.documents(rows)
    missing = [int(r) for r in rows if int(r) not in docs]
    if missing:
        raise PostgresConfigError(
            f"{len(missing)} indexed row(s) have no stored document (first: row {missing[0]}); save and reopen the index first"
        )
    keys = code_keys(codes)
    bits = code_bits(codes, index.n_bits)
    tfidf = index.tfidf
    indptr, indices, data = tfidf.indptr, tfidf.indices, np.asarray(tfidf.data, dtype=np.float32)
    for i, r in enumerate(rows):
        d = docs[int(r)]
        for field in ("id", "path", "title", "snippet"):
            if "\x00" in getattr(d, field):
                raise PostgresConfigError(
                    f"document {d.id!r} has a NUL character in its {field}, which PostgreSQL text cannot hold; "
                    "remove it from the corpus and rebuild the index"
                )
        a, b = int(indptr[r]), int(indptr[r + 1])
        yield (
            int(r), d.id, d.path, d.title, d.snippet,
            int(keys[i, 0]), int(keys[i, 1]) if keys.shape[1] > 1 else None, bits[i],
            indices[a:b].astype(np.int64).tolist(), data[a:b].astype(np.float64).tolist(),
        )


def _prepare_meta(conn) -> None:
    """Create ``semhash_meta``, or add the ``table_oid`` column older versions did not write, in
    a short transaction of its own (readers of ``semhash_meta`` wait for it, not for a load)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
        if not _table_exists(cur, META_TABLE):
            cur.execute(META_SCHEMA)
        elif not _has_column(cur, META_TABLE, "table_oid"):
            cur.execute(META_ADD_OID)


def _swap_in(cur, staging: str, table: str, old_oid: int | None) -> None:
    """Replace semhash's table ``table`` (OID ``old_oid``) with the loaded ``staging`` table.

    The only statements of an export that lock the old table: readers wait for them alone.
    """
    from psycopg import sql

    if old_oid is not None:
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
        if _table_oid(cur, table) != old_oid:  # replaced since the check, by someone else
            raise _not_ours(table, "it was replaced while semhash loaded the new one")
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    elif _table_exists(cur, table):
        raise _not_ours(table, "it was created while semhash loaded the new one")
    cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(staging), sql.Identifier(table)))


def load_index(index, dsn: str, table: str = DEFAULT_TABLE) -> int:
    """Copy ``index`` (documents, codes, TF-IDF rows) into ``table``; returns the rows loaded.

    The rows go into a new table under a temporary name, which replaces the old one by a rename
    at the end of the same transaction: readers see the old or the new contents, never a mix,
    and wait only for the swap. A table that exists but was not created by semhash (its OID is
    not the one ``semhash_meta`` recorded) is never touched. Concurrent exports into one
    database are serialized by an advisory lock.
    """
    from psycopg import sql

    from . import __version__

    table = check_table_name(table)
    rows = list(_document_rows(index, table))  # validate every document before touching the database
    psycopg = _psycopg()
    staging = STAGING_PREFIX + secrets.token_hex(8)
    with connect(dsn) as conn:
        try:
            _prepare_meta(conn)
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
                old_oid = _check_replaceable(cur, table)  # before the load: refuse early
                for stmt in schema_sql(staging, index.n_bits)[:1]:
                    cur.execute(stmt)
                copy = sql.SQL(
                    "COPY {} (row, id, path, title, snippet, code_int, code_int2, code_bits, tfidf_idx, tfidf_val)"
                    " FROM STDIN"
                ).format(sql.Identifier(staging))
                with cur.copy(copy) as cp:
                    for r in rows:
                        cp.write_row(r)
                for stmt in schema_sql(staging, index.n_bits)[1:]:
                    cur.execute(stmt)
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(staging)))
                # the new table keeps its OID through the rename, so it is recorded now: the swap
                # is then the transaction's last step, and the old table is locked only until commit
                cur.execute(
                    "INSERT INTO semhash_meta (table_name, n_bits, n_docs, vocabulary, fingerprint, semhash_version,"
                    " table_oid) VALUES (%s, %s, %s, %s, %s, %s, to_regclass(%s)::oid) ON CONFLICT (table_name) DO"
                    " UPDATE SET n_bits = EXCLUDED.n_bits, n_docs = EXCLUDED.n_docs, vocabulary = EXCLUDED.vocabulary,"
                    " fingerprint = EXCLUDED.fingerprint, semhash_version = EXCLUDED.semhash_version,"
                    " table_oid = EXCLUDED.table_oid, loaded_at = now()",
                    (table, int(index.n_bits), len(rows), len(index.vectorizer.vocabulary_),
                     query_model_fingerprint(index), __version__, _quoted(cur, staging)),
                )
                _swap_in(cur, staging, table, old_oid)
        except PostgresError:
            raise
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PostgresConnectionError(
                f"the database user may not create or fill {table!r} ({_first_line(exc)}); "
                "grant it CREATE on the schema (and ownership of an existing table)"
            ) from exc
        except psycopg.Error as exc:
            raise PostgresError(f"loading {table!r} into PostgreSQL failed: {_first_line(exc)}") from exc
    return len(rows)


# ----------------------------------------------------------------------------- searching


class PostgresSearcher:
    """Search a table loaded by :func:`load_index`, encoding queries with ``index``.

    Connects on first use; :meth:`close` (or ``with``) releases the connection.
    """

    def __init__(self, dsn: str, table: str = DEFAULT_TABLE, index=None):
        self.dsn = dsn
        self.table = table
        self.index = index
        self._conn = None
        self._meta = None
        self._fingerprint = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- connection and checks

    def _connection(self):
        if self._conn is not None and self._conn.broken:  # lost (server restart): connect again
            self.close()
        if self._conn is None:
            if self.index is None:
                raise PostgresConfigError(
                    "a PostgreSQL search needs the local index the table was loaded from (give --index NAME)"
                )
            check_table_name(self.table)
            psycopg = _psycopg()
            conn = connect(self.dsn)
            # each query is one read-only transaction (see _snapshot); none is held between queries
            conn.autocommit = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            self._conn = conn
        return self._conn

    @contextmanager
    def _snapshot(self):
        """One query's transaction: the table locked against a swap before the snapshot is
        taken, then checked to be the table semhash loaded, from this searcher's index."""
        from psycopg import sql

        conn = self._connection()
        with self._translated(), conn.transaction():
            self._fetch(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier(self.table)), (),
                        rows=False)
            self._meta = self._check_table()
            yield

    def _load_hint(self) -> str:
        return f"load it with `semhash export --postgres DSN --index NAME --table {self.table}`"

    def _check_table(self) -> dict:
        fix = self._load_hint()
        found = self._fetch(
            "SELECT n_bits, n_docs, fingerprint, table_oid, to_regclass(%s)::oid FROM semhash_meta WHERE table_name = %s",
            (_quoted(self._conn, self.table), self.table),
        )
        if not found:
            raise PostgresTableError(f"table {self.table!r} is not a semhash table in this database; {fix}")
        n_bits, n_docs, fingerprint, recorded_oid, oid = found[0]
        if recorded_oid is None or oid is None or int(recorded_oid) != int(oid):
            raise PostgresTableError(
                f"table {self.table!r} is not the table semhash loaded under that name (it was replaced, or an "
                f"older semhash loaded it without recording which table it created); drop it if it is not "
                f"needed, then {fix}"
            )
        if self._fingerprint is None:
            self._fingerprint = query_model_fingerprint(self.index)
        if int(n_bits) != self.index.n_bits or fingerprint != self._fingerprint:
            raise PostgresTableError(
                f"table {self.table!r} was loaded from another index (different vocabulary or model); "
                f"query it with that index, or reload it: {fix}"
            )
        return {"n_bits": int(n_bits), "n_docs": int(n_docs)}

    def _fetch(self, query, params, rows: bool = True) -> list[tuple]:
        with self._translated(), self._connection().cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if rows else []

    @contextmanager
    def _translated(self):
        """Turn psycopg errors into :class:`PostgresError` (and subclasses) that say what to do."""
        psycopg = _psycopg()
        fix = self._load_hint()
        try:
            yield
        except psycopg.errors.UndefinedTable as exc:
            raise PostgresTableError(f"table {self.table!r} is not a semhash table in this database; {fix}") from exc
        except psycopg.errors.UndefinedColumn as exc:
            raise PostgresTableError(
                f"semhash_meta was written by an older semhash ({_first_line(exc)}); reload the table: {fix}"
            ) from exc
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:  # the session's timeouts
            raise PostgresError(f"PostgreSQL query failed: {_first_line(exc)}") from exc
        except psycopg.OperationalError as exc:
            raise PostgresConnectionError(f"lost the PostgreSQL connection ({_first_line(exc)})") from exc
        except psycopg.Error as exc:
            raise PostgresError(f"PostgreSQL query failed: {_first_line(exc)}") from exc

    # -- the query path (mirrors semhash.search.shortlist)

    def _rows_within(self, code: np.ndarray, bits: str, radius: int) -> list[tuple]:
        from .hashtable import ball_size

        n_bits = self.index.n_bits
        if ball_size(n_bits, radius) > MAX_PROBES:
            return self._fetch(range_sql(self.table), (bits, radius))
        keys = probe_keys(code, n_bits, radius)
        wide = keys.shape[1] > 1
        params = (bits, keys[:, 0].tolist(), keys[:, 1].tolist()) if wide else (bits, keys[:, 0].tolist())
        return self._fetch(ball_sql(self.table, wide), params)

    def _shortlist(self, code, query, k: int, radius: int, rerank: bool, bit_weights=None):
        from .search import MAX_SHORTLIST, MIN_SHORTLIST, merge_candidates, order_shortlist, select_candidates

        n_docs, n_bits = self._meta["n_docs"], self.index.n_bits
        bits = code_bits(code.reshape(1, -1), n_bits)[0]
        need = max(k, MIN_SHORTLIST) if rerank else k
        found = self._rows_within(code, bits, radius)
        filled = self._fetch(knn_sql(self.table), (bits, min(need, n_docs))) if len(found) < need else []
        (ids, dist), (kids, kdist) = _as_arrays(found), _as_arrays(filled)
        ids, dist = merge_candidates(ids, dist, kids, kdist, None)

        def codes_of(rows):  # only called when the weighted order is needed
            code_of = {int(r): c for r, _, c in found + filled}
            return packed_from_bits([code_of[int(r)] for r in rows], n_bits)

        ids, dist, wdist = select_candidates(ids, dist, max(MAX_SHORTLIST, k), rerank, code, bit_weights, codes_of)
        scores = self._cosine(ids, query) if rerank and len(ids) else None
        ids, dist, scores = order_shortlist(ids, dist, scores, k, wdist, bit_weights)
        if scores is None:
            scores = 1.0 - dist / n_bits
        return ids, dist, scores

    def _cosine(self, ids: np.ndarray, query) -> np.ndarray:
        from .search import cosine_scores

        found = {int(r): (i, v) for r, i, v in self._fetch(rows_sql(self.table, ("row", "tfidf_idx", "tfidf_val")),
                                                           (ids.tolist(),))}
        parts = [found.get(int(r), ([], [])) for r in ids]
        lengths = np.array([len(p[0]) for p in parts], dtype=np.int64)
        csr = SimpleNamespace(
            indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            indices=np.array([j for p in parts for j in p[0]], dtype=np.int64),
            data=np.array([x for p in parts for x in p[1]], dtype=np.float32),
            shape=(len(ids), len(self.index.vectorizer.vocabulary_)),
        )
        return cosine_scores(csr, np.arange(len(ids)), *query)

    def search_batch(self, texts: list[str], k: int = 10, radius: int | None = None,
                     rerank: bool = True) -> list[list]:
        """Hits for each text, in input order, equal to the local index's."""
        from .errors import QueryError
        from .search import Hit, check_query_args, check_text, encode_terms, query_terms

        if isinstance(texts, str):
            raise QueryError("search_batch expects a list of queries, not a single string")
        texts = [check_text(t) for t in texts]
        index = self.index
        if index is None:
            self._connection()  # raises the "needs the local index" error
        radius = check_query_args(index.n_bits, k, radius)
        vec = index.vectorizer
        terms = [query_terms(vec.vocabulary_, vec.idf_, t) for t in texts]
        for text, (cols, _) in zip(texts, terms):
            if not len(cols):
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise QueryError(
                    f"no word of the query {shown!r} is in the index vocabulary; try other words "
                    "(stop words and words seen in fewer than min_df documents are not indexed)"
                )
        out = []
        for cols, w in terms:
            code, bit_weights = encode_terms(index.encoder, cols, w)
            query = (cols, w / np.float32(np.sqrt(np.sum(w * w))))
            with self._snapshot():
                ids, dist, scores = self._shortlist(code, query, int(k), radius, rerank, bit_weights)
                docs = {int(r[0]): r for r in self._fetch(
                    rows_sql(self.table, ("row", "id", "path", "title", "snippet")), (ids.tolist(),))}
            out.append([
                Hit(rank=i + 1, id=docs[int(r)][1], title=docs[int(r)][3], snippet=docs[int(r)][4],
                    path=docs[int(r)][2], distance=int(d), score=round(float(s), 6), row=int(r))
                for i, (r, d, s) in enumerate(zip(ids, dist, scores)) if int(r) in docs
            ])
        return out

    def search(self, text: str, k: int = 10, radius: int | None = None, rerank: bool = True) -> list:
        """The ``k`` best documents for ``text``: the same hits as ``index.search``."""
        return self.search_batch([text], k=k, radius=radius, rerank=rerank)[0]


def _as_arrays(found: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and distances of ``(row, distance, ...)`` tuples."""
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    arr = np.asarray([f[:2] for f in found], dtype=np.int64)
    return arr[:, 0], arr[:, 1].astype(np.int32)


__all__ = [
    "DEFAULT_TABLE", "PostgresConfigError", "PostgresConnectionError", "PostgresError", "PostgresSearcher",
    "PostgresTableError", "load_index",
]
