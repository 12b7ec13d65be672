"""How much the unsupervised neighbour graph can tell on 20NG; writes benchmarks/GRAPH.md.

The default model learns its codes from bits of the TF-IDF neighbour graph (graph codes). This
script measures, on the **validation** half of the 20NG protocol (database = training set):

- how often a document's k nearest TF-IDF neighbours share its newsgroup (training documents
  among themselves, and validation queries against the training set);
- P@100 of the graph bits used **directly** (the teacher the encoder imitates), for each way of
  making them: the TF-IDF smoothed over the graph (``graph_teacher="smoothed"``, the default until
  the spectral teacher), and the graph's spectral embedding with one ITQ block of exactly
  ``n_bits`` directions or with ITQ blocks of ``dims`` directions (``graph_teacher="spectral"``;
  ``dims`` = ``graph_dims`` is the default). The queries are coded through their neighbours in the
  training set: smoothed the same way, or the mean embedding of their neighbours.

This is where the teacher's settings were chosen, on the validation half only.

    python -m benchmarks.graph_ceiling          # about 4 minutes on 2 cores
    python -m benchmarks.graph_ceiling --bits 16 --limit-per-class 20 --out /tmp/GRAPH.md   # quick look
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks.common import HERE, argument_parser, int_list, load_20ng, p100, wall_time_line
from semhash.model import nearest_neighbours, neighbour_average, smooth_over_graph, spectral_embedding
from semhash.train.config import ModelConfig
from semhash.train.itq import itq_bits_of, itq_blocks
from semhash.vectorize import l2_normalize


def smoothed_bits(N, Nq, nb, qb, k, steps, alpha, n_bits, seed=0):
    """Graph bits as semhash.model.smoothed_code_targets makes them, plus the queries' (smoothed over
    their neighbours in the training set, projected and rotated the same way)."""
    from sklearn.decomposition import TruncatedSVD  # scikit-learn only for this teacher

    S, Sq = smooth_over_graph(N, neighbour_average(nb[:, :k], N.shape[0]), steps, alpha,
                              Nq, neighbour_average(qb[:, :k], N.shape[0]))
    svd = TruncatedSVD(n_bits, algorithm="randomized", n_iter=7, random_state=seed).fit(S)
    return itq_bits_of(svd.transform(S), seed, svd.transform(Sq))


def spectral_bits(E, qb, n_bits, seed=0):
    """``n_bits`` bits of the spectral embedding ``E`` in ITQ blocks of all its directions, as
    semhash.model.spectral_code_targets makes them; queries take the mean embedding of their
    neighbours."""
    return itq_blocks(E, n_bits, seed, E[qb].mean(axis=1))


def main(argv=None) -> None:
    ap = argument_parser("graph_ceiling", __doc__)
    ap.add_argument("--bits", default="16,32,64,128")
    ap.add_argument("--limit-per-class", type=int, default=None, help="quick run on a slice")
    ap.add_argument("--root", type=Path, default=None, help="20news-bydate folder")
    ap.add_argument("--out", type=Path, default=HERE / "GRAPH.md")
    args = ap.parse_args(argv)
    bits = int_list(args.bits)
    started = time.perf_counter()
    data = load_20ng(args.root, "validation", args.limit_per_class)
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
    lines += ["", "## P@100 of the graph bits used directly", "",
              f"Graph: each document's {d.graph_neighbours} nearest neighbours, symmetrized.", "",
              "| bits from | " + " | ".join(f"{b} bits" for b in bits) + " |", "|---|" + "---:|" * len(bits)]

    def row(label, make):
        cells = [f"{p100(*make(b), yl, ql):.2f}" for b in bits]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)

    k = d.graph_neighbours
    row(f"smoothed TF-IDF, {d.graph_steps} steps, share {d.graph_alpha:g}, one ITQ block (teacher until now)",
        lambda b: smoothed_bits(N, Nq, nb, qb, k, d.graph_steps, d.graph_alpha, b))
    row("spectral embedding, one ITQ block of n_bits directions",
        lambda b: spectral_bits(spectral_embedding(nb, b, min_eigenvalue=-np.inf), qb, b))
    for dims, floor in ((16, 0.5), (24, 0.5), (32, 0.5), (32, -np.inf), (48, -np.inf)):
        E = spectral_embedding(nb, dims, min_eigenvalue=floor)
        label = (f"spectral embedding, ITQ blocks of {E.shape[1]} directions"
                 + (f" (up to {dims} with eigenvalue ≥ {floor:g})" if floor > -np.inf else " (no eigenvalue floor)")
                 + (" ← the default" if (dims, floor) == (d.graph_dims, 0.5) else ""))
        row(label, lambda b, E=E: spectral_bits(E, qb, b))
    lines += ["", wall_time_line(started), ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
