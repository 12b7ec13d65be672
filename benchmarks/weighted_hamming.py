"""Query-weighted Hamming ranking against plain Hamming on 20NG; writes benchmarks/WEIGHTED.md.

The database keeps only bits, but a query is encoded at search time, so its code-layer logits
are at hand: how far each logit is from its bit's threshold says how sure the query is of that
bit. Ranking by the **query-weighted Hamming distance** (the sum of those margins over the bits
where a document differs) orders documents at the same Hamming distance and lets an unsure bit
count less than a sure one (an asymmetric distance, as in Gordo et al. 2014). It costs nothing in
the index. The query path (``semhash.search``, ``semhash.similar`` and the PostgreSQL searcher)
uses it to choose which candidates of a large ball are re-ranked and to order hits without
re-ranking.

This measures P@10 and P@100 of both rankings for the default model on the **validation** half
of the protocol (database = training set), the half where settings are chosen; the reported
protocol (`benchmarks/RESULTS.md`) keeps plain Hamming ranking.

    python -m benchmarks.weighted_hamming       # about 16 minutes on 2 cores (4 trainings)
    python -m benchmarks.weighted_hamming --bits 16 --limit-per-class 20 --epochs 1 --out /tmp/W.md --json /tmp/w.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    HERE,
    add_training_args,
    argument_parser,
    command_line,
    int_list,
    load_20ng,
    machine,
    now,
    train_default,
)
from semhash.codes import binarize, encode_logits, pack_bits
from semhash.eval.data import EvalData
from semhash.eval.metrics import precision_at_k, precision_at_k_scores
from semhash.search import query_bit_weights

KS = (10, 100)


def weighted_scores(db_bits: np.ndarray, q_bits: np.ndarray, q_weights: np.ndarray) -> np.ndarray:
    """``(n_queries, n_db)`` scores, higher = nearer: minus the query-weighted Hamming distance
    (up to a per-query constant, which does not change a query's ranking)."""
    signs_db = (2.0 * db_bits - 1.0).astype(np.float32)
    return (q_weights * (2.0 * q_bits - 1.0)).astype(np.float32) @ signs_db.T


def measure(data: EvalData, n_bits: int, seed: int, epochs: int | None) -> dict:
    """P@10 and P@100 (percent) of both rankings for the default model trained at ``n_bits``."""
    enc, seconds = train_default(data.X_db, n_bits, seed, epochs)
    db_bits = binarize(encode_logits(enc, data.X_db), enc.thresholds)
    q_logits = encode_logits(enc, data.X_query)
    q_bits = binarize(q_logits, enc.thresholds)
    y_db, y_q = data.db_labels, data.query_labels
    plain = precision_at_k(pack_bits(db_bits), y_db, pack_bits(q_bits), y_q, KS, seed)
    weighted = precision_at_k_scores(weighted_scores(db_bits, q_bits, query_bit_weights(q_logits, enc.thresholds)),
                                     y_db, y_q, KS, seed)
    return {"train_seconds": seconds, "plain": {str(k): 100 * plain[k] for k in KS},
            "weighted": {str(k): 100 * weighted[k] for k in KS}}


def markdown(result: dict) -> str:
    bits = result["bits"]
    lines = ["# Query-weighted Hamming ranking (20 Newsgroups, validation half)", "",
             "Written by `benchmarks/weighted_hamming.py`; see its docstring. Database = training set "
             f"({result['n_db']} documents), queries = the validation half ({result['n_queries']}); the default "
             f"model, seed {result['seed']}; percent.", "",
             "| ranking | " + " | ".join(f"{b} bits P@10 | {b} bits P@100" for b in bits) + " |",
             "|---|" + "---:|---:|" * len(bits)]
    for key, label in (("plain", "Hamming distance (ties at random)"), ("weighted", "query-weighted Hamming distance")):
        lines.append(f"| {label} | " + " | ".join(f"{result['runs'][str(b)][key]['10']:.2f} | "
                                                   f"{result['runs'][str(b)][key]['100']:.2f}" for b in bits) + " |")
    lines.append("| gain (points) | " + " | ".join(
        " | ".join(f"{result['runs'][str(b)]['weighted'][k] - result['runs'][str(b)]['plain'][k]:+.2f}" for k in ("10", "100"))
        for b in bits) + " |")
    lines += ["", f"Command: `{result['command']}`; wall time {result['wall_seconds']:.0f} s; {result['date']}; "
              f"{result['machine']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argument_parser("weighted_hamming", __doc__)
    add_training_args(ap)
    ap.add_argument("--out", type=Path, default=HERE / "WEIGHTED.md")
    ap.add_argument("--json", type=Path, default=HERE / "weighted.json")
    args = ap.parse_args(argv)
    bits = int_list(args.bits)
    command = command_line("weighted_hamming", argv)
    started = time.perf_counter()
    data = load_20ng(args.root, "validation", args.limit_per_class)
    runs = {}
    for b in bits:
        runs[str(b)] = measure(data, b, args.seed, args.epochs)
        print(b, "bits", json.dumps(runs[str(b)]), flush=True)
    result = {"command": command.strip(), "seed": args.seed, "bits": bits, "n_db": int(data.X_db.shape[0]),
              "n_queries": int(data.X_query.shape[0]), "runs": runs, "wall_seconds": time.perf_counter() - started,
              "date": now(), "machine": machine()}
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    args.out.write_text(markdown(result), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
