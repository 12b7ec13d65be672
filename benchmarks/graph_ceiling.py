"""How much the unsupervised neighbour graph can tell on 20NG; writes benchmarks/GRAPH.md.

The default model learns its codes from bits of the neighbour-smoothed corpus (graph codes). This
script measures, on the **validation** half of the 20NG protocol (database = training set):

- how often a document's k nearest TF-IDF neighbours share its newsgroup (training documents
  among themselves, and validation queries against the training set);
- P@100 of the graph bits used **directly**, with the queries coded by the same smoothing over
  their neighbours in the training set (the teacher the encoder imitates), for a few smoothing
  settings, and of a spectral embedding of the neighbour graph with ITQ.

    python benchmarks/graph_ceiling.py          # about 6 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semhash.codes import pack_bits  # noqa: E402
from semhash.evaluate import EvalConfig, precision_at_k, prepare_data  # noqa: E402
from semhash.model import (  # noqa: E402
    ModelConfig,
    itq_bits_of,
    nearest_neighbours,
    neighbour_average,
    smooth_over_graph,
)
from semhash.vectorize import l2_normalize  # noqa: E402


def p100(db_bits, q_bits, db_labels, q_labels) -> float:
    packed_db, packed_q = pack_bits(db_bits.astype(np.uint8)), pack_bits(q_bits.astype(np.uint8))
    return 100 * precision_at_k(packed_db, db_labels, packed_q, q_labels, (100,))[100]


def smoothed_bits(N, Nq, nb, qb, k, steps, alpha, n_bits, seed=0):
    """Graph bits as semhash.model.graph_code_targets makes them, plus the queries' (smoothed over
    their neighbours in the training set, projected and rotated the same way)."""
    from sklearn.decomposition import TruncatedSVD

    S, Sq = smooth_over_graph(N, neighbour_average(nb[:, :k], N.shape[0]), steps, alpha,
                              Nq, neighbour_average(qb[:, :k], N.shape[0]))
    svd = TruncatedSVD(n_bits, algorithm="randomized", n_iter=7, random_state=seed).fit(S)
    return itq_bits_of(svd.transform(S), seed, svd.transform(Sq))


def spectral_bits(nb, qb, k, n_bits, seed=0):
    from scipy.sparse.linalg import eigsh

    n = nb.shape[0]
    W = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nb[:, :k].ravel())), shape=(n, n))
    W = W.maximum(W.T)
    d = np.asarray(W.sum(axis=1)).ravel()
    Dm = sp.diags(1 / np.sqrt(d))
    vals, vecs = eigsh(Dm @ W @ Dm, k=n_bits + 1, which="LA")
    E = (Dm @ vecs[:, np.argsort(-vals)])[:, 1:]  # drop the constant eigenvector
    Eq = E[qb[:, :k]].mean(axis=1)  # queries: the mean embedding of their neighbours
    return itq_bits_of(E, seed, Eq)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bits", default="16,32,64")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "GRAPH.md")
    args = ap.parse_args(argv)
    bits = [int(b) for b in args.bits.split(",")]
    started = time.perf_counter()
    data = prepare_data(EvalConfig.preset_20ng(split="validation"))
    yl, ql = data.db_labels, data.query_labels
    N = l2_normalize(sp.csr_matrix(data.X_db, dtype=np.float64))
    Nq = l2_normalize(sp.csr_matrix(data.X_query, dtype=np.float64))
    nb, qb = nearest_neighbours(N, 50), nearest_neighbours(N, 50, queries=Nq)
    lines = ["# What the neighbour graph can tell (20 Newsgroups, validation half)", "",
             "Written by `benchmarks/graph_ceiling.py`; see its docstring. Database = training set "
             f"({N.shape[0]} documents), queries = the validation half ({Nq.shape[0]}).", "",
             "## Neighbours sharing the document's newsgroup", "", "| k | training documents | validation queries |",
             "|---:|---:|---:|"]
    for k in (10, 20, 50):
        lines.append(f"| {k} | {100 * (yl[nb[:, :k]] == yl[:, None]).mean():.1f} % | "
                     f"{100 * (yl[qb[:, :k]] == ql[:, None]).mean():.1f} % |")
    d = ModelConfig()
    settings = [(d.graph_neighbours, d.graph_steps, d.graph_alpha, "the default"), (20, 2, 0.8, ""), (50, 4, 0.9, "")]
    lines += ["", "## P@100 of the graph bits used directly", "",
              "| bits from | " + " | ".join(f"{b} bits" for b in bits) + " |", "|---|" + "---:|" * len(bits)]
    for k, steps, alpha, note in settings:
        cells = [f"{p100(*smoothed_bits(N, Nq, nb, qb, k, steps, alpha, b), yl, ql):.2f}" for b in bits]
        label = f"smoothed TF-IDF, {k} neighbours, {steps} steps, share {alpha:g}" + (f" ({note})" if note else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    cells = [f"{p100(*spectral_bits(nb, qb, 50, b), yl, ql):.2f}" for b in bits]
    lines.append("| spectral embedding of the 50-NN graph + ITQ | " + " | ".join(cells) + " |")
    print(lines[-1], flush=True)
    lines += ["", f"Wall time {time.perf_counter() - started:.0f} s; {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; "
              f"{platform.platform()}, {os.cpu_count()} CPUs.", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
