"""PostgreSQL backend: store an index's documents and codes in a table and search them there.

The database holds the documents, their binary codes and their TF-IDF rows; the query is still
vectorized and encoded locally with the index the table was loaded from (the vocabulary and the
encoder are not stored). :class:`PostgresSearcher` answers exactly as :func:`semhash.search.search`
does on that index, in every query mode (same ids, same order, same distances, same scores): it is one more candidate
source of the same query pipeline (:mod:`semhash.pipeline`).

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

plus its lexical table (``semhash_lex_<hex>``, for modes ``lexical`` and ``hybrid``)::

    term       integer PRIMARY KEY  -- a vocabulary column
    idf        double precision     -- its BM25 idf
    rows       bigint[]             -- its postings: the rows holding the word ...
    scores     double precision[]   -- ... and the word's BM25 term in each (semhash.lexical)

plus one row per loaded table in ``semhash_meta`` (n_bits, document count, a fingerprint of
the vocabulary and encoder that made the codes, the OID of the table the export created, and
the name and OID of its lexical table).
A table counts as semhash's only while its OID is the one recorded: a user's table of the same
name (created after dropping semhash's) has another OID and is never replaced or searched.

Modules: :mod:`~semhash.postgres.connection` (DSN, connection, catalog),
:mod:`~semhash.postgres.statements` (the SQL), :mod:`~semhash.postgres.values` (codes and
documents as column values), :mod:`~semhash.postgres.load` (the export) and
:mod:`~semhash.postgres.searcher` (the search). psycopg is imported on first use only.
"""

from ..errors import PostgresConfigError, PostgresConnectionError, PostgresError, PostgresTableError
from .connection import CONNECT_TIMEOUT, DEFAULT_TABLE, DSN_HELP, META_TABLE, check_table_name, connect
from .load import EXPORT_LOCK_KEY, STAGING_PREFIX, load_index
from .searcher import MAX_PROBES, PostgresSearcher
from .statements import META_ADD_OID, META_SCHEMA, ball_sql, knn_sql, range_sql, rows_sql, schema_sql
from .values import code_bits, code_keys, packed_from_bits, probe_keys, query_model_fingerprint

__all__ = [
    "CONNECT_TIMEOUT", "DEFAULT_TABLE", "DSN_HELP", "EXPORT_LOCK_KEY", "MAX_PROBES", "META_ADD_OID", "META_SCHEMA",
    "META_TABLE", "STAGING_PREFIX", "PostgresConfigError", "PostgresConnectionError", "PostgresError",
    "PostgresSearcher", "PostgresTableError", "ball_sql", "check_table_name", "code_bits", "code_keys", "connect",
    "knn_sql", "load_index", "packed_from_bits", "probe_keys", "query_model_fingerprint", "range_sql", "rows_sql",
    "schema_sql",
]
