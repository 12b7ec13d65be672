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

    python benchmarks/graph_ceiling.py          # about 4 minutes on 2 cores
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
    itq_blocks,
    itq_bits_of,
    nearest_neighbours,
    neighbour_average,
    smooth_over_graph,
    spectral_embedding,
)
from semhash.vectorize import l2_normalize  # noqa: E402


def p100(db_bits, q_bits, db_labels, q_labels) -> float:
    packed_db, packed_q = pack_bits(db_bits.astype(np.uint8)), pack_bits(q_bits.astype(np.uint8))
    return 100 * precision_at_k(packed_db, db_labels, packed_q, q_labels, (100,))[100]


def smoothed_bits(N, Nq, nb, qb, k, steps, alpha, n_bits, seed=0):
    """Graph bits as semhash.model.smoothed_code_targets makes them, plus the queries' (smoothed over
    their neighbours in the training set, projected and rotated the same way)."""
    from sklearn.decomposition import TruncatedSVD

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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bits", default="16,32,64,128")
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
    lines += ["", f"Wall time {time.perf_counter() - started:.0f} s; {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; "
              f"{platform.platform()}, {os.cpu_count()} CPUs.", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
