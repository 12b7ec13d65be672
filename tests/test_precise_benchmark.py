"""The precise how-to benchmark (benchmarks/precise.py): its metrics against hand-computed values,
its judged queries against the demo corpus this Python builds, and one quick run on a small index."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import precise
from benchmarks.precise import (
    JudgmentError,
    check_judged_ids,
    evaluate,
    first_relevant_rank,
    load_queries,
    missing_ids,
    mrr_at,
    ndcg_at,
    success_at,
    summarize,
)

LOG2_3 = math.log2(3)


# --------------------------------------------------------------------------- metrics, by hand


def test_answer_first_then_a_miss_then_the_acceptable_one():
    ranked = ["a", "x", "b", "y"]
    grade = {"b": 2, "a": 1}
    assert first_relevant_rank(ranked, grade) == 1
    assert success_at(ranked, grade, 1) == 1.0 and success_at(ranked, grade, 5) == 1.0
    assert mrr_at(ranked, grade) == 1.0
    # DCG = 1/log2(2) + 0 + 2/log2(4) = 2; ideal = 2/log2(2) + 1/log2(3)
    assert ndcg_at(ranked, grade) == pytest.approx(2 / (2 + 1 / LOG2_3))
    assert ndcg_at(ranked, grade) == pytest.approx(0.760188, abs=1e-6)


def test_answer_third():
    ranked = ["x", "y", "b", "z"]
    grade = {"b": 2}
    assert first_relevant_rank(ranked, grade) == 3
    assert success_at(ranked, grade, 1) == 0.0 and success_at(ranked, grade, 5) == 1.0
    assert mrr_at(ranked, grade) == pytest.approx(1 / 3)
    assert ndcg_at(ranked, grade) == pytest.approx((2 / 2) / 2)  # 2/log2(4) over 2/log2(2)


def test_grades_weigh_the_gain():
    # the grade-1 document first and the answer second scores less than the other way round
    grade = {"a": 2, "b": 1}
    worse, better = ndcg_at(["b", "a"], grade), ndcg_at(["a", "b"], grade)
    assert better == pytest.approx(1.0)
    assert worse == pytest.approx((1 + 2 / LOG2_3) / (2 + 1 / LOG2_3))
    assert worse < better
    assert mrr_at(["b", "a"], grade) == 1.0  # MRR does not look at grades


def test_cut_offs():
    ranked = [f"x{i}" for i in range(10)] + ["b"]  # the answer at rank 11
    grade = {"b": 2}
    assert first_relevant_rank(ranked, grade) == 11
    assert success_at(ranked, grade, 5) == 0.0
    assert mrr_at(ranked, grade) == 0.0 and ndcg_at(ranked, grade) == 0.0
    five = ["x0", "x1", "x2", "x3", "b"]
    assert success_at(five, grade, 5) == 1.0 and success_at(five, grade, 4) == 0.0
    assert mrr_at(five, grade) == pytest.approx(0.2)


def test_nothing_ranked_and_duplicates():
    grade = {"b": 2, "c": 1}
    assert first_relevant_rank([], grade) is None
    assert success_at([], grade, 5) == 0.0 and mrr_at([], grade) == 0.0 and ndcg_at([], grade) == 0.0
    # a document listed twice gains once
    assert ndcg_at(["b", "b"], grade) == pytest.approx(2 / (2 + 1 / LOG2_3))


def test_summary_by_split_and_evaluate_with_a_registry():
    queries = [{"query": "q1", "grade": {"a": 2}, "split": "test"},
               {"query": "q2", "grade": {"b": 2, "c": 1}, "split": "val"},
               {"query": "q3", "grade": {"d": 2}, "split": "test"}]
    answers = {"q1": ["a"], "q2": ["x", "c"], "q3": []}
    summary = summarize(queries, [answers[q["query"]] for q in queries])
    assert summary["test"]["n"] == 2 and summary["val"]["n"] == 1 and summary["all"]["n"] == 3
    assert summary["test"]["success@1"] == 0.5 and summary["test"]["mrr@10"] == 0.5
    assert summary["val"]["success@1"] == 0.0 and summary["val"]["success@5"] == 1.0
    assert summary["val"]["mrr@10"] == 0.5
    assert summary["val"]["ndcg@10"] == pytest.approx((1 / LOG2_3) / (2 + 1 / LOG2_3))
    assert summary["all"]["mrr@10"] == pytest.approx((1 + 1 / 2 + 0) / 3)

    # methods are functions of the query texts; a new one is one more entry
    registry = {"answers": lambda texts: [answers[t] for t in texts], "nothing": lambda texts: [[] for _ in texts]}
    result = evaluate(queries, registry)
    assert result["summary"]["answers"] == summary
    assert result["summary"]["nothing"]["all"]["success@5"] == 0.0
    assert [q["first_relevant_rank"] for q in result["per_query"]] == [
        {"answers": 1, "nothing": None}, {"answers": 2, "nothing": None}, {"answers": None, "nothing": None}]
    assert result["per_query"][1]["top3"]["answers"] == ["x", "c"]
    with pytest.raises(RuntimeError, match="answered 0 of 3"):
        evaluate(queries, {"broken": lambda texts: []})


# --------------------------------------------------------------------------- the judged queries


def test_the_judged_queries_are_well_formed():
    queries = load_queries()
    assert len(queries) >= 70
    for i, q in enumerate(queries):
        assert 2 <= len(q["query"].split()) <= 6, q["query"]
        assert q["split"] == ("val" if i % 3 == 2 else "test")  # the fixed rule: every third line
    areas = {q["area"] for q in queries}
    assert len(areas) >= 10


@pytest.mark.slow
def test_every_judged_document_is_in_the_demo_corpus(tmp_path: Path):
    """Fails when this Python's documentation renamed or dropped a judged document: the judgments
    then need revising (the benchmark refuses to run, rather than scoring a miss)."""
    from semhash.corpus import read_corpus
    from semhash.demo import build_stdlib_corpus

    build_stdlib_corpus(tmp_path / "stdlib")
    ids = [d.id for d in read_corpus(tmp_path / "stdlib").documents]
    assert missing_ids(load_queries(), ids) == []


def test_a_missing_judged_document_is_named(tmp_path: Path):
    queries = [{"query": "read a csv file", "grade": {"api/csv.reader.txt": 2, "modules/csv.txt": 1}}]
    check_judged_ids(queries, ["api/csv.reader.txt", "modules/csv.txt"], "the corpus")
    with pytest.raises(JudgmentError, match=r"1 judged document\(s\) are not in the corpus: modules/csv.txt "
                                            r"\(for 'read a csv file'\).*Python 3"):
        check_judged_ids(queries, ["api/csv.reader.txt"], "the corpus")


@pytest.mark.parametrize("line, message", [
    ({"query": "q", "relevant": ["a"], "grade": {"a": 3}, "split": "test"}, "grades are 2"),
    ({"query": "q", "relevant": ["a"], "grade": {"a": 1}, "split": "test"}, "at least one 2"),
    ({"query": "q", "relevant": ["a", "b"], "grade": {"a": 2}, "split": "test"}, "exactly the ids"),
    ({"query": "q", "relevant": ["a"], "grade": {"a": 2}, "split": "train"}, "split must be"),
    ({"query": " ", "relevant": ["a"], "grade": {"a": 2}, "split": "val"}, "no query text"),
])
def test_malformed_judgments_are_refused(tmp_path: Path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(JudgmentError, match=message):
        load_queries(path)


# --------------------------------------------------------------------------- one run


@pytest.mark.slow
def test_a_run_on_a_small_index_writes_the_report(small_index, topical_corpus, tmp_path: Path):
    pytest.importorskip("bm25s")
    folder, _ = small_index
    queries = tmp_path / "q.jsonl"
    lines = [{"query": "rocket launch orbit", "relevant": ["space/space-000.txt"],
              "grade": {"space/space-000.txt": 2}, "split": "test"},
             {"query": "bake bread with flour", "relevant": ["cooking/cooking-001.txt", "cooking/cooking-002.txt"],
              "grade": {"cooking/cooking-001.txt": 2, "cooking/cooking-002.txt": 1}, "split": "test"},
             {"query": "stock market dividend", "relevant": ["finance/finance-003.txt"],
              "grade": {"finance/finance-003.txt": 2}, "split": "val"}]
    queries.write_text("".join(json.dumps(q) + "\n" for q in lines))
    out, saved = tmp_path / "P.md", tmp_path / "p.json"
    args = ["--index", str(folder), "--corpus", str(topical_corpus), "--queries", str(queries),
            "--out", str(out), "--json", str(saved)]
    assert precise.main(args) == 0
    result = json.loads(saved.read_text())
    assert list(result["summary"]) == ["semhash --mode hybrid", "semhash --mode lexical", "semhash --mode semantic",
                                       "semhash --mode semantic --no-rerank", "bm25s"]
    assert result["n_queries"] == {"test": 2, "val": 1, "all": 3} and result["n_documents"] == 90
    assert result["trained"] is False and result["index"] == str(folder)
    for q in result["per_query"]:
        assert set(q["first_relevant_rank"]) == set(result["summary"])
    page = out.read_text()
    assert "| semhash --mode hybrid | test | 2 |" in page and "| bm25s | all | 3 |" in page
    assert "python -m benchmarks.precise --index" in page

    # a subset of the methods; an unknown judged id fails before anything runs
    assert precise.main(args + ["--methods", "bm25s"]) == 0
    assert list(json.loads(saved.read_text())["summary"]) == ["bm25s"]
    queries.write_text(json.dumps({**lines[0], "relevant": ["space/nope.txt"], "grade": {"space/nope.txt": 2}}) + "\n")
    assert precise.main(args) == 2
