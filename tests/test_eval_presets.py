"""The corpora of `semhash evaluate`: multi-label folders and JSONL, and each preset's reader on
small synthetic data (20NG-dependent checks skip without the dataset)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from semhash.cli_evaluate import evaluate
from semhash.errors import ConfigError, CorpusError
from semhash.eval import newsgroups as ng
from semhash.eval import presets
from semhash.eval.data import ReadOptions, load_labelled_folder, load_labelled_jsonl, read_labelled
from semhash.eval.labels import is_multi_label, label_sets
from semhash.eval.run import PRESETS, EvalConfig, prepare_data, run_evaluation

TWENTY_NG = Path(presets.PRESETS["20ng"].root(None) or ".")
needs_20ng = pytest.mark.skipif(not (TWENTY_NG / "train").is_dir(), reason=f"20 Newsgroups not found at {TWENTY_NG}")

GROUP_WORDS = {
    "comp.graphics": "pixel render shader polygon bitmap",
    "rec.autos": "engine wheel clutch sedan brake",
    "sci.space": "rocket orbit launch shuttle lunar",
    "talk.politics.guns": "rifle permit ammo holster caliber",
    "misc.forsale": "price shipping offer condition sale",
    "alt.atheism": "belief atheist religion argument faith",
}


def post(group: str, i: int, extra: str = "") -> str:
    words = GROUP_WORDS[group].split()
    body = " ".join(words[(i + j) % 5] for j in range(12))
    return (f"From: user{i}@{group}.example\nSubject: note {i} about\n  {words[0]} continued\n"
            f"Organization: orgword\nLines: 12\nNNTP-Posting-Host: hostword\n\n"
            f"In article <{i}@x>, someone writes:\n> quoted {words[1]}\n{body} {extra}\n\n--\nsigword\n")


def write_newsgroups(root: Path, per_group: int = 8, duplicate: bool = True) -> Path:
    """train/ and test/ of the six groups; with ``duplicate``, one test post repeats a train
    post's body under other headers."""
    for split, offset in (("train", 0), ("test", 100)):
        for group in GROUP_WORDS:
            folder = root / split / group
            folder.mkdir(parents=True)
            for i in range(per_group):
                (folder / str(offset + i)).write_text(post(group, offset + i), encoding="latin-1")
    if duplicate:
        original = (root / "train" / "sci.space" / "3").read_text(encoding="latin-1")
        body = original.partition("\n\n")[2]
        (root / "test" / "sci.space" / "999").write_text("From: other@x\nSubject: other\n\n" + body, encoding="latin-1")
    return root


# --------------------------------------------------------------------------------------------
# the literature's text


def test_keep_header_fields_keeps_from_and_subject_only():
    text = post("sci.space", 1)
    kept = ng.keep_header_fields(text)
    head, _, body = kept.partition("\n\n")
    assert head == "From: user1@sci.space.example\nSubject: note 1 about\n  rocket continued"
    assert body == text.partition("\n\n")[2]  # quotes and signature kept, untouched
    assert "orgword" not in kept and "hostword" not in kept and "Lines:" not in kept
    assert "> quoted" in kept and "sigword" in kept
    assert ng.keep_header_fields("Subject: only\nX-Other: y") == "Subject: only"  # no body at all
    assert ng.keep_header_fields("FROM: a\nsubject: b\n\nbody", ("from",)) == "FROM: a\n\nbody"


def test_first_of_each_body_drops_exact_duplicate_bodies():
    texts = ["A: 1\n\nsame body", "B: 2\n\nother", "C: 3\n\nsame body", "D: 4\n\nsame body ", "E"]
    assert ng.first_of_each_body(texts).tolist() == [0, 1, 3, 4]


def test_literature_reader_on_a_synthetic_bydate_folder(tmp_path: Path):
    root = write_newsgroups(tmp_path)
    loaded = ng.read_20ng_literature(ReadOptions(root, encoding="latin-1"))
    corpus = loaded.corpus
    assert loaded.test is None and loaded.notes["posts_read"] == 6 * 16 + 1
    assert loaded.notes["duplicate_bodies_dropped"] == 1 and len(corpus) == 6 * 16
    assert corpus.label_names == sorted(GROUP_WORDS) and not is_multi_label(corpus.labels)
    assert not any("test/sci.space/999" in p for p in corpus.paths)  # the later copy went
    assert all("orgword" not in t and "From: user" in t and "sigword" in t for t in corpus.texts)
    limited = ng.read_20ng_literature(ReadOptions(root, ("quotes", "footers"), "latin-1", limit_per_class=2))
    assert len(limited.corpus) == 6 * 4  # two per group and split
    assert all("> quoted" not in t and "sigword" not in t for t in limited.corpus.texts)
    with pytest.raises(CorpusError, match="20 Newsgroups not found"):
        ng.read_20ng_literature(ReadOptions(tmp_path / "nope"))


def test_hierarchies_cover_the_twenty_newsgroups_once():
    groups = [g for members in ng.HIERARCHIES.values() for g in members]
    assert len(groups) == len(set(groups)) == 20 and list(ng.HIERARCHIES) == [
        "comp", "rec", "sci", "forsale", "politics", "religion"]


def test_hierarchy_reader_relabels(tmp_path: Path):
    loaded = ng.read_20ng_hierarchies(ReadOptions(write_newsgroups(tmp_path), encoding="latin-1"))
    corpus = loaded.corpus
    assert corpus.label_names == list(ng.HIERARCHIES)
    by_path = {p.split("/")[-2]: corpus.label_names[label] for p, label in zip(corpus.paths, corpus.labels)}
    assert by_path == {"comp.graphics": "comp", "rec.autos": "rec", "sci.space": "sci",
                       "talk.politics.guns": "politics", "misc.forsale": "forsale", "alt.atheism": "religion"}
    (tmp_path / "train" / "comp.unknown").mkdir()
    (tmp_path / "train" / "comp.unknown" / "1").write_text(post("comp.graphics", 50), encoding="latin-1")
    with pytest.raises(CorpusError, match="none of the six hierarchies"):
        ng.read_20ng_hierarchies(ReadOptions(tmp_path, encoding="latin-1"))


def test_mixture_reader_makes_skewed_multi_label_documents(tmp_path: Path):
    loaded = ng.read_20ng_mixture(ReadOptions(write_newsgroups(tmp_path, per_group=20, duplicate=False),
                                              encoding="latin-1"))
    corpus, notes = loaded.corpus, loaded.notes
    assert is_multi_label(corpus.labels)
    sets = label_sets(corpus.labels)
    parts = [p.split("+") for p in corpus.paths]
    assert all(1 <= len(s) <= 3 and len(s) == len(ps) for s, ps in zip(sets, parts))  # different groups
    used = [p for ps in parts for p in ps]
    assert len(used) == len(set(used)) == notes["posts_used"]  # every kept post once
    for s, ps in zip(sets, parts):  # the labels are the posts' newsgroups
        assert {corpus.label_names[j] for j in s} == {p.split("/")[-2] for p in ps}
    sizes = [notes["documents_per_label"][g] for g in notes["newsgroups_by_size"]]
    kept = [-(-40 // (rank + 1)) for rank in range(6)]  # Zipf: 40, 20, 14, 10, 8, 7 posts
    assert sizes == kept and sum(kept) == notes["posts_used"]
    again = ng.read_20ng_mixture(ReadOptions(tmp_path, encoding="latin-1"))
    assert again.corpus.paths == corpus.paths  # a fixed seed: the same corpus every time


# --------------------------------------------------------------------------------------------
# stdlib


def test_stdlib_label_is_the_top_level_module():
    assert presets.stdlib_label("api/email.mime.text.MIMEText.txt") == "email"
    assert presets.stdlib_label("modules/os.txt") == "os"
    assert presets.stdlib_label("modules/os~2.txt") == "os"
    assert presets.stdlib_label("topics/BOOLEAN.txt") is None


def test_stdlib_reader_on_a_folder(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(presets, "STDLIB_MIN_DOCS", 3)
    files = {"modules/json.txt": "json encoder decoder", "api/json.dumps.txt": "serialize json object",
             "api/json.loads.txt": "parse json text", "modules/csv.txt": "csv rows",
             "api/csv.reader.txt": "read csv rows", "topics/LOOPING.txt": "for while loops"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    loaded = presets.read_stdlib(ReadOptions(tmp_path))
    assert loaded.corpus.label_names == ["json"] and len(loaded.corpus) == 3
    assert loaded.notes == {"documents_read": 6, "help_topics_dropped": 1, "modules_dropped": 1,
                            "small_module_documents_dropped": 2, "min_documents_per_module": 3}
    assert len(presets.read_stdlib(ReadOptions(tmp_path, limit_per_class=2)).corpus) == 2
    with pytest.raises(CorpusError, match="not found"):
        presets.read_stdlib(ReadOptions(tmp_path / "nope"))


def test_stdlib_reader_builds_from_the_interpreter():
    corpus = presets.read_stdlib(ReadOptions(None)).corpus
    counts = np.bincount(corpus.labels)
    assert len(corpus) > 1000 and counts.min() >= presets.STDLIB_MIN_DOCS
    assert "os" in corpus.label_names and not any(p.startswith("topics/") for p in corpus.paths)


# --------------------------------------------------------------------------------------------
# multi-label folders and JSONL


def test_the_same_file_under_several_label_folders_is_one_document(tmp_path: Path):
    for label, name, text in [("a", "x.txt", "shared text"), ("b", "x.txt", "shared text"),
                              ("b", "y.txt", "only b"), ("c", "y.txt", "a different y"), ("c", "z.txt", "z")]:
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / name).write_text(text, encoding="utf-8")
    corpus = load_labelled_folder(tmp_path, encoding="utf-8")
    assert corpus.texts == ["shared text", "only b", "a different y", "z"]  # y differs: two documents
    assert label_sets(corpus.labels) == [{0, 1}, {1}, {2}, {2}] and corpus.label_names == ["a", "b", "c"]


def test_single_label_folders_keep_label_ids(tmp_path: Path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "same-name.txt").write_text(f"text of {label}", encoding="utf-8")
    corpus = load_labelled_folder(tmp_path, encoding="utf-8")
    assert corpus.labels.tolist() == [0, 1] and corpus.labels.dtype == np.int64


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_labelled_jsonl(tmp_path: Path):
    path = write_jsonl(tmp_path / "c.jsonl", [
        {"text": "one", "label": "x", "id": "d1"}, {"text": "two", "labels": ["x", "y"], "title": "T"},
        "", {"text": "three", "labels": [3]}])
    corpus = load_labelled_jsonl(path)
    assert corpus.texts == ["one", "T\n\ntwo", "three"] and corpus.label_names == ["3", "x", "y"]
    assert label_sets(corpus.labels) == [{1}, {1, 2}, {0}]
    assert corpus.paths[0] == "d1" and corpus.paths[1].endswith("c.jsonl#2")
    assert len(load_labelled_jsonl(path, limit_per_class=1)) == 2  # the second x goes
    single = load_labelled_jsonl(write_jsonl(tmp_path / "s.jsonl", [{"text": "a", "labels": ["p"]},
                                                                    {"text": "b", "label": "q"}]))
    assert single.labels.tolist() == [0, 1]  # one label each: label ids, as a folder gives


@pytest.mark.parametrize("line, message", [
    ("not json", "bad.jsonl:1: not valid JSON"), ('["a"]', "string 'text'"), ('{"text": "a"}', "'label' or"),
    ('{"text": "a", "labels": []}', "non-empty"), ('{"text": "a", "labels": "x"}', "non-empty list")])
def test_labelled_jsonl_errors_name_the_line(tmp_path: Path, line, message):
    with pytest.raises(CorpusError, match=message):
        load_labelled_jsonl(write_jsonl(tmp_path / "bad.jsonl", [line]))


def test_read_labelled_dispatches_and_refuses_other_files(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="labelled .jsonl"):
        read_labelled(ReadOptions(tmp_path / "notes.txt"))
    with pytest.raises(CorpusError, match="not found"):
        read_labelled(ReadOptions(tmp_path / "missing"))


def multi_label_jsonl(path: Path, n: int = 120, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    topics = {"space": "rocket orbit launch shuttle", "food": "recipe oven flour butter",
              "money": "stock market bond interest"}
    records = []
    for i in range(n):
        labels = sorted(set(rng.choice(list(topics), size=rng.integers(1, 3), p=[0.6, 0.3, 0.1]).tolist()))
        words = " ".join(rng.choice(" ".join(topics[t] for t in labels).split(), 15).tolist())
        records.append({"id": f"doc{i}", "text": words, "labels": labels})
    return write_jsonl(path, records)


def test_multi_label_run_end_to_end(tmp_path: Path):
    config = EvalConfig(root=multi_label_jsonl(tmp_path / "m.jsonl"), methods=("lsh", "itq", "sth", "tfidf"),
                        bits=(8,), ks=(5, 10))
    data = prepare_data(config)
    info = data.info
    assert info["multi_label"] and 1 < info["labels_per_document"] < 2 and info["split"] == "test"
    assert data.db_labels.dtype == np.uint64 and info["layout"].startswith("random 0.8/0.1/0.1 split")
    assert 0.4 < info["chance_precision"] < 1
    results = run_evaluation(config)
    for name in ("lsh", "itq", "sth", "tfidf"):
        run = results["methods"][name]["runs"][0]
        assert 0 <= run["p_at_k"]["10"] <= 1 and 0 < run["map"] <= 1
    assert results["methods"]["tfidf"]["runs"][0]["p_at_k"]["10"] > info["chance_precision"]


# --------------------------------------------------------------------------------------------
# the presets and the command line


def test_every_preset_is_one_registry_entry():
    assert PRESETS == tuple(presets.PRESETS) == ("20ng", "20ng-literature", "20ng-6", "20ng-mix", "stdlib")
    for name in PRESETS:
        config = EvalConfig.from_preset(name, "/somewhere")
        assert config.preset == name == config.name and config.root == Path("/somewhere")
    assert EvalConfig.from_preset("20ng-literature").fractions == (0.6, 0.2, 0.2)
    assert EvalConfig.from_preset("stdlib").root is None
    assert EvalConfig.preset_20ng() == EvalConfig.from_preset("20ng")
    with pytest.raises(ConfigError, match="unknown preset"):
        EvalConfig.from_preset("nope")
    with pytest.raises(ConfigError, match="give a corpus"):
        EvalConfig(root=None)


def test_cli_lists_and_checks_presets(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(evaluate, ["--help"])
    assert result.exit_code == 0
    for name, preset in presets.PRESETS.items():
        assert f"{name}: {preset.help}" in result.output
    result = runner.invoke(evaluate, ["--preset", "nope"])
    assert result.exit_code == 2 and "'nope' is not one of" in result.output


def test_cli_runs_a_20ng_preset_on_a_given_folder(tmp_path: Path):
    root = write_newsgroups(tmp_path / "ng", per_group=12)
    out = tmp_path / "report"
    result = CliRunner().invoke(evaluate, [str(root), "--preset", "20ng-6", "--methods", "lsh,tfidf", "--bits", "8",
                                           "--split", "validation", "--no-plots", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    ds = results["dataset"]
    assert ds["labels"] == list(ng.HIERARCHIES) and ds["preprocessing"]["duplicate_bodies_dropped"] == 1
    assert ds["split_sizes"] == {"validation": 29, "test": 29} and ds["n_queries"] == 29
    assert results["quoted"] is None
    assert "--preset 20ng-6" in (out / "report.md").read_text() and "--encoding" not in (out / "report.md").read_text()


@needs_20ng
@pytest.mark.slow
def test_literature_preset_on_20_newsgroups():
    loaded = ng.read_20ng_literature(ReadOptions(TWENTY_NG, encoding="latin-1"))
    assert loaded.notes["posts_read"] == 18846 and loaded.notes["duplicate_bodies_dropped"] == 68
    assert len(loaded.corpus) == 18846 - 68 and len(loaded.corpus.label_names) == 20


def test_cli_evaluates_a_multi_label_jsonl_file(tmp_path: Path):
    out = tmp_path / "report"
    result = CliRunner().invoke(evaluate, [str(multi_label_jsonl(tmp_path / "mine.jsonl")), "--methods", "lsh,tfidf",
                                           "--bits", "8", "--no-plots", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["name"] == "mine" and results["dataset"]["multi_label"]
    report = (out / "report.md").read_text()
    assert "Multi-label: " in report and "## Mean average precision (percent)" in report
