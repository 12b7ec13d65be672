"""Damaged or hostile index files (#14, section 3): checksums of every byte a query reads,
the manifest's schema and checksum, `info --verify`, SQLite paths and hostile stores,
symlinks, and temporary folders left by killed writers."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_topical_corpus
from test_reliability import TINY, kill_in_save_window, semhash_proc, snapshot

from semhash.cli import cli
from semhash.errors import IndexFormatError
from semhash.index import MANIFEST, SemanticIndex, update_index

SYNTHETIC_WORDS = 8000
SYNTHETIC_HIDDEN = 1300  # 8000 x 1300 float32 weights: encoder.npz is over 32 MB
SYNTHETIC_DOCS = 3000


def copy_index(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x55
    path.write_bytes(bytes(data))


def file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def make_legacy(folder: Path) -> dict:
    """Rewrite a saved index's manifest as format 1 wrote it: no manifest checksum, no block or
    row checksums (the files they need are removed)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in ("block_checksums.npy", "documents_digest.npy"):
        manifest["files"].pop(name, None)
        (folder / name).unlink(missing_ok=True)
    manifest.pop("blocks", None)
    manifest.pop("manifest_sha256", None)
    manifest["format_version"] = 1
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))


def run(*args) -> object:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def hits_of(folder: Path, text: str = "shuttle launch orbit", mmap: bool = True, **kwargs):
    idx = SemanticIndex.load(folder, mmap=mmap)
    try:
        return [(h.id, h.distance, round(h.score, 6), h.snippet) for h in idx.search(text, k=10, **kwargs)]
    finally:
        idx.close()


# --------------------------------------------------------------------------- a large synthetic index


def synthetic_word(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "q" + "".join(letters[(i // 26**j) % 26] for j in range(3))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """An index with a trained-looking encoder of 8000 x 1300 weights (encoder.npz > 32 MB) and
    3000 long documents, built from NumPy weights (no training)."""
    from semhash.codes import EncoderWeights
    from semhash.corpus import Document
    from semhash.vectorize import Vectorizer, VectorizerConfig

    rng = random.Random(0)
    docs = [Document(id=f"d{i:04d}.txt", path=f"d{i:04d}.txt", title=f"doc {i}",
                     text=" ".join(synthetic_word(rng.randrange(SYNTHETIC_WORDS)) for _ in range(160)))
            for i in range(SYNTHETIC_DOCS)]
    vec = Vectorizer(VectorizerConfig(min_df=1, max_df=1.0)).fit([d.text for d in docs])
    gen = np.random.default_rng(0)
    n_words = len(vec.vocabulary_)
    encoder = EncoderWeights(
        kernels=[gen.normal(size=(n_words, SYNTHETIC_HIDDEN)).astype(np.float32),
                 gen.normal(size=(SYNTHETIC_HIDDEN, 64)).astype(np.float32)],
        biases=[np.zeros(SYNTHETIC_HIDDEN), np.zeros(64)],
        activations=["sigmoid", "sigmoid"], thresholds=np.zeros(64), input_length=0.0)
    folder = tmp_path_factory.mktemp("synthetic") / "idx"
    SemanticIndex.from_model(vec, encoder, docs).save(folder)
    assert (folder / "encoder.npz").stat().st_size > 32 * 2**20
    return folder


def synthetic_query(folder: Path) -> str:
    vocabulary = json.loads((folder / "vocabulary.json").read_text())["terms"]
    return " ".join(vocabulary[i] for i in (3, 500, 1700, 4000))


# --------------------------------------------------------------------------- 1. every byte a query reads


@pytest.mark.slow
def test_damaged_encoder_over_32_mb_is_found_by_every_command(synthetic, tmp_path):
    text = synthetic_query(synthetic)
    inside = copy_index(synthetic, tmp_path / "weights")  # a weight changes: silently other codes before
    flip(inside / "encoder.npz", (inside / "encoder.npz").stat().st_size // 2)
    assert_one_line_error(run("query", text, "--index", inside), "encoder.npz does not match its checksum", "rebuild")

    zipdir = copy_index(synthetic, tmp_path / "zip")  # the zip directory: BadZipFile tracebacks before
    flip(zipdir / "encoder.npz", (zipdir / "encoder.npz").stat().st_size - 30)
    extra = tmp_path / "extra.txt"
    extra.write_text(text)
    for args in (["query", text], ["info"], ["add", extra], ["info", "--verify"]):
        assert_one_line_error(run(*args, "--index", zipdir), "encoder.npz", "rebuild")


def test_loaders_turn_damage_into_index_format_errors(small_index, tmp_path):
    """Without checksums (verify=False), what the loaders raise names the file and the fix."""
    cases = {"encoder.npz": -30, "vocabulary.json": 0, "hashtable_keys.npy": 9, "tfidf_indptr.npy": 9,
             "document_frequency.npy": 9}
    for name, offset in cases.items():
        bad = copy_index(small_index[0], tmp_path / name)
        flip(bad / name, offset)
        with pytest.raises(IndexFormatError, match=name.replace(".", r"\.") + ".*rebuild"):
            SemanticIndex.load(bad, verify=False, mmap=True).search("shuttle launch orbit")


@pytest.mark.slow
def test_a_query_checks_the_blocks_it_reads_and_no_others(synthetic, tmp_path):
    text = synthetic_query(synthetic)
    idx = SemanticIndex.load(synthetic, mmap=True)
    expected = [(h.id, h.score) for h in idx.search(text, k=10)]
    check = idx.tfidf._checks["data"].check
    read, n_blocks = np.flatnonzero(check.checked), len(check.checked)
    assert 0 < len(read) < n_blocks * 2 // 3  # a cold query reads a part of the TF-IDF rows
    unread = int(np.setdiff1d(np.arange(1, n_blocks - 1), read)[0])
    idx.close()

    elsewhere = copy_index(synthetic, tmp_path / "elsewhere")  # damage no query byte depends on
    flip(elsewhere / "tfidf_data.npy", unread * check.block_bytes + 100)
    idx = SemanticIndex.load(elsewhere, mmap=True)
    assert [(h.id, h.score) for h in idx.search(text, k=10)] == expected
    with pytest.raises(IndexFormatError, match=rf"tfidf_data\.npy does not match its checksum in block {unread}"):
        idx.tfidf.data  # noqa: B018 - any use of the whole array checks all of it
    idx.close()

    here = copy_index(synthetic, tmp_path / "here")  # damage in a block the query reads
    flip(here / "tfidf_data.npy", int(read[len(read) // 2]) * check.block_bytes + 100)
    result = run("query", text, "--index", here)
    assert_one_line_error(result, "tfidf_data.npy does not match its checksum", "rebuild")
    with pytest.raises(IndexFormatError, match=r"tfidf_data\.npy"):  # loaded whole without mmap
        SemanticIndex.load(here)


def test_a_changed_stored_document_is_found_when_shown(small_index, tmp_path):
    bad = copy_index(small_index[0], tmp_path / "store")
    top = hits_of(bad)[0]
    data = (bad / "documents.sqlite").read_bytes()
    at = data.index(top[3][:40].encode())  # the first hit's snippet, inside its SQLite page
    flip(bad / "documents.sqlite", at + 5)
    result = run("query", "shuttle launch orbit", "--index", bad)
    assert_one_line_error(result, "documents.sqlite does not match its checksum (row", "rebuild")


# --------------------------------------------------------------------------- 2. the manifest


def test_deeply_nested_manifest_is_a_clear_error(small_index, tmp_path):
    bad = copy_index(small_index[0], tmp_path / "nested")
    (bad / MANIFEST).write_text("[" * 200_000 + "]" * 200_000)
    assert_one_line_error(run("query", "orbit", "--index", bad), "manifest.json is damaged", "rebuild")
    manifest = json.loads((small_index[0] / MANIFEST).read_text())
    text = json.dumps(manifest).replace('"model": {', '"model": {"deep": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1)
    (bad / MANIFEST).write_text(text)
    assert_one_line_error(run("info", "--index", bad), "manifest.json is damaged", "rebuild")


def _drop(files: dict, name: str) -> dict:
    return {k: v for k, v in files.items() if k != name}


@pytest.mark.parametrize("field, value, message", [
    ("next_row", 20_000_000, "next_row"),
    ("bit_balance", "abc", "bit_balance must be a list"),
    ("bit_balance", [0.5] * 15, "bit_balance must have 16 entries"),
    ("bit_balance", [2.0] * 16, "bit_balance[0] must be a number in 0.0..1.0"),
    ("files", {}, "files does not list"),
    ("files", "drop encoder.npz", "files does not list encoder.npz"),
    ("files", "add ../../etc/passwd", "unexpected field '../../etc/passwd'"),
    ("n_bits", 12, "n_bits must be a whole number in 8..128, a multiple of 8"),
    ("counts", {"documents": "90", "vocabulary": 10}, "counts.documents must be a whole number"),
    ("added_bit_sum", [1] * 3, "added_bit_sum must have 16 entries"),
    ("params", {"vectorizer": {}, "model": {}}, "params.vectorizer.weighting is missing"),
])
def test_manifest_fields_are_checked(small_index, tmp_path, field, value, message):
    """A format-1 manifest (no checksum of its own) with one bad field: every command refuses it."""
    bad = copy_index(small_index[0], tmp_path / "bad")
    manifest = make_legacy(bad)
    if value == "drop encoder.npz":
        value = _drop(manifest["files"], "encoder.npz")
    elif value == "add ../../etc/passwd":
        value = {**manifest["files"], "../../etc/passwd": {"bytes": 1, "sha256": "0" * 64}}
    manifest[field] = value
    write_manifest(bad, manifest)
    for args in (["query", "shuttle launch"], ["info"], ["remove", "space/space-000.txt"]):
        assert_one_line_error(run(*args, "--index", bad), "manifest.json is damaged", message, "rebuild")
    assert (bad / "tfidf_indptr.npy").stat().st_size < 2**20  # next_row never grew a file


def test_manifest_checksum_finds_any_change(small_index, tmp_path):
    bad = copy_index(small_index[0], tmp_path / "changed")
    manifest = json.loads((bad / MANIFEST).read_text())
    assert manifest["format_version"] == 2 and len(manifest["manifest_sha256"]) == 64
    manifest["semhash_version"] = "0.0.1"  # harmless-looking, valid for the schema
    write_manifest(bad, manifest)
    assert_one_line_error(run("query", "orbit", "--index", bad), "does not match its own checksum")
    del manifest["manifest_sha256"]  # a format-2 manifest without its checksum is damaged too
    write_manifest(bad, manifest)
    assert_one_line_error(run("info", "--index", bad), "manifest_sha256 is missing")


def test_old_format_index_still_loads_and_is_checked_whole(small_index, tmp_path):
    old = copy_index(small_index[0], tmp_path / "old")
    make_legacy(old)
    expected = hits_of(small_index[0])
    assert hits_of(old) == hits_of(old, mmap=False) == expected
    assert run("info", "--index", old, "--verify").exit_code == 0
    for name in ("tfidf_data.npy", "documents.sqlite"):  # no block or row checksums: checked whole
        bad = copy_index(old, tmp_path / f"bad-{name}")
        flip(bad / name, (bad / name).stat().st_size // 2)
        with pytest.raises(IndexFormatError, match=name.replace(".", r"\.") + " does not match its checksum"):
            SemanticIndex.load(bad, mmap=True)
    assert "removed 1" in run("remove", "space/space-000.txt", "--index", old).output
    assert json.loads((old / MANIFEST).read_text())["format_version"] == 2  # saved in the new format
    assert hits_of(old, "flour butter oven")


# --------------------------------------------------------------------------- 3. info --verify


def test_info_verify_names_each_damaged_file(small_index, tmp_path):
    names = [*json.loads((small_index[0] / MANIFEST).read_text())["files"], MANIFEST]
    assert len(names) == 23 and "decoder.npz" in names and "model.keras" in names  # every file of the index
    assert "postings_indices.npy" in names and "postings_lengths.npy" in names
    assert sorted(p.name for p in small_index[0].iterdir()) == sorted(names)
    result = run("info", "--verify", "--index", small_index[0])
    assert result.exit_code == 0 and f"verified:     all {len(names)} files match their checksums" in result.output
    for name in names:
        bad = copy_index(small_index[0], tmp_path / name)
        flip(bad / name, (bad / name).stat().st_size // 2)
        assert_one_line_error(run("info", "--verify", "--index", bad), f"{bad / name}", "rebuild")


# --------------------------------------------------------------------------- 4. paths


@pytest.mark.parametrize("name", ["a#b", "why?mode=rw", "p%41x", "50%"])
def test_index_paths_with_uri_characters(small_index, tmp_path, name):
    folder = tmp_path / name / "idx"
    shutil.copytree(small_index[0], folder)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = run("query", "shuttle launch orbit", "--index", folder, "-k", "3")
    assert result.exit_code == 0 and "1. " in result.output, result.output + result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created beside the index


def test_index_dot(small_index, tmp_path, monkeypatch):
    here = copy_index(small_index[0], tmp_path / "here")
    monkeypatch.chdir(here)
    result = run("query", "shuttle launch orbit", "--index", ".", "-k", "3")
    assert result.exit_code == 0 and "1. " in result.output  # reading the current folder works
    assert_one_line_error(run("remove", "space/space-000.txt", "--index", "."),
                          f"cannot write an index to {here}: it is the current folder")
    assert snapshot(here) == snapshot(small_index[0])  # nothing was changed
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=2, seed=1)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert_one_line_error(run("index", corpus, "--index", ".", *TINY), "it is the current folder")
    assert list(empty.iterdir()) == []


def test_index_never_replaces_a_folder_of_other_files(tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=2, seed=1)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    assert_one_line_error(run("index", corpus, "--index", mine, *TINY),
                          "is a folder that is not a semhash index (it holds 'thesis.txt')")
    assert (mine / "thesis.txt").read_text() == "years of work"


# --------------------------------------------------------------------------- 5. hostile stores and symlinks


def reseal_store(folder: Path) -> None:
    """Give the manifest the changed store's size and checksum (a consistent, hostile index)."""
    manifest = make_legacy(folder)
    manifest["files"]["documents.sqlite"] = file_entry(folder / "documents.sqlite")
    write_manifest(folder, manifest)


RUNAWAY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
           "SELECT d.row, d.id, d.path, d.title, d.snippet, d.chars, d.added FROM docs d, c WHERE c.x = 200000000")


@pytest.mark.parametrize("sql, message", [
    (f"ALTER TABLE documents RENAME TO docs; CREATE VIEW documents AS {RUNAWAY}", "holds a view or trigger"),
    ("CREATE TRIGGER t AFTER INSERT ON documents BEGIN SELECT 1; END", "holds a view or trigger"),
    ("ALTER TABLE documents RENAME TO docs; CREATE TABLE documents(row INTEGER PRIMARY KEY, id TEXT, path TEXT, "
     "title TEXT, snippet TEXT GENERATED ALWAYS AS (id || path) VIRTUAL)", "does not have the columns"),
    ("ALTER TABLE documents RENAME TO docs; CREATE TABLE documents(x)", "does not have the columns"),
])
def test_hostile_store_is_refused_without_running_it(small_index, tmp_path, sql, message):
    bad = copy_index(small_index[0], tmp_path / "hostile")
    conn = sqlite3.connect(bad / "documents.sqlite")
    conn.executescript(sql)
    conn.close()
    reseal_store(bad)
    proc = semhash_proc(["query", "shuttle launch orbit", "--index", str(bad)])
    out, err = proc.communicate(timeout=120)  # the view would run for minutes
    assert proc.returncode == 1, (out, err)
    assert err.strip().splitlines()[-1].startswith(f"Error: document store {bad / 'documents.sqlite'} {message}")


def test_runaway_statement_on_a_store_is_stopped(small_index, monkeypatch):
    from semhash import store

    monkeypatch.setattr(store, "WORK_BASE", 2_000_000)
    conn = store.connect(small_index[0] / "documents.sqlite", readonly=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):  # a minute's work without a bound
            conn.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
                         "SELECT count(*) FROM c").fetchall()
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (90,)  # a new budget per statement
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM documents")
    finally:
        conn.close()


def test_symlinked_file_in_an_index_is_refused(small_index, tmp_path):
    bad = copy_index(small_index[0], tmp_path / "linked")
    outside = tmp_path / "vocabulary-copy.json"
    (bad / "vocabulary.json").rename(outside)  # same bytes, so the checksum matches
    (bad / "vocabulary.json").symlink_to(outside)
    assert_one_line_error(run("query", "orbit", "--index", bad), "vocabulary.json is a symlink", "rebuild")


def test_update_copies_only_listed_files_and_never_a_symlink(small_index, tmp_path):
    folder = copy_index(small_index[0], tmp_path / "idx")
    manifest = make_legacy(folder)
    for name in ("model.keras", "training.json"):  # an index without a model (from_model)
        manifest["files"].pop(name)
        (folder / name).unlink()
    write_manifest(folder, manifest)
    secret = tmp_path / "secret.key"
    secret.write_text("private key material")
    (folder / "model.keras").symlink_to(secret)
    assert "removed 1" in run("remove", "space/space-000.txt", "--index", folder).output
    assert not (folder / "model.keras").exists() and "model.keras" not in json.loads((folder / MANIFEST).read_text())["files"]
    assert secret.read_text() == "private key material"


def test_symlinked_index_folder_stays_a_link(small_index, tmp_path):
    real = copy_index(small_index[0], tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert "removed 1" in run("remove", "space/space-000.txt", "--index", link).output
    assert link.is_symlink() and link.resolve() == real
    assert len(SemanticIndex.load(real).table) == 89
    assert "removed 1" in run("remove", "space/space-001.txt", "--index", link).output
    assert len(SemanticIndex.load(link).table) == 88
    assert sorted(p.name for p in tmp_path.iterdir()) == [".real.lock", "link", "real"]


def test_files_off_the_query_path_are_not_required_to_query(small_index, tmp_path):
    folder = copy_index(small_index[0], tmp_path / "nomodel")
    (folder / "model.keras").unlink()
    (folder / "training.json").unlink()
    result = run("query", "shuttle launch orbit", "--index", folder)
    assert result.exit_code == 0 and "1. " in result.output, result.output
    assert run("info", "--index", folder).exit_code == 0
    assert_one_line_error(run("info", "--verify", "--index", folder), f"index file missing: {folder / 'model.keras'}")
    # a remove writes only a delta segment: the model is not needed; a compaction carries it over
    assert run("remove", "space/space-000.txt", "--index", folder).exit_code == 0
    assert_one_line_error(run("compact", "--index", folder), "model.keras")


# --------------------------------------------------------------------------- 6. killed writers' folders


def temporary_folders(dest: Path) -> list[Path]:
    return list(dest.parent.glob(f".{dest.name}.tmp-*"))


def test_reader_clears_a_killed_writers_temporary_folder(small_index, tmp_path):
    dest = copy_index(small_index[0], tmp_path / "indexes" / "killed")
    update_index(dest, lambda idx: idx.remove(["space/space-000.txt"]))  # a segment for compact to merge
    before = snapshot(dest)
    kill_in_save_window(["compact", "--index", str(dest)], dest, window=1)
    assert len(temporary_folders(dest)) == 1  # a full-size copy, its writer dead
    SemanticIndex.load(dest).close()  # a reader: no live writer holds the lock
    assert temporary_folders(dest) == []
    assert snapshot(dest) == before


@pytest.mark.slow
def test_reader_never_touches_a_live_writers_folder(small_index, tmp_path):
    dest = copy_index(small_index[0], tmp_path / "indexes" / "live")
    update_index(dest, lambda idx: idx.remove(["space/space-000.txt"]))  # a segment for compact to merge
    proc = semhash_proc(["compact", "--index", str(dest)], SEMHASH_TEST_PAUSE_BEFORE_SWAP="3")
    deadline = time.monotonic() + 60
    while not any((p / MANIFEST).exists() for p in temporary_folders(dest)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    writing = temporary_folders(dest)
    SemanticIndex.load(dest).close()  # while the writer is paused inside its save window
    assert temporary_folders(dest) == writing
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip().startswith("compacted 1 delta segment"), err
    assert len(SemanticIndex.load(dest).table) == 89 and temporary_folders(dest) == []
    assert os.path.isdir(dest)
