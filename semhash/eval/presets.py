"""The named protocols of ``semhash evaluate --preset``: one :class:`Preset` per name in
:data:`PRESETS`, each a corpus reader with the settings it is measured with.

A reader takes :class:`~semhash.eval.data.ReadOptions` and returns a
:class:`~semhash.eval.data.LoadedCorpus`: every document (split at random into database /
validation / test by the preset's ``fractions`` and ``split_seed``), or a fixed database and
query side. Every preset uses the same vocabulary settings
(:class:`~semhash.eval.features.FeatureConfig`: the literature's ``CountVectorizer``). Adding a
preset is a reader and one entry here; docs/quality.md describes each.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..demo import iter_stdlib_docs
from ..errors import CorpusError
from .data import (
    REMOVABLE_PARTS,
    LabelledCorpus,
    LoadedCorpus,
    ReadOptions,
    default_20ng_root,
    first_per_label,
    read_labelled,
)
from .labels import labels_from_names
from .newsgroups import read_20ng_hierarchies, read_20ng_literature, read_20ng_mixture
from .results import QUOTED_20NG_LITERATURE_P100, QUOTED_20NG_P100

# the stdlib corpus: documents of modules with fewer documents than this are left out
STDLIB_MIN_DOCS = 10
STDLIB_KINDS = ("modules", "api")  # the help topics (topics/) belong to no module


def stdlib_label(rel: str) -> str | None:
    """The top-level module a stdlib demo document belongs to (``api/email.mime.text.MIMEText.txt``
    -> ``email``), or ``None`` for the help topics."""
    kind, _, name = rel.partition("/")
    if kind not in STDLIB_KINDS:
        return None
    return re.split(r"[.~]", name)[0] or None


def _stdlib_files(root: Path) -> Iterable[tuple[str, str]]:
    """``(relative path, text)`` of a folder written by ``semhash demo`` (build_stdlib_corpus)."""
    for path in sorted(p for p in root.rglob("*.txt") if p.is_file()):
        yield path.relative_to(root).as_posix(), path.read_text(encoding="utf-8", errors="replace")


def read_stdlib(options: ReadOptions) -> LoadedCorpus:
    """The Python standard library's documentation (:mod:`semhash.demo`), labelled by top-level
    module: built from the running interpreter, or read from ``options.root`` when given (a
    folder that ``semhash demo`` wrote). Help topics, and modules with fewer than
    :data:`STDLIB_MIN_DOCS` documents, are left out."""
    if options.root is not None and not options.root.is_dir():
        raise CorpusError(f"stdlib corpus folder not found: {options.root}")
    pairs = list(iter_stdlib_docs() if options.root is None else _stdlib_files(options.root))
    labelled = [(rel, text, label) for rel, text in pairs if (label := stdlib_label(rel)) is not None]
    sizes = Counter(label for _, _, label in labelled)
    kept = [(rel, text, label) for rel, text, label in labelled if sizes[label] >= STDLIB_MIN_DOCS]
    if not kept:
        raise CorpusError(f"no stdlib module has {STDLIB_MIN_DOCS} or more documents")
    small = [n for n in sizes.values() if n < STDLIB_MIN_DOCS]
    notes = {"documents_read": len(pairs), "help_topics_dropped": len(pairs) - len(labelled),
             "modules_dropped": len(small), "small_module_documents_dropped": sum(small),
             "min_documents_per_module": STDLIB_MIN_DOCS}
    if options.limit_per_class is not None:
        kept = [kept[i] for i in first_per_label([label for _, _, label in kept], options.limit_per_class)]
    labels, names = labels_from_names([[label] for _, _, label in kept])
    corpus = LabelledCorpus([text for _, text, _ in kept], labels, names, [rel for rel, _, _ in kept])
    return LoadedCorpus(corpus, None, notes)


def _no_default_root() -> Path | None:
    return None


@dataclass(frozen=True)
class Preset:
    """A named protocol: what ``--help`` says, the reader, where the corpus is by default, how
    files are read and cleaned, how the documents are split, and published numbers to quote."""

    help: str
    read: Callable[[ReadOptions], LoadedCorpus]
    default_root: Callable[[], Path | None] = _no_default_root
    remove: tuple[str, ...] = ()
    encoding: str = "latin-1"
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    quoted: Mapping[str, Mapping[int, float]] = field(default_factory=dict)

    def root(self, given: str | os.PathLike | None) -> Path | None:
        """The corpus given on the command line, else the preset's default."""
        return Path(given) if given is not None else self.default_root()


PRESETS: dict[str, Preset] = {
    "20ng": Preset("20 Newsgroups by date, headers/footers/quotes removed; test halved into validation/test",
                   read_labelled, default_20ng_root, remove=REMOVABLE_PARTS, quoted=QUOTED_20NG_P100),
    "20ng-literature": Preset("20NG as the papers use it: From/Subject kept, duplicates dropped, random 60/20/20",
                              read_20ng_literature, default_20ng_root,
                              quoted={**QUOTED_20NG_LITERATURE_P100, **QUOTED_20NG_P100}),
    "20ng-6": Preset("20ng-literature labelled by the six subject hierarchies (coarse, skewed)",
                     read_20ng_hierarchies, default_20ng_root),
    "20ng-mix": Preset("multi-label: 1-3 posts of different newsgroups per document, Zipf-skewed sizes",
                       read_20ng_mixture, default_20ng_root),
    "stdlib": Preset("Python stdlib docs by top-level module: short documents, many small classes",
                     read_stdlib, encoding="utf-8"),
}
