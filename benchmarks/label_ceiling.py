"""What the newsgroup labels would buy on the 20NG protocol; writes benchmarks/CEILING.md.

issue 7's target (P@100 at least 56 / 63 / 66 / 68 at 16 / 32 / 64 / 128 bits) is set just above
the best published unsupervised numbers. This script measures, on the same split as
``benchmarks/RESULTS.md`` (database = training set, queries = the test half), how far a method
gets when it is **given the labels**, i.e. an upper reference for any unsupervised code:

- **linear SVM**: scikit-learn's ``LinearSVC`` trained on the database's L2-normalised TF-IDF rows
  and their newsgroups; every document is ranked by whether its predicted newsgroup is the
  query's (random order within), which is what a perfect 20-codeword hash of the classifier's
  output would give;
- **semhash's encoder taught the labels**: the default model (same network, pretraining, variant,
  training schedule) whose code layer learns one random codeword per newsgroup
  (``semhash.model.train(..., code_targets=...)``) instead of the neighbour graph's bits, at each
  code length; codes and ranking as in the harness.

Nothing here chooses a setting: the unsupervised default is picked on the validation half
(``benchmarks/ablation.py``). The labels are used only to measure this ceiling.

    python -m benchmarks.label_ceiling          # about 16 minutes on 2 cores (4 trainings)
    python -m benchmarks.label_ceiling --bits 32 --limit-per-class 40 --epochs 2 --out /tmp/C.md --json /tmp/c.json  # quick look
    python -m benchmarks.label_ceiling --rebuild  # rewrite CEILING.md from benchmarks/ceiling.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    HERE,
    TARGET_20NG_P100,
    add_training_args,
    argument_parser,
    command_line,
    int_list,
    load_20ng,
    machine,
    now,
    p100,
    train_default,
)
from semhash.codes import encode_bits
from semhash.eval.metrics import precision_at_k_scores
from semhash.vectorize import l2_normalize


def class_codewords(n_classes: int, n_bits: int, seed: int) -> np.ndarray:
    """``(n_classes, n_bits)`` distinct random 0/1 codewords in which every bit splits the classes."""
    if not 2 <= n_classes <= 2**n_bits:
        raise ValueError(f"{n_classes} classes cannot have distinct {n_bits}-bit codewords that all split them")
    rng = np.random.default_rng(seed)
    while True:
        words = rng.random((n_classes, n_bits)) < 0.5
        constant = words.all(axis=0) | ~words.any(axis=0)
        while constant.any():  # redraw the bits every class agrees on
            words[:, constant] = rng.random((n_classes, int(constant.sum()))) < 0.5
            constant = words.all(axis=0) | ~words.any(axis=0)
        if len({w.tobytes() for w in words}) == n_classes:
            return words.astype(np.uint8)


def svm_p100(X_db, y_db, X_q, y_q, seed: int) -> tuple[float, float]:
    """P@100 (percent) when documents are ranked by sharing the query's predicted newsgroup
    (random order within), and the classifier's accuracy on the queries (percent)."""
    from sklearn.svm import LinearSVC  # scikit-learn only for this reference

    N, Nq = l2_normalize(X_db), l2_normalize(X_q)
    clf = LinearSVC(C=0.5, random_state=seed).fit(N, y_db)
    pred_db, pred_q = clf.predict(N), clf.predict(Nq)
    scores = (pred_q[:, None] == pred_db[None, :]).astype(np.float32)
    return 100 * precision_at_k_scores(scores, y_db, y_q, (100,), seed)[100], 100 * float((pred_q == y_q).mean())


def taught_p100(X_db, y_db, X_q, y_q, n_bits: int, seed: int, epochs: int | None) -> tuple[float, float]:
    """P@100 (percent) of the default model whose code layer is taught newsgroup codewords, and
    its training time in seconds."""
    classes, idx = np.unique(y_db, return_inverse=True)
    targets = class_codewords(len(classes), n_bits, seed)[idx]
    encoder, seconds = train_default(X_db, n_bits, seed, epochs, code_targets=targets)
    return p100(encode_bits(encoder, X_db), encode_bits(encoder, X_q), y_db, y_q, seed), seconds


def full_corpus(result: dict) -> bool:
    """Whether a saved result measured the whole protocol (not a ``--limit-per-class`` slice)."""
    return "--limit-per-class" not in result["command"]


def unsupervised_default(split: str, bits: list[int]) -> tuple[dict[int, float], int] | None:
    """The unsupervised default's mean P@100 per length from benchmarks/quality.json and the
    number of seeds behind it, when that file holds a run on this split."""
    path = HERE / "quality.json"
    if not path.is_file():
        return None
    runs = [r for r in json.loads(path.read_text())["results"]
            if r["config"]["split"] == split and "semhash" in r["methods"]]
    if not runs:
        return None
    out = {}
    for b in bits:
        vals = [100 * run["p100"] for r in runs for run in r["methods"]["semhash"]["runs"] if run["n_bits"] == b]
        if vals:
            out[b] = float(np.mean(vals))
    return out, len(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argument_parser("label_ceiling", __doc__)
    add_training_args(ap)
    ap.add_argument("--split", default="test", choices=("validation", "test"))
    ap.add_argument("--out", type=Path, default=HERE / "CEILING.md")
    ap.add_argument("--json", type=Path, default=HERE / "ceiling.json")
    ap.add_argument("--rebuild", action="store_true", help="rewrite --out from --json without training")
    args = ap.parse_args(argv)
    if args.rebuild:
        result = json.loads(args.json.read_text())
        write_markdown(result, args.out)
        print(f"rebuilt {args.out} from {args.json}")
        return 0
    bits = int_list(args.bits)
    command = command_line("label_ceiling", argv)
    started = time.perf_counter()
    data = load_20ng(args.root, args.split, args.limit_per_class)
    X_db, X_q, y_db, y_q = data.X_db, data.X_query, data.db_labels, data.query_labels

    svm, accuracy = svm_p100(X_db, y_db, X_q, y_q, args.seed)
    print(f"linear SVM: P@100 {svm:.2f}, accuracy {accuracy:.1f} %", flush=True)
    taught, seconds = {}, {}
    for b in bits:
        taught[b], seconds[b] = taught_p100(X_db, y_db, X_q, y_q, b, args.seed, args.epochs)
        print(f"encoder taught the labels, {b} bits: P@100 {taught[b]:.2f} ({seconds[b]:.0f} s)", flush=True)
    wall = time.perf_counter() - started
    result = {"command": command.strip(), "split": args.split, "seed": args.seed, "bits": bits,
              "n_db": int(X_db.shape[0]), "n_queries": int(X_q.shape[0]),
              "svm_p100": svm, "svm_accuracy": accuracy,
              "taught_p100": {str(b): v for b, v in taught.items()},
              "taught_seconds": {str(b): v for b, v in seconds.items()},
              "wall_seconds": wall, "date": now(), "machine": machine()}
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out)
    print(f"wall time {wall:.0f} s; wrote {args.out} and {args.json}")
    return 0


def write_markdown(result: dict, out: Path) -> None:
    """CEILING.md of a saved result, beside the unsupervised default when it measured the whole
    protocol."""
    found = unsupervised_default(result["split"], result["bits"]) if full_corpus(result) else None
    out.write_text(ceiling_markdown(result, found), encoding="utf-8")


def table_row(label: str, cells: list[str]) -> str:
    return f"| {label} | " + " | ".join(cells) + " |"


def ceiling_rows(result: dict) -> list[str]:
    """The table head and the two label rows of a saved result (shared with RESULTS.md)."""
    bits = result["bits"]
    return ["| | " + " | ".join(f"{b} bits" for b in bits) + " |", "|---|" + "---:|" * len(bits),
            table_row("linear SVM on the labels, ranked by predicted newsgroup (no hashing)",
                      [f"{result['svm_p100']:.2f}"] * len(bits)),
            table_row("semhash's encoder taught one codeword per newsgroup",
                      [f"{result['taught_p100'][str(b)]:.2f}" for b in bits])]


def target_row(bits: list[int]) -> str:
    """issue 7's target at each code length."""
    return table_row("issue 7 target", [f"≥ {TARGET_20NG_P100[b]:g}" if b in TARGET_20NG_P100 else "—" for b in bits])


def ceiling_markdown(result: dict, unsupervised=None) -> str:
    """CEILING.md from the saved result (and the unsupervised default's means, when known)."""
    bits = result["bits"]
    lines = [f"# What the labels would buy (20 Newsgroups, {result['split']} half)", "",
             "Written by `benchmarks/label_ceiling.py`; see its docstring. Database = training set "
             f"({result['n_db']} documents), queries = the {result['split']} half ({result['n_queries']}), "
             "the protocol of `benchmarks/RESULTS.md`. Both rows below **use the newsgroup labels**; "
             "they are references for what any unsupervised code could reach, not methods.", "",
             "## P@100 (percent)", "", *ceiling_rows(result)]
    if unsupervised:
        means, n_seeds = unsupervised
        lines.append(table_row(f"semhash default, unsupervised (mean of {n_seeds} seeds, quality.json)",
                               [f"{means[b]:.2f}" if b in means else "—" for b in bits]))
    lines += [target_row(bits), "",
              f"The SVM classifies {result['svm_accuracy']:.1f} % of the queries into their newsgroup. "
              "Training time of the taught encoder (s): "
              + ", ".join(f"{b} bits {result['taught_seconds'][str(b)]:.0f}" for b in bits) + ".", "",
              f"Command: `{result['command']}`; seed {result['seed']}; wall time {result['wall_seconds']:.0f} s; "
              f"{result['date']}; {result['machine']}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
