"""Searching a table loaded by :func:`semhash.postgres.load_index`: PostgreSQL as a candidate
source of the query pipeline (:mod:`semhash.pipeline`).

The query is vectorized and encoded locally with the index the table was loaded from; the
pipeline then asks the table for the Hamming ball (an exact-match probe: the query key XORed
with every flip mask of popcount <= radius, sent as one array and matched with
``code_int = ANY(...)`` over the btree index; a ball larger than :data:`MAX_PROBES` masks is a
``bit_count(code_bits # query)`` range query), the k-nearest fill (``bit_count`` ordered), the
TF-IDF rows and the documents; modes ``lexical`` and ``hybrid`` also ask the table's lexical
table (its BM25 postings, written at export) for the rows with the best sums of the query words'
terms and for the sums of the shortlist's rows. Each query is one read-only repeatable-read
transaction that first locks the table (``ACCESS SHARE``), so it sees the old contents or the
new ones, never a mix, and checks the table's OID and fingerprint in the same snapshot (and the
lexical table's recorded OID before it reads it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, Self

import numpy as np

from ..bitflip import ball_size
from ..checks import check_list, check_text
from ..codes import CsrArrays
from ..errors import (
    PostgresConfigError,
    PostgresConnectionError,
    PostgresError,
    PostgresTableError,
    QueryError,
)
from ..lexical import best_of
from ..pipeline import Hit, run_queries
from ..query import QueryOptions, Terms, encode_queries, terms_of
from .connection import DEFAULT_TABLE, check_table_name, connect, first_line, psycopg, quoted
from .statements import (
    META_CHECK,
    META_LEXICAL,
    ball_sql,
    idf_sql,
    knn_sql,
    lexical_sql,
    range_sql,
    rows_sql,
    table_sql,
)
from .values import code_bits, packed_from_bits, probe_keys, query_model_fingerprint, rows_and_distances

# larger Hamming balls are answered by a bit_count range query instead of a key probe
MAX_PROBES = 65_536


class DocumentRow(NamedTuple):
    """A stored document as a hit shows it."""

    id: str
    path: str
    title: str
    snippet: str


class PostgresSearcher:
    """Search a table loaded by :func:`load_index`, encoding queries with ``index``.

    Connects on first use; :meth:`close` (or ``with``) releases the connection. It is the
    pipeline's :class:`semhash.pipeline.CandidateSource` for that table: one query per snapshot.
    """

    queries_per_snapshot: int | None = 1  # each query in its own read-only transaction

    def __init__(self, dsn: str, table: str = DEFAULT_TABLE, index: Any = None) -> None:
        self.dsn = dsn
        self.table = table
        self.index = index
        self._conn: Any = None
        self._meta: dict | None = None
        self._fingerprint: str | None = None
        self._codes: dict[int, str] = {}  # the code of every row this snapshot's ball, fill and lexical met
        self._lexical_table: str | None = None  # this snapshot's, once checked

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- searching

    def search_batch(self, texts: list[str], k: int = 10, radius: int | None = None, rerank: bool = True,
                     mode: str | None = None) -> list[list[Hit]]:
        """Hits for each text, in input order, equal to the local index's in every ``mode``
        (``None``: the local index's default)."""
        texts = [check_text(t) for t in check_list(texts, "queries", "search_batch", QueryError)]
        if self.index is None:
            self._connection()  # raises the "needs the local index" error
        opts = QueryOptions.make(self.index.n_bits, k, radius, rerank, mode=mode)
        terms = [terms_of(self.index.vectorizer, t) for t in texts]
        return run_queries(self, encode_queries(self.index.encoder, terms), opts)

    def search(self, text: str, k: int = 10, radius: int | None = None, rerank: bool = True,
               mode: str | None = None) -> list[Hit]:
        """The ``k`` best documents for ``text``: the same hits as ``index.search``."""
        return self.search_batch([text], k=k, radius=radius, rerank=rerank, mode=mode)[0]

    # -- the candidate source

    @property
    def n_bits(self) -> int:
        return int(self.index.n_bits)

    @contextmanager
    def snapshot(self, threads: int = 1) -> Iterator[None]:
        """One query's transaction: the table locked against a swap before the snapshot is
        taken, then checked to be the table semhash loaded, from this searcher's index."""
        conn = self._connection()
        with self._translated(), conn.transaction():
            self._fetch(table_sql("LOCK TABLE {} IN ACCESS SHARE MODE", self.table), (), rows=False)
            self._meta = self._check_table()
            self._codes, self._lexical_table = {}, None
            yield

    def size(self) -> int:
        return int(self._meta["n_docs"]) if self._meta else 0

    def ball(self, code: np.ndarray, radius: int, lookup: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        bits = code_bits(code.reshape(1, -1), self.n_bits)[0]
        if ball_size(self.n_bits, radius) > MAX_PROBES:
            return self._remember(self._fetch(range_sql(self.table), (bits, radius)))
        keys = probe_keys(code, self.n_bits, radius)
        wide = keys.shape[1] > 1
        params = (bits, keys[:, 0].tolist(), keys[:, 1].tolist()) if wide else (bits, keys[:, 0].tolist())
        return self._remember(self._fetch(ball_sql(self.table, wide), params))

    def knn(self, code: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        bits = code_bits(code.reshape(1, -1), self.n_bits)[0]
        return self._remember(self._fetch(knn_sql(self.table), (bits, k)))

    def codes_of(self, ids: np.ndarray) -> np.ndarray:
        return packed_from_bits([self._codes[int(r)] for r in ids], self.n_bits)

    def tfidf_rows(self, ids: np.ndarray) -> tuple[CsrArrays, np.ndarray]:
        found = {int(r): (i, v) for r, i, v in self._fetch(rows_sql(self.table, ("row", "tfidf_idx", "tfidf_val")),
                                                           (np.asarray(ids).tolist(),))}
        parts = [found.get(int(r), ([], [])) for r in ids]
        lengths = np.array([len(p[0]) for p in parts], dtype=np.int64)
        csr = CsrArrays(
            data=np.array([x for p in parts for x in p[1]], dtype=np.float32),
            indices=np.array([j for p in parts for j in p[0]], dtype=np.int64),
            indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            shape=(len(parts), len(self.index.vectorizer.vocabulary_)),
        )
        return csr, np.arange(len(parts))

    def lexical(self, terms: Terms, n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The BM25 sums of the table's lexical table (each posting's term stored at export, as the
        local index computes it; the sums are exact in any order), over the most the query could
        score (:func:`semhash.lexical.best_of` of the stored idf, in the query's column order):
        bit for bit the local index's scores."""
        lexical = self._checked_lexical_table()
        cols = np.asarray(terms[0], dtype=np.int64).tolist()
        idf = dict(self._fetch(idf_sql(lexical), (cols,)))
        if len(idf) != len(set(cols)):
            raise PostgresTableError(f"the lexical table of {self.table!r} does not hold every word of the "
                                     f"vocabulary; reload it: {self._load_hint()}")
        best = best_of(np.array([idf[c] for c in cols], dtype=np.float64))
        ids = np.asarray(ids, dtype=np.int64)
        found = self._fetch(lexical_sql(lexical, self.table), (cols, int(n), ids.tolist()))
        top = [(int(r), float(v)) for r, v, code in found if code is not None]
        self._codes.update((int(r), code) for r, _, code in found if code is not None)
        top.sort(key=lambda rv: (-rv[1], rv[0]))  # as the statement ranked them: by sum, then row
        sums = {int(r): float(v) for r, v, code in found if code is None}
        top_ids = np.array([r for r, _ in top], dtype=np.int64)
        top_sums = np.array([v for _, v in top], dtype=np.float64)
        scores = np.array([sums.get(r, 0.0) for r in ids.tolist()], dtype=np.float64)
        return top_ids, top_sums / best, scores / best

    def documents(self, ids: np.ndarray) -> dict[int, DocumentRow]:
        found = self._fetch(rows_sql(self.table, ("row", "id", "path", "title", "snippet")),
                            (np.asarray(ids).tolist(),))
        return {int(r[0]): DocumentRow(*r[1:]) for r in found}

    def _remember(self, found: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and distances of ``(row, distance, code)`` results, their codes kept for :meth:`codes_of`."""
        self._codes.update((int(r), c) for r, _, c in found)
        return rows_and_distances(found)

    # -- connection and checks

    def _connection(self) -> Any:
        if self._conn is not None and self._conn.broken:  # lost (server restart): connect again
            self.close()
        if self._conn is None:
            if self.index is None:
                raise PostgresConfigError(
                    "a PostgreSQL search needs the local index the table was loaded from (give --index NAME)"
                )
            check_table_name(self.table)
            pg = psycopg()
            conn = connect(self.dsn)
            # each query is one read-only transaction (see snapshot); none is held between queries
            conn.autocommit = True
            conn.isolation_level = pg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            self._conn = conn
        return self._conn

    def _load_hint(self) -> str:
        return f"load it with `semhash export --postgres DSN --index NAME --table {self.table}`"

    def _check_table(self) -> dict:
        fix = self._load_hint()
        found = self._fetch(META_CHECK, (quoted(self._conn, self.table), self.table))
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

    def _checked_lexical_table(self) -> str:
        """The lexical table semhash_meta records for this table (modes lexical and hybrid), or a
        :class:`PostgresTableError` saying to re-export a table loaded without one."""
        if self._lexical_table is None:
            found = self._fetch(META_LEXICAL, (self.table,))
            name, recorded, oid = found[0] if found else (None, None, None)
            if name is None or recorded is None:
                raise PostgresTableError(
                    f"table {self.table!r} was loaded by an older semhash, without the lexical index that modes "
                    f"'lexical' and 'hybrid' need; re-export it to add one ({self._load_hint()}), or search "
                    f"it with --mode semantic")
            if oid is None or int(oid) != int(recorded):
                raise PostgresTableError(
                    f"the lexical index of table {self.table!r} ({name!r}) was dropped or replaced; re-export the "
                    f"table ({self._load_hint()}), or search it with --mode semantic")
            self._lexical_table = str(name)
            self._fetch(table_sql("LOCK TABLE {} IN ACCESS SHARE MODE", self._lexical_table), (), rows=False)
        return self._lexical_table

    def _fetch(self, query: Any, params: tuple, rows: bool = True) -> list[tuple]:
        with self._translated(), self._connection().cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if rows else []

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn psycopg errors into :class:`PostgresError` (and subclasses) that say what to do."""
        pg = psycopg()
        fix = self._load_hint()
        try:
            yield
        except pg.errors.UndefinedTable as exc:
            raise PostgresTableError(f"table {self.table!r} is not a semhash table in this database; {fix}") from exc
        except pg.errors.UndefinedColumn as exc:
            raise PostgresTableError(
                f"semhash_meta was written by an older semhash ({first_line(exc)}); reload the table: {fix}"
            ) from exc
        except (pg.errors.LockNotAvailable, pg.errors.QueryCanceled) as exc:  # the session's timeouts
            raise PostgresError(f"PostgreSQL query failed: {first_line(exc)}") from exc
        except pg.OperationalError as exc:
            raise PostgresConnectionError(f"lost the PostgreSQL connection ({first_line(exc)})") from exc
        except pg.Error as exc:
            raise PostgresError(f"PostgreSQL query failed: {first_line(exc)}") from exc


__all__ = ["MAX_PROBES", "DocumentRow", "PostgresSearcher"]
