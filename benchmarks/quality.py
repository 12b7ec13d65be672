"""Retrieval quality on the full 20 Newsgroups protocol; writes benchmarks/RESULTS.md.

Runs semhash and every baseline on the same split (database = 20NG training set, queries =
the reported test half of the 20NG test set), P@100 for 16/32/64/128-bit codes, and writes a
markdown table with the wall time per method, the command, the machine and the date. The full
report (results.json, report.md, plots) goes to ``--report`` (default reports/quality-20ng).

    python benchmarks/quality.py                                  # everything (trains the model)
    python benchmarks/quality.py --methods lsh,lsi,itq,sh,tfidf,bm25   # baselines only

The corpus folder is ``<repo>/../shared/datasets/20news-bydate`` unless ``$SEMHASH_20NG`` or
``--root`` says otherwise.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semhash.evaluate import (  # noqa: E402
    ALL_METHODS,
    DEFAULT_BITS,
    EvalConfig,
    ModelOptions,
    format_table,
    markdown_table,
    run_evaluation,
    write_report,
)


def results_markdown(results: dict, command: str, wall: float, report_dir: Path | None) -> str:
    """The text of RESULTS.md."""
    ds, mach, cfg = results["dataset"], results["machine"], results["config"]
    methods = results["methods"]
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
        f"ranking with random tie breaking (seed {cfg['seed']}); a hit shares the newsgroup. "
        f"Chance level {100 * ds['chance_precision']:.2f}%.",
        "",
        "## Precision@100 (percent)",
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
        "## Wall time per method (seconds)",
        "",
        "| method | total | per run |",
        "|---|---:|---|",
    ]
    for m in methods.values():
        parts = [f"projection {m['setup_seconds']:.1f}"] if m.get("setup_seconds") else []
        parts += [(f"{r['n_bits']} bits: {r['seconds']:.1f}" if r["n_bits"] else f"{r['seconds']:.1f}") for r in m["runs"]]
        lines.append(f"| {m['label']} | {m['seconds']:.1f} | {', '.join(parts)} |")
    lines += [
        "",
        f"Loading and preprocessing: {ds['prepare_seconds']:.1f} s. Total wall time: {wall:.1f} s.",
        "",
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
    if report_dir is not None:
        shown = report_dir.resolve()
        shown = shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown
        lines.append(f"- full report (plots, results.json): `{shown}`")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(ALL_METHODS), help="comma-separated methods")
    parser.add_argument("--bits", default=",".join(map(str, DEFAULT_BITS)), help="comma-separated code lengths")
    parser.add_argument("--split", default="test", choices=("validation", "test"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pretrain", default=None, choices=("rbm", "autoencoder", "none"))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--root", type=Path, default=None, help="20news-bydate folder")
    parser.add_argument("--limit-per-class", type=int, default=None, help="quick run on a slice")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md", help="markdown file to write")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "quality-20ng", help="full report folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    config = EvalConfig.preset_20ng(args.root)
    config = replace(
        config,
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
        bits=tuple(int(b) for b in args.bits.split(",") if b.strip()),
        split=args.split,
        seed=args.seed,
        limit_per_class=args.limit_per_class,
        model=ModelOptions(pretrain=args.pretrain, epochs=args.epochs),
    )
    command = "python benchmarks/quality.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    started = time.perf_counter()
    results = run_evaluation(config, progress=not args.quiet)
    wall = time.perf_counter() - started
    if args.report is not None:
        write_report(results, args.report, command=command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(results_markdown(results, command.strip(), wall, args.report), encoding="utf-8")
    print(format_table(results))
    print(f"\nwall time {wall:.1f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
