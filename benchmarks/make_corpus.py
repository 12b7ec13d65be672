"""A reproducible labelled synthetic corpus of N documents, sampled from a topic model of 20 Newsgroups.

Issue 19 needs 100k- and 1M-document corpora whose texts look like real ones and whose labels
make precision measurable at every size. This script fits scikit-learn's
``LatentDirichletAllocation`` once on the cleaned 20NG training posts (headers, signatures and
quotes removed as ``semhash evaluate`` reads them; English stop words out, words in at least 3
posts: about 27k words), splits each newsgroup's posts into k-means sub-groups, keeps what it
learned as plain arrays, and samples each document:

1. a label: one of the 20 newsgroups, exactly balanced within each shard;
2. a topic mixture from a Dirichlet centred on that newsgroup's mean LDA mixture
   (``--concentration``: lower is more varied);
3. a random real post of that newsgroup, which gives the length (its content and stop word
   counts) and the sub-group (``--subgroups`` per newsgroup, each with its own word distribution);
4. each word: a stop word at that post's stop-word rate (from 20NG's stop-word frequencies),
   else a content word: from the sub-group's word distribution with probability
   ``--subgroup-share``, otherwise a topic from the mixture and a word from that topic;
5. sentences (a capitalised first word, a full stop about every 14 words, paragraphs) and a
   title of a few content words drawn the same way, ``Re: `` in front as often as in 20NG.

The knobs set how hard the labels are to retrieve; their defaults make TF-IDF cosine P@100 on
a 20k-document sample close to 20NG's, and sub-groups keep LSI from finding the labels far more
easily than on 20NG (``benchmarks/SYNTHETIC.md``, written by
``python -m benchmarks.synthetic_check``, shows the tuning and the corpus's statistics).

Shards are ``docs-00000.jsonl`` ... of ``{"id", "title", "text", "label"}`` lines, which
``semhash index`` reads as they are (``label`` is ignored there); ``meta.json`` records how the
corpus was made and each shard's SHA-256. Shard k is drawn from child k of
``SeedSequence(seed)``, so shards can be made in parallel (``--jobs``) and the same seed and model
give the same bytes; a shard depends only on the seed, its index and its size, so the first
``--shard-size`` documents of a larger corpus equal a smaller one's. The fitted model is cached
(``--cache``, refitted only when its settings change) and copied into the output folder
(``model.npz``, ``model.json``), which ``--model`` reads back.

    python -m benchmarks.make_corpus --n 100000 --out /tmp/synth-100k
    python -m benchmarks.make_corpus --n 1000000 --out /tmp/synth-1m
    python -m benchmarks.make_corpus --n 300 --out /tmp/toy --shard-size 100 --model /tmp/synth-1m/model.npz --force
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import argument_parser, command_line, machine, now
from semhash.eval.data import (
    REMOVABLE_PARTS,
    LabelledCorpus,
    clean_text,
    default_20ng_root,
    load_labelled_folder,
)

FORMAT = 3  # of model.npz / model.json and meta.json; bump when a field changes meaning
DEFAULT_CONCENTRATION = 2.0  # with DEFAULT_SUBGROUP_SHARE, tuned on 20k-document samples (SYNTHETIC.md)
DEFAULT_SUBGROUP_SHARE = 0.55
DEFAULT_SUBGROUPS = 20
DEFAULT_TOPICS = 50
BATCH_DOCS = 2000  # documents sampled at once: bounds memory (a few hundred thousand tokens)
SENTENCE_WORDS = 14.0  # mean words per sentence
MIN_SENTENCE = 3  # fewest words of a sentence (but a text may end sooner)
PARAGRAPH_SENTENCES = 5.0  # mean sentences per paragraph
SHARD_NAME = "docs-{:05d}.jsonl"
_SUBJECT_RE = re.compile(r"^Subject:[ \t]*(.*)$", re.MULTILINE | re.IGNORECASE)
_REPLY_RE = re.compile(r"^\s*(re\s*:\s*)+", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# the model: what is learned from the real corpus, as plain arrays


@dataclass(frozen=True)
class FitConfig:
    """How the model is fitted: LDA topics and iterations, the vocabulary's ``min_df``, and the
    sub-groups (k-means clusters of each label's posts) that give each label several word
    distributions of its own."""

    topics: int = DEFAULT_TOPICS
    max_iter: int = 20
    min_df: int = 3
    subgroups: int = DEFAULT_SUBGROUPS
    seed: int = 0


@dataclass(frozen=True)
class CorpusModel:
    """Everything sampling needs, fitted once and saved as ``.npz`` arrays plus a ``.json``.

    ``topic_word`` is LDA's ``components_`` (topics x words, unnormalised); ``group_mix`` each
    label's mean normalised topic mixture over its training posts; ``doc_lengths`` the (content
    words, stop words) counts of each non-empty training post, ``doc_group`` its label and
    ``doc_subgroup`` its sub-group; ``subgroup_word`` each sub-group's word distribution (the mean
    of its posts' word frequencies, so no long post dominates) and ``subgroup_label`` its label;
    ``stop_probs`` the stop words' frequencies; ``title_lengths`` the content words of each
    real title; ``reply_rate`` the share of titles that start with ``Re:``.
    """

    words: list[str]
    stop_words: list[str]
    groups: list[str]
    topic_word: np.ndarray
    group_mix: np.ndarray
    subgroup_word: np.ndarray
    subgroup_label: np.ndarray
    doc_lengths: np.ndarray
    doc_group: np.ndarray
    doc_subgroup: np.ndarray
    stop_probs: np.ndarray
    title_lengths: np.ndarray
    reply_rate: float
    info: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write ``path`` (``.npz``) and ``path`` with suffix ``.json``, each through a temporary file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, topic_word=self.topic_word, group_mix=self.group_mix, subgroup_word=self.subgroup_word,
                 subgroup_label=self.subgroup_label, doc_lengths=self.doc_lengths, doc_group=self.doc_group,
                 doc_subgroup=self.doc_subgroup, stop_probs=self.stop_probs, title_lengths=self.title_lengths)
        os.replace(tmp, path)
        meta = {"format": FORMAT, "words": self.words, "stop_words": self.stop_words, "groups": self.groups,
                "reply_rate": self.reply_rate, "info": self.info}
        _write_json(path.with_suffix(".json"), meta)

    @classmethod
    def load(cls, path: Path) -> CorpusModel:
        """The model saved at ``path`` by :meth:`save`."""
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise SystemExit(f"{path}: model format {meta.get('format')}, this script reads {FORMAT}; refit it")
        with np.load(path) as z:
            arrays = {name: z[name] for name in z.files}
        return cls(words=meta["words"], stop_words=meta["stop_words"], groups=meta["groups"],
                   reply_rate=float(meta["reply_rate"]), info=meta["info"], **arrays)

    def summary(self, top: int = 8) -> list[str]:
        """Each topic's ``top`` most probable words, one line per topic."""
        order = np.argsort(-self.topic_word, axis=1, kind="stable")[:, :top]
        return [" ".join(self.words[j] for j in row) for row in order]


def read_20ng_train(root: Path | None = None, limit_per_class: int | None = None) -> tuple[LabelledCorpus, list[str]]:
    """The 20NG training posts cleaned as ``semhash evaluate`` reads them, and their ``Subject:`` lines."""
    root = Path(root) if root is not None else default_20ng_root()
    raw = load_labelled_folder(root / "train", (), "latin-1", limit_per_class)
    titles = []
    for text in raw.texts:
        header = text.partition("\n\n")[0]
        found = _SUBJECT_RE.search(header)
        titles.append(found.group(1).strip() if found else "")
    texts = [clean_text(t, REMOVABLE_PARTS) for t in raw.texts]
    return LabelledCorpus(texts, raw.labels, raw.label_names, raw.paths), titles


def fit_model(corpus: LabelledCorpus, titles: Sequence[str], config: FitConfig, source: str = "") -> CorpusModel:
    """Fit the vocabulary, the LDA and the length, stop-word and title statistics on ``corpus``."""
    import sklearn
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    started = time.perf_counter()
    content = CountVectorizer(stop_words="english", min_df=config.min_df, dtype=np.float64)
    X = content.fit_transform(corpus.texts).tocsr()
    words = [str(w) for w in content.get_feature_names_out()]
    stop_words = sorted(ENGLISH_STOP_WORDS)
    stops = CountVectorizer(vocabulary=stop_words, dtype=np.int64).transform(corpus.texts).tocsr()
    n_content = np.asarray(X.sum(axis=1)).ravel().astype(np.int64)
    n_stop = np.asarray(stops.sum(axis=1)).ravel()
    kept = n_content > 0  # a post with no content word says nothing about lengths (evaluate drops it too)
    lda = LatentDirichletAllocation(n_components=config.topics, learning_method="batch", max_iter=config.max_iter,
                                    random_state=config.seed, n_jobs=1)
    doc_topic = lda.fit_transform(X[kept])
    perplexity = float(lda.perplexity(X[kept]))
    labels = corpus.labels[kept]
    group_mix = np.stack([doc_topic[labels == g].mean(axis=0) for g in range(len(corpus.label_names))])
    group_mix /= group_mix.sum(axis=1, keepdims=True)
    doc_subgroup, subgroup_label = subgroups_of(X[kept], labels, config.subgroups, config.seed)
    freq = X[kept].multiply(1.0 / n_content[kept][:, None]).tocsr()  # each post's word frequencies
    subgroup_word = np.stack([np.asarray(freq[doc_subgroup == c].mean(axis=0)).ravel()
                              for c in range(subgroup_label.size)])
    subgroup_word /= subgroup_word.sum(axis=1, keepdims=True)
    stop_counts = np.asarray(stops.sum(axis=0)).ravel().astype(np.float64)
    title_analyzer = content.build_analyzer()
    vocab = content.vocabulary_
    title_lengths = np.array([sum(w in vocab for w in title_analyzer(_REPLY_RE.sub("", t))) for t in titles],
                             dtype=np.int32)
    reply_rate = float(np.mean([bool(_REPLY_RE.match(t)) for t in titles])) if titles else 0.0
    info = {
        "source": source,
        "fit": asdict(config),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "vectorizer": f"CountVectorizer(stop_words='english', min_df={config.min_df})",
        "lda": f"LatentDirichletAllocation(n_components={config.topics}, learning_method='batch', "
               f"max_iter={config.max_iter}, random_state={config.seed}, n_jobs=1)",
        "train_documents": len(corpus),
        "documents_with_content": int(kept.sum()),
        "vocabulary": len(words),
        "stop_words": len(stop_words),
        "stop_token_share": float(n_stop.sum() / max(1, n_stop.sum() + n_content.sum())),
        "perplexity": perplexity,
        "fit_seconds": time.perf_counter() - started,
    }
    return CorpusModel(
        words=words, stop_words=stop_words, groups=list(corpus.label_names), topic_word=lda.components_,
        group_mix=group_mix, subgroup_word=subgroup_word, subgroup_label=subgroup_label,
        doc_lengths=np.stack([n_content, n_stop], axis=1)[kept].astype(np.int32), doc_group=labels.astype(np.int32),
        doc_subgroup=doc_subgroup, stop_probs=stop_counts / stop_counts.sum(),
        title_lengths=title_lengths, reply_rate=reply_rate, info=info,
    )


def subgroups_of(counts: Any, labels: np.ndarray, per_label: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split each label's posts into ``per_label`` k-means clusters of their TF-IDF rows: each
    post's sub-group and each sub-group's label (sub-groups numbered label by label)."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfTransformer

    tfidf = TfidfTransformer().fit_transform(counts).tocsr()
    doc_subgroup = np.zeros(labels.size, dtype=np.int32)
    subgroup_label: list[int] = []
    for g in np.unique(labels):
        idx = np.flatnonzero(labels == g)
        k = min(per_label, idx.size)
        found = KMeans(k, n_init=3, random_state=seed).fit(tfidf[idx]).labels_ if k > 1 else np.zeros(idx.size)
        used = np.unique(found)  # number the non-empty clusters 0, 1, ...
        doc_subgroup[idx] = len(subgroup_label) + np.searchsorted(used, found)
        subgroup_label += [int(g)] * used.size
    return doc_subgroup, np.asarray(subgroup_label, dtype=np.int32)


def merge_subgroups(model: CorpusModel) -> CorpusModel:
    """The same model with one word distribution per label (the post-weighted mean of its sub-groups')."""
    from dataclasses import replace

    sizes = np.bincount(model.doc_subgroup, minlength=model.subgroup_label.size).astype(np.float64)
    n_groups = len(model.groups)
    merged = np.zeros((n_groups, model.subgroup_word.shape[1]))
    np.add.at(merged, model.subgroup_label, sizes[:, None] * model.subgroup_word)
    merged /= merged.sum(axis=1, keepdims=True)
    return replace(model, subgroup_word=merged, subgroup_label=np.arange(n_groups, dtype=np.int32),
                   doc_subgroup=model.doc_group.copy())


def model_path(cache: Path, config: FitConfig, root: Path) -> Path:
    """Where the model of ``config`` fitted on the 20NG at ``root`` is cached."""
    import sklearn

    key = json.dumps([asdict(config), str(Path(root).resolve()), sklearn.__version__, FORMAT])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(cache) / f"lda-k{config.topics}-seed{config.seed}-{digest}.npz"


def cached_model(cache: Path, config: FitConfig, root: Path | None = None, quiet: bool = False) -> CorpusModel:
    """The model of ``config``: loaded from ``cache`` when fitted before, else fitted on 20NG train and saved."""
    root = Path(root) if root is not None else default_20ng_root()
    path = model_path(cache, config, root)
    if path.is_file() and path.with_suffix(".json").is_file():
        return CorpusModel.load(path)
    if not (root / "train").is_dir():
        raise SystemExit(f"20 Newsgroups not found at {root} (set $SEMHASH_20NG or pass --root)")
    _say(f"fitting LDA ({config.topics} topics) on {root / 'train'} (minutes; cached in {path}) ...", quiet)
    corpus, titles = read_20ng_train(root)
    model = fit_model(corpus, titles, config, source=str(root / "train"))
    model.save(path)
    _say(f"fitted in {model.info['fit_seconds']:.0f} s: {len(model.words):,} words, perplexity "
         f"{model.info['perplexity']:.0f}", quiet)
    return model


# --------------------------------------------------------------------------------------------
# sampling: pure functions of the model, the labels and a Generator


@dataclass(frozen=True)
class SampleConfig:
    """How documents are drawn: a document's topic mixture is Dirichlet(``concentration`` x its
    label's mean mixture); each content word comes from its sub-group's word distribution with
    probability ``subgroup_share``, else from a topic of that mixture."""

    concentration: float = DEFAULT_CONCENTRATION
    subgroup_share: float = DEFAULT_SUBGROUP_SHARE

    def __post_init__(self) -> None:
        if not self.concentration > 0:
            raise ValueError(f"concentration must be positive, got {self.concentration}")
        if not 0 <= self.subgroup_share <= 1:
            raise ValueError(f"subgroup_share must be in [0, 1], got {self.subgroup_share}")


class Sampler:
    """The model's arrays prepared for fast sampling: cumulative distributions and the word table."""

    def __init__(self, model: CorpusModel, config: SampleConfig) -> None:
        self.model = model
        self.config = config
        phi = model.topic_word / model.topic_word.sum(axis=1, keepdims=True)
        self.n_topics, self.n_words = phi.shape
        # the topics, then each sub-group's word distribution: rows K, K+1, ... of one table
        dists = np.concatenate([phi, model.subgroup_word / model.subgroup_word.sum(axis=1, keepdims=True)])
        self.word_cdf = np.cumsum(dists, axis=1)
        self.word_cdf[:, -1] = 1.0
        self.stop_cdf = np.cumsum(model.stop_probs)
        self.stop_cdf[-1] = 1.0
        self.alpha = config.concentration * model.group_mix
        order = np.argsort(model.doc_group, kind="stable")
        self.lengths = model.doc_lengths[order].astype(np.int64)
        self.subgroup = model.doc_subgroup[order].astype(np.int64)
        self.group_start = np.searchsorted(model.doc_group[order], np.arange(len(model.groups)))
        self.group_count = np.bincount(model.doc_group, minlength=len(model.groups))
        if (self.group_count == 0).any():
            raise ValueError(f"labels without a training post: {np.flatnonzero(self.group_count == 0).tolist()}")
        lower = model.words + model.stop_words
        upper = [w[:1].upper() + w[1:] for w in lower]
        # token string = word (lower or capitalised) + what follows it; see SEPARATORS
        self.table = np.array([w + sep for sep in SEPARATORS for case in (lower, upper) for w in case], dtype=object)
        self.n_tokens = len(lower)
        title_lengths = model.title_lengths[model.title_lengths > 0]
        self.title_lengths = title_lengths if title_lengths.size else np.array([3])

    def mixtures(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One topic mixture per document: Dirichlet(concentration x its label's mean mixture)."""
        gam = rng.standard_gamma(self.alpha[labels])
        total = gam.sum(axis=1, keepdims=True)
        flat = total[:, 0] <= 0  # every gamma draw underflowed: fall back to the label's mean
        gam[flat] = self.model.group_mix[labels[flat]]
        return gam / np.where(flat[:, None], 1.0, total)

    def content_words(self, theta: np.ndarray, subgroups: np.ndarray, doc: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
        """A content word for each entry of ``doc`` (a document index into ``theta`` and ``subgroups``):
        from the document's sub-group's words with probability ``subgroup_share``, else a topic
        from its mixture and a word from that topic."""
        cum = np.cumsum(theta, axis=1)
        cum[:, -1] = 1.0
        flat = (np.arange(theta.shape[0])[:, None] + cum).ravel()
        row = np.searchsorted(flat, doc + rng.random(doc.size), side="right") - doc * self.n_topics
        own = rng.random(doc.size) < self.config.subgroup_share
        row[own] = self.n_topics + subgroups[doc[own]]
        return self.words_of_rows(row, rng)

    def words_of_rows(self, row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A word from distribution ``row[i]`` (a row of the word table) for each ``i``: the entries
        are grouped by row, so each search runs in one row's cumulative distribution (in cache)."""
        u = rng.random(row.size)
        order = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[order], np.arange(self.word_cdf.shape[0] + 1))
        out = np.empty(row.size, dtype=np.int64)
        for r in np.flatnonzero(np.diff(bounds)).tolist():
            idx = order[bounds[r]:bounds[r + 1]]
            out[idx] = np.searchsorted(self.word_cdf[r], u[idx], side="right")
        return out

    def batch(self, labels: np.ndarray, rng: np.random.Generator) -> tuple[list[str], list[str]]:
        """The titles and texts of documents with ``labels`` (label indices)."""
        n = labels.size
        theta = self.mixtures(labels, rng)
        pick = self.group_start[labels] + (rng.random(n) * self.group_count[labels]).astype(np.int64)
        subgroups = self.subgroup[pick]  # the random real post of the label gives length and sub-group
        n_content, n_stop = self.lengths[pick, 0], self.lengths[pick, 1]
        length = n_content + n_stop
        doc = np.repeat(np.arange(n), length)
        starts = np.concatenate([[0], np.cumsum(length)[:-1]])
        stop = rng.random(doc.size) < (n_stop / length)[doc]
        all_stop = np.add.reduceat(~stop, starts) == 0
        stop[starts[all_stop]] = False  # its first word is content: no document is stop words only
        tokens = np.empty(doc.size, dtype=np.int64)
        tokens[~stop] = self.content_words(theta, subgroups, doc[~stop], rng)
        tokens[stop] = len(self.model.words) + np.searchsorted(self.stop_cdf, rng.random(int(stop.sum())),
                                                               side="right")
        texts = self._render(tokens, doc, starts, length, rng)
        titles = self._titles(theta, subgroups, rng)
        return titles, texts

    def _render(self, tokens: np.ndarray, doc: np.ndarray, starts: np.ndarray, length: np.ndarray,
                rng: np.random.Generator) -> list[str]:
        """Token ids into sentences (at least ``MIN_SENTENCE`` words, ``SENTENCE_WORDS`` on average,
        laid over the batch's words end to end), a capital after each end, the last word ends the text."""
        m = tokens.size
        sentences = MIN_SENTENCE + rng.geometric(1.0 / (SENTENCE_WORDS - MIN_SENTENCE + 1), m // MIN_SENTENCE + 1) - 1
        ends = np.cumsum(sentences) - 1
        end = np.zeros(m, dtype=bool)
        end[ends[ends < m]] = True
        paragraph = end & (rng.random(m) < 1.0 / PARAGRAPH_SENTENCES)
        last = starts + length - 1
        capital = np.zeros(m, dtype=bool)
        capital[1:] = end[:-1]
        capital[starts] = True
        sep = np.where(paragraph, 2, np.where(end, 1, 0))
        sep[last] = 3
        pieces = self.table[tokens + self.n_tokens * (capital + 2 * sep)].tolist()
        bounds = np.concatenate([starts, [m]]).tolist()
        return ["".join(pieces[a:b]) for a, b in pairwise(bounds)]

    def _titles(self, theta: np.ndarray, subgroups: np.ndarray, rng: np.random.Generator) -> list[str]:
        n = theta.shape[0]
        count = self.title_lengths[rng.integers(0, self.title_lengths.size, n)].astype(np.int64)
        doc = np.repeat(np.arange(n), count)
        words = self.content_words(theta, subgroups, doc, rng)
        first = np.concatenate([[0], np.cumsum(count)[:-1]])
        capital = np.zeros(doc.size, dtype=np.int64)
        capital[first] = 1
        pieces = self.table[words + self.n_tokens * capital].tolist()  # separator 0: "word "
        reply = (rng.random(n) < self.model.reply_rate).tolist()
        bounds = np.concatenate([first, [doc.size]]).tolist()
        return [("Re: " if r else "") + "".join(pieces[a:b])[:-1] for r, a, b in zip(reply, bounds[:-1], bounds[1:])]


SEPARATORS = (" ", ". ", ".\n\n", ".")  # what follows a word: a space, a sentence end, a paragraph, the text's end


def shard_labels(n: int, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels, each of ``n_groups`` used ``n // n_groups`` or one more times, in random order."""
    return rng.permutation(np.arange(n) % n_groups)


def shard_seeds(seed: int, n_shards: int) -> list[np.random.SeedSequence]:
    """The seed of each shard: children of ``SeedSequence(seed)``, so shard k's depends only on k."""
    return np.random.SeedSequence(seed).spawn(n_shards)


def shard_documents(sampler: Sampler, n: int, first_id: int, seed: np.random.SeedSequence,
                    id_width: int) -> Iterator[list[str]]:
    """The JSON lines of one shard of ``n`` documents, ``BATCH_DOCS`` at a time."""
    rng = np.random.default_rng(seed)
    labels = shard_labels(n, len(sampler.model.groups), rng)
    names = sampler.model.groups
    for a in range(0, n, BATCH_DOCS):
        chunk = labels[a:a + BATCH_DOCS]
        titles, texts = sampler.batch(chunk, rng)
        yield [json.dumps({"id": f"doc-{first_id + a + i:0{id_width}d}", "title": title, "text": text,
                           "label": names[g]}, ensure_ascii=False) + "\n"
               for i, (g, title, text) in enumerate(zip(chunk.tolist(), titles, texts))]


@dataclass(frozen=True)
class ShardJob:
    """One shard to write: its index, documents, first document number and seed."""

    index: int
    n: int
    first_id: int
    seed: np.random.SeedSequence
    id_width: int
    out: Path


def write_shard(sampler: Sampler, job: ShardJob, progress: Progress | None = None) -> dict[str, Any]:
    """Write one shard through a temporary file; its name, documents, bytes and SHA-256."""
    path = job.out / SHARD_NAME.format(job.index)
    tmp = path.with_name(path.name + ".tmp")
    digest = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as f:
        for lines in shard_documents(sampler, job.n, job.first_id, job.seed, job.id_width):
            data = "".join(lines).encode("utf-8")
            f.write(data)
            digest.update(data)
            size += len(data)
            if progress is not None:
                progress.add(len(lines))
    os.replace(tmp, path)
    return {"file": path.name, "documents": job.n, "bytes": size, "sha256": digest.hexdigest()}


_WORKER: Sampler | None = None


def _init_worker(model_file: str, config: SampleConfig) -> None:
    global _WORKER
    _WORKER = Sampler(CorpusModel.load(Path(model_file)), config)


def _write_in_worker(job: ShardJob) -> dict[str, Any]:
    assert _WORKER is not None
    return write_shard(_WORKER, job)


class Progress:
    """Documents done out of a total, printed with rate and ETA at most every ``every`` seconds."""

    def __init__(self, total: int, quiet: bool = False, every: float = 5.0) -> None:
        self.total, self.quiet, self.every = total, quiet, every
        self.done = 0
        self.started = self.shown = time.perf_counter()

    def add(self, n: int) -> None:
        self.done += n
        t = time.perf_counter()
        if t - self.shown >= self.every or self.done == self.total:
            self.shown = t
            rate = self.done / max(t - self.started, 1e-9)
            eta = (self.total - self.done) / max(rate, 1e-9)
            _say(f"{self.done:,}/{self.total:,} documents, {rate:,.0f}/s, ETA {eta:.0f} s", self.quiet)


def shard_jobs(n: int, shard_size: int, seed: int, out: Path) -> list[ShardJob]:
    """The shards of an ``n``-document corpus: full ones of ``shard_size``, the last one shorter."""
    n_shards = -(-n // shard_size)
    width = max(7, len(str(n - 1)))
    return [ShardJob(k, min(shard_size, n - k * shard_size), k * shard_size, s, width, out)
            for k, s in enumerate(shard_seeds(seed, n_shards))]


def write_corpus(model: CorpusModel, model_file: Path, n: int, out: Path, seed: int, shard_size: int,
                 config: SampleConfig, jobs: int = 1, quiet: bool = False) -> list[dict[str, Any]]:
    """Write the shards of an ``n``-document corpus into ``out``; each shard's record for meta.json."""
    todo = shard_jobs(n, shard_size, seed, out)
    if jobs <= 1 or len(todo) == 1:
        sampler = Sampler(model, config)
        progress = Progress(n, quiet)
        return [write_shard(sampler, job, progress) for job in todo]
    records = []
    progress = Progress(n, quiet, every=0.0)
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(str(model_file), config)) as pool:
        for record in pool.map(_write_in_worker, todo):
            records.append(record)
            progress.add(record["documents"])
    return records


# --------------------------------------------------------------------------------------------
# reading a corpus back (benchmarks use it; `semhash index` reads the shards itself)


def shard_files(folder: Path) -> list[Path]:
    """The shards of a corpus folder, in order."""
    return sorted(Path(folder).glob("docs-*.jsonl"))


def iter_records(folder: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The records of a corpus folder in id order, the first ``limit`` of them when given."""
    seen = 0
    for path in shard_files(folder):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield json.loads(line)


def read_labelled(folder: Path, limit: int | None = None) -> LabelledCorpus:
    """The first ``limit`` documents of a corpus folder as :class:`LabelledCorpus` (``paths`` are ids)."""
    meta = json.loads((Path(folder) / "meta.json").read_text(encoding="utf-8"))
    names = meta["labels"]
    index = {name: i for i, name in enumerate(names)}
    texts, labels, ids = [], [], []
    for record in iter_records(folder, limit):
        texts.append(record["text"])
        labels.append(index[record["label"]])
        ids.append(record["id"])
    return LabelledCorpus(texts, np.asarray(labels, dtype=np.int64), names, ids)


# --------------------------------------------------------------------------------------------
# the command


def _say(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def prepare_out(out: Path, force: bool) -> None:
    """Create ``out``; one that holds files is refused unless ``force``, which removes only this
    script's files (shards, meta.json, model.npz/json) so no stale shard survives."""
    out.mkdir(parents=True, exist_ok=True)
    ours = [*out.glob("docs-*.jsonl"), *out.glob("docs-*.jsonl.tmp"), out / "meta.json", out / "model.npz",
            out / "model.json"]
    present = [p for p in ours if p.exists()]
    others = [p for p in out.iterdir() if p not in set(ours)]
    if (present or others) and not force:
        raise SystemExit(f"{out} is not empty; pass --force to replace the corpus there")
    if others:
        raise SystemExit(f"{out} holds files this script did not write (e.g. {others[0].name}); choose another --out")
    for p in present:
        p.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argument_parser("make_corpus", __doc__ or "")
    ap.add_argument("--n", type=int, required=True, help="documents to write")
    ap.add_argument("--out", type=Path, required=True, help="output folder (shards, meta.json, model copy)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the documents")
    ap.add_argument("--shard-size", type=int, default=100_000, help="documents per shard file")
    ap.add_argument("--topics", type=int, default=DEFAULT_TOPICS, help="LDA topics (n_components)")
    ap.add_argument("--lda-seed", type=int, default=0, help="random_state of the LDA and k-means fits (apart from --seed, so a new --seed reuses the fit)")
    ap.add_argument("--concentration", type=float, default=DEFAULT_CONCENTRATION,
                    help="Dirichlet concentration around each label's mean topic mixture (lower: harder)")
    ap.add_argument("--subgroup-share", type=float, default=DEFAULT_SUBGROUP_SHARE,
                    help="share of content words drawn from the document's sub-group's words (lower: harder)")
    ap.add_argument("--subgroups", type=int, default=DEFAULT_SUBGROUPS,
                    help="sub-groups per label (k-means clusters of its posts, each with its own words)")
    ap.add_argument("--model", type=Path, default=None,
                    help="a fitted model.npz to sample from (e.g. another corpus's copy); default: fit or reuse the cache")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/semhash-make-corpus"), help="where fitted models are kept")
    ap.add_argument("--root", type=Path, default=None, help="20news-bydate folder (default: $SEMHASH_20NG or shared/)")
    ap.add_argument("--jobs", type=int, default=1, help="shards written in parallel (processes)")
    ap.add_argument("--force", action="store_true", help="replace a corpus already in --out")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.n < 1 or args.shard_size < 1 or args.topics < 2 or args.concentration <= 0 or args.jobs < 1:
        ap.error("--n, --shard-size and --jobs must be positive, --topics at least 2, --concentration > 0")
    if not 0 <= args.subgroup_share <= 1 or args.subgroups < 1:
        ap.error("--subgroup-share must be between 0 and 1, --subgroups at least 1")
    started = time.perf_counter()
    fit = FitConfig(topics=args.topics, subgroups=args.subgroups, seed=args.lda_seed)
    if args.model is not None:
        model_file = args.model
        model = CorpusModel.load(model_file)
    else:
        root = args.root if args.root is not None else default_20ng_root()
        model = cached_model(args.cache, fit, root, args.quiet)
        model_file = model_path(args.cache, fit, root)
    prepare_out(args.out, args.force)
    model.save(args.out / "model.npz")
    config = SampleConfig(concentration=args.concentration, subgroup_share=args.subgroup_share)
    t0 = time.perf_counter()
    shards = write_corpus(model, model_file, args.n, args.out, args.seed, args.shard_size, config, args.jobs,
                          args.quiet)
    seconds = time.perf_counter() - t0
    meta = {
        "format": FORMAT,
        "command": command_line("make_corpus", argv),
        "date": now(),
        "machine": machine(),
        "documents": args.n,
        "seed": args.seed,
        "shard_size": args.shard_size,
        "labels": model.groups,
        "sample": asdict(config),
        "fields": ["id", "title", "text", "label"],
        "method": "20NG train -> CountVectorizer + LDA; per document: balanced label, Dirichlet(concentration x "
                  "label's mean topic mixture), (content, stop) word counts of a random real post of the label, "
                  "words from the mixture's topics or the stop-word distribution, sentences, a title of content "
                  "words (see benchmarks/SYNTHETIC.md)",
        "model": {"file": "model.npz", **model.info, "topics": model.summary()},
        "generation_seconds": seconds,
        "total_seconds": time.perf_counter() - started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # this process (Linux: KiB)
        "bytes": sum(s["bytes"] for s in shards),
        "jobs": args.jobs,
        "shards": shards,
    }
    _write_json(args.out / "meta.json", meta)
    _say(f"wrote {args.n:,} documents in {len(shards)} shard(s), {meta['bytes'] / 2**20:,.0f} MiB, to {args.out} "
         f"in {seconds:.0f} s", args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
