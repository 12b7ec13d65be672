"""The 20 Newsgroups corpora of the presets beside the hard protocol: the literature's text, the
six subject hierarchies, and a skewed multi-label mixture.

All three start from every post of the by-date release (``train/`` and ``test/`` together,
18,846 posts) kept close to the "20news-18828" text the semantic-hashing papers start from:

1. only the ``From:`` and ``Subject:`` header lines are kept (with their continuation lines);
   every other header line goes; the blank line and the body follow as they are, quoted replies
   and signatures included (:func:`keep_header_fields`);
2. of posts with exactly the same body (the text after the header), only the first in path
   order (``train/`` before ``test/``, newsgroups and files in sorted order) is kept
   (:func:`first_of_each_body`);
3. the cleaners named by ``--remove`` (none by default) apply after that.

The presets split what they read at random (:func:`semhash.eval.data.split_corpus`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorpusError
from .data import (
    ENV_20NG,
    LabelledCorpus,
    LoadedCorpus,
    ReadOptions,
    clean_text,
    default_20ng_root,
    load_train_test,
)
from .labels import documents_per_label, labels_from_names

LITERATURE_HEADER_FIELDS = ("from", "subject")

# The six subject-matter partitions of Jason Rennie's 20 Newsgroups page (the standard coarse
# grouping): computers, recreation, science, for sale, politics, religion.
HIERARCHIES: dict[str, tuple[str, ...]] = {
    "comp": ("comp.graphics", "comp.os.ms-windows.misc", "comp.sys.ibm.pc.hardware", "comp.sys.mac.hardware",
             "comp.windows.x"),
    "rec": ("rec.autos", "rec.motorcycles", "rec.sport.baseball", "rec.sport.hockey"),
    "sci": ("sci.crypt", "sci.electronics", "sci.med", "sci.space"),
    "forsale": ("misc.forsale",),
    "politics": ("talk.politics.misc", "talk.politics.guns", "talk.politics.mideast"),
    "religion": ("talk.religion.misc", "alt.atheism", "soc.religion.christian"),
}
HIERARCHY_OF = {group: name for name, groups in HIERARCHIES.items() for group in groups}

# The mixture corpus (20ng-mix): how many posts each newsgroup keeps (the group at rank r of a
# seeded shuffle keeps 1 / (r + 1) of its posts, so sizes fall off as Zipf's law with exponent
# 1), and how many posts of different newsgroups a document is made of.
MIX_SEED = 0
MIX_PARTS = (1, 2, 3)
MIX_PART_PROBABILITIES = (0.5, 0.35, 0.15)


def keep_header_fields(text: str, fields: Sequence[str] = LITERATURE_HEADER_FIELDS) -> str:
    """The post with only the header lines named in ``fields`` (case-insensitive), each with its
    continuation lines; the header is everything before the first blank line, as in
    :func:`semhash.eval.data.strip_newsgroup_header`. The body is kept as it is."""
    head, blank, body = text.partition("\n\n")
    wanted = {f.lower() for f in fields}
    kept: list[str] = []
    keep = False
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):  # a continuation of the field above
            if keep:
                kept.append(line)
            continue
        keep = line.partition(":")[0].strip().lower() in wanted
        if keep:
            kept.append(line)
    return "\n".join(kept) + blank + body


def first_of_each_body(texts: Sequence[str]) -> np.ndarray:
    """Indices of the posts whose body (the text after the first blank line) has not appeared
    before, in order: exact duplicates after the first are left out."""
    seen: set[str] = set()
    keep = []
    for i, text in enumerate(texts):
        body = text.partition("\n\n")[2]
        if body not in seen:
            seen.add(body)
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def _concat(a: LabelledCorpus, b: LabelledCorpus) -> LabelledCorpus:
    return LabelledCorpus(a.texts + b.texts, np.concatenate([a.labels, b.labels]), a.label_names, a.paths + b.paths)


def read_20ng_literature(options: ReadOptions) -> LoadedCorpus:
    """Every by-date post as the literature's text: From/Subject headers, duplicates dropped."""
    root = options.root if options.root is not None else default_20ng_root()
    if not Path(root).is_dir():
        raise CorpusError(f"20 Newsgroups not found at {root}; set ${ENV_20NG} to its folder")
    train, test = load_train_test(root, (), options.encoding, options.limit_per_class)
    raw = _concat(train, test)
    keep = first_of_each_body(raw.texts)
    texts = [clean_text(keep_header_fields(raw.texts[i]), options.remove) for i in keep]
    corpus = LabelledCorpus(texts, raw.labels[keep], raw.label_names, [raw.paths[i] for i in keep])
    notes = {"posts_read": len(raw), "duplicate_bodies_dropped": len(raw) - len(keep),
             "header_fields_kept": list(LITERATURE_HEADER_FIELDS)}
    return LoadedCorpus(corpus, None, notes)


def read_20ng_hierarchies(options: ReadOptions) -> LoadedCorpus:
    """The literature's text labelled by the six subject hierarchies (:data:`HIERARCHIES`)."""
    loaded = read_20ng_literature(options)
    corpus = loaded.corpus
    groups = [corpus.label_names[i] for i in corpus.labels]
    unknown = sorted(set(groups) - set(HIERARCHY_OF))
    if unknown:
        raise CorpusError(f"newsgroups {unknown} belong to none of the six hierarchies")
    labels, names = labels_from_names([[HIERARCHY_OF[g]] for g in groups], list(HIERARCHIES))
    notes = {**loaded.notes, "hierarchies": {name: list(groups) for name, groups in HIERARCHIES.items()}}
    return LoadedCorpus(LabelledCorpus(corpus.texts, labels, names, corpus.paths), None, notes)


def mixture_parts(groups: np.ndarray, rng: np.random.Generator) -> list[list[int]]:
    """Posts (indices into ``groups``, in the order given) gathered into documents of 1-3 posts
    from different newsgroups: each document draws its size from :data:`MIX_PART_PROBABILITIES`,
    takes the next post, then the next posts whose newsgroups it does not have yet."""
    queue = list(range(len(groups)))
    documents = []
    while queue:
        size = int(rng.choice(MIX_PARTS, p=MIX_PART_PROBABILITIES))
        parts = [queue.pop(0)]
        have = {groups[parts[0]]}
        j = 0
        while len(parts) < size and j < len(queue):
            if groups[queue[j]] in have:
                j += 1
                continue
            have.add(groups[queue[j]])
            parts.append(queue.pop(j))
        documents.append(parts)
    return documents


def zipf_subset(labels: np.ndarray, n_labels: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Indices of the posts kept when the newsgroup at rank r of a random order keeps its first
    ``ceil(n / (r + 1))`` posts, and that order."""
    order = rng.permutation(n_labels).tolist()
    keep = []
    for rank, label in enumerate(order):
        members = np.flatnonzero(labels == label)
        keep.append(members[: -(-members.size // (rank + 1))])
    return np.sort(np.concatenate(keep)), order


def read_20ng_mixture(options: ReadOptions) -> LoadedCorpus:
    """A skewed multi-label corpus made of the literature's posts (see the module docstring):
    newsgroup sizes cut to a Zipf law, then posts of different newsgroups joined into documents
    of one to three posts; a document's labels are its posts' newsgroups."""
    loaded = read_20ng_literature(options)
    corpus = loaded.corpus
    rng = np.random.default_rng(MIX_SEED)
    kept, order = zipf_subset(corpus.labels, len(corpus.label_names), rng)
    shuffled = kept[rng.permutation(kept.size)]
    documents = mixture_parts(corpus.labels[shuffled], rng)
    texts, label_lists, paths = [], [], []
    for parts in documents:
        posts = shuffled[parts]
        texts.append("\n\n".join(corpus.texts[i] for i in posts))
        label_lists.append([corpus.label_names[corpus.labels[i]] for i in posts])
        paths.append("+".join(corpus.paths[i] for i in posts))
    labels, names = labels_from_names(label_lists, corpus.label_names)
    mixed = LabelledCorpus(texts, labels, names, paths)
    notes: dict[str, Any] = {
        **loaded.notes,
        "posts_used": int(kept.size),
        "newsgroups_by_size": [corpus.label_names[i] for i in order],
        "documents_per_label": dict(zip(names, documents_per_label(labels, len(names)))),
        "documents_by_parts": {str(k): sum(len(d) == k for d in documents) for k in MIX_PARTS},
    }
    return LoadedCorpus(mixed, None, notes)
