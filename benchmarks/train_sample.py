"""What training on a sample costs in quality: P@100 of the default model trained on a uniform
sample of 20 Newsgroups' training set against the model trained on all of it; writes
benchmarks/TRAIN_SAMPLE.md.

Every model encodes the whole training set (the database) and the queries of the 20NG protocol
(database = training set, queries = the test half by default); only what the model is trained
on changes (``ModelConfig.train_sample``). The issue's target: a 5,000-document sample loses at
most 1 point of P@100 at 32 bits. Nothing is tuned here.

    python -m benchmarks.train_sample                       # 32 bits, samples 2000, 5000 and all
    python -m benchmarks.train_sample --samples 5000,0 --seeds 0,1,2
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, argument_parser, command_line, int_list, load_20ng, machine, now, p100
from semhash.codes import encode_bits
from semhash.train.config import ModelConfig


def measure(data, n_bits: int, sample: int | None, seed: int) -> dict:
    """Train on ``sample`` documents (None: all), encode everything, P@100 and training time."""
    from semhash.train.trainer import train  # imports TensorFlow

    started = time.perf_counter()
    result = train(data.X_db, ModelConfig(n_bits=n_bits, seed=seed, train_sample=sample))
    seconds = time.perf_counter() - started
    db, q = encode_bits(result.encoder, data.X_db), encode_bits(result.encoder, data.X_query)
    trained_on = data.X_db.shape[0] if result.sample_rows is None else len(result.sample_rows)
    return {"sample": sample, "seed": seed, "trained_on": trained_on, "train_seconds": round(seconds, 1),
            "p100": round(p100(db, q, data.db_labels, data.query_labels, seed), 2)}


def markdown(runs: list[dict], args, n_db: int, started: float) -> str:
    lines = ["# Training on a sample (20 Newsgroups)", "",
             f"Command: `{command_line('train_sample')}`. Database: the {n_db:,} training posts, all "
             f"encoded; queries: the {args.split} half. {args.bits} bits, default model, only "
             "`train_sample` changes. Training time is wall time on a shared machine.", "",
             "| trained on | seed | P@100 | training s |", "|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['trained_on']:,} | {r['seed']} | {r['p100']:.2f} | {r['train_seconds']:.0f} |")
    means = {}
    for r in runs:
        means.setdefault(r["trained_on"], []).append(r["p100"])
    whole = max(means)
    lines += ["", "| trained on | mean P@100 | against all |", "|---:|---:|---:|"]
    for size in sorted(means):
        m = float(np.mean(means[size]))
        lines.append(f"| {size:,} | {m:.2f} | {m - float(np.mean(means[whole])):+.2f} |")
    lines += ["", f"Wall time {time.perf_counter() - started:.0f} s; {now()}; {machine()}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argument_parser("train_sample", __doc__)
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--samples", type=int_list, default=[2000, 5000, 0], help="0: all documents")
    ap.add_argument("--seeds", type=int_list, default=[0])
    ap.add_argument("--split", default="test", choices=["test", "validation"])
    ap.add_argument("--root", type=Path, default=None, help="20news-bydate folder")
    ap.add_argument("--out", type=Path, default=HERE / "TRAIN_SAMPLE.md")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    data = load_20ng(args.root, split=args.split)
    runs = []
    for seed in args.seeds:
        for sample in args.samples:
            runs.append(measure(data, args.bits, sample or None, seed))
            print(json.dumps(runs[-1]), flush=True)
    args.out.write_text(markdown(runs, args, data.X_db.shape[0], started))
    args.out.with_suffix(".json").write_text(json.dumps(runs, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
