"""The benchmark scripts (benchmarks/): a package run as ``python -m benchmarks.<name>``, each
script's helpers, and quick runs of the cheap ones on a 20NG slice."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import NG20, REPO

needs_20ng = pytest.mark.skipif(not (NG20 / "train").is_dir(), reason=f"20 Newsgroups not found at {NG20} (set $SEMHASH_20NG)")
SCRIPTS = ("quality", "ablation", "label_ceiling", "graph_ceiling", "weighted_hamming", "teacher_scale", "speed", "precise",
           "train_sample", "train_cost", "make_corpus", "synthetic_check")


@pytest.mark.slow
@needs_20ng
def test_benchmark_script_writes_results_md(tmp_path: Path):
    pytest.importorskip("matplotlib")
    module = _benchmark_module("quality")
    out = tmp_path / "RESULTS.md"
    saved = tmp_path / "quality.json"
    args = ["--methods", "lsh,tfidf", "--bits", "16", "--limit-per-class", "20", "--quiet", "--seeds", "0,1",
            "--out", str(out), "--report", str(tmp_path / "report"), "--json", str(saved)]
    assert module.main(args) == 0
    text = out.read_text()
    assert "| LSH (random hyperplanes) |" in text and "AMMI (QUOTED, not measured)" in text
    assert "python -m benchmarks.quality --methods lsh,tfidf --bits 16" in text
    assert "CPUs (`os.cpu_count()`)" in text and "Total wall time" in text
    assert "| issue 7 target | ≥ 56 |" in text and "over 2 seed(s)" in text
    runs = []
    for seed in (0, 1):
        results = json.loads((tmp_path / "report" / f"seed-{seed}" / "results.json").read_text())
        assert results["config"]["seed"] == seed
        runs.append(100 * results["methods"]["lsh"]["runs"][0]["p100"])
    # the summary row is the mean ± sample std (min–max) of the two seeds' measured numbers
    v = np.array(runs)
    cell = f"{v.mean():.2f} ± {v.std(ddof=1):.2f} ({v.min():.2f}–{v.max():.2f})"
    assert f"| LSH (random hyperplanes) | {cell} |" in text
    # --rebuild renders the same page from the saved numbers, without evaluating anything
    rebuilt = tmp_path / "REBUILT.md"
    assert module.main(["--rebuild", "--json", str(saved), "--out", str(rebuilt), "--report", str(tmp_path / "report")]) == 0
    again = rebuilt.read_text()
    assert f"| LSH (random hyperplanes) | {cell} |" in again and "--rebuild" in again
    assert again.replace("- re-rendered from `benchmarks/quality.json` with `python -m benchmarks.quality --rebuild`\n", "") == text


def _benchmark_module(name: str):
    """``benchmarks.<name>``: the scripts are a package, run as ``python -m benchmarks.<name>``
    from the repository root (which ``python -m pytest`` puts on the path)."""
    import importlib

    return importlib.import_module(f"benchmarks.{name}")


def test_label_ceiling_codewords_are_distinct_and_every_bit_splits_the_classes():
    module = _benchmark_module("label_ceiling")
    for n_classes, n_bits in ((20, 16), (20, 128), (3, 8), (2, 64)):
        words = module.class_codewords(n_classes, n_bits, seed=1)
        assert words.shape == (n_classes, n_bits) and set(np.unique(words)) == {0, 1}
        assert len({w.tobytes() for w in words}) == n_classes
        assert (words.any(axis=0) & ~words.all(axis=0)).all()
    assert (module.class_codewords(20, 32, 5) == module.class_codewords(20, 32, 5)).all()
    with pytest.raises(ValueError, match="cannot have distinct"):
        module.class_codewords(20, 4, 0)


@pytest.mark.slow
@needs_20ng
def test_label_ceiling_script_writes_its_report(tmp_path: Path):
    module = _benchmark_module("label_ceiling")
    out, saved = tmp_path / "CEILING.md", tmp_path / "ceiling.json"
    args = ["--bits", "16", "--limit-per-class", "20", "--epochs", "1", "--out", str(out), "--json", str(saved)]
    assert module.main(args) == 0
    result = json.loads(saved.read_text())
    assert 360 <= result["n_db"] <= 20 * 20 and result["split"] == "test"  # empty documents dropped
    # 20 training documents per newsgroup still teach a classifier far above chance (5 %)
    assert 20 < result["svm_accuracy"] <= 100 and 0 < result["taught_p100"]["16"] <= 100
    text = out.read_text()
    assert f"| linear SVM on the labels, ranked by predicted newsgroup (no hashing) | {result['svm_p100']:.2f} |" in text
    assert "| issue 7 target | ≥ 56 |" in text and "--limit-per-class 20" in text
    assert "unsupervised" not in text.split("## P@100")[1].split("issue 7")[0]  # a slice is not compared
    rebuilt = tmp_path / "REBUILT.md"
    assert module.main(["--rebuild", "--json", str(saved), "--out", str(rebuilt)]) == 0
    assert rebuilt.read_text() == text


def test_weighted_hamming_scores_are_minus_the_weighted_distance():
    module = _benchmark_module("weighted_hamming")
    rng = np.random.default_rng(3)
    db, q = rng.integers(0, 2, (50, 16)).astype(np.uint8), rng.integers(0, 2, (4, 16)).astype(np.uint8)
    logits = rng.normal(size=(4, 16))
    thresholds = rng.normal(scale=0.1, size=16)
    w = module.query_bit_weights(logits, thresholds)
    assert (w >= 0).all() and np.allclose(w, np.abs(logits - thresholds), atol=1e-6)
    distance = ((q[:, None, :] != db[None, :, :]) * w[:, None, :]).sum(-1)
    scores = module.weighted_scores(db, q, w)
    np.testing.assert_allclose(scores, w.sum(axis=1, keepdims=True) - 2 * distance, rtol=1e-5, atol=1e-4)
    # with equal weights the ranking is plain Hamming distance
    ones = module.weighted_scores(db, q, np.ones_like(w))
    np.testing.assert_allclose(ones, 16 - 2 * (q[:, None, :] != db[None, :, :]).sum(-1))


@pytest.mark.slow
@needs_20ng
def test_weighted_hamming_script_writes_its_report(tmp_path: Path):
    module = _benchmark_module("weighted_hamming")
    out, saved = tmp_path / "WEIGHTED.md", tmp_path / "weighted.json"
    assert module.main(["--bits", "16", "--limit-per-class", "20", "--epochs", "1", "--out", str(out),
                        "--json", str(saved)]) == 0
    run = json.loads(saved.read_text())["runs"]["16"]
    assert set(run) == {"train_seconds", "plain", "weighted"} and all(0 <= v <= 100 for v in run["plain"].values())
    text = out.read_text()
    assert f"| query-weighted Hamming distance | {run['weighted']['10']:.2f} | {run['weighted']['100']:.2f} |" in text


def test_ablation_reuses_a_report_only_for_the_same_model(tmp_path: Path):
    module = _benchmark_module("ablation")
    assert module.parse_config("plain:rbm:0:1") == ("plain", "rbm", 0, 1.0, "spectral")
    from semhash.model import ModelConfig

    d = ModelConfig()  # the row marked as the default is the model's default
    assert (d.variant, d.pretrain, d.neighbours, d.graph_codes, d.graph_teacher) == module.DEFAULT
    assert module.config_name("plain:rbm:0:1:smoothed") == "plain-rbm-graph1-smoothed"
    assert module.config_name("plain:rbm:0:1") == "plain-rbm-graph1"
    report = tmp_path / "results.json"
    model = {"pretrain": "rbm", "variant": "plain", "neighbours": 0, "graph_codes": 1.0}
    # a report from before --graph-teacher existed measured the smoothed teacher
    report.write_text(json.dumps({"config": {"model": model, "split": "validation", "seed": 0, "bits": [32]}}))
    wanted = {**model, "graph_teacher": "spectral"}
    assert not module.same_run(report, wanted, "32", "validation", 0)
    assert module.same_run(report, {**wanted, "graph_teacher": "smoothed"}, "32", "validation", 0)
    report.write_text(json.dumps({"config": {"model": {**model, "graph_teacher": "spectral"}, "split": "validation",
                                             "seed": 0, "bits": [32]}}))
    assert module.same_run(report, wanted, "32", "validation", 0)
    assert not module.same_run(report, wanted, "32,64", "validation", 0)
    assert not module.same_run(report, wanted, "32", "test", 0)
    assert not module.same_run(tmp_path / "missing.json", wanted, "32", "validation", 0)


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_is_a_module_whose_help_names_its_command(name, capsys):
    module = _benchmark_module(name)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith(f"usage: python -m benchmarks.{name} ")
    assert f"python -m benchmarks.{name}" in module.__doc__  # the docstring's usage lines


def _benchmark_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("benchmarks."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("benchmarks.")}
    return found


def test_benchmarks_edit_no_sys_path_and_import_no_cycle():
    folder = REPO / "benchmarks"
    graph = {p.stem: _benchmark_imports(p) for p in folder.glob("*.py")}
    for name in graph:
        assert "sys.path" not in (folder / f"{name}.py").read_text(encoding="utf-8"), name

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    assert not [name for name in graph if reaches(name, name, set())]
    assert "common" in graph["quality"] | graph["label_ceiling"]  # the shared helpers are used


def _fake_results(seed: int, methods: dict[str, dict], date: str = "2026-12-01T00:00:00+00:00") -> dict:
    dataset = {"root": "r", "layout": "random 0.6/0.2/0.2 split", "preprocessing": {"documents_read": 9},
               "n_database": 60, "n_queries": 20, "split": "test", "split_sizes": {}, "n_labels": 3,
               "vocabulary_size": 50, "dropped_empty": 0, "multi_label": True, "labels_per_document": 1.5,
               "chance_precision": 0.4, "best_possible_p100": 0.9}
    runs = {name: {"label": name.upper(), "setup_seconds": 0.0,
                   "runs": [{"n_bits": b, "p100": p, "map": p / 2, "p_at_k": {"10": p}, "code_seconds": 1.0,
                             "seconds": 2.0, "pr": {}} for b, p in values.items()]}
            for name, values in methods.items()}
    return {"config": {"seed": seed}, "dataset": dataset, "methods": runs, "date": date}


def test_corpora_store_runs_merge_and_render(tmp_path: Path):
    module = _benchmark_module("corpora")
    path = tmp_path / "corpora.json"
    module.store_runs(path, "stdlib", [_fake_results(0, {"lsh": {32: 0.1, 64: 0.2}, "tfidf": {None: 0.5}}),
                                       _fake_results(1, {"lsh": {32: 0.3, 64: 0.2}, "tfidf": {None: 0.5}})], "cmd A")
    module.store_runs(path, "stdlib", [_fake_results(0, {"semhash": {32: 0.6}})], "cmd B")
    module.store_runs(path, "stdlib", [_fake_results(1, {"lsh": {32: 0.5}})], "cmd C")  # replaces seed 1 at 32 bits
    stored = json.loads(path.read_text())["stdlib"]
    assert set(stored["methods"]) == {"lsh", "tfidf", "semhash"}
    assert [r["n_bits"] for r in stored["methods"]["lsh"]["seeds"]["1"]["runs"]] == [32, 64]  # 64 kept
    text = "\n".join(module.corpora_sections(path))
    assert "## `--preset stdlib`:" in text and "best possible P@100 90.00%" in text and "1.50 per document" in text
    v = np.array([10.0, 50.0])
    assert f"| LSH | {v.mean():.2f} ± {v.std(ddof=1):.2f} | 20.00 ± 0.00 | — | 0, 1 |" in text
    assert "| **SEMHASH** | 60.00 | — | — | 0 |" in text
    assert "| TFIDF | — | — | 25.00 / 50.00 |" in text  # MAP / P@10
    assert text.index("| **SEMHASH** |") < text.index("| LSH |") < text.index("| TFIDF |")  # the registry's order
    assert "- `cmd A` (2026-12-01)" in text and "- `cmd B` (2026-12-01)" in text
    assert module.corpora_sections(tmp_path / "none.json") == []


def test_quality_script_runs_a_preset_into_the_corpora_file(tmp_path: Path, monkeypatch):
    pytest.importorskip("matplotlib")
    from semhash.eval import presets

    monkeypatch.setattr(presets, "STDLIB_MIN_DOCS", 2)
    root = tmp_path / "stdlib"
    for module_name, words in (("json", "encode decode serialize"), ("csv", "rows columns delimiter")):
        for i in range(12):
            (root / "api").mkdir(parents=True, exist_ok=True)
            (root / "api" / f"{module_name}.f{i}.txt").write_text(f"{module_name}.f{i}\n\n{words} {i}", encoding="utf-8")
    module = _benchmark_module("quality")
    corpora, out = tmp_path / "corpora.json", tmp_path / "R.md"
    args = ["--preset", "stdlib", "--root", str(root), "--methods", "lsh,tfidf", "--bits", "8", "--quiet",
            "--out", str(out), "--json", str(tmp_path / "missing.json"), "--corpora", str(corpora),
            "--report", str(tmp_path / "report")]
    assert module.main(args) == 0
    stored = json.loads(corpora.read_text())["stdlib"]
    assert set(stored["methods"]) == {"lsh", "tfidf"} and stored["dataset"]["n_labels"] == 2
    assert stored["methods"]["lsh"]["seeds"]["0"]["command"].startswith("python -m benchmarks.quality --preset stdlib")
    assert not out.exists()  # no saved 20ng runs to render the page from
    assert (tmp_path / "report" / "seed-0" / "report.md").is_file()


def test_train_cost_parses_overrides_and_keeps_the_reading_when_it_rebuilds(tmp_path: Path):
    module = _benchmark_module("train_cost")
    assert module.parse_override("epochs=8") == ("epochs", 8)
    assert module.parse_override("hidden=250,250") == ("hidden", (250, 250))
    assert module.parse_override("pretrain=none") == ("pretrain", "none")
    row = {"name": "v", "preset": "stdlib", "split": "validation", "seed": 0, "trained_on": 10, "epochs_run": 2,
           "p100": 30.0, "wall_s": 3.0, "cpu_s": 2.0, "phase_wall_s": {"fine-tune": 2.0},
           "phase_cpu_s": {"fine-tune": 1.5}, "load_avg": [1.0, 1.0], "command": "c", "date": "d",
           "curve": [{"epoch": 1, "wall_s": 1.0, "cpu_s": 0.5, "p100": 28.0}]}
    stored, out = tmp_path / "rows.json", tmp_path / "COST.md"
    stored.write_text(json.dumps([row, {**row, "name": "w", "stopped": True}]))
    out.write_text("old table\n## Reading\n\nkept by hand\n")
    module.main(["--report", "--json", str(stored), "--out", str(out)])
    text = out.read_text()
    assert "| 1 | v | stdlib / validation |" in text and "| 2 | w |" in text and "(stopped)" in text
    assert "row 1: 1: 28.00 (0)" in text and text.endswith("## Reading\n\nkept by hand\n")
    assert "old table" not in text
