"""Pretraining and model-variant ablation on the 20NG protocol (issue #7); writes benchmarks/ABLATION.md.

Each configuration runs `semhash evaluate --preset 20ng --methods semhash` in its own process on
the **validation** half (the half meant for choosing models), so nothing here is tuned on the
reported test half. Usage:

    python -m benchmarks.ablation                      # 32 bits, every configuration (~65 min on 2 cores)
    python -m benchmarks.ablation --bits 64 --configs plain:autoencoder,sparse:rbm
    python -m benchmarks.ablation --reuse                # rerun only what benchmarks/ablation.json lacks

Every measured row is kept in ``benchmarks/ablation.json`` (with its date and git commit), so
``--reuse`` can rebuild ABLATION.md from rows measured earlier and run only the new ones.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import HERE, argument_parser

# variant:pretrain[:neighbours[:graph_codes[:teacher]]]; graph_codes 0 = the reconstruction objective alone;
# teacher = how the neighbour graph becomes target bits (spectral, the default, or smoothed)
CONFIGS = ["plain:rbm:0:0", "plain:none:0:0", "plain:autoencoder:0:0", "denoising:rbm:0:0", "sparse:rbm:0:0",
           "contractive:rbm:0:0", "variational:rbm:0:0", "plain:rbm:20:0", "plain:autoencoder:20:0",
           "plain:rbm:0:1:smoothed", "plain:none:0:1:smoothed", "plain:autoencoder:0:1:smoothed",
           "plain:rbm:20:1:smoothed", "plain:rbm:0:5:smoothed", "denoising:rbm:0:1:smoothed",
           "sparse:rbm:0:1:smoothed", "contractive:rbm:0:1:smoothed", "variational:rbm:0:1:smoothed",
           "plain:rbm:0:1", "plain:none:0:1", "plain:autoencoder:0:1", "denoising:rbm:0:1", "sparse:rbm:0:1",
           "contractive:rbm:0:1", "variational:rbm:0:1"]
DEFAULT = ("denoising", "rbm", 0, 1.0, "spectral")  # semhash.model.ModelConfig's (tests/test_evaluate.py checks)


def parse_config(item: str) -> tuple[str, str, int, float, str]:
    """``variant:pretrain[:neighbours[:graph[:teacher]]]`` -> its five fields, with the defaults filled in."""
    variant, pretrain, *rest = item.split(":")
    neighbours = int(rest[0]) if rest else 0
    graph = float(rest[1]) if len(rest) > 1 else 0.0
    teacher = rest[2] if len(rest) > 2 else "spectral"
    return variant, pretrain, neighbours, graph, teacher


def default_label() -> str:
    """DEFAULT as the table's columns show it, e.g. ``denoising / rbm / — / 1 / spectral``."""
    variant, pretrain, neighbours, graph, teacher = DEFAULT
    return f"{variant} / {pretrain} / {neighbours or '—'} / {graph:g} / {teacher}"


def row_teacher(row: dict) -> str:
    return row.get("teacher", "spectral") if row.get("graph", 0) else "—"


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def run_config(variant: str, pretrain: str, neighbours: int, graph: float, teacher: str, bits: str, split: str,
               seed: int, out: Path, reuse: bool) -> dict:
    cmd = [sys.executable, "-c", "from semhash.cli import main; main()", "evaluate", "--preset", "20ng",
           "--bits", bits, "--methods", "semhash", "--split", split, "--variant", variant, "--pretrain", pretrain,
           "--neighbours", str(neighbours), "--graph-codes", f"{graph:g}", "--graph-teacher", teacher, "--seed", str(seed), "--no-plots", "--quiet", "--out", str(out)]
    wanted = {"pretrain": pretrain, "variant": variant, "neighbours": neighbours, "graph_codes": graph,
              "graph_teacher": teacher}
    if not (reuse and same_run(out / "results.json", wanted, bits, split, seed)):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    results = json.loads((out / "results.json").read_text())
    runs = results["methods"]["semhash"]["runs"]
    return {"variant": variant, "pretrain": pretrain, "neighbours": neighbours, "graph": graph, "teacher": teacher,
            "split": split,
            "seed": seed, "date": results["date"], "commit": git_commit(), "wall_s": round(results["total_seconds"], 1),
            "p100": {str(r["n_bits"]): round(100 * r["p100"], 2) for r in runs},
            "train_s": {str(r["n_bits"]): round(r["code_seconds"], 1) for r in runs}}


def same_run(path: Path, model: dict, bits: str, split: str, seed: int) -> bool:
    """Whether the report at ``path`` measured exactly this model at these bits, split and seed
    (a report written before an option existed had that option's default then: graph teacher
    "smoothed")."""
    if not path.is_file():
        return False
    config = json.loads(path.read_text())["config"]
    done = {"graph_teacher": "smoothed", **(config.get("model") or {})}
    return (all(done.get(k) == v for k, v in model.items()) and config.get("split") == split
            and config.get("seed") == seed and [str(b) for b in config.get("bits", [])] == bits.split(","))


def config_name(item: str) -> str:
    """``variant:pretrain[:neighbours[:graph[:teacher]]]`` -> the row's name (also its report folder)."""
    variant, pretrain, neighbours, graph, teacher = parse_config(item)
    return (f"{variant}-{pretrain}" + (f"-nbr{neighbours}" if neighbours else "") + (f"-graph{graph:g}" if graph else "")
            + ("-smoothed" if graph and teacher == "smoothed" else ""))


def table_lines(rows: list[dict], bits: list[str]) -> list[str]:
    lines = ["| variant | pretraining | neighbour targets | graph-code weight | graph teacher | "
             + " | ".join(f"{b} bits" for b in bits) + " | train s |",
             "|---|---|---|---:|---|" + "---:|" * len(bits) + "---:|"]
    for r in rows:
        star = " ★" if (r["variant"], r["pretrain"], r["neighbours"], r.get("graph", 0), row_teacher(r)) == DEFAULT else ""
        lines.append(f"| {r['variant']}{star} | {r['pretrain']} | {r['neighbours'] or '—'} | {r.get('graph', 0) or '—'} | "
                     f"{row_teacher(r)} | "
                     + " | ".join(str(r["p100"].get(b, "—")) for b in bits) + f" | {sum(r['train_s'].values()):.0f} |")
    return lines


def write_markdown(rows: list[dict], args, path: Path) -> None:
    bits = args.bits.split(",")
    lines = ["# Ablation: objective, pretraining and autoencoder variants (20 Newsgroups)", "",
             f"Written by `benchmarks/ablation.py`. Precision@100 (percent) on the **{args.split}** half of the "
             "standard protocol (database = training set; see RESULTS.md for the protocol), seed "
             f"{args.seed}, one run per configuration. `train s` is the model's training time. "
             "`graph-code weight` is the weight of the code-layer loss towards the bits of the "
             "TF-IDF neighbour graph (`--graph-codes`; — = off, the reconstruction objective alone), and "
             "`graph teacher` how the graph becomes those bits (`--graph-teacher`: its spectral embedding, or "
             "the TF-IDF smoothed over it, the default until the spectral teacher); "
             "`neighbour targets` blends the K nearest neighbours' words into the reconstruction target. "
             f"The default of `semhash index` is **{default_label()}** (marked ★).", "",
             *table_lines(rows, bits)]
    notes = [f"- {r['variant']} / {r['pretrain']} / {r['neighbours'] or '—'} / {r.get('graph', 0) or '—'} / "
             f"{row_teacher(r)}: {r['note']}"
             for r in rows if r.get("note")]
    if notes:
        lines += ["", "Notes on rows:", "", *notes]
    dates = sorted({(r.get("date") or "?")[:10] + " @ " + (r.get("commit") or "?") for r in rows})
    lines += ["", "## Run", "", f"```\npython -m benchmarks.ablation --bits {args.bits} --split {args.split} "
              f"--configs {','.join(args.configs)}{' --reuse' if args.reuse else ''}\n```", "",
              "Rows measured on (date @ commit; `benchmarks/ablation.json` has each row's): " + ", ".join(dates), "",
              f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}",
              f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> None:
    ap = argument_parser("ablation", __doc__)
    ap.add_argument("--bits", default="32")
    ap.add_argument("--split", default="validation", choices=["validation", "test"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", default=",".join(CONFIGS), type=lambda s: s.split(","),
                    help="variant:pretrain[:neighbours[:graph_codes[:teacher]]] items, comma-separated")
    ap.add_argument("--reports", default="reports/ablation", help="folder for the per-run reports")
    ap.add_argument("--out", default=str(HERE / "ABLATION.md"))
    ap.add_argument("--reuse", action="store_true",
                    help="keep rows already in --store (same split, seed and bits) instead of rerunning them")
    ap.add_argument("--store", default=str(HERE / "ablation.json"), help="JSON file of every measured row")
    args = ap.parse_args(argv)
    store_path = Path(args.store)
    stored = json.loads(store_path.read_text()) if store_path.is_file() else {}
    rows = []
    for item in args.configs:
        variant, pretrain, neighbours, graph, teacher = parse_config(item)
        name = config_name(item)
        key = f"{name}@{args.split}:seed{args.seed}"
        old = stored.get(key)
        if args.reuse and old and all(b in old["p100"] for b in args.bits.split(",")):
            row = old
        else:
            row = run_config(variant, pretrain, neighbours, graph, teacher, args.bits, args.split, args.seed,
                             Path(args.reports) / name, args.reuse)
            if old:  # keep the other code lengths measured before
                row = {**row, "p100": {**old["p100"], **row["p100"]}, "train_s": {**old["train_s"], **row["train_s"]}}
            stored[key] = row
            store_path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
        print(f"{variant:12s} {pretrain:12s} {neighbours:3d} {graph:g} {row_teacher(row):9s} P@100 {row['p100']}  ({row.get('wall_s', '—')} s)", flush=True)
        rows.append(row)
    write_markdown(rows, args, Path(args.out))


if __name__ == "__main__":
    main()
