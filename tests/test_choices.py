"""One list of code formats, export formats and lookup methods (semhash.choices) feeds the CLI, the
HTTP API and export; each registry holds exactly the names the user is offered."""

from __future__ import annotations

import json
import subprocess
import sys
import typing

import numpy as np
import pytest

from semhash import choices
from semhash.cli import cli


def click_choices(command: str, option: str) -> tuple[str, ...]:
    (param,) = [p for p in cli.commands[command].params if p.name == option]
    return tuple(param.type.choices)


def test_code_formats_are_one_list():
    from semhash.export import CODE_FORMATTERS, ENCODE_FORMATS

    assert tuple(CODE_FORMATTERS) == choices.CODE_FORMATS == ENCODE_FORMATS
    assert click_choices("encode", "fmt") == choices.CODE_FORMATS
    pytest.importorskip("fastapi")
    from semhash.server.models import EncodeRequest

    assert typing.get_args(EncodeRequest.model_fields["format"].annotation) == choices.CODE_FORMATS


def test_export_formats_are_one_list():
    from semhash.export import FILE_WRITERS, FORMATS

    assert tuple(FILE_WRITERS) == choices.EXPORT_FORMATS == FORMATS
    (formats,) = [p for p in cli.commands["export"].params if p.name == "formats"]
    assert ", ".join(choices.EXPORT_FORMATS) in formats.help


def test_lookup_methods_are_one_list():
    from semhash import hashtable, search

    assert click_choices("query", "lookup") == choices.LOOKUP_METHODS
    assert tuple(search.LOOKUPS) == choices.LOOKUP_METHODS
    assert tuple(hashtable.METHODS) == choices.LOOKUP_METHODS
    pytest.importorskip("fastapi")
    from semhash.server.models import Lookup, SearchRequest

    assert typing.get_args(Lookup) == choices.LOOKUP_METHODS
    assert typing.get_args(SearchRequest.model_fields["lookup"].annotation) == choices.LOOKUP_METHODS


def test_every_code_format_prints_its_value_as_a_line():
    from semhash.export import code_values, format_codes

    packed = np.array([[0x6C, 0x8C], [0xFF, 0x00]], dtype=np.uint8)
    for fmt in choices.CODE_FORMATS:
        values = code_values(packed, 16, fmt)
        lines = format_codes(packed, 16, fmt)
        assert len(values) == len(lines) == 2
        for value, line in zip(values, lines):
            assert line == value if isinstance(value, str) else line == json.dumps(value)
    assert code_values(packed, 16, "int8") == [[108, -116], [-1, 0]]
    assert code_values(packed[0], 16, "bits") == ["0110110010001100"]


def test_an_unknown_code_format_is_refused_by_name():
    from semhash.errors import ConfigError
    from semhash.export import format_codes

    with pytest.raises(ConfigError, match="unknown code format 'base32'; choose from hex, bits, int8, uint8, json"):
        format_codes(np.zeros((1, 2), np.uint8), 16, "base32")


def test_corpus_readers_cover_the_supported_extensions():
    from semhash.corpus import READERS, SUPPORTED_DESCRIPTION, SUPPORTED_EXTENSIONS

    assert SUPPORTED_EXTENSIONS == tuple(READERS) == ("", ".txt", ".md", ".rst", ".html", ".htm", ".jsonl", ".csv")
    assert SUPPORTED_DESCRIPTION == ".txt, .md, .rst, .html, .htm, .jsonl, .csv and files without extension"


def test_the_command_line_loads_no_library_until_a_command_runs():
    """``semhash --help`` and a cold ``semhash query`` start fast: importing the CLI (and every
    command module) loads click, not NumPy or the index."""
    code = (
        "import sys\n"
        "from semhash.cli import cli\n"
        "assert len(cli.commands) == 13, sorted(cli.commands)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'sklearn', 'tensorflow')"
        " or m.startswith('semhash.') and not m.startswith(('semhash.cli', 'semhash.choices', 'semhash.errors'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
