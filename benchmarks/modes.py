"""Query modes (issue 17) on 20 Newsgroups and the demo index: document-query P@10 and P@100 by
mode, warm query latency by mode, the cold ``semhash query`` time and what the query path
imports; the fusion sweep that chose hybrid's score; writes benchmarks/MODES.md and modes.json.

**20NG document queries.** The index is the default model trained on the 20NG training set
(``semhash index 20news-bydate/train``). Each query is the text of a test-set document as
``semhash index`` reads it (the file, headers and quotes kept); the relevant documents are the
training documents of its newsgroup (the first folder of a hit's id); P@k counts the relevant
among the first k hits (a missing hit counts as not relevant). The test set is cut in two halves
by ``semhash.eval.data.split_queries`` (seed 0): ``validation`` (where hybrid's fusion was
chosen) and ``test`` (reported).

**Latency**: per mode, one query at a time on one thread, warm (every query run once before the
timing; the modes take turns on each query): p50 and p95 over a sample of 20NG document
queries, over the 20NG test documents' subject lines (short queries), and over the demo index's
judged how-to queries (``benchmarks/precise_queries.jsonl``). **Cold CLI**: ``semhash query TEXT --index DEMO --mode M``
in a fresh process (page cache and byte-code caches warm; the modes take turns), median of
``--cli-runs``.

**Fusion sweep** (``--sweep``): hybrid's candidates (the semantic shortlist and the best
documents by BM25) ranked by each candidate score, on the validation queries of both sets: the
product's ``cosine + gamma x lexical^power + alpha x query-weighted Hamming similarity`` for
several weights (``gamma = 0``: cosine and code alone), a lexical-first score (BM25 over the best
candidate's + alpha x the similarity) and reciprocal rank fusion (k = 60) of the semantic and
lexical modes' rankings.

    python -m benchmarks.modes --ng20 indexes/ng20 --demo indexes/demo           # minutes
    python -m benchmarks.modes --ng20 indexes/ng20 --demo indexes/demo --sweep   # + the fusion sweep
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import HERE, REPO, argument_parser, command_line, machine, now
from benchmarks.precise import QUERIES, git_commit, load_queries, summarize

NG20 = REPO.parent / "shared" / "datasets" / "20news-bydate"
MODES = ("semantic", "hybrid", "lexical")
KS = (10, 100)
RRF_K = 60


# --------------------------------------------------------------------------- 20NG document queries


def ng20_queries(root: Path) -> dict[str, list[tuple[str, str, str]]]:
    """``{"validation": [...], "test": [...]}``: each test-set document as ``(text, label, title)``."""
    from semhash.corpus import read_corpus
    from semhash.eval.data import split_queries

    docs = read_corpus(root / "test").documents
    val, test = split_queries(len(docs), seed=0)
    pick = lambda at: [(docs[i].text, docs[i].id.split("/")[0], docs[i].title) for i in sorted(at)]  # noqa: E731
    return {"validation": pick(val), "test": pick(test)}


def precision(results: Sequence[Any], labels: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float]:
    """Mean P@k of each result list (hits, or an error: no hit) against its query's label."""
    out = {}
    for k in ks:
        ps = [0.0 if isinstance(hits, Exception) else sum(h.id.split("/")[0] == label for h in hits[:k]) / k
              for hits, label in zip(results, labels)]
        out[f"p@{k}"] = float(np.mean(ps))
    out["unanswered"] = sum(isinstance(r, Exception) for r in results)
    return out


def doc_query_precision(index: Any, queries: Sequence[tuple[str, str, str]], mode: str) -> dict[str, float]:
    """P@10 and P@100 of the document queries in ``mode``."""
    from semhash.search import search_each

    results = search_each(index, [q[0] for q in queries], k=max(KS), mode=mode, threads=1)
    return precision(results, [q[1] for q in queries])


# --------------------------------------------------------------------------- latency


def percentiles(times: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(times) * 1e3
    return {"p50_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "n": len(ms)}


def warm_latency(index: Any, texts: Sequence[str], k: int = 10) -> dict[str, dict]:
    """p50/p95 of one query at a time on one thread, per mode, after one warm-up pass; the modes
    take turns on each query, so a change in the machine's load reaches all of them alike."""
    texts = [t for t in texts if answerable(index, t)]
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for t in texts:
        for mode in MODES:
            index.search(t, k=k, mode=mode)
    for t in texts:
        for mode in MODES:
            started = time.perf_counter()
            index.search(t, k=k, mode=mode)
            times[mode].append(time.perf_counter() - started)
    out = {mode: percentiles(times[mode]) for mode in MODES}
    for mode in MODES:
        out[mode]["vs_semantic_p50"] = out[mode]["p50_ms"] / out["semantic"]["p50_ms"]
    return out


def answerable(index: Any, text: str) -> bool:
    """Whether ``text`` has a word of ``index``'s vocabulary (semhash refuses a query without one)."""
    from semhash.errors import QueryError
    from semhash.query import terms_of

    try:
        terms_of(index.vectorizer, text)
    except QueryError:
        return False
    return True


def cold_cli(index_path: Path, text: str, runs: int) -> dict[str, Any]:
    """Median seconds of ``semhash query TEXT --index PATH --mode M`` in a fresh process, per mode
    (the modes take turns), and of ``python -c pass``. Byte-code caching is on for these processes
    (as for an installed package), whatever ``PYTHONDONTWRITEBYTECODE`` says here."""
    exe = str(Path(sys.executable).with_name("semhash"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {mode: [exe, "query", text, "--index", str(index_path), "--mode", mode, "-k", "5"] for mode in MODES}
    commands["python_startup"] = [sys.executable, "-c", "pass"]
    for cmd in commands.values():
        subprocess.run(cmd, capture_output=True, check=True, env=env)  # the page cache and byte-code caches warm
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            used, started = _children_cpu(), time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(_children_cpu() - used)
    return {"text": text, **{name: statistics.median(ts) for name, ts in times.items()},
            "cpu": {name: statistics.median(ts) for name, ts in cpu.items()}}


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (less sensitive than wall time
    to other jobs on the machine)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def query_path_imports(index_path: Path) -> list[str]:
    """The heavy libraries a process that opens the index and queries it in every mode imports."""
    code = ("import sys\nfrom semhash.index import open_index\n"
            f"idx = open_index({str(index_path)!r}, mmap=True)\n"
            f"for mode in {MODES!r}:\n    idx.search('read a csv file', k=10, mode=mode)\n"
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'sklearn', 'tensorflow', 'faiss', 'keras'})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


# --------------------------------------------------------------------------- the fusion sweep


@contextmanager
def hybrid_params(alpha: float, gamma: float, power: int):
    """The product's hybrid score with other weights (``semhash.pipeline.HYBRID_*``)."""
    import semhash.pipeline as pipeline

    saved = pipeline.HYBRID_ALPHA, pipeline.HYBRID_GAMMA, pipeline.HYBRID_POWER
    pipeline.HYBRID_ALPHA, pipeline.HYBRID_GAMMA, pipeline.HYBRID_POWER = alpha, gamma, power
    try:
        yield
    finally:
        pipeline.HYBRID_ALPHA, pipeline.HYBRID_GAMMA, pipeline.HYBRID_POWER = saved


def rank_lexical_first(alpha: float) -> Callable:
    """Hybrid's candidates ranked by BM25 over the best candidate's + ``alpha`` x query-weighted
    Hamming similarity (a lexical-first fusion)."""
    import semhash.pipeline as p
    from semhash.ranking import fixed_point_weights, weighted_distances

    def rank(source: Any, query: Any, opts: Any) -> Any:
        want = p._want(query, opts)
        ids, dist = p.ball_and_fill(source, query, opts, max(want, p.MIN_SHORTLIST))
        ids, _, _ = p.select_candidates(ids, dist, max(p.MAX_SHORTLIST, want), False, query.code, query.bit_weights,
                                        source.codes_of)
        lex_ids, lex_scores, ball_scores = source.lexical(query.terms, max(want, p.LEXICAL_CANDIDATES), ids)
        cand, at = np.unique(np.concatenate([ids, lex_ids]).astype(np.int64), return_index=True)
        lexical = np.concatenate([ball_scores, lex_scores])[at] / (lex_scores[0] if len(lex_scores) else 1.0)
        codes = source.codes_of(cand)
        wdist = weighted_distances(codes, query.code, query.bit_weights)
        scores = lexical + alpha * (1.0 - wdist / float(np.sum(fixed_point_weights(query.bit_weights))))
        dist = p.hamming_distances(query.code, codes)
        order = np.lexsort((cand, dist, -scores))[:want]
        return p._leave_out(cand[order], dist[order], scores[order], query, opts.k)

    return rank


@contextmanager
def hybrid_ranked_by(rank: Callable):
    import semhash.pipeline as pipeline

    saved = pipeline.MODES["hybrid"]
    pipeline.MODES["hybrid"] = rank
    try:
        yield
    finally:
        pipeline.MODES["hybrid"] = saved


def rrf(rankings: Sequence[Sequence[str]], depth: int) -> list[str]:
    """Reciprocal rank fusion (k = RRF_K) of ranked id lists; ties by first appearance."""
    score: dict[str, float] = {}
    for ranked in rankings:
        for r, doc in enumerate(ranked, 1):
            score[doc] = score.get(doc, 0.0) + 1.0 / (RRF_K + r)
    return sorted(score, key=lambda d: -score[d])[:depth]


# (alpha, gamma, power) of the product's score tried; the first is the product's
SWEEP_PARAMS = ((1.0, 16.0, 4), (0.5, 16.0, 4), (2.0, 16.0, 4), (1.0, 0.0, 4), (1.0, 8.0, 3), (1.0, 16.0, 3),
                (1.0, 64.0, 6))


def fusion_rankings(index: Any, texts: Sequence[str], depth: int) -> dict[str, list[list[str]]]:
    """Ranked ids of every fusion of the sweep, for ``texts`` (a query that cannot be searched: none)."""
    from semhash.search import search_each

    def ranked(mode: str) -> list[list[str]]:
        return [[] if isinstance(h, Exception) else [x.id for x in h]
                for h in search_each(index, list(texts), k=depth, mode=mode, threads=1)]

    out = {}
    for alpha, gamma, power in SWEEP_PARAMS:
        with hybrid_params(alpha, gamma, power):
            out[f"cosine + {gamma:g} x lexical^{power} + {alpha:g} x Hamming similarity"] = ranked("hybrid")
    for alpha in (0.1, 0.5):
        with hybrid_ranked_by(rank_lexical_first(alpha)):
            out[f"BM25 / best candidate's + {alpha:g} x Hamming similarity"] = ranked("hybrid")
    sem, lex = ranked("semantic"), ranked("lexical")
    out["semantic mode (for reference)"], out["lexical mode (for reference)"] = sem, lex
    out[f"RRF (k={RRF_K}) of the semantic and lexical modes"] = [rrf([a, b], depth) for a, b in zip(sem, lex)]
    return out


def sweep(demo: Any, ng20: Any, ng20_val: Sequence[tuple[str, str, str]]) -> list[dict]:
    """Each fusion's precise val metrics and 20NG validation P@10/P@100."""
    precise_val = [q for q in load_queries(QUERIES) if q["split"] == "val"]
    demo_ranked = fusion_rankings(demo, [q["query"] for q in precise_val], 100)
    ng_ranked = fusion_rankings(ng20, [q[0] for q in ng20_val], 100) if ng20 is not None else {}
    rows = []
    labels = [q[1] for q in ng20_val]
    for name, ranked in demo_ranked.items():
        row = {"fusion": name, **{k: v for k, v in summarize(precise_val, ranked)["val"].items() if k != "n"}}
        if name in ng_ranked:
            for k in KS:
                row[f"p@{k}"] = float(np.mean([sum(d.split("/")[0] == lab for d in r[:k]) / k
                                               for r, lab in zip(ng_ranked[name], labels)]))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- the report


def markdown(res: dict) -> str:
    lines = ["# Query modes: 20NG document queries, latency, fusion", "",
             "Written by `benchmarks/modes.py` (see its docstring for the protocols). Issue 17: the lexical "
             "and hybrid modes beside the semantic one; the how-to queries are in [PRECISE.md](PRECISE.md).", ""]
    if "ng20" in res:
        ng = res["ng20"]
        lines += [f"## 20NG document queries ({ng['n_docs']} training documents indexed, {ng['n_bits']} bits)", "",
                  "| mode | half | queries | P@10 | P@100 |", "|---|---|---:|---:|---:|"]
        for half in ("validation", "test"):
            for mode in MODES:
                m = ng["precision"][half][mode]
                lines.append(f"| {mode} | {half} | {ng['n_queries'][half]} | {m['p@10']:.4f} | {m['p@100']:.4f} |")
        lines.append("")
    lines += ["## Warm query latency (one thread, one query at a time)", "",
              "| index | queries | mode | p50 ms | p95 ms | p50 / semantic |", "|---|---|---|---:|---:|---:|"]
    for name, sets in res["latency"].items():
        for qset, by_mode in sets.items():
            for mode in MODES:
                m = by_mode[mode]
                lines.append(f"| {name} | {qset} (n={m['n']}) | {mode} | {m['p50_ms']:.3f} | {m['p95_ms']:.3f} | "
                             f"{m['vs_semantic_p50']:.2f} |")
    cold = res["cold_cli"]
    lines += ["", f"Cold `semhash query {cold['text']!r} --index DEMO --mode M` (median of {res['cli_runs']} runs, "
              f"page cache warm; `python -c pass` alone {cold['python_startup']:.3f} s): "
              + ", ".join(f"{m} {cold[m]:.3f} s" for m in MODES) + "; CPU time (user + system) "
              + ", ".join(f"{m} {cold['cpu'][m]:.3f} s" for m in MODES)
              + f" (Python alone {cold['cpu']['python_startup']:.3f} s). Load average at the start of the run: "
              f"{res['loadavg']:.1f} on {os.cpu_count()} CPUs.", "",
              f"Heavy modules imported by a process that opens the demo index and queries it in every mode: "
              f"{', '.join(res['imports']) or 'none'} (TensorFlow, Keras, scikit-learn, SciPy, FAISS checked).", ""]
    if res.get("sweep"):
        lines += ["## Fusion sweep (validation queries only)", "",
                  "Hybrid's candidates (semantic shortlist ∪ the 100 best by BM25) ranked by each score (the first "
                  "row is the product's); the how-to "
                  "metrics on the 46 `val` queries of `precise_queries.jsonl`, P@10/P@100 on the 20NG validation "
                  "half.", "",
                  "| fusion | Success@1 | Success@5 | MRR@10 | nDCG@10 | 20NG P@10 | 20NG P@100 |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in res["sweep"]:
            ng = [f"{r[f'p@{k}']:.4f}" if f"p@{k}" in r else "—" for k in KS]
            lines.append(f"| {r['fusion']} | {r['success@1']:.3f} | {r['success@5']:.3f} | {r['mrr@10']:.3f} | "
                         f"{r['ndcg@10']:.3f} | {ng[0]} | {ng[1]} |")
        lines.append("")
    lines += [f"Command: `{res['command']}`; commit {res['commit']}; wall time {res['wall_seconds']:.0f} s; "
              f"{res['date']}; {res['machine']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argument_parser("modes", __doc__)
    ap.add_argument("--ng20", type=Path, default=None, help="an index of the 20NG training set (read only)")
    ap.add_argument("--root", type=Path, default=NG20, help="the 20news-bydate folder (its test/ half queries)")
    ap.add_argument("--demo", type=Path, required=True, help="the demo index (read only)")
    ap.add_argument("--latency-queries", type=int, default=500, help="20NG document queries timed per mode")
    ap.add_argument("--cli-runs", type=int, default=15)
    ap.add_argument("--sweep", action="store_true", help="also run the fusion sweep on the validation queries")
    ap.add_argument("--out", type=Path, default=HERE / "MODES.md")
    ap.add_argument("--json", type=Path, default=HERE / "modes.json")
    args = ap.parse_args(argv)
    from semhash.index import open_index

    started = time.perf_counter()
    res: dict[str, Any] = {"command": command_line("modes", argv), "date": now(), "machine": machine(),
                           "commit": git_commit(), "cli_runs": args.cli_runs, "loadavg": os.getloadavg()[0]}
    res["cold_cli"] = cold_cli(args.demo, "read a csv file", args.cli_runs)  # first: no thread pools started yet
    res["imports"] = query_path_imports(args.demo)
    demo = open_index(args.demo, mmap=True)
    precise_texts = [q["query"] for q in load_queries(QUERIES)]
    res["latency"] = {"demo": {"how-to queries": warm_latency(demo, precise_texts)}}
    ng20, halves = None, {}
    if args.ng20 is not None:
        ng20 = open_index(args.ng20, mmap=True)
        halves = ng20_queries(args.root)
        res["ng20"] = {"n_docs": len(ng20.table), "n_bits": ng20.n_bits,
                       "n_queries": {h: len(q) for h, q in halves.items()},
                       "precision": {h: {m: doc_query_precision(ng20, q, m) for m in MODES} for h, q in halves.items()}}
        sample = np.random.default_rng(0).permutation(len(halves["test"]))[: args.latency_queries]
        res["latency"]["20NG"] = {
            "document queries": warm_latency(ng20, [halves["test"][i][0] for i in sample]),
            "subject lines": warm_latency(ng20, [halves["test"][i][2] for i in sample]),
        }
    if args.sweep:
        res["sweep"] = sweep(demo, ng20, halves.get("validation", []))
    res["wall_seconds"] = time.perf_counter() - started
    args.json.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    args.out.write_text(markdown(res), encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
