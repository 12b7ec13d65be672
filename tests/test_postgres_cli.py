"""Options that do not apply with --postgres are refused, not silently ignored (no server needed:
the command line refuses them before connecting)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from semhash.cli import cli

DSN = "postgresql://nobody:secret@127.0.0.1:1/none"  # never reached


@pytest.mark.parametrize("extra, flags", [
    (["--lookup", "scan"], "--lookup"),
    (["--lookup", "auto"], "--lookup"),  # given, even if it is the default
    (["--threads", "2"], "--threads"),
    (["--lookup", "table", "--threads", "2"], "--lookup and --threads"),
])
def test_query_refuses_local_index_options_with_postgres(small_index, extra, flags):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["query", "rocket orbit", "--index", str(folder), "--postgres", DSN, *extra])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {flags} apply to the local index, not to --postgres (PostgreSQL finds the ball with its btree "
        "index and answers one query at a time)")


def test_query_keeps_local_index_options_without_postgres(small_index):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["query", "rocket orbit", "--index", str(folder), "--lookup", "scan",
                                      "--threads", "2"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("extra, flags", [
    (["--format", "jsonl"], "--format"),
    (["--format", "all"], "--format"),
    (["--index-name", "news"], "--index-name"),
    (["--format", "milvus", "--milvus-index", "BIN_IVF_FLAT"], "--format, --milvus-index"),
    (["--milvus-max-length", "100"], "--milvus-max-length"),
])
def test_export_refuses_file_options_with_postgres_and_no_out(small_index, extra, flags):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["export", "--index", str(folder), "--postgres", DSN, *extra])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {flags} describe the files written with --out DIR; --postgres alone writes no files "
        "(add --out DIR, or leave them out)")
