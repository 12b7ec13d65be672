"""Tests for semhash.demo: the stdlib documentation corpus."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from semhash.corpus import read_corpus
from semhash.demo import build_stdlib_corpus
from semhash.errors import ConfigError


@pytest.fixture(scope="module")
def full_corpus(tmp_path_factory):
    dest = tmp_path_factory.mktemp("demo") / "stdlib-docs"
    start = time.perf_counter()
    count = build_stdlib_corpus(dest)
    return dest, count, time.perf_counter() - start


def test_small_build_is_readable(tmp_path):
    dest = tmp_path / "corpora" / "stdlib-docs"
    count = build_stdlib_corpus(dest, max_docs=25)
    files = sorted(p for p in dest.rglob("*") if p.is_file())
    assert count == len(files) == 25
    report = read_corpus(dest)
    assert len(report.documents) == 25 and report.skipped == []
    assert all(doc.title for doc in report.documents)
    assert [p.name for p in tmp_path.joinpath("corpora").iterdir()] == ["stdlib-docs"]  # no temp folder left


def test_rebuild_replaces_old_folder(tmp_path):
    dest = tmp_path / "docs"
    (dest / "stale").mkdir(parents=True)
    (dest / "stale" / "old.txt").write_text("old")
    build_stdlib_corpus(dest, max_docs=5)
    assert not (dest / "stale").exists()
    assert len(list(dest.rglob("*.txt"))) == 5


def test_max_docs_validated(tmp_path):
    with pytest.raises(ConfigError):
        build_stdlib_corpus(tmp_path / "d", max_docs=0)


def test_full_build(full_corpus):
    dest, count, seconds = full_corpus
    assert count > 1000
    assert seconds < 60
    assert {p.name for p in dest.iterdir()} == {"api", "modules", "topics"}
    assert len(list((dest / "topics").glob("*.txt"))) > 20
    gzip_doc = (dest / "modules" / "gzip.txt").read_text(encoding="utf-8")
    assert gzip_doc.startswith("gzip — ")
    assert "compress" in gzip_doc.lower()
    assert (dest / "api" / "shutil.copyfile.txt").read_text(encoding="utf-8").startswith("shutil.copyfile\n")


def test_full_build_is_readable_and_titled(full_corpus):
    dest, count, _ = full_corpus
    report = read_corpus(dest)
    assert len(report.documents) == count and report.skipped == []
    titles = {doc.id: doc.title for doc in report.documents}
    assert titles["modules/gzip.txt"].startswith("gzip — ")
    assert titles["api/shutil.copyfile.txt"] == "shutil.copyfile"


@pytest.mark.parametrize(
    ("words", "modules"),
    [
        (("compress",), ["gzip", "zlib", "bz2", "lzma", "zipfile", "tarfile"]),
        (("command", "line"), ["argparse", "getopt", "optparse"]),
        (("mail",), ["smtplib", "email"]),
        (("csv",), ["csv"]),
    ],
)
def test_demo_queries_have_relevant_documents(full_corpus, words, modules):
    dest = full_corpus[0]
    for module in modules:
        paths = [dest / "modules" / f"{module}.txt", *sorted((dest / "api").glob(f"{module}.*.txt"))]
        texts = [path.read_text(encoding="utf-8").lower() for path in paths]
        assert any(all(word in text for word in words) for text in texts), module


def test_build_is_deterministic(tmp_path, full_corpus):
    dest = full_corpus[0]
    again = tmp_path / "again"
    assert build_stdlib_corpus(again, max_docs=200) == 200  # the first 200 of the full build
    for path in again.rglob("*.txt"):
        assert path.read_bytes() == (dest / path.relative_to(again)).read_bytes()


def test_no_process_state_leaks(full_corpus):
    dest = full_corpus[0]
    text = "\n".join(p.read_text(encoding="utf-8") for p in (dest / "api").glob("cgi.*.txt"))
    assert "PATH" not in text and " at 0x" not in text


# --------------------------------------------------------------------------- `semhash demo`


def folder_state(folder):
    """Every file of ``folder`` with its bytes, and the folder's inode (a rebuild swaps in a new one)."""
    return folder.stat().st_ino, {p.relative_to(folder).as_posix(): p.read_bytes()
                                  for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, small_index):
    """A working folder holding a user's own `indexes/default`, where `semhash demo` ran once."""
    import os
    import shutil

    from click.testing import CliRunner

    from semhash.cli import cli

    home = tmp_path_factory.mktemp("demo-home")
    shutil.copytree(small_index[0], home / "indexes" / "default")
    before = folder_state(home / "indexes" / "default")
    cwd = os.getcwd()
    os.chdir(home)
    try:
        first = CliRunner().invoke(cli, ["demo", "--max-docs", "60", "--quiet"])
        yield home, before, first
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_demo_trains_the_default_model_into_its_own_index(demo_home):
    from dataclasses import asdict

    from semhash.model import ModelConfig
    from semhash.vectorize import VectorizerConfig

    home, before, first = demo_home
    assert first.exit_code == 0, first.output
    manifest = json.loads((home / "indexes" / "demo" / "manifest.json").read_text())
    assert manifest["params"]["model"] == json.loads(json.dumps(ModelConfig().to_dict()))
    assert manifest["params"]["model"]["variant"] == "denoising"
    assert manifest["params"]["vectorizer"] == json.loads(json.dumps(asdict(VectorizerConfig())))
    assert folder_state(home / "indexes" / "default") == before  # the user's index is untouched
    assert '$ semhash query "compress a file" -k 5 --index demo' in first.output


@pytest.mark.slow
def test_second_demo_reuses_the_index_and_rebuild_retrains(demo_home, monkeypatch):
    from click.testing import CliRunner

    from semhash.cli import cli

    home, before, _ = demo_home
    monkeypatch.chdir(home)
    demo = home / "indexes" / "demo"
    state = folder_state(demo)
    again = CliRunner().invoke(cli, ["demo", "--max-docs", "60", "--quiet"])
    assert again.exit_code == 0, again.output
    assert "is up to date" in again.output and "indexed 60 documents into" not in again.output
    assert folder_state(demo) == state
    other = CliRunner().invoke(cli, ["demo", "--max-docs", "50", "--quiet"])  # another corpus: trained again
    assert other.exit_code == 0, other.output
    assert "indexed 50 documents into" in other.output and folder_state(demo)[0] != state[0]
    state = folder_state(demo)
    forced = CliRunner().invoke(cli, ["demo", "--max-docs", "50", "--quiet", "--rebuild"])
    assert forced.exit_code == 0, forced.output
    assert "indexed 50 documents into" in forced.output and folder_state(demo)[0] != state[0]
    assert folder_state(home / "indexes" / "default") == before


def test_demo_never_replaces_an_index_of_another_corpus(demo_home, monkeypatch):
    from click.testing import CliRunner

    from semhash.cli import cli

    home, before, _ = demo_home
    monkeypatch.chdir(home)
    result = CliRunner().invoke(cli, ["demo", "--max-docs", "50", "--quiet", "--index", "default"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {Path('indexes') / 'default'} holds an index that `semhash demo` did not build from "
        f"corpora{os.sep}stdlib-docs; give the demo another --index, or pass --rebuild to replace it")
    assert folder_state(home / "indexes" / "default") == before
