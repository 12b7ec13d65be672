"""Retrieval quality on the full 20 Newsgroups protocol; writes benchmarks/RESULTS.md.

Runs semhash and every baseline on the same split (database = 20NG training set, queries =
the reported test half of the 20NG test set), P@100 for 16/32/64/128-bit codes, and writes a
markdown table with the wall time per method, the command, the machine and the date. With
``--seeds 0,1,2`` every method runs once per seed (model initialisation, baselines' random
projections and rotations, tie breaking) on the same split, and the table shows the mean, the
standard deviation and the range. The full report of each seed (results.json, report.md, plots)
goes to ``--report``/seed-N (default reports/quality-20ng).

    python -m benchmarks.quality --seeds 0,1,2 --quiet            # everything, 3 seeds (~50 min on 2 cores)
    python -m benchmarks.quality                                  # one seed
    python -m benchmarks.quality --rebuild                        # rewrite RESULTS.md from quality.json
    python -m benchmarks.quality --methods lsh,lsi,itq,sh,tfidf,bm25   # baselines only
    python -m benchmarks.quality --methods lsh,tfidf --bits 16 --limit-per-class 20 --out /tmp/R.md --json /tmp/q.json  # quick look
    python -m benchmarks.quality --preset 20ng-literature --methods lsh,lsi,itq,sh,sth,tfidf --seeds 0,1,2 --quiet
    python -m benchmarks.quality --preset stdlib --methods semhash --bits 32 --quiet   # adds rows to a preset

With ``--preset`` other than 20ng, each seed's runs are stored in ``benchmarks/corpora.json``
(``--corpora``) under the preset, method and seed, and RESULTS.md is re-rendered from
``quality.json`` and ``corpora.json``: its "Other corpora and protocols" part has a table per
preset (:mod:`benchmarks.corpora`).

Every run also saves its numbers (without the precision-recall curves) to
``benchmarks/quality.json``; ``--rebuild`` re-renders RESULTS.md from that file, from the
ablation rows in ``benchmarks/ablation.json`` (``benchmarks/ablation.py``) and from the label
ceiling in ``benchmarks/ceiling.json`` (``benchmarks/label_ceiling.py``), without evaluating.

The corpus folder is ``<repo>/../shared/datasets/20news-bydate`` unless ``$SEMHASH_20NG`` or
``--root`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.ablation import CONFIGS, config_name, table_lines
from benchmarks.common import HERE, REPO, TARGET_20NG_P100, argument_parser, command_line, int_list
from benchmarks.corpora import CORPORA_JSON, corpora_sections, store_runs
from benchmarks.label_ceiling import ceiling_rows, full_corpus, target_row
from semhash.eval.methods import ALL_METHODS, ModelOptions
from semhash.eval.report import format_table, markdown_table, write_report
from semhash.eval.results import QUOTED_20NG_P100, result_bits
from semhash.eval.run import DEFAULT_BITS, PRESETS, EvalConfig, run_evaluation


def seed_summary(all_results: list[dict]) -> tuple[list[int], list[dict]]:
    """Per method and code length: mean, standard deviation, min and max P@100 (percent) over
    the seeds, and the mean time to make the codes."""
    bits = result_bits(all_results[0])
    rows = []
    for name, method in all_results[0]["methods"].items():
        row = {"name": name, "label": method["label"], "cells": {}, "code_s": {}}
        for key in bits + [None]:
            vals, secs = [], []
            for res in all_results:
                run = next((r for r in res["methods"][name]["runs"] if r["n_bits"] == key), None)
                if run is not None and run["p100"] is not None:
                    vals.append(100 * run["p100"])
                    secs.append(run["code_seconds"])
            if vals:
                v = np.array(vals)
                row["cells"][key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                                     "min": float(v.min()), "max": float(v.max()), "n": len(v)}
                row["code_s"][key] = float(np.mean(secs))
        rows.append(row)
    return bits, rows


def summary_markdown(bits: list[int], rows: list[dict], n_seeds: int) -> list[str]:
    """The mean ± std (min–max) table, the quoted numbers and the target, and the semhash gap."""
    has_ref = any(None in r["cells"] for r in rows)
    head = ["method"] + [f"{b} bits" for b in bits] + (["no hashing"] if has_ref else [])
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]

    def cell(c):
        if c is None:
            return "—"
        if c["n"] == 1:
            return f"{c['mean']:.2f}"
        return f"{c['mean']:.2f} ± {c['std']:.2f} ({c['min']:.2f}–{c['max']:.2f})"

    for r in rows:
        cells = [cell(r["cells"].get(b)) for b in bits] + ([cell(r["cells"].get(None))] if has_ref else [])
        label = f"**{r['label']}**" if r["name"] == "semhash" else r["label"]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    for name, q in QUOTED_20NG_P100.items():
        out.append(f"| {name} (QUOTED, not measured) | " + " | ".join(f"{q[b]:.2f}" if b in q else "—" for b in bits)
                   + (" | —" if has_ref else "") + " |")
    out.append("| issue 7 target | " + " | ".join(f"≥ {TARGET_20NG_P100[b]:.0f}" if b in TARGET_20NG_P100 else "—"
                                                  for b in bits) + (" | —" if has_ref else "") + " |")
    out += ["", f"Cells: mean ± sample standard deviation (min–max) over {n_seeds} seed(s)."]
    sem = next((r for r in rows if r["name"] == "semhash"), None)
    if sem is not None:
        out += ["", "semhash against the target (mean over seeds; negative = below target). Everything tried to "
                "close the gap is in the ablation section below (validation half) and docs/quality.md.", "",
                "| | " + " | ".join(f"{b} bits" for b in bits) + " |", "|---|" + "---:|" * len(bits),
                "| gap (points) | " + " | ".join(f"{sem['cells'][b]['mean'] - TARGET_20NG_P100[b]:+.2f}"
                                               if b in sem["cells"] and b in TARGET_20NG_P100 else "—" for b in bits) + " |",
                "| training time (s, mean) | " + " | ".join(f"{sem['code_s'][b]:.0f}" if b in sem["code_s"] else "—"
                                                         for b in bits) + " |"]
    return out


def ablation_section() -> list[str]:
    """The ablation table (validation half) from benchmarks/ablation.json, when it exists."""
    path = HERE / "ablation.json"
    if not path.is_file():
        return []
    stored = json.loads(path.read_text())
    rows = [stored[k] for k in (f"{config_name(c)}@validation:seed0" for c in CONFIGS) if k in stored]
    if not rows:
        return []
    bits = sorted({b for r in rows for b in r["p100"]}, key=int)
    return ["## Objective, pretraining and variants (validation half, seed 0)", "",
            "Chosen on the **validation** half, never on the test half above; the full table with each row's "
            "date and commit is `benchmarks/ABLATION.md` (`python -m benchmarks.ablation --reuse`).", "",
            *table_lines(rows, bits), ""]


def ceiling_section(split: str) -> list[str]:
    """What the labels would buy on this split, from benchmarks/ceiling.json
    (``benchmarks/label_ceiling.py``), when it holds a full-corpus run on the same split."""
    path = HERE / "ceiling.json"
    if not path.is_file():
        return []
    c = json.loads(path.read_text())
    if c.get("split") != split or not full_corpus(c):
        return []

    return [f"## What the labels would buy ({split} half, seed {c['seed']})", "",
            "Both rows **use the newsgroup labels**: they are references for how far any unsupervised code can get "
            "on this protocol, not methods (`benchmarks/label_ceiling.py`; details in `benchmarks/CEILING.md`).", "",
            *ceiling_rows(c), target_row(c["bits"]), ""]


def wall_time_lines(results: dict, seed: int, wall: float) -> list[str]:
    """The wall time of each method of one seed's run, and of the whole benchmark."""
    lines = [f"## Wall time per method, seed {seed} (seconds)", "", "| method | total | per run |", "|---|---:|---|"]
    for m in results["methods"].values():
        parts = [f"projection {m['setup_seconds']:.1f}"] if m.get("setup_seconds") else []
        parts += [(f"{r['n_bits']} bits: {r['seconds']:.1f}" if r["n_bits"] else f"{r['seconds']:.1f}") for r in m["runs"]]
        lines.append(f"| {m['label']} | {m['seconds']:.1f} | {', '.join(parts)} |")
    return lines + ["", f"Loading and preprocessing: {results['dataset']['prepare_seconds']:.1f} s. "
                    f"Total wall time: {wall:.1f} s.", ""]


def run_lines(results: dict, command: str, report_dir: Path | None, rebuilt: bool) -> list[str]:
    """The "Run" section: the command, the date, the machine and where the full report is."""
    ds, mach = results["dataset"], results["machine"]
    lines = [
        "## Run",
        "",
        "```",
        command,
        "```",
        "",
        f"- date: {results['date']}",
        f"- machine: {mach['platform']} ({mach['machine']}), {mach['cpu_count']} CPUs "
        f"(`os.cpu_count()`), processor {mach['processor'] or 'n/a'}",
        f"- Python {mach['python']}, NumPy {mach['numpy']}, SciPy {mach['scipy']}, "
        f"scikit-learn {mach['scikit-learn']}, semhash {mach['semhash']}",
        f"- vocabulary {ds['vocabulary_size']} words; {ds['dropped_empty']} empty documents dropped",
    ]
    if rebuilt:
        lines.append("- re-rendered from `benchmarks/quality.json` with `python -m benchmarks.quality --rebuild`")
    if report_dir is not None:
        shown = report_dir.resolve()
        shown = shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown
        lines.append(f"- full report (plots, results.json): `{shown}`")
    return lines


def results_markdown(all_results: list[dict], command: str, wall: float, report_dir: Path | None,
                     rebuilt: bool = False, corpora: Path = CORPORA_JSON) -> str:
    """The text of RESULTS.md (the first seed's run gives the per-run details)."""
    results = all_results[0]
    seeds = [r["config"]["seed"] for r in all_results]
    ds, cfg = results["dataset"], results["config"]
    lines = [
        "# Retrieval quality: 20 Newsgroups",
        "",
        "Written by `benchmarks/quality.py`; do not edit by hand.",
        "",
        "Protocol: headers, footers and quoted lines removed (scikit-learn's cleaners); "
        "`CountVectorizer(stop_words='english', max_features=10000, max_df=0.8, min_df=3)` fitted on "
        "the training set; empty documents dropped; TF-IDF `log(1+tf)·log(1+N/df)`. Database = "
        f"training set ({ds['n_database']} documents); queries = the **{ds['split']}** half of the "
        f"shuffled test set ({ds['n_queries']} documents, split seed {cfg['split_seed']}); Hamming "
        f"ranking with random tie breaking (seeds {', '.join(map(str, seeds))}); a hit shares the newsgroup. "
        f"Chance level {100 * ds['chance_precision']:.2f}%.",
        "",
        f"## Precision@100 (percent), {len(seeds)} seed(s)",
        "",
        *summary_markdown(*seed_summary(all_results), len(seeds)),
        "",
        *ceiling_section(ds["split"]),
        f"## Precision@100 of seed {seeds[0]} alone, with wall times",
        "",
        markdown_table(results),
        "",
        "Rows marked QUOTED are published numbers copied from the papers (AMMI; SNUH), not measured "
        "here. `no hashing` rows rank by real-valued scores and do not depend on the code length. "
        "`wall s` is the time to make codes (train the model, where there is one) and evaluate them, "
        "summed over code lengths. LSH, LSI, ITQ and spectral hashing see "
        + ("L2-normalised TF-IDF rows" if cfg.get("baseline_input", "l2") == "l2" else "the raw TF-IDF weights")
        + " (LSI/PCA computed once at the largest code length; each length keeps its leading "
        "components); semhash and the references see the protocol TF-IDF.",
        "",
        *wall_time_lines(results, seeds[0], wall),
        *ablation_section(),
        *run_lines(results, command, report_dir, rebuilt),
        "",
        *corpora_sections(corpora),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def rebuild(json_path: Path, out: Path, report: Path, corpora: Path) -> bool:
    """Rewrite ``out`` from the saved 20ng runs and the stored presets; False without saved runs."""
    if not json_path.is_file():
        return False
    saved = json.loads(json_path.read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(results_markdown(saved["results"], saved["command"], saved["wall_seconds"], report,
                                    rebuilt=True, corpora=corpora), encoding="utf-8")
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argument_parser("quality", __doc__)
    parser.add_argument("--preset", default="20ng", choices=PRESETS, help="the protocol (semhash evaluate --preset)")
    parser.add_argument("--methods", default=",".join(ALL_METHODS), help="comma-separated methods")
    parser.add_argument("--bits", default=",".join(map(str, DEFAULT_BITS)), help="comma-separated code lengths")
    parser.add_argument("--split", default="test", choices=("validation", "test"))
    parser.add_argument("--seeds", default="0", help="comma-separated seeds; each runs every method once")
    parser.add_argument("--pretrain", default=None, choices=("rbm", "autoencoder", "none"))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--root", type=Path, default=None, help="corpus folder (default: the preset's)")
    parser.add_argument("--limit-per-class", type=int, default=None, help="quick run on a slice")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="markdown file to write")
    parser.add_argument("--report", type=Path, default=None,
                        help="full report folder [default: reports/quality-PRESET]")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", type=Path, default=HERE / "quality.json",
                        help="where the numbers of every 20ng seed are saved (read back by --rebuild)")
    parser.add_argument("--corpora", type=Path, default=CORPORA_JSON,
                        help="where the runs of the other presets are stored (and read back)")
    parser.add_argument("--rebuild", action="store_true", help="rewrite --out from --json without evaluating")
    args = parser.parse_args(argv)
    if args.report is None:
        args.report = REPO / "reports" / f"quality-{args.preset}"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rebuild:
        rebuild(args.json, args.out, args.report, args.corpora)
        print(f"rebuilt {args.out} from {args.json} and {args.corpora}")
        return 0

    config = replace(
        EvalConfig.from_preset(args.preset, args.root),
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
        bits=tuple(int_list(args.bits)),
        split=args.split,
        limit_per_class=args.limit_per_class,
        model=ModelOptions(pretrain=args.pretrain, epochs=args.epochs),
    )
    command = command_line("quality", argv)
    started = time.perf_counter()
    all_results = []
    for seed in int_list(args.seeds):
        results = run_evaluation(replace(config, seed=seed), progress=not args.quiet)
        all_results.append(results)
        if args.report is not None:
            write_report(results, args.report / f"seed-{seed}", command=command)
        print(f"seed {seed}:\n{format_table(results)}\n", flush=True)
    wall = time.perf_counter() - started
    if args.preset != "20ng":
        store_runs(args.corpora, args.preset, all_results, command.strip())
        written = rebuild(args.json, args.out, REPO / "reports" / "quality-20ng", args.corpora)
        print(f"\nwall time {wall:.1f} s; stored in {args.corpora}" + (f"; wrote {args.out}" if written else ""))
        return 0
    slim = [{**r, "methods": {name: {**m, "runs": [{k: v for k, v in run.items() if k != "pr"} for run in m["runs"]]}
                              for name, m in r["methods"].items()}} for r in all_results]
    args.json.write_text(json.dumps({"command": command.strip(), "wall_seconds": wall, "results": slim}, indent=1) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(results_markdown(all_results, command.strip(), wall, args.report, corpora=args.corpora),
                        encoding="utf-8")
    print(f"\nwall time {wall:.1f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
