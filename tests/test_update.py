"""Live updates: add / remove / re-add without retraining, and the CLI commands."""

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import topical_text

from semhash.cli import cli
from semhash.corpus import Document, read_corpus
from semhash.errors import SemhashError
from semhash.index import SemanticIndex, update_index

QUERIES = ["shuttle launch orbit", "flour butter oven", "stock dividend bank", "moon mission payload"]


def new_docs(n, seed, prefix="new"):
    rng = random.Random(seed)
    topics = ["space", "cooking", "finance"]
    return [Document(id=f"{prefix}/{i}.txt", path=f"{prefix}/{i}.txt", title=f"{prefix} {i}",
                     text=topical_text(topics[i % 3], rng)) for i in range(n)]


def codes_by_id(idx):
    docs = idx.documents(np.asarray(idx.table.ids_))
    return {docs[int(r)].id: bytes(c) for r, c in zip(idx.table.ids_, np.asarray(idx.table.codes_))}


def results(idx, rerank=True, mode=None):
    return [[(h.id, h.distance, round(h.score, 5)) for h in hits]
            for hits in idx.search_batch(QUERIES, k=15, rerank=rerank, mode=mode)]


def test_add_remove_readd_equals_fresh_build(small_index, topical_corpus, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(small_index[0], folder)
    original = read_corpus(topical_corpus).documents
    added = new_docs(12, seed=7)
    removed_ids = [original[0].id, original[40].id, added[3].id]
    replacement = Document(id=original[5].id, path=original[5].path, title="replaced",
                           text="recipe oven flour butter sugar bake garlic onion")

    update_index(folder, lambda idx: idx.add(added))
    assert update_index(folder, lambda idx: idx.remove(removed_ids)) == 3
    result = update_index(folder, lambda idx: idx.add([replacement]))
    assert result == {"added": 0, "replaced": 1, "skipped": []}
    updated = SemanticIndex.load(folder)

    final = [d for d in original + added if d.id not in removed_ids and d.id != replacement.id] + [replacement]
    fresh = SemanticIndex.from_model(updated.vectorizer, updated.encoder, final)
    fresh.save(tmp_path / "fresh")
    fresh = SemanticIndex.load(tmp_path / "fresh")

    assert len(updated.table) == len(fresh.table) == len(final)
    assert len(updated.faiss) == len(final)
    assert codes_by_id(updated) == codes_by_id(fresh)
    for mode in ("hybrid", "semantic", "lexical"):  # the postings follow the rows too
        assert results(updated, mode=mode) == results(fresh, mode=mode)
    # Hamming-only ranking ties are broken by internal row, so compare (distance, id) sets per query
    for a, b in zip(results(updated, rerank=False), results(fresh, rerank=False)):
        assert [d for _, d, _ in a] == [d for _, d, _ in b]
    hit = updated.search("garlic onion recipe oven", k=3, mode="semantic")  # the cosine favours its short text
    assert replacement.id in [h.id for h in hit]
    assert not any(h.id in removed_ids for hits in updated.search_batch(QUERIES, k=90) for h in hits)
    drift = updated.drift()
    assert drift["added_since_training"] == 12 and drift["removed_since_training"] == 3
    assert drift["replaced_since_training"] == 1  # a replacement is not an addition
    assert 0 <= drift["mean_abs"] <= drift["max_abs"] <= 1


def test_remove_unknown_id_changes_nothing(small_index, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(small_index[0], folder)
    before = (folder / "manifest.json").read_bytes()
    with pytest.raises(SemhashError, match="unknown document id.*'nope'.*nothing was removed"):
        update_index(folder, lambda idx: idx.remove(["space/space-000.txt", "nope"]))
    assert (folder / "manifest.json").read_bytes() == before


def test_add_and_remove_cli(small_index, topical_corpus, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(small_index[0], folder)
    note = topical_corpus / "space" / "zz-extra.txt"
    note.write_text("Extra\n\nastronaut spacecraft booster rocket launch orbit")
    try:
        runner = CliRunner()
        out = runner.invoke(cli, ["add", str(note), "--index", str(folder)])
        assert out.exit_code == 0, out.output
        assert out.stdout.strip() == "added 1, replaced 0 documents (0 skipped)"
        hits = json.loads(runner.invoke(cli, ["query", "astronaut spacecraft booster", "--index", str(folder),
                                              "--json", "-k", "3", "--mode", "semantic"]).stdout)
        assert "space/zz-extra.txt" in [h["id"] for h in hits]  # id relative to the indexed corpus
        again = runner.invoke(cli, ["add", str(note), "--index", str(folder)])
        assert again.stdout.strip() == "added 0, replaced 1 documents (0 skipped)"
        info = runner.invoke(cli, ["info", "--index", str(folder)]).stdout
        assert "updates:      1 added, 1 replaced, 0 removed since training" in info
        gone = runner.invoke(cli, ["remove", "space/zz-extra.txt", "--index", str(folder)])
        assert gone.exit_code == 0 and gone.stdout.strip() == "removed 1 documents"
        bad = runner.invoke(cli, ["remove", "nope", "--index", str(folder)])
        assert bad.exit_code == 1
        assert "unknown document id(s): 'nope'" in bad.stderr
    finally:
        note.unlink()


# --------------------------------------------------------------------------- ids of added files


def copy_index(small_index, tmp_path):
    import shutil

    folder = tmp_path / "idx"
    shutil.copytree(small_index[0], folder)
    return folder


def stored(folder):
    idx = SemanticIndex.load(folder)
    try:
        return {d.id: d for d in idx.documents(np.asarray(idx.table.ids_)).values()}
    finally:
        idx.close()


def test_two_files_with_one_name_get_two_ids(small_index, tmp_path, monkeypatch):
    folder = copy_index(small_index, tmp_path)
    monkeypatch.chdir(tmp_path)
    for name, text in (("notesA", "astronaut spacecraft booster rocket"), ("notesB", "garlic onion simmer sauce")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "readme.txt").write_text(f"{name}\n\n{text}\n")
    a, b = (str(tmp_path / n / "readme.txt") for n in ("notesA", "notesB"))  # outside the corpus: absolute ids
    runner = CliRunner()
    out = runner.invoke(cli, ["add", "notesA/readme.txt", "notesB/readme.txt", "--index", str(folder)])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "added 2, replaced 0 documents (0 skipped)"
    docs = stored(folder)
    assert docs[a].title == "notesA" and docs[b].title == "notesB" and docs[a].path == a
    for path in ("notesA/readme.txt", b):  # one at a time, spelled either way: each replaces only itself
        again = runner.invoke(cli, ["add", path, "--index", str(folder)])
        assert again.stdout.strip() == "added 0, replaced 1 documents (0 skipped)"
    assert {k: d.title for k, d in stored(folder).items() if k in (a, b)} == {a: "notesA", b: "notesB"}
    assert len(stored(folder)) == 92


def test_one_add_of_two_inputs_with_one_id_changes_nothing(small_index, tmp_path):
    folder = copy_index(small_index, tmp_path)
    before = (folder / "manifest.json").read_bytes()
    for name, text in (("a.jsonl", "rocket orbit launch"), ("b.jsonl", "flour butter oven")):
        (tmp_path / name).write_text(json.dumps({"id": "note-42", "text": text}) + "\n")
    out = CliRunner().invoke(cli, ["add", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--index", str(folder)])
    assert out.exit_code == 1
    assert (f"Error: two different documents have the id 'note-42' (from '{tmp_path / 'a.jsonl'}' and "
            f"'{tmp_path / 'b.jsonl'}'); ids must be unique (nothing was changed)") in out.stderr
    assert (folder / "manifest.json").read_bytes() == before
    same = CliRunner().invoke(cli, ["add", str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl"), "--index", str(folder)])
    assert same.stdout.strip() == "added 1, replaced 0 documents (0 skipped)"  # one file named twice is one input


def test_remove_takes_the_path_that_was_added(small_index, topical_corpus, tmp_path, monkeypatch):
    folder = copy_index(small_index, tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes" / "sub").mkdir(parents=True)
    for rel in ("old.txt", "keep.txt", "sub/a.txt", "sub/b.txt"):
        (tmp_path / "notes" / rel).write_text("Note\n\nrocket orbit launch shuttle nasa moon")
    inside = topical_corpus / "space" / "zz-inside.txt"
    inside.write_text("Inside\n\nastronaut spacecraft booster rocket launch")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, [*args, "--index", str(folder)])

    try:
        assert run("add", "notes", str(inside)).stdout.strip() == "added 5, replaced 0 documents (0 skipped)"
        assert "space/zz-inside.txt" in stored(folder)  # under the corpus: its relative id
        (tmp_path / "notes" / "old.txt").unlink()  # deleted on disk first, as one does
        assert run("remove", "notes/old.txt").stdout.strip() == "removed 1 documents"
        assert run("remove", str(inside)).stdout.strip() == "removed 1 documents"  # the path of a corpus file
        assert run("remove", "notes/sub").stdout.strip() == "removed 2 documents"  # a folder: what is under it
        gone = run("remove", str(topical_corpus))
        assert gone.exit_code == 1 and "is the indexed corpus folder" in gone.stderr
        assert run("remove", "space/space-001.txt").stdout.strip() == "removed 1 documents"  # ids still work
        unknown = run("remove", "notes/old.txt")
        assert unknown.exit_code == 1 and "unknown document id(s): 'notes/old.txt'" in unknown.stderr
        ids = set(stored(folder))
        assert str(tmp_path / "notes" / "keep.txt") in ids and len(ids) == 90
    finally:
        inside.unlink()


# --------------------------------------------------------------------------- drift and counts


def test_drift_is_judged_against_sampling_noise():
    from semhash.index import drifted_bits

    train = np.array([0.5, 0.5, 0.0, 0.3])
    # shifts of 0.1 by 30 documents are noise (4 standard errors are 0.37); by 2000 they are not
    assert not drifted_bits(train, 10_000, train + [0.15, -0.15, 0.0, 0.15], 30).any()
    assert drifted_bits(train, 10_000, train + [0.15, 0.05, 0.0, -0.15], 2000).tolist() == [True, False, False, True]
    # a bit the training codes never set, set by half of 40 new documents: drifted
    assert drifted_bits(train, 10_000, [0.5, 0.5, 0.5, 0.3], 40).tolist() == [False, False, True, False]


def test_info_advises_retraining_only_for_a_real_drift(small_index, topical_corpus, tmp_path):
    folder = copy_index(small_index, tmp_path)
    runner = CliRunner()

    def info():
        text = runner.invoke(cli, ["info", "--index", str(folder)]).stdout
        return text, json.loads(runner.invoke(cli, ["info", "--index", str(folder), "--json"]).stdout)["updates"]

    update_index(folder, lambda idx: idx.add(new_docs(1, seed=1)))  # one document: always 0/1 per bit
    text, upd = info()
    assert "consider retraining" not in text and "drift:        judged once 30 documents" in text
    assert (upd["added_since_training"], upd["replaced_since_training"], upd["retrain_advised"]) == (1, 0, False)
    update_index(folder, lambda idx: idx.add(new_docs(60, seed=2, prefix="mixed")))  # the training mixture
    text, upd = info()
    assert upd["drifted_bits"] == 0 and not upd["retrain_advised"] and "within sampling noise" in text
    # a real drift: 120 documents that all have bit 0 set, where training set it for about half
    # (copies of corpus texts whose code has it: the same text always gets the same code, so the
    # drift does not depend on how well the small model tells the topics apart)
    texts = [d.text for d in read_corpus(topical_corpus).documents]
    with_bit = [t for t, bits in zip(texts, small_index[1].encode(texts)) if bits[0] & 0x80]
    assert 0 < len(with_bit) < len(texts)
    drifted = [Document(f"bit-0/{i}.txt", f"bit-0/{i}.txt", "s", with_bit[i % len(with_bit)]) for i in range(120)]
    update_index(folder, lambda idx: idx.add(drifted))
    text, upd = info()
    assert upd["retrain_advised"] and upd["drifted_bits"] >= 1
    assert f"{upd['drifted_bits']} of 16 bits differ from training beyond sampling noise" in text
    assert "consider retraining" in text
