"""The report of a run: the P@100 table (terminal and markdown), ``report.md`` and
``results.json``; the plots are :mod:`.plots`'."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .methods import check_dependencies
from .plots import draw_plots
from .results import json_safe, result_bits, runs_by_bits


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}"


def results_table_rows(results: dict[str, Any], include_quoted: bool = True, key: str = "p100"
                       ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the P@100 table (percent): methods x bits, plus references and quotes
    (``key="map"``: the MAP table; published numbers are P@100, so it has no quoted rows)."""
    bits = result_bits(results)
    has_ref = any(m["kind"] == "reference" for m in results["methods"].values())
    header = ["method"] + [f"{b} bits" for b in bits] + (["no hashing"] if has_ref else []) + ["wall s"]
    rows = []
    for method in results["methods"].values():
        runs = runs_by_bits(method)
        cells = [method["label"]]
        cells += [_pct(runs[b].get(key)) if b in runs else "—" for b in bits]
        if has_ref:
            cells.append(_pct(runs[None].get(key)) if None in runs else "—")
        cells.append(f"{method['seconds']:.1f}")
        rows.append(cells)
    quoted = results.get("quoted")
    if include_quoted and quoted and key == "p100":
        for name, row in quoted["p100_percent"].items():
            cells = [f"{name} (QUOTED, not measured)"]
            cells += [f"{row[str(b)]:.2f}" if str(b) in row else "—" for b in bits]
            cells += (["—"] if has_ref else []) + ["—"]
            rows.append(cells)
    return header, rows


def format_table(results: dict[str, Any]) -> str:
    """Plain-text P@100 table for a terminal."""
    header, rows = results_table_rows(results)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(results: dict[str, Any], key: str = "p100") -> str:
    """The P@100 table (or with ``key="map"`` the MAP table) as GitHub markdown."""
    header, rows = results_table_rows(results, key=key)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)



def report_markdown(results: dict[str, Any], plots: Sequence[str] = (), command: str | None = None) -> str:
    """The text of ``report.md``."""
    cfg, ds, mach = results["config"], results["dataset"], results["machine"]
    lines = [
        f"# Retrieval quality: {cfg.get('name', 'corpus')}",
        "",
        f"Date: {results['date']} — total wall time {results['total_seconds']:.1f} s — "
        f"{mach['platform']}, {mach['cpu_count']} CPUs, Python {mach['python']}.",
    ]
    if command:
        lines += ["", "Command:", "", "```", command, "```"]
    lines += [
        "",
        f"Corpus `{ds['root']}` ({ds['layout']}). Database: {ds['n_database']} documents; "
        f"queries: {ds['n_queries']} from the **{ds['split']}** split; {ds['n_labels']} labels; "
        f"vocabulary {ds['vocabulary_size']} words; {ds['dropped_empty']} empty documents dropped. "
        + (f"Multi-label: {ds['labels_per_document']:.2f} labels per document; a hit shares at least one. "
           if ds.get("multi_label") else "")
        + f"Chance precision (mean share of relevant documents): {100 * ds['chance_precision']:.2f}%"
        + (f"; a perfect ranking's P@100: {100 * ds['best_possible_p100']:.2f}%."
           if ds.get("best_possible_p100") is not None else "."),
        "",
        "## Precision@100 (percent)",
        "",
        "Hamming ranking of the whole database, ties broken at random (seed "
        f"{cfg['seed']}); a hit shares a label with the query. Reference rows rank by real-valued scores "
        "and do not depend on the bit length. `wall s` covers making the codes or scores and "
        "evaluating them, summed over bit lengths. LSH, LSI, ITQ and spectral hashing see "
        + ("L2-normalised TF-IDF rows" if cfg.get("baseline_input", "l2") == "l2" else "the raw TF-IDF weights")
        + "; semhash and the references see the protocol TF-IDF.",
        "",
        markdown_table(results),
    ]
    if results.get("quoted"):
        lines += ["", f"_{results['quoted']['note']}_"]
    lines += ["", "## Mean average precision (percent)", "",
              "Over the whole ranking of each query (the same ranking and ties as precision@k), averaged over "
              "the queries with at least one relevant database document.", "", markdown_table(results, "map")]
    lines += ["", "## Time per run (seconds)", "", "| method | bits | codes/scores | evaluation |", "|---|---:|---:|---:|"]
    for m in results["methods"].values():
        if m.get("setup_seconds"):
            lines.append(f"| {m['label']} | projection shared by all lengths | {m['setup_seconds']:.2f} | — |")
        for r in m["runs"]:
            lines.append(f"| {m['label']} | {r['n_bits'] or '—'} | {r['code_seconds']:.2f} | {r['eval_seconds']:.2f} |")
    if plots:
        lines += [
            "",
            "## Plots",
            "",
            "Precision@k for k up to 1000, and precision–recall of Hamming-ball retrieval for radius "
            "0..n_bits (the semantic-hashing view of Salakhutdinov & Hinton); the non-hashing "
            "references are dashed, their curve swept over rank cut-offs.",
            "",
        ]
        lines += [f"![{p}]({p})" for p in plots]
    lines += ["", "## Configuration", "", "```json", json.dumps(cfg, indent=2), "```", ""]
    return "\n".join(lines)


def write_report(results: dict[str, Any], out_dir: str | os.PathLike, command: str | None = None, plots: bool = True) -> list[Path]:
    """Write ``results.json``, ``report.md`` and the PNG plots to ``out_dir``; return the paths."""
    check_dependencies((), plots)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = json_safe(results)
    written = [out_dir / "results.json"]
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    pngs = draw_plots(results, out_dir) if plots else []
    written += [out_dir / p for p in pngs]
    (out_dir / "report.md").write_text(report_markdown(results, pngs, command), encoding="utf-8")
    written.append(out_dir / "report.md")
    return written
