"""The PostgreSQL backend against a real server: same hits as the local index, no SQL injection.

Runs when ``SEMHASH_TEST_PG_DSN`` names a database the tests may create tables in (``.ci/run``
starts a throw-away server with ``.ci/postgres.sh``); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import secrets

import numpy as np
import pytest
from conftest import NG20

psycopg = pytest.importorskip("psycopg")
DSN = os.environ.get("SEMHASH_TEST_PG_DSN")
pytestmark = pytest.mark.skipif(not DSN, reason="SEMHASH_TEST_PG_DSN is not set (run .ci/postgres.sh start)")

from semhash.postgres import (  # noqa: E402
    PostgresConfigError,
    PostgresConnectionError,
    PostgresSearcher,
    PostgresTableError,
    load_index,
)

GROUPS = ["comp.graphics", "rec.autos", "sci.space", "soc.religion.christian"]
PER_GROUP = 100
HOSTILE_IDS = [
    "'; DROP TABLE semhash_docs; --",
    "quote \" and ' and \\ backslash \\' $1 %s %(x)s ;--",
]
HOSTILE_TABLE = 'x"; DROP TABLE semhash_docs; --'
SHORT_QUERIES = [
    "space shuttle launch orbit", "nasa moon mission", "car engine oil", "buying a used car dealer",
    "jpeg image format conversion", "3d graphics rendering software", "god jesus bible church",
    "faith prayer christian", "satellite", "brake tires speed",
]


def read_slice(split: str, per_group: int, skip: int = 0):
    from semhash.corpus import Document

    docs = []
    for group in GROUPS:
        files = sorted((NG20 / split / group).iterdir())[skip : skip + per_group]
        for f in files:
            text = f.read_text(encoding="latin-1")
            title = next((l.strip() for l in text.splitlines() if l.strip()), f.name)
            docs.append(Document(id=f"{group}/{f.name}", path=str(f), title=title[:200], text=text))
    return docs


def drop_tables(conn, *tables: str) -> None:
    """Drop semhash's tables ``tables``, their lexical tables and their records."""
    for t in tables:
        conn.execute(psycopg.sql.SQL("DROP TABLE IF EXISTS {}").format(psycopg.sql.Identifier(t)))
        if conn.execute("SELECT to_regclass('semhash_meta')").fetchone()[0] is not None:
            found = conn.execute("SELECT to_jsonb(m) ->> 'lexical_table' FROM semhash_meta AS m WHERE table_name = %s",
                                 (t,)).fetchone()
            if found and found[0]:
                conn.execute(psycopg.sql.SQL("DROP TABLE IF EXISTS {}").format(psycopg.sql.Identifier(found[0])))
            conn.execute("DELETE FROM semhash_meta WHERE table_name = %s", (t,))


@pytest.fixture(scope="module")
def conn():
    with psycopg.connect(DSN, autocommit=True) as c:
        yield c
        # leave the database as the tests found it (no export ran when the 20NG tests were skipped,
        # so there may be no semhash_meta to read)
        exported = c.execute("SELECT to_regclass('semhash_meta')").fetchone()[0] is not None
        for (name,) in c.execute("SELECT table_name FROM semhash_meta WHERE table_name LIKE 'pgtest%%' "
                                 "OR table_name = %s OR table_name = 'semhash_docs'",
                                 (HOSTILE_TABLE,)).fetchall() if exported else []:
            drop_tables(c, name)
        c.execute("DROP TABLE IF EXISTS pgtest_plain")


def count(conn, table: str) -> int:
    return conn.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(table))).fetchone()[0]


def build(n_bits: int):
    from semhash.index import IndexConfig, SemanticIndex
    from semhash.model import ModelConfig

    if not (NG20 / "train").is_dir():
        pytest.skip(f"20 Newsgroups not found at {NG20}")
    docs = read_slice("train", PER_GROUP)
    # hostile ids on real text, so they are indexed like any other document
    docs += [type(d)(id=i, path=d.path, title=i, text=d.text) for i, d in zip(HOSTILE_IDS, read_slice("test", 1))]
    config = IndexConfig(model=ModelConfig(n_bits=n_bits, hidden=(64, 32), epochs=5, pretrain_epochs=2))
    return SemanticIndex.build(docs, config)


@pytest.fixture(scope="module", params=[32, 72], ids=["32bits", "72bits"])
def loaded(request, conn):
    idx = build(request.param)
    table = f"pgtest_{request.param}"
    n = load_index(idx, DSN, table=table)
    assert n == len(idx.table) == count(conn, table)
    with PostgresSearcher(DSN, table, idx) as searcher:
        yield idx, table, searcher


@pytest.fixture(scope="module")
def queries():
    long = [" ".join(d.text.split()[-60:]) for d in read_slice("test", 4, skip=5)]
    return SHORT_QUERIES + long  # 26 queries


def same_hits(pg, local):
    assert [h.id for h in pg] == [h.id for h in local]
    assert [(h.rank, h.row, h.distance, h.title, h.snippet, h.path) for h in pg] == \
        [(h.rank, h.row, h.distance, h.title, h.snippet, h.path) for h in local]
    assert [h.score for h in pg] == pytest.approx([h.score for h in local], abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("rerank", [True, False], ids=["rerank", "hamming"])
def test_same_results_as_local_index(loaded, queries, rerank):
    idx, _, searcher = loaded
    radii = [0, 1, 2, 3, 5]  # radius 5 asks for a ball larger than MAX_PROBES: the bit_count path
    for radius in radii:
        for k in (5, 20):
            local = idx.search_batch(queries, k=k, radius=radius, rerank=rerank, threads=1)
            pg = searcher.search_batch(queries, k=k, radius=radius, rerank=rerank)
            for lh, ph in zip(local, pg):
                assert len(ph) == k
                same_hits(ph, lh)


@pytest.mark.slow
def test_default_radius_and_large_k(loaded):
    idx, _, searcher = loaded
    for q in SHORT_QUERIES[:4]:
        same_hits(searcher.search(q), idx.search(q))
        same_hits(searcher.search(q, k=len(idx.table) + 5, rerank=False),
                  idx.search(q, k=len(idx.table) + 5, rerank=False, mode="semantic"))


@pytest.mark.slow
def test_hostile_ids_and_queries_cannot_change_the_sql(loaded, conn):
    idx, table, searcher = loaded
    before = count(conn, table)
    for hostile in HOSTILE_IDS:
        got = conn.execute(psycopg.sql.SQL("SELECT id, title FROM {} WHERE id = %s").format(
            psycopg.sql.Identifier(table)), (hostile,)).fetchall()
        assert got == [(hostile, hostile)]  # round-trips exactly
    evil = ["'; DROP TABLE semhash_docs; -- space shuttle", 'car" OR 1=1; --', "god \\' bible \\\\", "space\x00orbit"]
    for q in evil:
        same_hits(searcher.search(q, k=10), idx.search(q, k=10))
    # a query built from a hostile document's text finds that document, as the local index does
    hostile_doc = idx.documents([len(idx.table) - 2])[len(idx.table) - 2]
    assert hostile_doc.id == HOSTILE_IDS[0]
    q = read_slice("test", 1)[0].text  # the hostile document's own text
    pg, local = searcher.search(q, k=3), idx.search(q, k=3)
    same_hits(pg, local)
    assert HOSTILE_IDS[0] in [h.id for h in pg]
    assert count(conn, table) == before
    assert conn.execute("SELECT to_regclass('semhash_meta') IS NOT NULL").fetchone()[0]


@pytest.mark.slow
def test_hostile_table_name_is_one_quoted_identifier(loaded, conn):
    idx, table, _ = loaded
    before = count(conn, table)
    load_index(idx, DSN, table=HOSTILE_TABLE)
    assert count(conn, HOSTILE_TABLE) == len(idx.table)
    assert count(conn, table) == before
    with PostgresSearcher(DSN, HOSTILE_TABLE, idx) as s:
        same_hits(s.search("space shuttle"), idx.search("space shuttle"))
    with pytest.raises(PostgresConfigError, match="NUL"):
        load_index(idx, DSN, table="a\x00b")
    with pytest.raises(PostgresConfigError, match="semhash's own metadata table"):
        load_index(idx, DSN, table="semhash_meta")


@pytest.mark.slow
def test_nul_in_a_document_is_a_clean_error_and_changes_nothing(loaded, conn, monkeypatch):
    idx, table, _ = loaded
    before = count(conn, table)
    real = idx.documents

    def with_nul(rows):
        docs = real(rows)
        r = min(docs)
        docs[r] = type(docs[r])(docs[r].row, "bad\x00id", docs[r].path, docs[r].title, docs[r].snippet)
        return docs

    monkeypatch.setattr(idx, "documents", with_nul)
    with pytest.raises(PostgresConfigError, match="NUL character in its id"):
        load_index(idx, DSN, table=table)
    assert count(conn, table) == before


def test_an_export_read_a_few_rows_at_a_time_loads_the_same_table(loaded, conn, monkeypatch):
    """The export reads the store ROW_BATCH rows at a time (a million documents are never all in
    memory): with batches of 7 the table holds exactly what the one-batch export loaded."""
    from semhash.postgres import values

    idx, table, _ = loaded
    monkeypatch.setattr(values, "ROW_BATCH", 7)
    assert load_index(idx, DSN, table=f"{table}_batched") == len(idx.table)
    from semhash.postgres.statements import COLUMNS

    select = f"SELECT {', '.join(COLUMNS)} FROM {{}} ORDER BY row"
    rows = [conn.execute(psycopg.sql.SQL(select).format(psycopg.sql.Identifier(t))).fetchall()
            for t in (table, f"{table}_batched")]
    assert rows[0] == rows[1] and len(rows[0]) == len(idx.table)


@pytest.mark.slow
def test_reload_replaces_the_table(loaded, conn):
    idx, table, searcher = loaded
    assert load_index(idx, DSN, table=table) == len(idx.table)
    assert count(conn, table) == len(idx.table)
    same_hits(searcher.search("nasa moon mission"), idx.search("nasa moon mission"))


def test_refuses_to_overwrite_a_table_it_did_not_make(loaded, conn):
    idx = loaded[0]
    conn.execute("CREATE TABLE IF NOT EXISTS pgtest_plain (name text)")
    conn.execute("INSERT INTO pgtest_plain VALUES ('keep me')")
    with pytest.raises(PostgresTableError, match="was not loaded by semhash"):
        load_index(idx, DSN, table="pgtest_plain")
    assert conn.execute("SELECT count(*) FROM pgtest_plain").fetchone()[0] >= 1


def test_errors_name_the_fix(loaded, conn):
    idx, table, _ = loaded
    with pytest.raises(PostgresConfigError, match="invalid PostgreSQL DSN.*postgresql://USER"):
        PostgresSearcher("host=localhost nonsense", table, idx).search("space")
    with pytest.raises(PostgresConnectionError, match="check that the server is running"):
        PostgresSearcher("postgresql://nobody:x@127.0.0.1:1/none", table, idx).search("space")
    with pytest.raises(PostgresTableError, match="semhash export --postgres DSN --index NAME --table pgtest_missing"):
        PostgresSearcher(DSN, "pgtest_missing", idx).search("space")
    with pytest.raises(PostgresConfigError, match="needs the local index"):
        PostgresSearcher(DSN, table, None).search("space")
    load_index(idx, DSN, table="pgtest_other")  # then pretend another model made it
    conn.execute("UPDATE semhash_meta SET fingerprint = 'another' WHERE table_name = 'pgtest_other'")
    with pytest.raises(PostgresTableError, match="loaded from another index"):
        PostgresSearcher(DSN, "pgtest_other", idx).search("space")


# --------------------------------------------------------------------------- command line


MODES = ("semantic", "hybrid", "lexical")


def exact_hits(pg, local):
    """The same hits with the same scores, to the bit (both are rounded to 6 decimals alike)."""
    same_hits(pg, local)
    assert [h.score for h in pg] == [h.score for h in local]


@pytest.mark.slow
def test_every_mode_gives_the_local_index_s_hits(loaded, queries):
    idx, _, searcher = loaded
    for mode in MODES:
        for k in (5, 30):
            local = idx.search_batch(queries, k=k, threads=1, mode=mode)
            pg = searcher.search_batch(queries, k=k, mode=mode)
            for lh, ph in zip(local, pg):
                assert len(ph) > 0
                exact_hits(ph, lh)
    exact_hits(searcher.search("space shuttle"), idx.search("space shuttle"))  # the same default mode
    exact_hits(searcher.search("space shuttle", radius=0, k=3), idx.search("space shuttle", radius=0, k=3))


def lexical_scores_of(searcher, idx, text: str, n: int, rows: np.ndarray):
    from semhash.query import terms_of

    terms = terms_of(idx.vectorizer, text)
    with searcher.snapshot():
        pg = searcher.lexical(terms, n, rows)
    return pg, idx.lexical.top(terms[0], n, rows)


def test_lexical_scores_are_the_local_index_s_to_the_bit(loaded):
    idx, _, searcher = loaded
    rows = np.asarray(idx.table.ids_, dtype=np.int64)[::7]
    for text in [*SHORT_QUERIES, " ".join(SHORT_QUERIES)]:
        for n in (0, 10, len(idx.table) + 3):
            pg, local = lexical_scores_of(searcher, idx, text, n, rows)
            for a, b in zip(pg, local):
                np.testing.assert_array_equal(a, b)


def test_every_mode_after_add_remove_and_reexport(loaded, conn):
    from semhash.index import SemanticIndex

    idx, _, _ = loaded
    if idx.n_bits != 32:
        pytest.skip("checked once")
    changed = SemanticIndex.build(read_slice("train", 30), idx_config(idx))
    changed.add(read_slice("train", 10, skip=30))
    changed.remove([d.id for d in read_slice("train", 5)])
    table = "pgtest_changed"
    load_index(changed, DSN, table=table)
    with PostgresSearcher(DSN, table, changed) as searcher:
        for mode in MODES:
            for q in SHORT_QUERIES[:5]:
                exact_hits(searcher.search(q, k=15, mode=mode), changed.search(q, k=15, mode=mode))
        before = lexical_table_of(conn, table)
        changed.add(read_slice("train", 5, skip=60))
        changed.remove([d.id for d in read_slice("train", 3, skip=10)])
        load_index(changed, DSN, table=table)  # re-export: the old lexical table goes with the old table
        for mode in MODES:
            for q in SHORT_QUERIES[5:]:
                exact_hits(searcher.search(q, k=15, mode=mode), changed.search(q, k=15, mode=mode))
    assert lexical_table_of(conn, table) != before
    assert conn.execute("SELECT to_regclass(quote_ident(%s))", (before,)).fetchone()[0] is None  # none left behind


def idx_config(idx):
    from semhash.index import IndexConfig
    from semhash.model import ModelConfig

    return IndexConfig(model=ModelConfig(n_bits=idx.n_bits, hidden=(64, 32), epochs=2, pretrain_epochs=1))


def lexical_table_of(conn, table: str) -> str:
    """The lexical table semhash_meta records for ``table`` (one that exists)."""
    name = conn.execute("SELECT lexical_table FROM semhash_meta WHERE table_name = %s", (table,)).fetchone()[0]
    assert conn.execute("SELECT to_regclass(quote_ident(%s))", (name,)).fetchone()[0] is not None
    return name


def test_a_table_without_its_lexical_index_names_the_fix(loaded, conn):
    idx, _, _ = loaded
    if idx.n_bits != 32:
        pytest.skip("checked once")
    table = "pgtest_nolex"
    load_index(idx, DSN, table=table)
    lexical = lexical_table_of(conn, table)
    with PostgresSearcher(DSN, table, idx) as searcher:
        conn.execute("UPDATE semhash_meta SET lexical_table = NULL, lexical_oid = NULL WHERE table_name = %s",
                     (table,))  # as an older semhash loaded it
        for mode in ("hybrid", "lexical"):
            with pytest.raises(PostgresTableError, match="loaded by an older semhash, without the lexical index.*"
                               "re-export it.*semhash export --postgres DSN --index NAME --table pgtest_nolex.*"
                               "--mode semantic"):
                searcher.search("space shuttle", mode=mode)
        exact_hits(searcher.search("space shuttle", mode="semantic"), idx.search("space shuttle", mode="semantic"))
        conn.execute("UPDATE semhash_meta SET lexical_table = %s, lexical_oid = 1 WHERE table_name = %s",
                     (lexical, table))  # its lexical table replaced by another of that name
        with pytest.raises(PostgresTableError, match="was dropped or replaced; re-export the table"):
            searcher.search("space shuttle", mode="hybrid")
    conn.execute(psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(lexical)))


def test_cli_export_then_query_equals_local(loaded, tmp_path, conn):
    from click.testing import CliRunner

    from semhash.cli import cli

    idx, _, _ = loaded
    if idx.n_bits != 32:
        pytest.skip("the command line is checked once")
    folder = idx.save(tmp_path / "ng")
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--postgres", DSN, "--index", str(folder), "--table", "pgtest_cli"])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(idx.table)} documents ({idx.n_bits} bits) into PostgreSQL table 'pgtest_cli'" in result.output
    assert DSN not in result.output  # the password stays out of the output
    for args in (["space shuttle launch", "-k", "7"], ["car engine", "--no-rerank", "--radius", "1"],
                 ["god bible", "-k", "3", "--radius", "0"]):
        local = runner.invoke(cli, ["query", *args, "--index", str(folder), "--json"])
        pg = runner.invoke(cli, ["query", *args, "--index", str(folder), "--json", "--postgres", DSN,
                                 "--table", "pgtest_cli"])
        assert local.exit_code == 0 and pg.exit_code == 0, (local.output, pg.output)
        lh, ph = json.loads(local.output), json.loads(pg.output)
        assert [h["id"] for h in ph] == [h["id"] for h in lh]
        assert [{**h, "score": round(h["score"], 5)} for h in ph] == [{**h, "score": round(h["score"], 5)} for h in lh]
    qfile = tmp_path / "q.txt"
    qfile.write_text("space shuttle\ncar dealer\n", encoding="utf-8")
    local = runner.invoke(cli, ["query", "--file", str(qfile), "--index", str(folder), "--json"])
    pg = runner.invoke(cli, ["query", "--file", str(qfile), "--index", str(folder), "--json", "--postgres", DSN,
                             "--table", "pgtest_cli"])
    assert pg.exit_code == 0, pg.output
    assert [[h["id"] for h in r["hits"]] for r in json.loads(pg.output)] == \
        [[h["id"] for h in r["hits"]] for r in json.loads(local.output)]
    bad = runner.invoke(cli, ["query", "space", "--index", str(folder), "--postgres", "postgresql://u:secret@127.0.0.1:1/x"])
    assert bad.exit_code == 1
    assert "Error: cannot connect to PostgreSQL" in bad.output and "check that the server is running" in bad.output
    missing = runner.invoke(cli, ["query", "space", "--index", str(folder), "--postgres", DSN, "--table", "pgtest_none"])
    assert missing.exit_code == 1
    assert "table 'pgtest_none' is not a semhash table in this database" in missing.output
    for mode in (None, *MODES):  # every mode, and the default, as the local index answers it
        chosen = [] if mode is None else ["--mode", mode]
        local = runner.invoke(cli, ["query", "read the file", "--index", str(folder), "--json", "-k", "8", *chosen])
        pg = runner.invoke(cli, ["query", "read the file", "--index", str(folder), "--json", "-k", "8", *chosen,
                                 "--postgres", DSN, "--table", "pgtest_cli"])
        assert local.exit_code == 0 and pg.exit_code == 0, (local.output, pg.output)
        assert json.loads(pg.output) == json.loads(local.output)
    table_only = runner.invoke(cli, ["query", "space", "--index", str(folder), "--table", "pgtest_cli"])
    assert table_only.exit_code == 2 and "--table needs --postgres" in table_only.output


# --------------------------------------------------------------------------- ownership, concurrency, swaps, ties


DUP_GROUPS = ["comp.graphics", "rec.autos", "sci.space", "soc.religion.christian", "sci.med", "talk.politics.guns"]
DUP_COPIES = 4


def dsn_with(**settings) -> str:
    """The test DSN with PostgreSQL settings for every session (``-c name=value``)."""
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    return psycopg.conninfo.make_conninfo(DSN, options=options)


def tail_queries(per_group: int = 6, words: int = 40) -> list[str]:
    queries = []
    for group in DUP_GROUPS:
        for f in sorted((NG20 / "test" / group).iterdir())[:per_group]:
            queries.append(" ".join(f.read_text(encoding="latin-1").split()[-words:]))
    return queries


@pytest.fixture(scope="module")
def dup_index(tmp_path_factory):
    """A saved 128-bit index in which every document is indexed ``DUP_COPIES`` times (the copies
    ``N`` rows apart), so many documents share one code."""
    from semhash.corpus import Document
    from semhash.index import IndexConfig, SemanticIndex
    from semhash.model import ModelConfig

    if not (NG20 / "train").is_dir():
        pytest.skip(f"20 Newsgroups not found at {NG20}")
    base = [(f"{g}/{f.name}", str(f), f.read_text(encoding="latin-1"))
            for g in DUP_GROUPS for f in sorted((NG20 / "train" / g).iterdir())[:40]]
    docs = [Document(id=f"{i}#{c}", path=p, title=i, text=t) for c in range(DUP_COPIES) for i, p, t in base]
    config = IndexConfig(model=ModelConfig(n_bits=128, hidden=(64,), epochs=2, pretrain="none"))
    folder = tmp_path_factory.mktemp("dups") / "idx"
    SemanticIndex.build(docs, config).save(folder)
    return folder


@pytest.mark.slow
def test_a_table_the_user_made_in_place_of_semhash_s_is_never_dropped(dup_index, conn):
    from click.testing import CliRunner

    from semhash.cli import cli

    table = "pgtest_precious"
    runner = CliRunner()
    export = ["export", "--postgres", DSN, "--index", str(dup_index), "--table", table]
    query = ["query", "space shuttle", "--index", str(dup_index), "--postgres", DSN, "--table", table]
    try:
        assert runner.invoke(cli, export).exit_code == 0
        assert runner.invoke(cli, query).exit_code == 0
        # the user replaces semhash's table with one of their own, under the same name
        conn.execute(psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(table)))
        conn.execute(psycopg.sql.SQL("CREATE TABLE {} (precious text)").format(psycopg.sql.Identifier(table)))
        conn.execute(psycopg.sql.SQL("INSERT INTO {} VALUES ('keep me')").format(psycopg.sql.Identifier(table)))
        again = runner.invoke(cli, export)
        assert again.exit_code == 1
        message = again.stderr.strip().splitlines()[-1]
        assert message.startswith(f"Error: table {table!r} already exists and was not loaded by semhash")
        assert "choose another name with --table, or drop that table yourself" in message
        assert conn.execute(psycopg.sql.SQL("SELECT precious FROM {}").format(
            psycopg.sql.Identifier(table))).fetchall() == [("keep me",)]
        searched = runner.invoke(cli, query)  # nor is it searched as if it were semhash's
        assert searched.exit_code == 1
        assert f"table {table!r} is not the table semhash loaded under that name" in searched.stderr
        with pytest.raises(PostgresTableError, match="was not loaded by semhash"):
            from semhash.index import open_index

            load_index(open_index(dup_index), DSN, table=table)
    finally:
        drop_tables(conn, table)


def test_meta_of_an_older_semhash_is_upgraded_and_its_tables_are_not_trusted(dup_index, conn):
    from semhash.index import open_index

    schema = "pgtest_legacy_" + secrets.token_hex(4)
    conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema)))
    try:
        dsn = dsn_with(search_path=schema)
        with psycopg.connect(dsn, autocommit=True) as c:  # what semhash wrote before it recorded OIDs
            c.execute("CREATE TABLE semhash_meta (table_name text PRIMARY KEY, n_bits integer NOT NULL,"
                      " n_docs bigint NOT NULL, vocabulary integer NOT NULL, fingerprint text NOT NULL,"
                      " semhash_version text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())")
            c.execute("CREATE TABLE old_docs (x text)")
            c.execute("INSERT INTO semhash_meta VALUES ('old_docs', 128, 1, 1, 'f', '0.1')")
        idx = open_index(dup_index)
        with pytest.raises(PostgresTableError, match="older semhash, does not record which table it created"):
            load_index(idx, dsn, table="old_docs")
        with PostgresSearcher(dsn, "old_docs", idx) as s, pytest.raises(PostgresTableError, match="not the table"):
            s.search("space")
        assert load_index(idx, dsn, table="new_docs") == len(idx.table)  # the upgraded meta table works
        with PostgresSearcher(dsn, "new_docs", idx) as s:
            same_hits(s.search("space shuttle"), idx.search("space shuttle"))
    finally:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema)))


@pytest.mark.slow
def test_concurrent_first_exports_into_a_fresh_schema_all_succeed(dup_index, conn):
    """Several exports at once into a schema with no semhash_meta yet: serialized, none fails."""
    import threading

    from semhash.index import open_index

    schema = "pgtest_fresh_" + secrets.token_hex(4)
    conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema)))
    try:
        dsn = dsn_with(search_path=schema)
        tables = ["docs_a", "docs_b", "docs_a", "docs_b"]
        indexes = [open_index(dup_index) for _ in tables]
        start = threading.Barrier(len(tables))
        errors: list[BaseException] = []

        def export(idx, table):
            start.wait()
            try:
                load_index(idx, dsn, table=table)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=export, args=pair) for pair in zip(indexes, tables)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with psycopg.connect(dsn, autocommit=True) as c:
            meta = dict(c.execute("SELECT table_name, table_oid = to_regclass(table_name)::oid FROM semhash_meta"
                                  ).fetchall())
            assert meta == {"docs_a": True, "docs_b": True}
            lexical = sorted(r[0] for r in c.execute("SELECT lexical_table FROM semhash_meta"))
            assert [r[0] for r in c.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace"
                                            " AND relkind = 'r' ORDER BY relname", (schema,))] == \
                ["docs_a", "docs_b", *lexical, "semhash_meta"]  # no temporary or replaced table left behind
            assert all(name.startswith("semhash_lex_") for name in lexical)
        for table in ("docs_a", "docs_b"):
            with PostgresSearcher(dsn, table, indexes[0]) as s:
                same_hits(s.search("car engine"), indexes[0].search("car engine"))
    finally:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema)))


def wait_until_blocked_by(conn, pid: int) -> None:
    """Wait (at most two minutes) until some session waits for a lock ``pid`` holds."""
    import time

    for _ in range(2400):
        if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (pid,)).fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError("the export never reached its write to semhash_meta")


@pytest.mark.slow
def test_a_reexport_does_not_block_readers_who_see_old_or_new_contents(dup_index, conn):
    """Readers with a lock_timeout query while a re-export runs: none fails, each sees the old
    or the new table. The export is held, by a row lock on its semhash_meta row, after it has
    loaded the new rows: readers must not wait for it there (the old code held the dropped
    table's lock through the whole load, so they timed out however long the timeout). The
    timeout only has to outlast the swap itself, a few milliseconds; 5 s leaves a noisy machine
    room."""
    import threading

    from semhash.index import open_index

    table = "pgtest_swap"
    old, new = open_index(dup_index), open_index(dup_index)
    new.remove([d.id for d in new.documents(new.table.ids_).values() if d.id.endswith(("#1", "#2"))])
    queries = ["space shuttle launch orbit", "car engine oil", "god jesus bible church", "jpeg image format"]

    def ids(hits):
        return [h.id for h in hits]

    old_hits = [ids(old.search(q, k=10)) for q in queries]
    new_hits = [ids(new.search(q, k=10)) for q in queries]
    assert all(o != n for o, n in zip(old_hits, new_hits))  # the two contents tell apart
    try:
        load_index(old, DSN, table=table)
        with PostgresSearcher(dsn_with(lock_timeout="5s"), table, old) as reader, \
                psycopg.connect(DSN) as holder:
            assert [ids(reader.search(q, k=10)) for q in queries] == old_hits
            holder.execute("SELECT 1 FROM semhash_meta WHERE table_name = %s FOR UPDATE", (table,))
            errors: list[BaseException] = []

            def export():
                try:
                    load_index(new, DSN, table=table)
                except BaseException as exc:
                    errors.append(exc)

            exporter = threading.Thread(target=export)
            exporter.start()
            try:
                wait_until_blocked_by(conn, holder.info.backend_pid)
                for _ in range(3):  # the new rows are loaded, not yet swapped in: the old contents
                    assert [ids(reader.search(q, k=10)) for q in queries] == old_hits
            finally:
                holder.rollback()
            while exporter.is_alive():  # during the swap: the old contents or the new, never a mix
                for q, o, n in zip(queries, old_hits, new_hits):
                    got = ids(reader.search(q, k=10))
                    assert got in (o, n)
            exporter.join()
            assert errors == []
            assert [ids(reader.search(q, k=10)) for q in queries] == new_hits
        assert count(conn, table) == len(new.table)
    finally:
        drop_tables(conn, table)


@pytest.mark.slow
def test_equal_codes_rank_by_row_in_single_batch_and_postgres_searches(dup_index, conn):
    """Without re-ranking, documents with one code tie exactly on the query-weighted distance and
    are ordered by row, whatever the path: single searches, a threaded batch and PostgreSQL."""
    from semhash.index import open_index

    idx = open_index(dup_index)
    table = "pgtest_ties"
    queries = tail_queries()
    try:
        load_index(idx, DSN, table=table)
        with PostgresSearcher(DSN, table, idx) as pg_searcher:
            for k in (20, 50):
                single = [idx.search(q, k=k, rerank=False, mode="semantic") for q in queries]
                batch = idx.search_batch(queries, k=k, rerank=False, threads=4, mode="semantic")
                pg = pg_searcher.search_batch(queries, k=k, rerank=False)
                tied = 0
                for s, b, p in zip(single, batch, pg):
                    rows = [h.row for h in s]
                    assert [h.row for h in b] == rows and [h.row for h in p] == rows
                    assert [h.score for h in b] == [h.score for h in s] == [h.score for h in p]
                    codes = [bytes(c) for c in idx.table.codes_of(np.array(rows))]
                    for code in set(codes):  # the hits sharing a code come in row order
                        same = [r for r, c in zip(rows, codes) if c == code]
                        tied += len(same) > 1
                        assert same == sorted(same)
                assert tied >= len(queries)  # the copies do share codes in the hits
    finally:
        drop_tables(conn, table)


def test_a_lost_connection_is_a_clear_error_and_the_next_search_reconnects(dup_index, conn):
    from semhash.index import open_index

    idx = open_index(dup_index)
    table = "pgtest_reconnect"
    try:
        load_index(idx, DSN, table=table)
        with PostgresSearcher(DSN, table, idx) as searcher:
            expected = [h.id for h in searcher.search("car engine")]
            conn.execute("SELECT pg_terminate_backend(%s)", (searcher._conn.info.backend_pid,))
            with pytest.raises(PostgresConnectionError, match="lost the PostgreSQL connection"):
                searcher.search("car engine")
            assert [h.id for h in searcher.search("car engine")] == expected
    finally:
        drop_tables(conn, table)
