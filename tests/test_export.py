"""`semhash export` / `semhash encode`: each backend format has its documented shape, and every
exported representation decodes, independently of semhash's packing code, to the same bits and
the same Hamming distances as the index's own codes."""

from __future__ import annotations

import base64
import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from semhash import codes as codes_mod
from semhash import export as ex
from semhash.cli import cli
from semhash.codes import from_hex, hamming_distances, pack_bits, to_hex, unpack_bits


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bulk_pairs(path):
    lines = read_jsonl(path)
    assert len(lines) % 2 == 0
    return list(zip(lines[0::2], lines[1::2]))


def bits_of_bytes(values) -> str:
    """The dimensions of a byte vector as Elasticsearch/OpenSearch spell them: each byte (int8
    or uint8) as 8 bits, most significant first -- `[127, -127]` is `0111111110000001`."""
    return "".join(format(int(v) & 0xFF, "08b") for v in values)


# --------------------------------------------------------------------------- the documented examples


def test_int8_bytes_match_the_opensearch_examples():
    # "the binary sequence of 8 bits 0, 1, 1, 0, 0, 0, 1, 1 must be converted into ... 99"
    assert ex.to_int8_bytes(pack_bits(np.array([[0, 1, 1, 0, 0, 0, 1, 1]]))) == [[99]]
    # [0,1,1,0,1,1,0,0, 1,0,0,0,1,1,0,0] -> [108, -116] (np.packbits(bits).astype(np.int8))
    bits = np.array([[0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]])
    assert ex.to_int8_bytes(pack_bits(bits)) == [[108, -116]]
    assert ex.to_uint8_lists(pack_bits(bits)) == [[108, 140]]


def test_bytes_and_hex_match_the_elasticsearch_bit_vector_example():
    # "[127, -127, 0, 1, 42] in bits 0111111110000001000000000000000100101010"
    doc1 = "0111111110000001000000000000000100101010"
    packed1 = pack_bits(np.array([[int(c) for c in doc1]]))
    assert ex.to_int8_bytes(packed1) == [[127, -127, 0, 1, 42]]
    assert ex.to_bit_strings(packed1, 40) == [doc1]
    # the hex string "8100012a7f" is [-127, 0, 1, 42, 127]: 1000000100000000000000010010101001111111
    doc2 = "1000000100000000000000010010101001111111"
    packed2 = from_hex(["8100012a7f"])
    assert ex.to_bit_strings(packed2, 40) == [doc2]
    assert ex.to_int8_bytes(packed2) == [[-127, 0, 1, 42, 127]]
    # the docs' Hamming distance between the two is 18 (score (40 - 18) / 40 = 0.55)
    assert hamming_distances(packed1[0], packed2)[0] == 18


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 16).flatmap(lambda n: st.lists(
    st.lists(st.integers(0, 255), min_size=n, max_size=n), min_size=1, max_size=6)))
def test_every_representation_round_trips(rows):
    packed = np.array(rows, dtype=np.uint8)
    n_bits = packed.shape[1] * 8
    assert np.array_equal(ex.from_int8_bytes(ex.to_int8_bytes(packed)), packed)
    assert all(-128 <= v <= 127 for row in ex.to_int8_bytes(packed) for v in row)
    assert ex.to_uint8_lists(packed) == packed.tolist()
    assert [base64.b64decode(s) for s in ex.to_base64(packed)] == [bytes(r) for r in packed]
    assert ex.to_bit_strings(packed, n_bits) == [bits_of_bytes(r) for r in rows]
    assert [bytes(r).hex() for r in packed] == to_hex(packed)
    for row in packed:
        d = ex.code_dict(row, n_bits)
        assert bytes.fromhex(d["hex"]) == bytes(d["uint8"]) == base64.b64decode(d["base64"])
        assert bits_of_bytes(d["int8"]) == d["bits"]


# --------------------------------------------------------------------------- the exported files


@pytest.fixture(scope="module")
def exported(small_index, tmp_path_factory):
    """Every format (Parquet when pyarrow is installed) exported from the saved small index."""
    from semhash.index import open_index

    folder, _ = small_index
    idx = open_index(folder)
    out = tmp_path_factory.mktemp("export")
    files = ex.export_index(idx, out, None, index_name="docs-codes")
    return idx, out, files


@pytest.fixture(scope="module")
def reference(exported):
    """semhash's own codes by document id: packed bytes from ``index.table.codes_``."""
    idx, _, _ = exported
    rows = np.asarray(idx.table.ids_)
    docs = idx.documents(rows.tolist())
    codes = np.asarray(idx.table.codes_)
    return {docs[int(r)].id: codes[j] for j, r in enumerate(rows)}


def test_export_writes_the_documented_files(exported):
    idx, out, files = exported
    names = {p.relative_to(out).as_posix() for p in files}
    expected = {"codes.jsonl", "elasticsearch/mapping.json", "elasticsearch/bulk.ndjson", "opensearch/mapping.json",
                "opensearch/bulk.ndjson", "milvus/schema.json", "milvus/rows.jsonl", "export.json"}
    if ex.parquet_available():
        expected.add("codes.parquet")
    assert names == expected
    summary = json.loads((out / "export.json").read_text())
    assert summary["n_bits"] == idx.n_bits and summary["documents"] == len(idx.table)
    assert summary["bit_order"].startswith("msb-first")


def test_jsonl_shape(exported, reference):
    idx, out, _ = exported
    lines = read_jsonl(out / "codes.jsonl")
    assert len(lines) == len(reference)
    assert [l["row"] for l in lines] == sorted(l["row"] for l in lines)
    for l in lines:
        assert set(l) == {"row", "id", "title", "path", "n_bits", "hex", "base64", "bytes"}
        assert l["n_bits"] == idx.n_bits and len(l["hex"]) == idx.n_bits // 4
        assert bytes.fromhex(l["hex"]) == base64.b64decode(l["base64"]) == bytes(l["bytes"])
        assert bytes(l["bytes"]) == bytes(reference[l["id"]])


def test_elasticsearch_mapping_and_bulk_follow_the_docs(exported):
    idx, out, _ = exported
    mapping = json.loads((out / "elasticsearch" / "mapping.json").read_text())
    field = mapping["mappings"]["properties"]["code"]
    assert field == {"type": "dense_vector", "element_type": "bit", "dims": idx.n_bits, "index": True,
                     "similarity": "l2_norm"}
    assert mapping["mappings"]["properties"]["id"] == {"type": "keyword"}
    pairs = bulk_pairs(out / "elasticsearch" / "bulk.ndjson")
    assert len(pairs) == len(idx.table)
    for action, source in pairs:
        assert action == {"index": {"_index": "docs-codes", "_id": source["id"]}}
        assert set(source) == {"id", "title", "path", "code"}
        code = source["code"]  # a hexadecimal string, two digits per byte
        assert isinstance(code, str) and len(code) == idx.n_bits // 4
        assert all(c in "0123456789abcdef" for c in code)


def test_opensearch_mapping_and_bulk_follow_the_docs(exported):
    idx, out, _ = exported
    mapping = json.loads((out / "opensearch" / "mapping.json").read_text())
    assert mapping["settings"] == {"index": {"knn": True}}
    field = mapping["mappings"]["properties"]["code"]
    assert field["type"] == "knn_vector" and field["dimension"] == idx.n_bits and field["data_type"] == "binary"
    assert field["method"] == {"name": "hnsw", "space_type": "hamming", "engine": "faiss"}
    pairs = bulk_pairs(out / "opensearch" / "bulk.ndjson")
    assert len(pairs) == len(idx.table)
    for action, source in pairs:
        assert action == {"index": {"_index": "docs-codes", "_id": source["id"]}}
        vec = source["code"]  # int8 bytes, 8 dimensions each
        assert len(vec) == idx.n_bits // 8 and all(isinstance(v, int) and -128 <= v <= 127 for v in vec)


def test_milvus_schema_and_rows(exported):
    idx, out, _ = exported
    schema = json.loads((out / "milvus" / "schema.json").read_text())
    assert schema["collectionName"] == "docs-codes"
    fields = {f["fieldName"]: f for f in schema["schema"]["fields"]}
    assert list(fields) == ["id", "code", "title"]
    assert fields["id"]["dataType"] == "VarChar" and fields["id"]["isPrimary"] is True
    assert fields["code"] == {"fieldName": "code", "dataType": "BinaryVector", "elementTypeParams": {"dim": idx.n_bits}}
    assert fields["title"]["dataType"] == "VarChar"
    (index,) = schema["indexParams"]
    assert index["fieldName"] == "code" and index["metricType"] == "HAMMING"
    assert index["indexType"] == "BIN_FLAT" and index["params"] == {}  # the default: exact
    assert schema["searchParams"] == {"annsField": "code", "metricType": "HAMMING", "params": {}}
    # sized for documents added later, not for today's longest id and title
    assert fields["id"]["elementTypeParams"]["max_length"] == fields["title"]["elementTypeParams"]["max_length"] \
        == ex.MILVUS_VARCHAR_MAX == 65535
    rows = read_jsonl(out / "milvus" / "rows.jsonl")
    assert len(rows) == len(idx.table)
    for r in rows:
        assert set(r) == {"id", "code", "title"}
        assert len(bytes(r["code"])) == idx.n_bits // 8  # pymilvus: bytes of dim / 8
        assert len(r["title"].encode()) <= fields["title"]["elementTypeParams"]["max_length"]
        assert len(r["id"].encode()) <= fields["id"]["elementTypeParams"]["max_length"]


def test_milvus_index_is_the_users_choice_and_carries_its_search_params():
    from semhash.choices import MILVUS_INDEX_TYPES

    assert tuple(ex.MILVUS_INDEXES) == MILVUS_INDEX_TYPES  # what the command line offers
    # exact BIN_FLAT whatever the size (Milvus Lite accepts no other binary index)
    (index,) = ex.milvus_schema(64, "c", 1_000_000)["indexParams"]
    assert index["indexType"] == "BIN_FLAT" and index["params"] == {}
    schema = ex.milvus_schema(64, "c", 1_000_000, index_type="BIN_IVF_FLAT")
    (index,) = schema["indexParams"]
    assert index["indexType"] == "BIN_IVF_FLAT" and index["params"] == {"nlist": 4000}
    # a search scans an eighth of the clusters, not Milvus's small default nprobe
    assert schema["searchParams"] == {"annsField": "code", "metricType": "HAMMING", "params": {"nprobe": 500}}
    for n_docs in (0, 1, 7, 50, 10**12):
        (index,) = ex.milvus_schema(8, "c", n_docs, index_type="BIN_IVF_FLAT")["indexParams"]
        nlist = index["params"]["nlist"]
        assert 1 <= nlist <= 65536 and nlist <= max(n_docs, 1)
    with pytest.raises(ex.ConfigError, match="unknown Milvus index type 'IVF_FLAT'; choose from BIN_FLAT, BIN_IVF_FLAT"):
        ex.milvus_schema(64, "c", 10, index_type="IVF_FLAT")
    with pytest.raises(ex.ConfigError, match="max_length must be a whole number from 1 to 65535"):
        ex.milvus_schema(64, "c", 10, id_max_length=65536)
    with pytest.raises(ex.ConfigError):
        ex.es_mapping(12)


def test_milvus_ids_over_the_limit_are_refused_and_titles_cut(exported, tmp_path):
    idx, _, _ = exported
    out = tmp_path / "m"
    longest = max(len(r.id.encode()) for r in ex.index_records(idx))
    with pytest.raises(ex.ConfigError, match=f"is {longest} bytes long, more than the Milvus id field's max_length "
                                             f"of {longest - 1} bytes; raise --milvus-max-length"):
        ex.export_index(idx, out, "milvus", milvus=ex.MilvusOptions(max_length=longest - 1))
    ex.export_index(idx, out, "milvus", milvus=ex.MilvusOptions(max_length=longest))
    fields = {f["fieldName"]: f for f in json.loads((out / "milvus" / "schema.json").read_text())["schema"]["fields"]}
    assert fields["title"]["elementTypeParams"]["max_length"] == longest
    titles = [r["title"] for r in read_jsonl(out / "milvus" / "rows.jsonl")]
    assert all(len(t.encode()) <= longest for t in titles)
    huge = [ex.CodeRecord(0, "x" * 65536, "t", "p", np.zeros(2, np.uint8))]
    with pytest.raises(ex.ConfigError, match="Milvus keys can be no longer: give the document a shorter id"):
        ex.check_milvus_ids(huge)


def decoded_exports(out) -> dict[str, dict[str, np.ndarray]]:
    """Every exported representation decoded to packed bytes by plain Python, per document id."""
    def u8(values):
        return np.array([int(v) & 0xFF for v in values], dtype=np.uint8)

    lines = read_jsonl(out / "codes.jsonl")
    found = {
        "jsonl.hex": {l["id"]: np.frombuffer(bytes.fromhex(l["hex"]), np.uint8) for l in lines},
        "jsonl.base64": {l["id"]: np.frombuffer(base64.b64decode(l["base64"]), np.uint8) for l in lines},
        "jsonl.bytes": {l["id"]: u8(l["bytes"]) for l in lines},
        "elasticsearch": {s["id"]: np.frombuffer(bytes.fromhex(s["code"]), np.uint8)
                          for _, s in bulk_pairs(out / "elasticsearch" / "bulk.ndjson")},
        "opensearch": {s["id"]: np.array(s["code"], dtype=np.int8).view(np.uint8)
                       for _, s in bulk_pairs(out / "opensearch" / "bulk.ndjson")},
        "milvus": {r["id"]: np.frombuffer(bytes(r["code"]), np.uint8) for r in read_jsonl(out / "milvus" / "rows.jsonl")},
    }
    if (out / "codes.parquet").exists():
        import pyarrow.parquet as pq

        table = pq.read_table(out / "codes.parquet").to_pydict()
        found["parquet"] = {i: np.frombuffer(c, np.uint8) for i, c in zip(table["id"], table["code"])}
    return found


def test_every_export_has_semhash_bits_and_hamming_distances(exported, reference):
    """The key test: same bits, in the same order, and the same Hamming distances everywhere."""
    idx, out, _ = exported
    ids = list(reference)
    ours = np.array([reference[i] for i in ids])
    our_bits = unpack_bits(ours, idx.n_bits)
    for name, codes in decoded_exports(out).items():
        assert set(codes) == set(ids), name
        theirs = np.array([codes[i] for i in ids])
        assert theirs.dtype == np.uint8 and theirs.shape == ours.shape, name
        their_bits = np.unpackbits(theirs, axis=1)
        assert np.array_equal(their_bits, our_bits), name
        for q in range(0, len(ids), 7):
            expected = hamming_distances(ours[q], ours)
            assert np.array_equal((their_bits != their_bits[q]).sum(axis=1), expected), name


def test_bit_i_is_dimension_i_for_elasticsearch_and_opensearch(exported, topical_corpus):
    """Bit i of a code (the encoder's i-th output unit, before any packing) is dimension i of the
    Elasticsearch and OpenSearch vectors, as their docs number dimensions (MSB first per byte)."""
    from semhash.corpus import read_corpus

    idx, out, _ = exported
    docs = read_corpus(topical_corpus).documents
    X = idx.vectorizer.transform([d.text for d in docs])  # as the index was built: one batch, same order
    if hasattr(codes_mod, "encode_bits"):  # the encoder's 0/1 outputs, before packing
        units = codes_mod.encode_bits(idx.encoder, X)
    else:
        units = codes_mod.binarize(codes_mod.encode_probs(idx.encoder, X), idx.encoder.thresholds)
    unit_bits = {d.id: "".join(map(str, row)) for d, row in zip(docs, units)}
    es = {s["id"]: s["code"] for _, s in bulk_pairs(out / "elasticsearch" / "bulk.ndjson")}
    os_ = {s["id"]: s["code"] for _, s in bulk_pairs(out / "opensearch" / "bulk.ndjson")}
    assert es
    for doc_id, hex_code in es.items():
        assert bits_of_bytes(bytes.fromhex(hex_code)) == unit_bits[doc_id]
        assert bits_of_bytes(os_[doc_id]) == unit_bits[doc_id]
        assert len(unit_bits[doc_id]) == idx.n_bits


def test_parquet_has_a_binary_code_column(exported, reference):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    idx, out, _ = exported
    table = pq.read_table(out / "codes.parquet")
    assert table.schema.field("code").type == pa.binary()
    assert table.schema.metadata[b"semhash.n_bits"] == str(idx.n_bits).encode()
    data = table.to_pydict()
    assert set(data) == {"row", "id", "title", "path", "hex", "code"}
    assert {i: bytes(c) for i, c in zip(data["id"], data["code"])} == {i: bytes(c) for i, c in reference.items()}


def readme_columns(file_name: str) -> set[str]:
    """The columns the export table of the docs (docs/backends.md) gives for ``file_name``: the
    backticked names of its row, up to the first ';' (what follows is not a column)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "docs" / "backends.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{file_name}` |"))
    content = row.split("|")[2].split(";")[0]
    return set(re.findall(r"`([^`]+)`", content))


def test_readme_names_the_columns_of_the_jsonl_and_parquet_exports(exported):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    _, out, _ = exported
    assert readme_columns("codes.jsonl") == set(read_jsonl(out / "codes.jsonl")[0])
    assert readme_columns("codes.parquet") == set(pq.read_table(out / "codes.parquet").column_names)


# --------------------------------------------------------------------------- command line


def test_export_command_writes_chosen_formats(small_index, tmp_path):
    folder, _ = small_index
    out = tmp_path / "x"
    result = CliRunner().invoke(cli, ["export", "--index", str(folder), "--out", str(out), "--format", "jsonl,milvus",
                                      "--index-name", "news"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"exported 90 codes (16 bits) as jsonl, milvus to {out}:")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "codes.jsonl", "export.json", "milvus/rows.jsonl", "milvus/schema.json"]
    assert json.loads((out / "milvus" / "schema.json").read_text())["collectionName"] == "news"


def test_export_command_milvus_options(small_index, tmp_path):
    folder, _ = small_index
    runner = CliRunner()
    out = tmp_path / "ivf"
    result = runner.invoke(cli, ["export", "--index", str(folder), "--out", str(out), "--format", "milvus",
                                 "--milvus-index", "BIN_IVF_FLAT", "--milvus-max-length", "300"])
    assert result.exit_code == 0, result.output
    schema = json.loads((out / "milvus" / "schema.json").read_text())
    assert schema["indexParams"][0]["indexType"] == "BIN_IVF_FLAT"
    assert schema["searchParams"]["params"]["nprobe"] >= 1
    assert {f["fieldName"]: f["elementTypeParams"].get("max_length") for f in schema["schema"]["fields"]} == \
        {"id": 300, "code": None, "title": 300}
    result = runner.invoke(cli, ["export", "--index", str(folder), "--out", str(out), "--format", "jsonl",
                                 "--milvus-index", "BIN_IVF_FLAT"])
    assert result.exit_code == 2
    assert "--milvus-index apply to the milvus format, which --format leaves out" in result.stderr
    result = runner.invoke(cli, ["export", "--index", str(folder), "--out", str(out), "--milvus-max-length", "70000"])
    assert result.exit_code == 2 and "--milvus-max-length" in result.stderr


def test_export_needs_out(small_index):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["export", "--index", str(folder)])
    assert result.exit_code == 2
    assert "give --out DIR" in result.stderr


def test_export_unknown_format(small_index, tmp_path):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["export", "--index", str(folder), "--out", str(tmp_path), "--format", "jsonl,xml"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: unknown export format 'xml'; choose from jsonl, parquet, elasticsearch, opensearch, milvus or all")


def test_parquet_without_pyarrow_is_a_clear_error(small_index, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["export", "--index", str(folder), "--out", str(tmp_path / "p"),
                                      "--format", "parquet"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: Parquet export needs pyarrow, which is not installed: pip install pyarrow")
    assert not (tmp_path / "p").exists()
    # the default (all available) leaves Parquet out and says so
    result = CliRunner().invoke(cli, ["export", "--index", str(folder), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "skipped parquet: pyarrow is not installed (pip install pyarrow)" in result.stderr
    assert not (tmp_path / "a" / "codes.parquet").exists() and (tmp_path / "a" / "codes.jsonl").exists()


def test_encode_prints_the_exported_codes(exported, small_index, topical_corpus, tmp_path):
    from semhash.corpus import read_corpus

    idx, out, _ = exported
    folder, _ = small_index
    es = {s["id"]: s["code"] for _, s in bulk_pairs(out / "elasticsearch" / "bulk.ndjson")}
    os_ = {s["id"]: s["code"] for _, s in bulk_pairs(out / "opensearch" / "bulk.ndjson")}
    mv = {r["id"]: r["code"] for r in read_jsonl(out / "milvus" / "rows.jsonl")}
    docs = read_corpus(topical_corpus).documents[::20]
    runner = CliRunner()
    for d in docs:
        expected = idx.encode([d.text])
        base = ["encode", d.text, "--index", str(folder)]
        hex_out = runner.invoke(cli, base)
        assert hex_out.exit_code == 0, hex_out.output
        assert hex_out.stdout.strip() == to_hex(expected)[0] == es[d.id]
        assert json.loads(runner.invoke(cli, base + ["--format", "int8"]).stdout) == os_[d.id]
        assert json.loads(runner.invoke(cli, base + ["--format", "uint8"]).stdout) == mv[d.id]
        assert runner.invoke(cli, base + ["--format", "bits"]).stdout.strip() == bits_of_bytes(mv[d.id])
        full = json.loads(runner.invoke(cli, base + ["--format", "json"]).stdout)
        assert full == ex.code_dict(expected[0], idx.n_bits) and full["n_bits"] == 16
    qfile = tmp_path / "q.txt"
    qfile.write_text("rocket orbit launch\nflour butter oven\n")
    result = runner.invoke(cli, ["encode", "--file", str(qfile), "--index", str(folder), "--format", "hex"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == to_hex(idx.encode(["rocket orbit launch", "flour butter oven"]))
    two = runner.invoke(cli, ["encode", "rocket orbit launch", "flour butter oven", "--index", str(folder)])
    assert two.stdout.splitlines() == result.stdout.splitlines()


def test_encode_messages(small_index):
    folder, _ = small_index
    runner = CliRunner()
    result = runner.invoke(cli, ["encode", "--index", str(folder)])
    assert result.exit_code == 2 and "give one or more TEXTs or --file" in result.stderr
    result = runner.invoke(cli, ["encode", "xylophone zebra", "--index", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "Error: no word of the query 'xylophone zebra' is in the index vocabulary")


def test_an_export_read_a_few_documents_at_a_time_writes_the_same_files(exported, tmp_path, monkeypatch):
    """Exports read the store RECORD_BATCH documents at a time (a million documents are never all
    in memory): with batches of 7, every file is byte for byte the one of the one-batch export,
    and the Parquet file has one row group per batch."""
    from semhash.export import backends

    idx, out, files = exported
    monkeypatch.setattr(backends, "RECORD_BATCH", 7)
    again = ex.export_index(idx, tmp_path, None, index_name="docs-codes")
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(out) for p in files]
    for p in again:
        if p.suffix != ".parquet" and p.name != "export.json":
            assert p.read_bytes() == (out / p.relative_to(tmp_path)).read_bytes(), p
    assert json.loads((tmp_path / "export.json").read_text())["documents"] == len(ex.index_records(idx))
    if ex.parquet_available():
        import pyarrow.parquet as pq

        batched, whole = pq.ParquetFile(tmp_path / "codes.parquet"), pq.read_table(out / "codes.parquet")
        assert batched.metadata.num_row_groups == -(-len(ex.index_records(idx)) // 7)
        assert batched.read().to_pydict() == whole.to_pydict()
