"""The docs stay true: docs/cli.md is the CLI's current --help."""

from __future__ import annotations

import importlib.util

from conftest import REPO

DOCS = REPO / "docs"


def load_generator():
    spec = importlib.util.spec_from_file_location("make_cli_reference", DOCS / "make_cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current():
    expected = load_generator().render()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/cli.md is stale: run python docs/make_cli_reference.py"


def test_cli_reference_has_every_command():
    import click

    from semhash.cli import cli

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    names = set(cli.list_commands(click.Context(cli)))  # the lazily loaded commands too
    assert {"evaluate", "index", "query", "serve"} <= names
    for name in names:
        assert f"\n## semhash {name}\n" in text and f"Usage: semhash {name} " in text, name
