"""What a new user trips over (issue 14, section 6): batch files line by line, `semhash similar`,
the same text checks for `encode` and `query`."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from semhash.cli import cli

LINES = ["rocket orbit launch", "", "zxqv", "the and of", "flour butter oven"]
BAD = {2: "the query is empty", 3: "no word of the query 'zxqv'", 4: "no word of the query 'the and of'"}


@pytest.fixture()
def query_file(tmp_path):
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def single(folder, text, *options):
    result = CliRunner().invoke(cli, ["query", text, "--index", str(folder), "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- query --file


@pytest.mark.slow
def test_query_file_answers_every_line_in_order(small_index, query_file):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["query", "--file", str(query_file), "--index", str(folder), "-k", "3",
                                      "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [(p["line"], p["query"]) for p in payload] == list(enumerate(LINES, start=1))
    for p in payload:
        if p["line"] in BAD:
            assert "hits" not in p and p["error"].startswith(BAD[p["line"]]), p
        else:
            assert "error" not in p and p["hits"] == single(folder, p["query"], "-k", "3")
    assert result.stderr.strip().splitlines()[-1].startswith("Error: 3 of 5 lines failed (line 2, 3, 4)")


def test_query_file_text_output_marks_each_line(small_index, query_file):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["query", "--file", str(query_file), "--index", str(folder), "-k", "2"])
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    headers = [l for l in out if l.startswith("# line ")]
    assert headers == [f"# line {n}: {q}" for n, q in enumerate(LINES, start=1)]
    errors = [l for l in out if l.startswith("error: ")]
    assert len(errors) == 3 and errors[0] == "error: the query is empty; give some words to search for"
    assert out[out.index("# line 1: rocket orbit launch") + 1].startswith("  1. ")


def test_query_file_all_good_exits_zero(small_index, tmp_path):
    folder, _ = small_index
    path = tmp_path / "good.txt"
    path.write_text("rocket orbit\r\nbank loan", encoding="utf-8")  # CRLF, no final newline
    result = CliRunner().invoke(cli, ["query", "--file", str(path), "--index", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert [p["query"] for p in json.loads(result.stdout)] == ["rocket orbit", "bank loan"]


def test_search_each_answers_the_good_texts_as_search_batch(small_index):
    from semhash.errors import QueryError
    from semhash.search import search_each

    _, idx = small_index
    results = search_each(idx, LINES, k=4)
    good = [t for t in LINES if t not in ("", "zxqv", "the and of")]
    expected = iter(idx.search_batch(good, k=4))
    for n, r in enumerate(results, start=1):
        if n in BAD:
            assert isinstance(r, QueryError) and str(r).startswith(BAD[n])
        else:
            assert r == next(expected)
    with pytest.raises(QueryError, match="no word of the query 'zxqv'"):
        idx.search_batch(LINES[2:], k=4)  # the batch API still refuses a bad query
    with pytest.raises(QueryError, match="k must be"):
        search_each(idx, LINES, k=0)


# --------------------------------------------------------------------------- encode


def test_encode_file_gives_every_line_an_output_line(small_index, query_file):
    from semhash.codes import to_hex

    folder, idx = small_index
    result = CliRunner().invoke(cli, ["encode", "--file", str(query_file), "--index", str(folder)])
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert len(out) == len(LINES)
    for n, (text, line) in enumerate(zip(LINES, out), start=1):
        assert line == ("" if n in BAD else to_hex(idx.encode([text]))[0])
    err = result.stderr.strip().splitlines()
    assert [l.split(":")[0] for l in err[:-1]] == ["line 2", "line 3", "line 4"]
    assert err[-1].startswith("Error: 3 of 5 lines failed")

    result = CliRunner().invoke(cli, ["encode", "--file", str(query_file), "--index", str(folder), "--format", "json"])
    rows = [json.loads(l) for l in result.stdout.splitlines()]
    assert [(r["line"], r["text"]) for r in rows] == list(enumerate(LINES, start=1))
    assert [r["line"] for r in rows if "error" in r] == sorted(BAD)
    assert rows[0]["hex"] == to_hex(idx.encode([LINES[0]]))[0]


@pytest.mark.parametrize("text", ["", "  \t "])
def test_encode_and_query_check_texts_alike(small_index, text):
    folder, _ = small_index
    runner = CliRunner()
    encoded = runner.invoke(cli, ["encode", text, "--index", str(folder)])
    queried = runner.invoke(cli, ["query", text, "--index", str(folder)])
    assert encoded.exit_code == queried.exit_code == 1
    assert encoded.stderr.strip() == queried.stderr.strip() == (
        "Error: the query is empty; give some words to search for")
    unknown = runner.invoke(cli, ["encode", "zxqv", "--index", str(folder)])
    assert unknown.stderr.strip() == runner.invoke(cli, ["query", "zxqv", "--index", str(folder)]).stderr.strip()


# --------------------------------------------------------------------------- similar


@pytest.mark.parametrize("options", [[], ["-k", "3"], ["--no-rerank", "--radius", "1", "-k", "6"]])
def test_similar_command_prints_the_python_hits(small_index, options):
    from semhash.similar import similar

    folder, idx = small_index
    doc_id = "space/space-003.txt"
    k = int(options[options.index("-k") + 1]) if "-k" in options else 10
    radius = int(options[options.index("--radius") + 1]) if "--radius" in options else None
    expected = [h.to_dict() for h in similar(idx, doc_id, k=k, radius=radius, rerank="--no-rerank" not in options)]
    result = CliRunner().invoke(cli, ["similar", doc_id, "--index", str(folder), "--json", *options])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected and len(expected) == k
    assert doc_id not in [h["id"] for h in expected]
    text = CliRunner().invoke(cli, ["similar", doc_id, "--index", str(folder), *options])
    ranked = [l for l in text.stdout.splitlines() if l[:4].strip().rstrip(".").isdigit()]
    assert [l.split("] ", 1)[1].split(" — ")[0] for l in ranked] == [h["id"] for h in expected]


def test_similar_unknown_id_is_a_one_line_error(small_index):
    folder, _ = small_index
    result = CliRunner().invoke(cli, ["similar", "no/such.txt", "--index", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: unknown document id 'no/such.txt' (see `semhash query` for ids)"
    help_text = CliRunner().invoke(cli, ["similar", "--help"]).output
    assert "Example: semhash similar" in help_text


# --------------------------------------------------------------------------- evaluate without the eval extra

# runs `semhash ARGS` in a fresh interpreter where importing BLOCKED fails for real (None in
# sys.modules makes `import name` raise ImportError); a spy on prepare_data reports whether the
# corpus was ever loaded
EVAL_WRAPPER = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
import semhash.eval.run as ev  # run_evaluation looks prepare_data up there
loaded = ev.prepare_data
def spy(*args, **kwargs):
    print("DATA LOADED", file=sys.stderr)
    return loaded(*args, **kwargs)
ev.prepare_data = spy
from semhash.cli import main
sys.argv = ["semhash", *{args!r}]
main()
"""


def run_blocked(blocked: list[str], args: list[str]):
    import subprocess
    import sys

    code = EVAL_WRAPPER.format(blocked=blocked, args=args)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def labelled_corpus(tmp_path_factory):
    from test_evaluate import _generic_corpus

    return _generic_corpus(tmp_path_factory.mktemp("labelled") / "corpus")


def test_evaluate_without_bm25s_refuses_before_loading_data(labelled_corpus, tmp_path):
    out = tmp_path / "report"
    result = run_blocked(["bm25s"], ["evaluate", str(labelled_corpus), "--bits", "8", "--methods", "lsh,bm25",
                                     "--no-plots", "--out", str(out)])
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == ("Error: the bm25 method needs bm25s, not installed: pip install 'semhash[eval]' "
                                     "(or leave bm25 out of --methods)")
    assert not out.exists()


@pytest.mark.slow
def test_evaluate_without_matplotlib_refuses_plots_up_front(labelled_corpus, tmp_path):
    out = tmp_path / "report"
    result = run_blocked(["matplotlib"], ["evaluate", str(labelled_corpus), "--bits", "8", "--methods", "lsh",
                                          "--out", str(out), "--quiet"])
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == ("Error: the plots need matplotlib, not installed: pip install 'semhash[eval]' "
                                     "(or pass --no-plots)")
    assert not out.exists()
    result = run_blocked(["matplotlib", "bm25s"], ["evaluate", str(labelled_corpus), "--bits", "8", "--methods",
                                                   "lsh", "--no-plots", "--out", str(out), "--quiet"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "DATA LOADED"
    assert {p.name for p in out.iterdir()} == {"results.json", "report.md"}


# --------------------------------------------------------------------------- a corpus of only unreadable files


def test_no_readable_document_names_every_reason_and_lists_every_file(tmp_path):
    corpus = tmp_path / "binaries"
    corpus.mkdir()
    binary = b"\x00\x01\x02\x03binary\x00data\xff\xfe\x00" * 40
    for i in range(7):
        (corpus / f"blob{i}.txt").write_bytes(binary)
    (corpus / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "odd\nname.txt").write_bytes(binary)
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(tmp_path / "idx"), "--quiet"])
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "\n" not in message and not (tmp_path / "idx").exists()
    assert message.startswith(f"Error: no readable documents in {corpus} (10 skipped: binary file (8x) e.g. ")
    assert "unsupported extension .png (1x) e.g. photo.png" in message
    assert "empty file (1x) e.g. empty.md" in message
    assert "blob0.txt, blob1.txt, blob2.txt" in message and "blob3.txt" not in message
    listed = message.rsplit("; every skipped file is listed in ", 1)[1]
    with open(listed, encoding="utf-8") as f:
        entries = json.load(f)
    __import__("os").unlink(listed)
    assert sorted(e["path"] for e in entries) == sorted(p.name for p in corpus.iterdir())
    assert {e["path"]: e["reason"] for e in entries}["odd\nname.txt"] == "binary file"


# --------------------------------------------------------------------------- TensorFlow's log lines

TF_NOISE = re.compile(r"tensorflow|onednn|absl|cuda|cpu_feature_guard|keras|^[IWEF]\d{4} ", re.IGNORECASE | re.MULTILINE)


@pytest.mark.slow
def test_index_quiet_prints_no_tensorflow_lines(topical_corpus, tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}  # as a user's shell has it
    cmd = [sys.executable, "-m", "semhash.cli", "index", str(topical_corpus), "--index", str(tmp_path / "idx"),
           "--bits", "8", "--hidden", "16", "--epochs", "2", "--pretrain-epochs", "1", "--min-df", "1", "--quiet"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert not TF_NOISE.search(result.stderr), result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("indexed 90 documents")


def test_tensorflow_start_up_text_is_shown_when_the_import_fails(capfd):
    import os

    from semhash.model import _stderr_caught

    with _stderr_caught():
        os.write(2, b"hidden notice\n")
    with pytest.raises(ImportError), _stderr_caught():
        os.write(2, b"why it failed\n")
        raise ImportError("broken")
    err = capfd.readouterr().err
    assert "why it failed" in err and "hidden notice" not in err


@pytest.mark.skipif(not __import__("os").environ.get("SEMHASH_TEST_PG_DSN"), reason="needs SEMHASH_TEST_PG_DSN")
def test_query_file_with_postgres_answers_every_line(small_index, query_file):
    import os

    folder, _ = small_index
    dsn = os.environ["SEMHASH_TEST_PG_DSN"]
    runner = CliRunner()
    loaded = runner.invoke(cli, ["export", "--index", str(folder), "--postgres", dsn, "--table", "cli_lines_test"])
    assert loaded.exit_code == 0, loaded.output
    base = ["query", "--file", str(query_file), "--index", str(folder), "--json", "-k", "3"]
    pg = runner.invoke(cli, [*base, "--postgres", dsn, "--table", "cli_lines_test"])
    local = runner.invoke(cli, base)  # the same default mode (hybrid), the same hits
    assert pg.exit_code == local.exit_code == 1
    pg_rows, local_rows = json.loads(pg.stdout), json.loads(local.stdout)
    assert [(r["line"], r["query"], r.get("error")) for r in pg_rows] == \
        [(r["line"], r["query"], r.get("error")) for r in local_rows]
    assert [[h["id"] for h in r.get("hits", [])] for r in pg_rows] == \
        [[h["id"] for h in r.get("hits", [])] for r in local_rows]
    assert [r["line"] for r in pg_rows if "error" in r] == sorted(BAD)
