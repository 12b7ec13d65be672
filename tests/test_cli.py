"""The command line, through click's CliRunner: exit codes and the messages users see."""

import json

import pytest
from click.testing import CliRunner
from conftest import write_topical_corpus

from semhash.cli import cli


def last_error(result) -> str:
    """The one-line message a failing command leaves last on standard error."""
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    corpus = write_topical_corpus(root / "corpus", per_topic=20, seed=1)
    (corpus / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (corpus / "empty.txt").write_text("")
    dest = root / "idx"
    result = CliRunner().invoke(cli, [
        "index", str(corpus), "--index", str(dest), "--bits", "16", "--hidden", "48,24", "--epochs", "12",
        "--pretrain-epochs", "3", "--batch-size", "16", "--min-df", "1", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    return dest, result


@pytest.mark.slow
def test_index_summary_line(cli_index):
    dest, result = cli_index
    assert f"indexed 60 documents into {dest} (2 skipped, 16 bits" in result.output
    assert "skipped files are listed in" in result.output
    skipped = json.loads((dest / "skipped.json").read_text())
    assert {s["path"]: s["reason"] for s in skipped} == {
        "empty.txt": "empty file", "picture.png": "unsupported extension .png"}


def test_query_prints_ranked_hits(cli_index):
    dest, _ = cli_index
    result = CliRunner().invoke(cli, ["query", "rocket launch orbit", "--index", str(dest), "-k", "3"])
    assert result.exit_code == 0, result.output
    lines = [l for l in result.output.splitlines() if l.strip() and l.lstrip()[0].isdigit()]
    assert [l.split(".")[0].strip() for l in lines] == ["1", "2", "3"]
    assert all("space/" in l for l in lines)


def test_query_json(cli_index):
    dest, _ = cli_index
    result = CliRunner().invoke(cli, ["query", "flour butter oven", "--index", str(dest), "-k", "4", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 4
    assert set(hits[0]) >= {"rank", "id", "title", "snippet", "distance", "score"}
    assert all(h["id"].startswith("cooking/") for h in hits)


def test_query_modes(cli_index, tmp_path):
    from semhash.index import open_index

    dest, _ = cli_index
    idx = open_index(dest)
    runner = CliRunner()
    for mode in ("hybrid", "semantic", "lexical"):
        result = runner.invoke(cli, ["query", "pasta tomato sauce", "--index", str(dest), "-k", "4", "--json",
                                     "--mode", mode])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == [h.to_dict() for h in idx.search("pasta tomato sauce", k=4, mode=mode)]
    queries = tmp_path / "q.txt"
    queries.write_text("pasta tomato sauce\nbank loan\n", encoding="utf-8")
    batch = runner.invoke(cli, ["query", "--file", str(queries), "--index", str(dest), "-k", "3", "--json",
                                "--mode", "lexical"])
    assert batch.exit_code == 0, batch.output
    assert [[h["id"] for h in r["hits"]] for r in json.loads(batch.output)] == \
        [[h.id for h in hits] for hits in idx.search_batch(["pasta tomato sauce", "bank loan"], k=3, mode="lexical")]
    default = runner.invoke(cli, ["query", "pasta tomato sauce", "--index", str(dest), "-k", "4", "--json"])
    assert json.loads(default.output) == [h.to_dict() for h in idx.search("pasta tomato sauce", k=4)]
    bad = runner.invoke(cli, ["query", "pasta", "--index", str(dest), "--mode", "fuzzy"])
    assert bad.exit_code == 2 and "Invalid value for '--mode'" in bad.output and "hybrid" in bad.output
    clash = runner.invoke(cli, ["query", "pasta", "--index", str(dest), "--mode", "lexical", "--no-rerank"])
    assert clash.exit_code == 1 and "only mode 'semantic'" in last_error(clash)
    plain = runner.invoke(cli, ["query", "pasta", "--index", str(dest), "--no-rerank", "--json"])  # semantic implied
    assert plain.exit_code == 0, plain.output


def test_query_no_rerank_and_radius(cli_index):
    dest, _ = cli_index
    result = CliRunner().invoke(cli, ["query", "bank loan", "--index", str(dest), "--no-rerank", "--radius", "0", "--json"])
    hits = json.loads(result.output)
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)


def test_query_file_batch(cli_index, tmp_path):
    dest, _ = cli_index
    qfile = tmp_path / "q.txt"
    qfile.write_text("rocket orbit\nbank loan\n")
    result = CliRunner().invoke(cli, ["query", "--file", str(qfile), "--index", str(dest), "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [(p["line"], p["query"]) for p in payload] == [(1, "rocket orbit"), (2, "bank loan")]
    assert payload[0]["hits"][0]["id"].startswith("space/") and payload[1]["hits"][0]["id"].startswith("finance/")


def test_info(cli_index):
    dest, _ = cli_index
    result = CliRunner().invoke(cli, ["info", "--index", str(dest)])
    assert result.exit_code == 0, result.output
    assert "documents:    60" in result.output
    assert "code:         16 bits" in result.output
    assert "bit balance:" in result.output and "buckets:" in result.output
    assert "skipped empty.txt: empty file" in result.output
    data = json.loads(CliRunner().invoke(cli, ["info", "--index", str(dest), "--json"]).output)
    assert data["documents"] == 60 and len(data["bit_balance"]["per_bit"]) == 16
    # options not given on the command line take the model's defaults
    model = json.loads((dest / "manifest.json").read_text())["params"]["model"]
    assert (model["variant"], model["graph_teacher"], model["graph_codes"]) == ("denoising", "spectral", 1.0)
    assert "variant denoising" in result.output


def test_index_graph_options_reach_the_model(tmp_path):
    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=12, seed=2)
    dest = tmp_path / "idx"
    result = CliRunner().invoke(cli, [
        "index", str(corpus), "--index", str(dest), "--bits", "8", "--hidden", "24,12", "--epochs", "2",
        "--pretrain-epochs", "1", "--min-df", "1", "--graph-teacher", "smoothed", "--graph-codes", "2", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    model = json.loads((dest / "manifest.json").read_text())["params"]["model"]
    assert (model["graph_teacher"], model["graph_codes"]) == ("smoothed", 2.0)
    bad = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(tmp_path / "x"), "--graph-teacher", "pagerank"])
    assert bad.exit_code == 2 and "'pagerank' is not one of 'spectral', 'smoothed'" in bad.output


def test_message_missing_folder(tmp_path):
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert last_error(result) == f"Error: corpus folder not found: {tmp_path / 'nope'}"


def test_message_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "empty"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert last_error(result).startswith(f"Error: no readable documents in {tmp_path / 'empty'} (the folder holds no files)")
    assert not (tmp_path / "i").exists()


def test_message_missing_index(tmp_path):
    result = CliRunner().invoke(cli, ["query", "anything", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert last_error(result) == (f"Error: no index at {tmp_path / 'none'}; build one with "
                                  f"`semhash index DIR --index {tmp_path / 'none'}`")


def test_message_no_known_words(cli_index):
    dest, _ = cli_index
    result = CliRunner().invoke(cli, ["query", "xylophone zebra", "--index", str(dest)])
    assert result.exit_code == 1
    assert last_error(result).startswith("Error: no word of the query 'xylophone zebra' is in the index vocabulary")


def test_bad_bits_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["index", str(tmp_path), "--bits", "12", "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert last_error(result) == "Error: bits must be a multiple of 8 between 8 and 128, got 12"


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name in cli.list_commands(None):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output or "example" in result.output, name


def test_index_variant_option(tmp_path):
    from semhash.choices import VARIANTS
    from semhash.cli import cli as main_cli

    corpus = write_topical_corpus(tmp_path / "corpus", per_topic=10, seed=2)
    dest = tmp_path / "vae"
    result = CliRunner().invoke(main_cli, [
        "index", str(corpus), "--index", str(dest), "--bits", "8", "--hidden", "16", "--epochs", "2",
        "--pretrain", "none", "--min-df", "1", "--variant", "variational", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads((dest / "manifest.json").read_text())["params"]["model"]["variant"] == "variational"
    info = CliRunner().invoke(main_cli, ["info", "--index", str(dest)])
    assert "variant variational" in info.output
    assert CliRunner().invoke(main_cli, ["query", "orbit rocket", "--index", str(dest)]).exit_code == 0
    bad = CliRunner().invoke(main_cli, ["index", str(corpus), "--variant", "ladder"])
    assert bad.exit_code == 2 and "'ladder' is not one of" in bad.output
    help_text = CliRunner().invoke(main_cli, ["index", "--help"]).output
    assert all(v in help_text for v in VARIANTS)
