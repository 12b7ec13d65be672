"""How the graph teacher's cost grows with the corpus; writes benchmarks/TEACHER_SCALE.md.

Before fine-tuning, the default model finds each document's nearest TF-IDF neighbours (exact,
quadratic: :func:`semhash.model.nearest_neighbours`) and turns that graph into target bits
(:func:`semhash.model.spectral_embedding`, then ITQ blocks). 20 Newsgroups has 11k documents,
so this script times both steps on synthetic corpora of the sizes users may bring:

- the neighbour search on sparse TF-IDF-like rows (10k-word vocabulary, about 85 distinct words
  per document, words drawn from 40 planted topics);
- the spectral embedding and the 64 target bits on a 50-neighbour graph with 40 planted topics
  (each neighbour in its document's topic with probability 0.6), up to 200k documents.

    python -m benchmarks.teacher_scale            # about 3 minutes on 2 cores
    python -m benchmarks.teacher_scale --knn-sizes 400 --graph-sizes 1500 --out /tmp/SCALE.md  # toy sizes
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks.common import HERE, argument_parser, int_list, wall_time_line
from semhash.model import nearest_neighbours, spectral_embedding
from semhash.train.config import ModelConfig
from semhash.train.itq import itq_blocks

TOPICS = 40


def synthetic_rows(n: int, rng, vocab: int = 10_000, words: int = 85) -> sp.csr_matrix:
    """``n`` sparse rows: half of each row's words from its topic's 500-word slice, half from anywhere."""
    topic = rng.integers(0, TOPICS, n)
    own = (topic[:, None] * 250 + rng.integers(0, 500, (n, words // 2))) % vocab
    cols = np.concatenate([own, rng.integers(0, vocab, (n, words - words // 2))], axis=1)
    rows = np.repeat(np.arange(n), words)
    X = sp.csr_matrix((rng.random(n * words).astype(np.float32) + 0.1, (rows, cols.ravel())), shape=(n, vocab))
    X.sum_duplicates()
    return X


def planted_graph(n: int, k: int, rng) -> np.ndarray:
    """``(n, k)`` neighbour lists: each neighbour in the document's topic with probability 0.6."""
    topic = rng.integers(0, TOPICS, n)
    nb = rng.integers(0, n, (n, k))
    for t in range(TOPICS):
        members = np.flatnonzero(topic == t)
        nb[members] = rng.choice(members, size=(len(members), k))
    anywhere = rng.random((n, k)) >= 0.6
    nb[anywhere] = rng.integers(0, n, int(anywhere.sum()))
    return nb


def main(argv=None) -> None:
    ap = argument_parser("teacher_scale", __doc__)
    ap.add_argument("--knn-sizes", default="10000,20000,40000")
    ap.add_argument("--graph-sizes", default="10000,50000,200000")
    ap.add_argument("--out", type=Path, default=HERE / "TEACHER_SCALE.md")
    args = ap.parse_args(argv)
    d = ModelConfig()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    lines = ["# Graph teacher cost against corpus size (synthetic corpora)", "",
             "Written by `benchmarks/teacher_scale.py`; see its docstring for the corpora.", "",
             f"## Exact neighbour search ({d.graph_neighbours} neighbours per document)", "",
             "| documents | seconds | seconds / (documents / 10k)² |", "|---:|---:|---:|"]
    for n in int_list(args.knn_sizes):
        X = synthetic_rows(n, rng)
        t = time.perf_counter()
        nearest_neighbours(X, d.graph_neighbours)
        dt = time.perf_counter() - t
        lines.append(f"| {n:,} | {dt:.1f} | {dt / (n / 10_000) ** 2:.1f} |")
        print(lines[-1], flush=True)
    lines += ["", f"## Spectral embedding ({d.graph_dims} directions) and 64 target bits", "",
              "| documents | neighbour entries (documents × k) | eigenvectors s | ITQ bits s | directions kept |",
              "|---:|---:|---:|---:|---:|"]
    for n in int_list(args.graph_sizes):
        nb = planted_graph(n, d.graph_neighbours, rng)
        t = time.perf_counter()
        E = spectral_embedding(nb, d.graph_dims, seed=0)
        t_eig = time.perf_counter() - t
        t = time.perf_counter()
        itq_blocks(E, 64, 0)
        t_itq = time.perf_counter() - t
        lines.append(f"| {n:,} | {n * d.graph_neighbours:,} | {t_eig:.1f} | {t_itq:.1f} | {E.shape[1]} |")
        print(lines[-1], flush=True)
    lines += ["", wall_time_line(started), ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
