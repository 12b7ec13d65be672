"""Issue 17's targets and what limits them, for benchmarks/PRECISE.md (``benchmarks/precise.py``
writes the page; the 20NG, latency and cold-CLI numbers come from ``benchmarks/modes.json``,
written by ``benchmarks/modes.py`` on the same machine).

- :func:`demo_top3`: the first three hits of the queries the README and ``semhash demo`` show, in
  each mode, and whether an answer is among them (:data:`DEMO_ANSWERS`, judged by reading the
  corpus files, as the query set was).
- :func:`word_overlap`: for each judged query, how many of its words the index can search (not a
  stop word, in the vocabulary) and how many of those its best answer holds: what a lexical
  candidate source can and cannot find.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.common import HERE

MODES_JSON = HERE / "modes.json"
# stop words that carry no meaning a how-to query could lose (the others are listed by name)
COMMON_FUNCTION_WORDS = frozenset({"a", "an", "the", "of", "to", "in", "on", "for", "from", "by", "with", "and", "or",
                                   "as", "at", "is", "are", "be", "it", "its", "their", "this", "that", "into"})
HYBRID, BM25S = "semhash --mode hybrid", "bm25s"
# the README's demo query and `semhash demo`'s (semhash.cli.building.DEMO_QUERIES), with the
# documents that answer them (grade 2 or 1, as in precise_queries.jsonl)
DEMO_ANSWERS = {
    "read a zip archive": ["api/zipfile.ZipFile.txt", "modules/zipfile.txt", "api/zipfile.ZipFile.open.txt",
                           "api/zipfile.ZipFile.extractall.txt"],
    "compress a file": ["api/gzip.open.txt", "api/bz2.open.txt", "api/lzma.open.txt", "modules/gzip.txt",
                        "modules/bz2.txt", "modules/lzma.txt", "api/gzip.compress.txt", "api/bz2.compress.txt",
                        "api/lzma.compress.txt"],
    "parse command line arguments": ["api/argparse.ArgumentParser.txt", "modules/argparse.txt"],
    "send an email": ["api/smtplib.SMTP.send_message.txt", "api/smtplib.SMTP.sendmail.txt", "modules/smtplib.txt"],
    "read a csv file": ["api/csv.reader.txt", "modules/csv.txt"],
}


def demo_top3(index: Any, modes: Sequence[str] = ("hybrid", "semantic", "lexical")) -> list[dict]:
    """For each demo query and mode: its first three ids and whether an answer is among them (an
    index of another corpus may not know the query's words: no hits)."""
    from semhash.errors import QueryError

    out = []
    for query, answers in DEMO_ANSWERS.items():
        for mode in modes:
            try:
                top = [h.id for h in index.search(query, k=3, mode=mode)]
            except QueryError:
                top = []
            out.append({"query": query, "mode": mode, "top3": top, "answered": any(t in answers for t in top)})
    return out


def word_overlap(queries: Sequence[Mapping], texts: Mapping[str, str], vectorizer: Any) -> list[dict]:
    """Per judged query: its words, the searchable ones (in the vocabulary), and how many of
    those the best-covered grade-2 answer holds."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # the list the vocabulary was fitted with

    from semhash.vectorize import tokenize

    out = []
    for q in queries:
        words = list(dict.fromkeys(tokenize(q["query"])))
        known = [w for w in words if w in vectorizer.vocabulary_]
        held = max(len(set(known) & set(tokenize(texts[d]))) for d, g in q["grade"].items() if g == 2)
        out.append({"query": q["query"], "split": q["split"], "words": len(words), "searchable": len(known),
                    "held": held, "stop": [w for w in words if w not in known and w in ENGLISH_STOP_WORDS],
                    "unknown": [w for w in words if w not in known and w not in ENGLISH_STOP_WORDS]})
    return out


def overlap_lines(rows: Sequence[Mapping], split: str) -> list[str]:
    """A markdown table: how many queries of ``split`` have answers holding all, some or none of
    their searchable words."""
    rows = [r for r in rows if split == "all" or r["split"] == split]
    n = len(rows)
    counts = {
        "every searchable word of the query": sum(r["held"] == r["searchable"] > 0 for r in rows),
        "some but not all": sum(0 < r["held"] < r["searchable"] for r in rows),
        "none of them": sum(r["held"] == 0 for r in rows),
    }
    total = sum(r["words"] for r in rows)
    stop = [w for r in rows for w in r["stop"]]
    unknown = [w for r in rows for w in r["unknown"]]
    content_stop = sorted({w for w in stop if w not in COMMON_FUNCTION_WORDS})
    lines = [f"| the best answer (grade 2) holds ... | queries ({split}, {n}) |", "|---|---:|"]
    lines += [f"| {k} | {v} ({v / n:.0%}) |" for k, v in counts.items()]
    lines += ["", f"Of the {total} words of these queries, {len(stop)} are stop words of scikit-learn's English list "
              f"(which the vocabulary drops; besides a, the, of, ...: {', '.join(content_stop) or 'none'}) and "
              f"{len(unknown)} are not in the vocabulary (seen in fewer than 2 documents, or nowhere: "
              f"{', '.join(sorted(set(unknown))) or 'none'})."]
    return lines


def load_modes(path: Path = MODES_JSON) -> dict | None:
    """``benchmarks/modes.json`` when it exists."""
    return json.loads(path.read_text()) if path.is_file() else None


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets_lines(summary: Mapping, modes: Mapping | None, demo: Sequence[Mapping]) -> list[str]:
    """The targets table of issue 17 with the measured numbers (test split; 20NG test half)."""
    if HYBRID not in summary or BM25S not in summary:
        return []
    h, b = summary[HYBRID]["test"], summary[BM25S]["test"]
    lines = ["| target (issue 17) | measured | |", "|---|---|---|",
             f"| hybrid Success@5 ≥ 0.80 (test) | {h['success@5']:.3f} | {_met(h['success@5'] >= 0.80)} |",
             f"| hybrid Success@5 ≥ bm25s + 0.15 = {b['success@5'] + 0.15:.3f} | {h['success@5']:.3f} "
             f"({h['success@5'] - b['success@5']:+.3f} vs bm25s) | {_met(h['success@5'] >= b['success@5'] + 0.15)} |",
             f"| hybrid MRR@10 ≥ bm25s + 0.15 = {b['mrr@10'] + 0.15:.3f} | {h['mrr@10']:.3f} "
             f"({h['mrr@10'] - b['mrr@10']:+.3f} vs bm25s) | {_met(h['mrr@10'] >= b['mrr@10'] + 0.15)} |"]
    if modes is not None and "ng20" in modes:
        p = modes["ng20"]["precision"]["test"]
        ok = all(p["hybrid"][k] >= p["semantic"][k] for k in ("p@10", "p@100"))
        lines.append(f"| 20NG document queries: hybrid P@10, P@100 ≥ semantic's (test half) | "
                     f"{p['hybrid']['p@10']:.4f}, {p['hybrid']['p@100']:.4f} vs {p['semantic']['p@10']:.4f}, "
                     f"{p['semantic']['p@100']:.4f} | {_met(ok)} |")
    if modes is not None and "20NG" in modes.get("latency", {}):
        lat = modes["latency"]["20NG"]
        cells = ", ".join(f"{name}: {v['hybrid']['p50_ms']:.2f} vs {v['semantic']['p50_ms']:.2f} ms "
                          f"({v['hybrid']['vs_semantic_p50']:.2f}×)" for name, v in lat.items())
        ok = all(v["hybrid"]["vs_semantic_p50"] <= 1.5 for v in lat.values())
        lines.append(f"| hybrid query p50 ≤ 1.5 × semantic's on 20NG | {cells} | {_met(ok)} |")
        lines.append("| the same at 1M documents | not measured (no million-document index here) | — |")
    if modes is not None:
        cold = modes["cold_cli"]
        cpu = cold.get("cpu", {})
        cpu_cell = (f"; CPU time hybrid {cpu['hybrid']:.3f} s, semantic {cpu['semantic']:.3f} s" if cpu else "")
        lines.append(f"| cold `semhash query` ≤ 0.3 s (demo index) | wall: hybrid {cold['hybrid']:.3f} s, semantic "
                     f"{cold['semantic']:.3f} s, lexical {cold['lexical']:.3f} s (Python alone "
                     f"{cold['python_startup']:.3f} s){cpu_cell}; load average {modes.get('loadavg', float('nan')):.1f} "
                     f"| {_met(cold['hybrid'] <= 0.3)} |")
        lines.append(f"| the query path imports no TensorFlow/scikit-learn/SciPy | imported: "
                     f"{', '.join(modes['imports']) or 'none'} | {_met(not modes['imports'])} |")
    shown = [d for d in demo if d["mode"] == "hybrid"]
    if shown:
        hits = sum(d["answered"] for d in shown)
        lines.append(f"| the README's demo queries show the answer in the top 3 (hybrid) | {hits} of {len(shown)} | "
                     f"{_met(hits == len(shown))} |")
    return lines


def demo_lines(demo: Sequence[Mapping]) -> list[str]:
    """A markdown table of the demo queries' first three hits per mode."""
    lines = ["| query | mode | first three hits | an answer among them |", "|---|---|---|---|"]
    for d in demo:
        top = ", ".join(t.removesuffix(".txt") for t in d["top3"])
        lines.append(f"| {d['query']} | {d['mode']} | {top} | {'yes' if d['answered'] else 'no'} |")
    return lines




# --------------------------------------------------------------------------- what was tried on val

LIGHT_SUFFIXES = ("ies", "ing", "ers", "er", "ed", "es", "s")


def light_stem(word: str) -> str:
    """A light suffix stripper (what the stemming row tries): ``dependencies`` -> ``dependency``."""
    for suffix in LIGHT_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def bm25_ranked(counts: Any, titles: Any, queries: Sequence[str], columns: Any, df: Any, n_docs: int,
                k1: float = 1.2, b: float = 0.75, title_weight: float = 0.0) -> list[list[int]]:
    """Rows by BM25 (ties by row) for each query's columns (``columns(text)``), from a counts
    matrix; ``title_weight`` adds that many counts for each query word in a document's title."""
    import numpy as np

    from semhash.lexical import bm25_idf

    csc, tcsc = counts.tocsc(), titles.tocsc()
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    avg = lengths[lengths > 0].mean()
    idf = bm25_idf(df, n_docs)
    out = []
    for text in queries:
        score = np.zeros(counts.shape[0])
        for c in columns(text):
            tf = csc[:, c].toarray().ravel() + title_weight * (tcsc[:, c].toarray().ravel() > 0)
            score += idf[c] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avg))
        order = np.lexsort((np.arange(len(score)), -score))[:100]
        out.append([int(r) for r in order if score[r] > 0])
    return out


def lexical_variants(queries: Sequence[Mapping], documents: Sequence[Any], vectorizer: Any,
                     summarize: Any) -> list[dict]:
    """BM25 of the ``val`` queries over variants of the vocabulary (refitted on the corpus: the
    lexical ranking needs no model), with title words counted once more, with a light stemmer
    expanding each query word to the vocabulary's words of the same stem, and with other k1, b
    (``summarize``: :func:`benchmarks.precise.summarize`)."""
    from semhash.vectorize import Vectorizer, tokenize

    val = [q for q in queries if q["split"] == "val"]
    texts, ids = [d.text for d in documents], [d.id for d in documents]
    rows = []

    def measure(name: str, vec: Any, **kw: Any) -> None:
        stems: dict[str, list[int]] = {}
        for term, col in vec.vocabulary_.items():
            stems.setdefault(light_stem(term), []).append(col)
        stemmed = kw.pop("stem", False)

        def columns(text: str) -> list[int]:
            words = tokenize(text)
            if stemmed:
                return sorted({c for w in words for c in stems.get(light_stem(w), [])})
            return sorted({vec.vocabulary_[w] for w in words if w in vec.vocabulary_})

        ranked = bm25_ranked(vec.counts(texts), vec.counts([d.title for d in documents]), [q["query"] for q in val],
                             columns, vec.df_, vec.n_docs_, **kw)
        s = summarize(val, [[ids[r] for r in rr] for rr in ranked])["val"]
        rows.append({"variant": name, "vocabulary": len(vec.vocabulary_), **{k: s[k] for k in s if k != "n"}})

    base = vectorizer.config
    measure("the index's vocabulary (defaults), k1 1.2, b 0.75", vectorizer)
    for label, cfg in (("stop words kept", {"stop_words": False}), ("min_df 1", {"min_df": 1}),
                       ("min_df 1, up to 30,000 words", {"min_df": 1, "max_features": 30000})):
        measure(label, Vectorizer(replace(base, **cfg)).fit(texts))
    measure("title words counted once more", vectorizer, title_weight=1.0)
    measure("light stemming of the query words", vectorizer, stem=True)
    for k1, b in ((0.9, 0.4), (1.5, 0.75), (2.0, 0.75), (1.2, 0.5), (1.2, 0.9)):
        measure(f"k1 {k1}, b {b}", vectorizer, k1=k1, b=b)
    return rows


def variants_lines(rows: Sequence[Mapping]) -> list[str]:
    lines = ["| BM25 over ... (val, 46 queries) | vocabulary | Success@1 | Success@5 | MRR@10 | nDCG@10 |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['vocabulary']} | {r['success@1']:.3f} | {r['success@5']:.3f} | "
                     f"{r['mrr@10']:.3f} | {r['ndcg@10']:.3f} |")
    return lines



# --------------------------------------------------------------------------- the page's section

LIMITS = """\
The lexical candidates find a document only through the words it shares with the query, and the
32-bit code of a three-word query places it near the right topic, not on the one document that
answers it. So what limits the how-to results is mostly not the ranking:

- **Vocabulary mismatch.** The queries say what a user wants ("make a temp folder", "define named
  constants", "function without a name"); the answers' docstrings say it in their own words
  (`tempfile.mkdtemp`: "a unique temporary directory"; `enum.Enum`; `lambda`). The table below
  counts the test queries whose best answer holds every, some or none of the query's searchable
  words: BM25 cannot lift a document for words it does not hold, and no fusion can rank a
  document that neither source finds.
- **Words the vocabulary never kept**, counted below: scikit-learn's English stop-word list
  drops words a how-to query needs, and `min_df = 2` drops words seen in one document. Refitting
  the vocabulary without them did not help on val (next table), so the vectorizer's defaults stay
  (and the 20NG index was not retrained).
- bm25s meets the same mismatch (its own stop words, every word kept): on this set its
  Success@5 is about 0.5, not the 0.63 of the issue's easier set, and the issue's absolute target
  (0.80) and margins (+0.15) are far out of reach of any lexical + 32-bit semantic fusion tried
  here (the fusion sweep in [MODES.md](MODES.md): the best val Success@5 was 0.478)."""

VARIANTS = """\
BM25 over vocabularies refitted on the corpus (a lexical ranking needs no model), with title words
counted once more, with a light suffix stemmer expanding each query word to the vocabulary words
of its stem, and with other k1 and b. None is a clear gain on the 46 val queries (one query is
0.022), so the product keeps the index's vocabulary, no title weight, no stemming, k1 1.2 and
b 0.75."""


def targets_section(result: Mapping[str, Any]) -> list[str]:
    """The targets of issue 17 with the measured numbers, the demo queries and what limits the
    results (when the run has the hybrid mode and bm25s)."""
    lines = targets_lines(result["summary"], result.get("modes"), result.get("demo", []))
    if not lines:
        return []
    modes = result.get("modes")
    source = (f"20NG, latency and cold-CLI rows: `benchmarks/modes.json` ({modes['command']}, {modes['date']})"
              if modes else "no `benchmarks/modes.json`: run `python -m benchmarks.modes` first for the other rows")
    out = ["## Targets", "", *lines, "", f"How-to rows: the `test` split above; {source}.", ""]
    if result.get("demo"):
        out += ["### The demo queries", "", "The README's query and `semhash demo`'s, first three hits per mode "
                "(answers judged from the corpus files: `benchmarks/precise_targets.py`).", "",
                *demo_lines(result["demo"]), ""]
    if result.get("overlap"):
        out += ["### What limits it", "", LIMITS, "", *overlap_lines(result["overlap"], "test"), ""]
    if result.get("variants"):
        out += ["### What was tried on the val split", "", VARIANTS, "", *variants_lines(result["variants"]), ""]
    return out


__all__ = ["DEMO_ANSWERS", "LIMITS", "VARIANTS", "bm25_ranked", "demo_lines", "demo_top3", "lexical_variants",
           "light_stem", "load_modes", "overlap_lines", "targets_lines", "targets_section", "variants_lines",
           "word_overlap"]
