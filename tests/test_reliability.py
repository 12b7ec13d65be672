"""Reliability (#6): hostile corpora, crash safety, locking, corruption, bad input, training edge cases.

Property-based tests elsewhere: hash-table lookups against brute force are in
``tests/test_hashtable.py``, the tokenizer against scikit-learn in ``tests/test_vectorize.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_topical_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semhash.corpus.walk as corpus_mod  # read_corpus looks read_file up here
from semhash.cli import cli
from semhash.corpus import MAX_DOC_CHARS, Document, read_file
from semhash.errors import ConfigError, IndexFormatError, QueryError, SemhashError
from semhash.index import (
    KERAS_FILE,
    MANIFEST,
    NOT_ON_QUERY_PATH,
    SemanticIndex,
    segments,
    update_index,
    writer_lock,
)
from semhash.manifest import FORMAT_VERSION
from semhash.search import query_idf, query_terms

TINY = ["--bits", "8", "--hidden", "16,8", "--epochs", "2", "--pretrain-epochs", "1", "--min-df", "1", "--quiet"]
QUERIES = ["shuttle launch orbit", "flour butter oven", "stock dividend bank"]
BIG_BYTES = 50 * 2**20


def last_error(result) -> str:
    return result.stderr.strip().splitlines()[-1]


def stored_ids(folder: Path) -> set[str]:
    """The ids of every document in the index (its base store and its delta segments')."""
    idx = SemanticIndex.load(folder)
    try:
        return {d.id for d in idx.documents(np.asarray(idx.table.ids_)).values()}
    finally:
        idx.close()


# --------------------------------------------------------------------------- 1. hostile corpus


def write_hostile_corpus(root: Path) -> tuple[set[str], dict[str, str]]:
    """Good documents among every kind of bad file; returns (good ids, expected skip reasons).

    ``vanish.txt`` is deleted between listing and reading by the test (see ``vanishing``).
    Unreadable for root: ``mem.txt`` links to ``/proc/self/mem``, whose first page no process
    can read (EIO); permissions cannot be used, root reads any file.
    """
    write_topical_corpus(root / "good", per_topic=4, seed=3)
    good = {f"good/{t}/{t}-{i:03d}.txt" for t in ("space", "cooking", "finance") for i in range(4)}
    (root / "latin1.txt").write_bytes("Crème brûlée: a café recipe, butter sugar oven".encode("latin-1"))
    (root / "utf16.txt").write_text("Rocket launch über the orbit of the moon", encoding="utf-16")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("  \n\t\n")
    with open(root / "big.txt", "wb") as f:  # one 50 MB line, written in chunks
        chunk = b"orbit rocket launch satellite " * 35_000
        for _ in range(BIG_BYTES // len(chunk) + 1):
            f.write(chunk)
    deep = root.joinpath(*["d"] * 60)
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("A deeply nested note on stock market bonds")
    (root / "with spaces").mkdir()
    (root / "with spaces" / "ünïcödé nöte 📄.txt").write_text("Bank loan interest and the bond market")
    (root / "folder.txt").mkdir()  # a folder named like a file: walked, holds nothing
    (root / "loop").symlink_to(".")
    (root / "self.txt").symlink_to("self.txt")
    (root / "broken.txt").symlink_to("nowhere.txt")
    os.mkfifo(root / "pipe.txt")  # opening it would block: must never be opened
    (root / "vanish.txt").write_text("this file is deleted before it is read")
    good |= {"latin1.txt", "utf16.txt", "big.txt", "d/" * 60 + "deep.txt", "with spaces/ünïcödé nöte 📄.txt"}
    skips = {
        "binary.txt": "binary file", "empty.txt": "empty file", "blank.md": "empty file",
        "loop": "symlink loop", "self.txt": "symlink loop", "broken.txt": "broken symlink",
        "pipe.txt": "not a regular file", "vanish.txt": "file vanished before it was read",
    }
    if Path("/proc/self/mem").exists():
        (root / "mem.txt").symlink_to("/proc/self/mem")
        skips["mem.txt"] = "unreadable: Input/output error"
    return good, skips


@pytest.fixture
def vanishing(monkeypatch):
    """Delete ``vanish.txt`` after the folder was listed, just before it is read."""
    def read(path, rel, *args, **kwargs):
        if rel == "vanish.txt":
            Path(path).unlink()
        return read_file(path, rel, *args, **kwargs)

    monkeypatch.setattr(corpus_mod, "read_file", read)


@pytest.mark.slow
def test_hostile_corpus_indexes_every_good_document(tmp_path, vanishing):
    corpus = tmp_path / "corpus"
    good, skips = write_hostile_corpus(corpus)
    dest = tmp_path / "idx"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY])
    assert result.exit_code == 0, result.output + result.stderr
    assert f"indexed {len(good)} documents" in result.output
    reported = {s["path"]: s["reason"] for s in json.loads((dest / "skipped.json").read_text())}
    assert reported == skips
    conn = sqlite3.connect(dest / "documents.sqlite")
    stored = dict(conn.execute("SELECT id, chars FROM documents"))
    conn.close()
    assert set(stored) == good
    assert stored["big.txt"] == MAX_DOC_CHARS  # truncated to the documented limit
    idx = SemanticIndex.load(dest)
    docs = idx.documents(np.asarray(idx.table.ids_))
    by_id = {d.id: d for d in docs.values()}
    assert "Crème brûlée" in by_id["latin1.txt"].title
    assert "über" in by_id["utf16.txt"].title
    info = CliRunner().invoke(cli, ["info", "--index", str(dest)])
    assert info.exit_code == 0 and "skipped pipe.txt: not a regular file" in info.output


def test_large_file_is_read_in_bounded_memory(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(0)
        chunk = b"word " * 200_000
        for _ in range(BIG_BYTES // len(chunk) + 1):
            f.write(chunk)
    tracemalloc.start()
    try:
        docs, skips = read_file(big, "big.txt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not skips and len(docs[0].text) == MAX_DOC_CHARS
    assert peak < 20 * 2**20  # a 50 MB file, never held whole


def test_all_bad_corpus_is_a_clear_error_and_no_index(tmp_path):
    corpus = tmp_path / "bad"
    corpus.mkdir()
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.png").write_bytes(b"\x89PNG")
    os.mkfifo(corpus / "pipe.txt")
    dest = tmp_path / "idx"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY])
    assert result.exit_code == 1
    assert last_error(result).startswith(f"Error: no readable documents in {corpus} (4 skipped")
    assert "Traceback" not in result.output + result.stderr
    assert not dest.exists()


@pytest.mark.slow
def test_file_names_that_are_not_utf8_get_escaped_ids(small_index, tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=4, seed=5)
    with open(os.fsencode(corpus / "space") + b"/bad\xff\xfename.txt", "wb") as f:
        f.write(b"Rocket launch\n\nshuttle orbit nasa satellite moon")
    dest = tmp_path / "idx"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY])
    assert result.exit_code == 0, result.output + result.stderr
    assert "indexed 13 documents" in result.output
    assert stored_ids(dest) >= {"space/bad\\xff\\xfename.txt", "space/space-000.txt"}  # the bytes, escaped
    other = os.fsencode(tmp_path) + b"/caf\xe9 notes"  # a folder outside the corpus, named in Latin-1
    os.mkdir(other)
    with open(other + b"/r\xe9sum\xe9.txt", "wb") as f:
        f.write(b"Bond market\n\nstock bank loan interest")
    shutil.copytree(small_index[0], tmp_path / "small")
    for index in (dest, tmp_path / "small"):
        added = CliRunner().invoke(cli, ["add", os.fsdecode(other), "--index", str(index)])
        assert added.exit_code == 0 and added.stdout.strip() == "added 1, replaced 0 documents (0 skipped)"
        doc_id = f"{tmp_path}/caf\\xe9 notes/r\\xe9sum\\xe9.txt"
        assert doc_id in stored_ids(index)
        hits = json.loads(CliRunner().invoke(cli, ["query", "stock bank loan", "--index", str(index), "--json"]).stdout)
        assert doc_id in [h["id"] for h in hits]
        gone = CliRunner().invoke(cli, ["remove", os.fsdecode(other + b"/r\xe9sum\xe9.txt"), "--index", str(index)])
        assert gone.stdout.strip() == "removed 1 documents"


def test_documents_the_store_cannot_keep_are_refused_before_training(tmp_path):
    texts = ["rocket orbit launch nasa", "flour butter oven sugar", "stock bank bond market"]
    docs = [Document(f"d{i}", f"d{i}", "", t) for i, t in enumerate(texts)]
    cases = [
        (Document("bad\udcff", "bad\udcff", "", "moon shuttle"),
         r"the id is not valid Unicode \(a lone surrogate at character 3: 'bad\\udcff'\)"),
        (Document("ok", "ok", "", "moon \ud800 shuttle"), r"the text of document 'ok' is not valid Unicode"),
        (Document("d1", "d1-copy", "", "moon shuttle"), r"two different documents have the id 'd1' .*'d1' and 'd1-copy'"),
        (Document(None, "x", "", "moon shuttle"), r"document 4: its id must be a string, got NoneType"),
    ]
    for bad, message in cases:
        # build refuses before it trains (it used to train, then crash or silently drop a row at save)
        with pytest.raises(ConfigError, match=message):
            SemanticIndex.build(docs + [bad])
    (tmp_path / "records.jsonl").write_text('{"id": "r\\ud800", "title": "t\\udfff", "text": "moon \\ud800 orbit"}\n')
    (record,), skips = read_file(tmp_path / "records.jsonl", "records.jsonl")
    assert not skips and (record.id, record.title, record.text) == ("r\\ud800", "t\ufffd", "moon \ufffd orbit")


# --------------------------------------------------------------------------- 2. crash safety


def semhash_proc(args, **env):
    return subprocess.Popen(
        [sys.executable, "-c", "from semhash.cli import main; main()", *args],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def snapshot(dest: Path):
    """What a reader sees: the manifest and the answers to a few queries."""
    idx = SemanticIndex.load(dest, verify="full")
    try:
        hits = [[(h.id, h.distance, round(h.score, 6)) for h in hs] for hs in idx.search_batch(QUERIES, k=20)]
        return (dest / MANIFEST).read_text(), hits
    finally:
        idx.close()


def kill_in_save_window(args, dest: Path, window: int | str, timeout: float = 60.0):
    """Start ``semhash ARGS`` with the save pause hook and SIGKILL it inside save window 1 or 2,
    or (``"segment"``) inside the window of a delta segment.

    Window 1: the new index is complete in the temporary folder, not yet swapped in.
    Window 2: the old index has been renamed away, the new one not yet renamed in.
    Window "segment": the segment's files and the new manifest are written beside the index's
    files, the manifest not yet renamed over the old one.
    """
    # the hook pauses twice: long enough to be caught in window 1, briefly to get through to window 2
    proc = semhash_proc(args, SEMHASH_TEST_PAUSE_BEFORE_SWAP="1" if window == 2 else "30")

    def reached() -> bool:
        if window == "segment":
            return any(dest.glob(f"{segments.MANIFEST_TMP}*"))
        pattern = f".{dest.name}.tmp-*" if window == 1 else f".{dest.name}.old-*"
        return any((p / MANIFEST).exists() for p in dest.parent.glob(pattern))

    deadline = time.monotonic() + timeout
    try:
        while not reached():
            assert proc.poll() is None, f"{args} ended before its save window: {proc.communicate()}"
            assert time.monotonic() < deadline, "never reached the save window"
            time.sleep(0.02)
        if window == 2:
            assert not dest.exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def kill_after(args, seconds: float) -> None:
    proc = semhash_proc(args)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def run_ok(args) -> str:
    proc = semhash_proc(args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_sigkill_never_loses_the_index(tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=5, seed=4)
    dest = tmp_path / "indexes" / "crash"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY])
    assert result.exit_code == 0, result.stderr
    before = snapshot(dest)
    extra = tmp_path / "extra.txt"
    extra.write_text("Rocket booster payload for the moon mission orbit")
    index_args = ["index", str(corpus), "--index", str(dest), *TINY, "--seed", "1"]
    add_args = ["add", str(extra), "--index", str(dest)]
    remove_args = ["remove", "space/space-000.txt", "--index", str(dest)]
    compact_args = ["compact", "--index", str(dest)]

    kill_after(index_args, 0.5)  # while importing / reading
    assert snapshot(dest) == before
    for args, windows in ((index_args, (1, 2)), (add_args, ("segment",)), (remove_args, ("segment",))):
        for window in windows:
            kill_in_save_window(args, dest, window)
            assert snapshot(dest) == before, (args, window)
    assert list(dest.parent.glob(f".{dest.name}.old-*")) == []  # the reader put the old index back
    assert any(segments.is_segment_file(p.name) for p in dest.iterdir())  # the killed writers' files

    run_ok(remove_args)  # reruns succeed, and clean up the killed writers' temporary files
    assert str(extra) not in {d.id for d in SemanticIndex.load(dest).documents(range(100)).values()}
    assert "added 1" in run_ok(add_args)
    assert list(dest.parent.glob(f".{dest.name}.tmp-*")) == [] and not list(dest.glob(f"{segments.MANIFEST_TMP}*"))
    listed = set(json.loads((dest / MANIFEST).read_text())["files"])
    assert {p.name for p in dest.iterdir() if segments.is_segment_file(p.name)} == {
        "delta-000001.npz", "delta-000001.sqlite", "delta-000002.npz", "delta-000002.sqlite"} <= listed
    updated = snapshot(dest)
    for window in (1, 2):  # a compaction is a folder swap
        kill_in_save_window(compact_args, dest, window)
        assert snapshot(dest) == updated, ("compact", window)
    assert "compacted 2" in run_ok(compact_args)
    assert snapshot(dest)[1] == updated[1]  # the same answers from one base segment
    run_ok(index_args)
    assert snapshot(dest) != before
    assert len(SemanticIndex.load(dest, verify="full").table) == 15


# --------------------------------------------------------------------------- 2b. two writers, one reader


@pytest.mark.slow
def test_second_writer_waits_or_fails_clearly_while_readers_work(small_index, tmp_path, monkeypatch):
    dest = tmp_path / "locked"
    shutil.copytree(small_index[0], dest)
    before = snapshot(dest)
    with writer_lock(dest):
        monkeypatch.setenv("SEMHASH_LOCK_WAIT", "0")
        result = CliRunner().invoke(cli, ["remove", "space/space-000.txt", "--index", str(dest)])
        assert result.exit_code == 1
        assert last_error(result) == (f"Error: another semhash process is writing {dest}; wait for it to "
                                      "finish and retry (SEMHASH_LOCK_WAIT=0 seconds)")
        for bad in (["index", str(tmp_path / "nope")], ["index", str(tmp_path), "--bits", "12"]):
            result = CliRunner().invoke(cli, [*bad, "--index", str(dest)])  # bad arguments never wait for the lock
            assert result.exit_code == 1 and "another semhash process" not in result.stderr
        monkeypatch.setenv("SEMHASH_LOCK_WAIT", "soon")
        result = CliRunner().invoke(cli, ["remove", "space/space-000.txt", "--index", str(dest)])
        assert last_error(result) == "Error: SEMHASH_LOCK_WAIT must be a number of seconds, got 'soon'"
        proc = semhash_proc(["remove", "space/space-000.txt", "--index", str(dest)], SEMHASH_LOCK_WAIT="60")
        time.sleep(2.0)
        assert proc.poll() is None  # the second writer waits for the lock
        assert snapshot(dest) == before  # readers are not blocked
        query = CliRunner().invoke(cli, ["query", "shuttle launch", "--index", str(dest), "-k", "3"])
        assert query.exit_code == 0 and "1. " in query.output
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "removed 1 documents"


@pytest.mark.slow
def test_add_during_a_rebuild_waits_and_is_kept(small_index, tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=5, seed=4)
    dest = tmp_path / "indexes" / "busy"
    shutil.copytree(small_index[0], dest)
    extra = tmp_path / "extra.txt"
    extra.write_text("Extra\n\nRocket booster payload for the moon mission orbit")
    log = tmp_path / "rebuild.log"
    slow = ["--bits", "8", "--hidden", "16,8", "--epochs", "100", "--pretrain-epochs", "1", "--min-df", "1"]
    with open(log, "w") as err:
        rebuild = subprocess.Popen([sys.executable, "-c", "from semhash.cli import main; main()", "index",
                                    str(corpus), "--index", str(dest), *slow], stdout=subprocess.PIPE, stderr=err,
                                   text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline = time.monotonic() + 300
    while "read 15 documents" not in log.read_text(errors="replace"):  # the corpus is read: training starts
        assert rebuild.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the rebuild never got to training"
        time.sleep(0.05)
    add = semhash_proc(["add", str(extra), "--index", str(dest)], SEMHASH_LOCK_WAIT="600")
    add_out, add_err = add.communicate(timeout=600)
    rebuild.communicate(timeout=600)
    assert rebuild.returncode == 0, log.read_text()
    assert add.returncode == 0, add_err
    assert add_out.strip() == "added 1, replaced 0 documents (0 skipped)"
    ids = stored_ids(dest)
    assert str(extra) in ids and len(ids) == 16  # the rebuilt index (15 documents) plus the addition


# --------------------------------------------------------------------------- 3. corruption


def damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x55
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip", "delete"])
def test_every_damaged_file_is_named(small_index, tmp_path, how):
    files = json.loads((small_index[0] / MANIFEST).read_text())["files"]
    assert {"encoder.npz", "faiss.index", "documents.sqlite", KERAS_FILE} <= set(files)
    runner = CliRunner()
    for name in files:
        bad = tmp_path / f"{how}-{name}"
        shutil.copytree(small_index[0], bad)
        damage(bad / name, how)
        if name in NOT_ON_QUERY_PATH:
            SemanticIndex.load(bad).close()  # not on the query path: queries keep working ...
            query = runner.invoke(cli, ["query", "shuttle launch", "--index", str(bad)])
            assert query.exit_code == 0 and "1. " in query.output, query.output
            found = "index file missing" if how == "delete" else "has .* bytes" if how == "truncate" else \
                "does not match its checksum"
            with pytest.raises(IndexFormatError, match=rf"{name.replace('.', '[.]')}.*|{found}") as err:
                SemanticIndex.load(bad, verify="full")  # ... a full check finds it ...
            assert name in str(err.value) and re.search(found, str(err.value)), err.value
            # ... an update writes a delta segment, which carries no file over; a compaction refuses
            update_index(bad, lambda idx: idx.remove(["space/space-000.txt"]))
            with pytest.raises(IndexFormatError, match=name.replace(".", r"\.")):
                update_index(bad, lambda idx: idx.remove(["space/space-001.txt"]), compact=True)
            info = runner.invoke(cli, ["info", "--index", str(bad)])
            if name == "skipped.json":  # info shows the skipped files: it reads them
                assert info.exit_code == 1 and "skipped.json" in last_error(info)
            else:
                assert info.exit_code == 0
            continue
        if how == "flip" and name == "documents.sqlite":  # each row is checked as it is read
            idx = SemanticIndex.load(bad)
            rows = np.asarray(idx.table.ids_)
            try:
                docs = idx.documents(rows)
            except IndexFormatError as exc:
                assert "documents.sqlite" in str(exc) and "rebuild" in str(exc)
            else:  # the flip missed every row: what is shown is intact
                assert docs == small_index[1].documents(rows)
            idx.close()
            continue
        if how == "flip" and name == "faiss.index":  # read (and checked) on first use only
            idx = SemanticIndex.load(bad)
            with pytest.raises(IndexFormatError, match=r"faiss\.index does not match its checksum"):
                idx.faiss  # noqa: B018
            idx.close()
            continue
        with pytest.raises(IndexFormatError, match=name.replace(".", r"\.")):
            SemanticIndex.load(bad)
        result = runner.invoke(cli, ["query", "shuttle launch", "--index", str(bad)])
        assert result.exit_code == 1, (name, result.output)
        message = last_error(result)
        assert message.startswith("Error: ") and name in message and "rebuild" in message, message
        assert "Traceback" not in result.output + result.stderr


def test_damaged_manifest_and_newer_format(small_index, tmp_path):
    runner = CliRunner()
    for how in ("truncate", "delete"):
        bad = tmp_path / how
        shutil.copytree(small_index[0], bad)
        damage(bad / MANIFEST, how)
        result = runner.invoke(cli, ["query", "orbit", "--index", str(bad)])
        assert result.exit_code == 1 and MANIFEST in last_error(result) and "rebuild" in last_error(result)
    for offset in range(0, 3000, 97):  # a flipped byte anywhere: loads correctly or fails clearly
        bad = tmp_path / f"flip{offset}"
        shutil.copytree(small_index[0], bad)
        data = bytearray((bad / MANIFEST).read_bytes())
        data[offset % len(data)] ^= 0x55
        (bad / MANIFEST).write_bytes(bytes(data))
        with contextlib.suppress(SemhashError):
            SemanticIndex.load(bad).search("shuttle launch orbit")
        shutil.rmtree(bad)
    newer = tmp_path / "newer"
    shutil.copytree(small_index[0], newer)
    manifest = json.loads((newer / MANIFEST).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (newer / MANIFEST).write_text(json.dumps(manifest))
    result = runner.invoke(cli, ["info", "--index", str(newer)])
    assert result.exit_code == 1 and "upgrade semhash" in last_error(result)


def test_code_file_length_not_matching_the_manifest(small_index, tmp_path):
    from semhash.index import sha256_file
    from semhash.manifest import dumps

    bad = tmp_path / "short"
    shutil.copytree(small_index[0], bad)
    manifest = json.loads((bad / MANIFEST).read_text())
    manifest["counts"]["documents"] -= 1  # the manifest does not count a code the file holds
    (bad / MANIFEST).write_text(dumps(manifest))  # consistent, with its own checksum
    with pytest.raises(IndexFormatError, match=r"hashtable_codes\.npy holds 90 codes, the manifest says 89"):
        SemanticIndex.load(bad)
    codes = np.load(bad / "hashtable_codes.npy")  # a consistent manifest over a shorter file
    np.save(bad / "hashtable_codes.npy", codes[:-1])
    manifest["files"]["hashtable_codes.npy"] = {"bytes": (bad / "hashtable_codes.npy").stat().st_size,
                                               "sha256": sha256_file(bad / "hashtable_codes.npy")}
    (bad / MANIFEST).write_text(dumps(manifest))
    with pytest.raises(IndexFormatError, match="rebuild"):
        SemanticIndex.load(bad).search("shuttle launch orbit")


# --------------------------------------------------------------------------- 4. bad queries and options


@pytest.mark.parametrize("args, message", [
    (["query", ""], "Error: the query is empty; give some words to search for"),
    (["query", "  \t \n "], "Error: the query is empty; give some words to search for"),
    (["query", "orbit " * 200_000], "Error: the query has 1200000 characters; the limit is 1000000"),
    (["query", "\x00\x01\x1b[31m\x7f"], "Error: no word of the query"),
    (["query", "orbit", "-k", "0"], "Error: k must be a positive whole number, got 0"),
    (["query", "orbit", "-k", "-3"], "Error: k must be a positive whole number, got -3"),
    (["query", "orbit", "--radius", "-1"], "Error: radius must be a whole number from 0 to 16"),
    (["query", "orbit", "--radius", "17"], "Error: radius must be a whole number from 0 to 16"),
    (["query", "orbit", "--index", "no-such-index"], "Error: no index at"),
    (["info", "--index", "no-such-index"], "Error: no index at"),
    (["add", "nothing.txt", "--index", "no-such-index"], "Error: no index at"),
])
def test_bad_queries_are_one_line_errors(small_index, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("SEMHASH_HOME", str(tmp_path))
    if "--index" not in args:
        args = [*args, "--index", str(small_index[0])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert last_error(result).startswith(message), last_error(result)
    assert "Traceback" not in result.output + result.stderr


def test_control_characters_around_words_still_search(small_index):
    hits = small_index[1].search("\x00orbit\x1b[0m\u200b rocket\ufeff\u202e", k=3)
    assert len(hits) == 3


@pytest.mark.parametrize("bits", ["12", "0", "136", "-8"])
def test_bad_bits_are_one_line_errors(tmp_path, bits):
    result = CliRunner().invoke(cli, ["index", str(tmp_path), "--index", str(tmp_path / "i"), "--bits", bits])
    assert result.exit_code == 1
    assert last_error(result) == f"Error: bits must be a multiple of 8 between 8 and 128, got {bits}"


def test_library_raises_typed_errors(small_index):
    idx = small_index[1]
    for text in ("", "   ", None, 42, "x" * 1_000_001):
        with pytest.raises(QueryError):
            idx.search(text)
    for kwargs in ({"k": 0}, {"k": -1}, {"k": 1.5}, {"k": True}, {"radius": -1}, {"radius": 17}, {"radius": 2.0},
                   {"lookup": "nope"}):
        with pytest.raises(QueryError):
            idx.search("orbit", **kwargs)
    with pytest.raises(ConfigError):
        idx.encode("a single string")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_search_with_any_unicode_raises_only_query_errors(small_index, text):
    idx = small_index[1]
    try:
        hits = idx.search(text, k=5)
    except QueryError:
        return
    assert 1 <= len(hits) <= 5 and all(np.isfinite(h.score) for h in hits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200) | st.lists(st.sampled_from(["orbit", "flour", "bank", "É", "\x00", " "])).map("".join))
def test_query_vectorizer_matches_the_index_vectorizer(small_index, text):
    vec = small_index[1].vectorizer
    cols, weights = query_terms(vec.vocabulary_, query_idf(vec), text)
    row = vec.transform([text])
    row.sort_indices()
    assert cols.tolist() == row.indices.tolist()
    np.testing.assert_allclose(weights, row.data, rtol=1e-5)


# --------------------------------------------------------------------------- 5. training edge cases


def build(texts, tmp_path, *extra):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i, text in enumerate(texts):
        (corpus / f"{i}.txt").write_text(text)
    dest = tmp_path / "i"
    return CliRunner().invoke(cli, ["index", str(corpus), "--index", str(dest), *TINY, *extra]), dest


def assert_finite_index(dest: Path, n_docs: int) -> None:
    idx = SemanticIndex.load(dest, verify="full")
    enc = idx.encoder
    for a in (*enc.kernels, *enc.biases, enc.thresholds):
        assert np.isfinite(a).all()
    assert len(idx.table) == n_docs
    assert idx.search(" ".join(idx.vectorizer.terms_[:20]), k=2)


@pytest.mark.parametrize("case, texts, extra", [
    ("smaller than a batch", ["rocket orbit launch moon", "flour butter oven sugar", "stock bond bank loan"],
     ["--batch-size", "64"]),
    ("vocabulary smaller than bits", ["alpha beta", "gamma delta", "epsilon alpha", "beta gamma delta"],
     ["--bits", "32"]),
    ("identical documents, max-df 1", ["rocket orbit launch moon"] * 6, ["--max-df", "1.0"]),
    ("one word repeated", ["rocket " * 200_000, "flour butter", "stock bond bank", "moon orbit"], []),
    ("one very long word", ["z" * 500_000 + " rocket orbit", "flour butter", "stock bond bank"], []),
])
@pytest.mark.slow
def test_training_edge_cases_give_working_finite_indexes(tmp_path, case, texts, extra):
    result, dest = build(texts, tmp_path, *extra)
    assert result.exit_code == 0, (case, result.output, result.stderr)
    assert_finite_index(dest, len(texts))


def test_identical_documents_explain_the_max_df(tmp_path):
    result, dest = build(["rocket orbit launch moon"] * 6, tmp_path)
    assert result.exit_code == 1 and not dest.exists()
    assert "raise --max-df" in last_error(result)


def test_single_usable_document_is_a_clear_error(tmp_path):
    result, dest = build(["rocket orbit launch moon", "the and of"], tmp_path)
    assert result.exit_code == 1 and not dest.exists()
    assert last_error(result).startswith("Error: only 1 document(s) have words of the vocabulary")


def test_nan_input_is_refused():
    import scipy.sparse as sp

    from semhash.model import ModelConfig, train

    X = sp.csr_matrix(np.array([[1.0, np.nan], [0.5, 1.0]], dtype=np.float32))
    with pytest.raises(ConfigError, match="NaN"):
        train(X, ModelConfig(n_bits=8, hidden=(4,), epochs=1))

