"""Pretraining and model-variant ablation on the 20NG protocol (issue #7); writes benchmarks/ABLATION.md.

Each configuration runs `semhash evaluate --preset 20ng --methods semhash` in its own process on
the **validation** half (the half meant for choosing models), so nothing here is tuned on the
reported test half. Usage:

    python benchmarks/ablation.py                      # 32 bits, every configuration (~55 min on 2 cores)
    python benchmarks/ablation.py --bits 64 --configs plain:autoencoder,sparse:rbm
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# variant:pretrain[:neighbours[:graph_codes]]; graph_codes 0 = the reconstruction objective alone
CONFIGS = ["plain:rbm:0:0", "plain:none:0:0", "plain:autoencoder:0:0", "denoising:rbm:0:0", "sparse:rbm:0:0",
           "contractive:rbm:0:0", "variational:rbm:0:0", "plain:rbm:20:0", "plain:autoencoder:20:0",
           "plain:rbm:0:1", "plain:none:0:1", "plain:autoencoder:0:1", "plain:rbm:20:1", "plain:autoencoder:20:1",
           "plain:rbm:0:5"]


def run_config(variant: str, pretrain: str, neighbours: int, graph: float, bits: str, split: str, seed: int,
               out: Path, reuse: bool) -> dict:
    cmd = [sys.executable, "-c", "from semhash.cli import main; main()", "evaluate", "--preset", "20ng",
           "--bits", bits, "--methods", "semhash", "--split", split, "--variant", variant, "--pretrain", pretrain,
           "--neighbours", str(neighbours), "--graph-codes", f"{graph:g}", "--seed", str(seed), "--no-plots", "--quiet", "--out", str(out)]
    if not (reuse and (out / "results.json").is_file()):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    results = json.loads((out / "results.json").read_text())
    runs = results["methods"]["semhash"]["runs"]
    return {"variant": variant, "pretrain": pretrain, "neighbours": neighbours, "graph": graph, "wall_s": round(results["total_seconds"], 1),
            "p100": {str(r["n_bits"]): round(100 * r["p100"], 2) for r in runs},
            "train_s": {str(r["n_bits"]): round(r["code_seconds"], 1) for r in runs}}


def write_markdown(rows: list[dict], args, path: Path) -> None:
    bits = args.bits.split(",")
    lines = ["# Ablation: pretraining and autoencoder variants (20 Newsgroups)", "",
             f"Written by `benchmarks/ablation.py`. Precision@100 (percent) on the **{args.split}** half of the "
             "standard protocol (database = training set; see RESULTS.md for the protocol), seed "
             f"{args.seed}, one run per configuration. `train s` is the model's training time.", "",
             "| variant | pretraining | neighbour targets | graph-code weight | " + " | ".join(f"{b} bits" for b in bits) + " | train s |",
             "|---|---|---|---:|" + "---:|" * len(bits) + "---:|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['pretrain']} | {r['neighbours'] or '—'} | {r.get('graph', 0) or '—'} | " + " | ".join(str(r["p100"].get(b, "—")) for b in bits)
                     + f" | {sum(r['train_s'].values()):.0f} |")
    lines += ["", "## Run", "", f"```\npython benchmarks/ablation.py --bits {args.bits} --split {args.split} "
              f"--configs {','.join(args.configs)}\n```", "",
              f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}",
              f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bits", default="32")
    ap.add_argument("--split", default="validation", choices=["validation", "test"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", default=",".join(CONFIGS), type=lambda s: s.split(","),
                    help="variant:pretrain[:neighbours[:graph_codes]] items, comma-separated")
    ap.add_argument("--reports", default="reports/ablation", help="folder for the per-run reports")
    ap.add_argument("--out", default=str(HERE / "ABLATION.md"))
    ap.add_argument("--reuse", action="store_true", help="use a configuration's existing report instead of rerunning it")
    args = ap.parse_args(argv)
    rows = []
    for item in args.configs:
        variant, pretrain, *rest = item.split(":")
        neighbours = int(rest[0]) if rest else 0
        graph = float(rest[1]) if len(rest) > 1 else 0.0
        name = f"{variant}-{pretrain}" + (f"-nbr{neighbours}" if neighbours else "") + (f"-graph{graph:g}" if graph else "")
        row = run_config(variant, pretrain, neighbours, graph, args.bits, args.split, args.seed,
                         Path(args.reports) / name, args.reuse)
        print(f"{variant:12s} {pretrain:12s} {neighbours:3d} {graph:g} P@100 {row['p100']}  ({row['wall_s']} s)", flush=True)
        rows.append(row)
    write_markdown(rows, args, Path(args.out))


if __name__ == "__main__":
    main()
