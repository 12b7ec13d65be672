"""The presets beside 20ng in benchmarks/RESULTS.md: the stored runs (benchmarks/corpora.json)
and their tables. ``python -m benchmarks.quality --preset NAME`` runs a preset and stores its
runs here; this module only stores and renders.

Each run is stored under its preset, method and seed, replacing an earlier run of the same
method and seed (other methods and seeds stay), so rows measured by separate commands (the
baselines, then semhash at one length) sit in one table. Each stored run keeps the command that
made it and its date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import HERE
from semhash.eval.methods import ALL_METHODS
from semhash.eval.presets import PRESETS
from semhash.eval.results import result_bits

CORPORA_JSON = HERE / "corpora.json"
DATASET_KEYS = ("root", "layout", "preprocessing", "n_database", "n_queries", "split", "split_sizes", "n_labels",
                "vocabulary_size", "dropped_empty", "multi_label", "labels_per_document", "chance_precision",
                "best_possible_p100", "database_documents_per_label")


def _slim_run(run: dict[str, Any]) -> dict[str, Any]:
    keep = ("n_bits", "p100", "map", "code_seconds", "seconds")
    return {**{k: run.get(k) for k in keep}, "p10": run["p_at_k"].get("10", run["p_at_k"].get(10))}


def store_runs(path: Path, preset: str, all_results: list[dict[str, Any]], command: str) -> None:
    """Add the runs of ``all_results`` (one results dictionary per seed) to ``path``."""
    stored = json.loads(path.read_text()) if path.is_file() else {}
    entry = stored.setdefault(preset, {"dataset": {}, "methods": {}})
    for results in all_results:
        entry["dataset"] = {k: results["dataset"].get(k) for k in DATASET_KEYS}
        seed = str(results["config"]["seed"])
        for name, method in results["methods"].items():
            slot = entry["methods"].setdefault(name, {"label": method["label"], "seeds": {}})
            old = slot["seeds"].get(seed, {"runs": []})
            runs = {r["n_bits"]: r for r in old["runs"]} | {r["n_bits"]: _slim_run(r) for r in method["runs"]}
            slot["seeds"][seed] = {"runs": sorted(runs.values(), key=lambda r: (r["n_bits"] is None, r["n_bits"] or 0)),
                                   "setup_seconds": method.get("setup_seconds", 0.0), "command": command,
                                   "date": results["date"]}
    path.write_text(json.dumps(stored, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def _cells(method: dict[str, Any], key: str) -> dict[int | None, list[float]]:
    """Per code length, the stored values of ``key`` (percent) over the seeds."""
    out: dict[int | None, list[float]] = {}
    for seed in sorted(method["seeds"], key=int):
        for run in method["seeds"][seed]["runs"]:
            if run.get(key) is not None:
                out.setdefault(run["n_bits"], []).append(100 * run[key])
    return out


def _mean_std(values: list[float], n_row: int) -> str:
    """``mean ± std`` over the seeds (the mean alone for one seed), with the count when it is not
    the row's (the seeds column's)."""
    v = np.array(values)
    cell = f"{v[0]:.2f}" if v.size == 1 else f"{v.mean():.2f} ± {v.std(ddof=1):.2f}"
    return cell if v.size == n_row else f"{cell} ({v.size} seed{'s' if v.size > 1 else ''})"


def _method_order(name: str) -> int:
    """Rows in the order of the methods' registry (semhash first), whatever order they were stored in."""
    return ALL_METHODS.index(name) if name in ALL_METHODS else len(ALL_METHODS)


def preset_tables(entry: dict[str, Any], quoted: dict[str, dict[int, float]]) -> list[str]:
    """The P@100 table (mean ± std over seeds) and the MAP / P@10 table of one preset."""
    methods = entry["methods"]
    bits = result_bits({"methods": {n: {"runs": [r for s in m["seeds"].values() for r in s["runs"]]}
                                    for n, m in methods.items()}})
    has_ref = any(r["n_bits"] is None for m in methods.values() for s in m["seeds"].values() for r in s["runs"])
    head = ["method"] + [f"{b} bits" for b in bits] + (["no hashing"] if has_ref else [])
    keys: list[int | None] = [*bits, *([None] if has_ref else [])]
    rule = "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"
    p100 = ["| " + " | ".join([*head, "seeds"]) + " |", rule + "---|"]
    other = ["| " + " | ".join(head) + " |", rule]
    for name, method in sorted(methods.items(), key=lambda item: _method_order(item[0])):
        label = f"**{method['label']}**" if name == "semhash" else method["label"]
        cells, maps, p10s = _cells(method, "p100"), _cells(method, "map"), _cells(method, "p10")
        n_row = len(method["seeds"])
        seeds = ", ".join(sorted(method["seeds"], key=int))
        p100.append(f"| {label} | " + " | ".join(_mean_std(cells[k], n_row) if k in cells else "—" for k in keys)
                    + f" | {seeds} |")
        other.append(f"| {label} | " + " | ".join(
            f"{np.mean(maps[k]):.2f} / {np.mean(p10s[k]):.2f}" if k in maps and k in p10s else "—" for k in keys) + " |")
    for name, row in quoted.items():
        p100.append(f"| {name} (QUOTED, not measured) | " + " | ".join(
            f"{row[b]:.2f}" if b in row else "—" for b in bits) + (" | —" if has_ref else "") + " | — |")
    return ["Precision@100 (percent), test queries; mean ± sample standard deviation over the seeds run "
            "(model initialisation, random projections and rotations, tie breaking; the split is fixed):", "",
            *p100, "", "MAP / precision@10 (percent, mean over the seeds run):", "", *other]


def dataset_line(ds: dict[str, Any]) -> str:
    """What the preset's split holds, in one paragraph."""
    labels = (f"{ds['n_labels']} labels, {ds['labels_per_document']:.2f} per document (multi-label: relevant = "
              "shares a label)" if ds.get("multi_label") else f"{ds['n_labels']} labels")
    best = ds.get("best_possible_p100")
    notes = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in (ds.get("preprocessing") or {}).items()
                      if not isinstance(v, (dict, list)))
    return (f"Database {ds['n_database']} documents, {ds['n_queries']} {ds['split']} queries ({ds['layout']}); "
            f"{labels}; vocabulary {ds['vocabulary_size']} words; chance {100 * ds['chance_precision']:.2f}%"
            + (f", best possible P@100 {100 * best:.2f}%" if best is not None else "")
            + (f". Reader: {notes}." if notes else "."))


def corpora_sections(path: Path = CORPORA_JSON) -> list[str]:
    """One RESULTS.md section per stored preset (in the order of the registry)."""
    if not path.is_file():
        return []
    stored = json.loads(path.read_text())
    out = ["# Other corpora and protocols", "",
           "Written from `benchmarks/corpora.json` by `python -m benchmarks.quality --preset NAME` "
           "(docs/quality.md describes each preset). `no hashing` rows rank by real-valued scores.", ""]
    for name, preset in PRESETS.items():
        if name not in stored:
            continue
        entry = stored[name]
        quoted = {q: {int(b): v for b, v in row.items()} for q, row in preset.quoted.items()}
        commands = sorted({(s["command"], s["date"][:10]) for m in entry["methods"].values() for s in m["seeds"].values()})
        out += [f"## `--preset {name}`: {preset.help}", "", dataset_line(entry["dataset"]), "",
                *preset_tables(entry, quoted), "", "Made by:", "",
                *[f"- `{command}` ({date})" for command, date in commands], ""]
    return out
