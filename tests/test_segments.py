"""Delta segments: add/remove write only what changed, queries read every segment as one index,
a compaction merges them into the same index a whole rewrite gives."""

import json
import os
import shutil

import numpy as np
import pytest
from test_update import QUERIES, new_docs

from semhash.corpus import read_corpus
from semhash.errors import IndexFormatError
from semhash.index import MANIFEST, SemanticIndex, compact_index, segments, update_index
from semhash.similar import similar

BASE_FILES_CHANGE = {MANIFEST}  # the only base file a segment rewrites


def hits(idx, mode):
    return [[(h.id, h.distance, round(h.score, 6)) for h in found]
            for found in idx.search_batch(QUERIES + ["rocket booster", "pasta garlic"], k=20, mode=mode)]


def listing(folder):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def updated(small_index, topical_corpus, tmp_path):
    """A copy of the small index with three updates (adds, removes, a replacement) as segments."""
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    original = read_corpus(topical_corpus).documents
    added = new_docs(9, seed=3)
    update_index(folder, lambda idx: idx.add(added))
    update_index(folder, lambda idx: idx.remove([original[0].id, original[31].id, added[2].id]))
    replacement = added[4].__class__(id=original[7].id, path=original[7].path, title="replaced",
                                     text="rocket booster payload orbit launch pasta garlic")
    update_index(folder, lambda idx: idx.add([replacement]))
    return folder


def test_an_update_writes_only_a_segment(small_index, tmp_path):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    before = listing(folder)
    update_index(folder, lambda idx: idx.add(new_docs(2, seed=1)))
    after = listing(folder)
    new = set(after) - set(before)
    assert new == {"delta-000001.npz", "delta-000001.sqlite"}
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed == BASE_FILES_CHANGE  # every base file is untouched: same inode, time and size
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["format_version"] == 3 and manifest["counts"]["documents"] == len(small_index[1].table) + 2
    assert manifest["segments"] == [{"name": "delta-000001", "first_row": small_index[1].tfidf.shape[0], "rows": 2,
                                     "removed": 0}]
    written = sum((folder / n).stat().st_size for n in new)
    assert written < 64_000  # two documents: a few SQLite pages and arrays, whatever the index's size


@pytest.mark.parametrize("mmap", [True, False])
def test_segments_answer_as_the_compacted_index(small_index, topical_corpus, tmp_path, mmap):
    folder = updated(small_index, topical_corpus, tmp_path)
    seg = SemanticIndex.load(folder, mmap=mmap)
    assert seg.segment_info()["segments"] == 3
    compacted = shutil.copytree(folder, tmp_path / "compacted")
    merged = compact_index(compacted)
    assert merged["segments"] == 3 and merged["added_rows"] == 10 and merged["removed_rows"] == 4
    full = SemanticIndex.load(compacted, mmap=mmap)
    manifest = json.loads((compacted / MANIFEST).read_text())
    assert full.segment_info()["segments"] == 0 and manifest["format_version"] == 2
    assert not [p for p in compacted.iterdir() if segments.is_segment_file(p.name)]
    assert len(seg.table) == len(full.table) == len(small_index[1].table) + 10 - 4
    for mode in ("semantic", "lexical", "hybrid"):
        assert hits(seg, mode) == hits(full, mode), mode
    assert [h.id for h in similar(seg, "new/0.txt", k=10)] == [h.id for h in similar(full, "new/0.txt", k=10)]
    ids = sorted(seg.rows_for_ids([d.id for d in seg.documents(np.asarray(seg.table.ids_)).values()]))
    assert ids == sorted(full.rows_for_ids(ids)) and len(ids) == len(full.table)
    assert seg.rows_for_ids(ids) == full.rows_for_ids(ids)  # rows are never renumbered
    assert sorted(seg.ids_with_path("new", folder=True)) == sorted(full.ids_with_path("new", folder=True))
    # the removed and replaced documents are gone from every source
    for mode in ("semantic", "lexical", "hybrid"):
        found = {h.id for hs in seg.search_batch(["rocket booster payload orbit"], k=200, mode=mode) for h in hs}
        assert "new/2.txt" not in found
    assert len(seg.faiss) == len(full.table)


def test_changes_before_a_save_answer_as_after_it(small_index, tmp_path):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    idx = SemanticIndex.load(folder)
    idx.add(new_docs(5, seed=2))
    idx.remove(["new/1.txt"])
    unsaved = {mode: hits(idx, mode) for mode in ("semantic", "lexical", "hybrid")}
    idx.save(folder)
    assert json.loads((folder / MANIFEST).read_text())["segments"][0]["rows"] == 5
    assert {mode: hits(idx, mode) for mode in unsaved} == unsaved  # the same index, its changes saved
    reloaded = SemanticIndex.load(folder)
    assert {mode: hits(reloaded, mode) for mode in unsaved} == unsaved


def test_a_compaction_is_automatic_past_the_segment_limit(small_index, tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "MAX_SEGMENTS", 3)
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    for i in range(3):
        update_index(folder, lambda idx, i=i: idx.add(new_docs(1, seed=i, prefix=f"batch{i}")))
    assert len(json.loads((folder / MANIFEST).read_text())["segments"]) == 3
    update_index(folder, lambda idx: idx.add(new_docs(1, seed=9, prefix="batch3")))
    manifest = json.loads((folder / MANIFEST).read_text())
    assert "segments" not in manifest and manifest["counts"]["documents"] == len(small_index[1].table) + 4
    assert not [p for p in folder.iterdir() if segments.is_segment_file(p.name)]


def test_files_a_killed_writer_left_are_ignored_then_removed(small_index, tmp_path):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    update_index(folder, lambda idx: idx.add(new_docs(1, seed=1)))
    before = hits(SemanticIndex.load(folder), "hybrid")
    (folder / "delta-000002.npz").write_bytes(b"half written")  # a writer killed before its manifest
    (folder / "delta-000002.sqlite").write_bytes(b"")
    (folder / f"{segments.MANIFEST_TMP}123-456").write_text("{")
    assert hits(SemanticIndex.load(folder), "hybrid") == before  # unlisted: never read
    update_index(folder, lambda idx: idx.add(new_docs(1, seed=2, prefix="later")))
    assert not (folder / f"{segments.MANIFEST_TMP}123-456").exists()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert [s["name"] for s in manifest["segments"]] == ["delta-000001", "delta-000002"]
    assert SemanticIndex.load(folder, verify="full").rows_for_ids(["later/0.txt"])  # the new delta-000002


@pytest.mark.parametrize("name", ["delta-000001.npz", "delta-000001.sqlite"])
def test_a_damaged_segment_is_named(small_index, tmp_path, name):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    update_index(folder, lambda idx: idx.add(new_docs(3, seed=1)))
    path = folder / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match=str(path)):
        SemanticIndex.load(folder)
    os.unlink(path)
    with pytest.raises(IndexFormatError, match=str(path)):
        SemanticIndex.load(folder)


def test_a_reader_keeps_its_snapshot_while_segments_are_written(small_index, tmp_path):
    folder = shutil.copytree(small_index[0], tmp_path / "idx")
    reader = SemanticIndex.load(folder, mmap=True)
    before = hits(reader, "hybrid")
    update_index(folder, lambda idx: idx.add(new_docs(4, seed=5)))
    update_index(folder, lambda idx: idx.remove(["new/0.txt"]))
    compact_index(folder)
    assert hits(reader, "hybrid") == before  # its files stay open and unchanged
    assert len(SemanticIndex.load(folder).table) == len(reader.table) + 3


def test_exports_and_outliers_of_segments_equal_the_compacted_index(small_index, topical_corpus, tmp_path):
    from semhash.export import export_index
    from semhash.outliers import find_outliers, numpy_decoder

    folder = updated(small_index, topical_corpus, tmp_path)
    compacted = shutil.copytree(folder, tmp_path / "compacted")
    compact_index(compacted)
    seg, full = SemanticIndex.load(folder, mmap=True), SemanticIndex.load(compacted, mmap=True)
    for idx, out in ((seg, tmp_path / "seg-out"), (full, tmp_path / "full-out")):
        export_index(idx, out, formats="jsonl")
    lines = [sorted((out / "codes.jsonl").read_text().splitlines()) for out in (tmp_path / "seg-out", tmp_path / "full-out")]
    assert lines[0] == lines[1] and len(lines[0]) == len(full.table)
    worst = [[(o.id, round(o.error, 6)) for o in find_outliers(idx, 10, decoder=numpy_decoder(idx))] for idx in (seg, full)]
    assert worst[0] == worst[1]


def test_added_hits_are_merged_in_the_order_one_sort_gives():
    from semhash.hamming import sort_hits
    from semhash.index.views import merge_hits

    rng = np.random.default_rng(0)
    for n_base, n_added in ((0, 3), (500, 0), (500, 3), (500, 200), (20, 20)):
        ids = rng.choice(10_000, size=n_base + n_added, replace=False).astype(np.int64)
        dist = rng.integers(0, 4, size=len(ids)).astype(np.int32)
        base, added = sort_hits(ids[:n_base], dist[:n_base]), sort_hits(ids[n_base:], dist[n_base:])
        merged = merge_hits(*base, *added)
        expected = sort_hits(ids, dist)
        np.testing.assert_array_equal(merged[0], expected[0])
        np.testing.assert_array_equal(merged[1], expected[1])
