"""The ``semhash`` group, the options several commands share, and how library errors reach users.

Library errors (:class:`semhash.errors.SemhashError`) become one-line messages and exit code 1
(:func:`fail`); usage errors exit with 2. Only click is imported here: every command imports
the library when it runs.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Callable

import click
from click.core import ParameterSource

LAZY_COMMANDS = {"evaluate": "semhash.cli_evaluate:evaluate"}


class LazyGroup(click.Group):
    """A group whose heavier commands are imported only when they are run (or listed)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            module, attr = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="semhash")
def cli() -> None:
    """semhash: semantic hashing document retrieval.

    Index a folder, then query it:

        semhash index corpora/stdlib-docs && semhash query "compress a file"
    """


def main() -> None:
    """The ``semhash`` console script."""
    cli(prog_name="semhash")


def fail(exc: Exception) -> click.ClickException:
    """A library error as the one-line message click prints (exit status 1)."""
    message = str(exc)
    skipped = getattr(exc, "skipped", None)
    if skipped:  # a corpus with no readable document: the full list goes to a file the message names
        listed = _write_skipped_list(skipped)
        if listed is not None:
            message += f"; every skipped file is listed in {listed}"
    return click.ClickException(message)


def _write_skipped_list(skipped) -> str | None:
    """Write ``[{"path", "reason"}, ...]`` to a new JSON file in the temporary folder; its path."""
    try:
        fd, path = tempfile.mkstemp(prefix="semhash-skipped-", suffix=".json")
        with open(fd, "w", encoding="utf-8") as f:
            json.dump([{"path": s.path, "reason": s.reason} for s in skipped], f, indent=1)  # ASCII: any name
    except OSError:
        return None
    return path


def given_options(ctx: click.Context, *names: str) -> list[str]:
    """The flags (``--name``) of those of the parameters ``names`` the user gave, not defaulted."""
    given = {ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT}
    return [p.opts[-1] for p in ctx.command.params if p.name in names and ctx.get_parameter_source(p.name) in given]


# --------------------------------------------------------------------------- shared options


index_option = click.option(
    "--index", "index_name", default=None, metavar="NAME|PATH",
    help="Index name under indexes/ (default: 'default') or a path to an index folder.",
)
postgres_option = click.option(
    "--postgres", "postgres_dsn", default=None, metavar="DSN",
    help="PostgreSQL database, e.g. postgresql://USER:PASSWORD@HOST:5432/DBNAME (see docs/backends.md).",
)
table_option = click.option(
    "--table", "pg_table", default=None, metavar="NAME",
    help="PostgreSQL table of the documents (with --postgres) [default: semhash_docs].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def search_options(fn: Callable) -> Callable:
    """The options every ranked search takes: -k, --radius, --no-rerank, --json."""
    for option in reversed((
        click.option("-k", "k", type=int, default=10, show_default=True, help="Number of results."),
        click.option("--radius", type=int, default=None,
                     help="Hamming radius of the lookup [default: 1-3 by code length]."),
        click.option("--no-rerank", is_flag=True,
                     help="Rank by the code alone (query-weighted Hamming distance) instead of TF-IDF cosine."),
        json_option,
    )):
        fn = option(fn)
    return fn


def needs_postgres(pg_table: str | None, postgres_dsn: str | None) -> None:
    """``--table`` only with ``--postgres``."""
    if pg_table is not None and postgres_dsn is None:
        raise click.UsageError("--table needs --postgres DSN")


__all__ = [
    "LAZY_COMMANDS", "LazyGroup", "cli", "fail", "given_options", "index_option", "json_option", "main",
    "needs_postgres", "postgres_option", "search_options", "table_option",
]
