"""Labelled corpora: folders of label folders, labelled JSONL, the 20 Newsgroups reader, mail
cleaning, splits.

A corpus is ``root/<label>/**/<file>`` (the label is the first-level folder), or ``root/train/``
and ``root/test/`` each laid out so, or a ``.jsonl`` file with a ``label`` or ``labels`` per line.
A document may carry several labels: in a folder, the same file (the same path below its label
folder and the same content) filed under several label folders is one document with each of
those labels; in JSONL, ``"labels": [...]``. The 20 Newsgroups preset reads the by-date release
and strips the mail header, signature footer and quoted lines with scikit-learn's three
cleaners, reimplemented here. :class:`EvalData` is a prepared split, what every method receives.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError, CorpusError
from .labels import as_bitsets, is_multi_label, labels_from_names

REMOVABLE_PARTS = ("headers", "footers", "quotes")
ENV_20NG = "SEMHASH_20NG"


def default_20ng_root() -> Path:
    """``$SEMHASH_20NG`` if set, else ``<repo>/../shared/datasets/20news-bydate``."""
    env = os.environ.get(ENV_20NG)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "datasets" / "20news-bydate"


# --------------------------------------------------------------------------------------------
# preprocessing: scikit-learn's three 20-newsgroups cleaners, reimplemented

_QUOTE_RE = re.compile(r"(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)")


def strip_newsgroup_header(text: str) -> str:
    """Drop the header: everything before the first blank line."""
    _before, _blankline, after = text.partition("\n\n")
    return after


def strip_newsgroup_quoting(text: str) -> str:
    """Drop quoted lines (``>``, ``|``) and the lines that introduce a quote (``... writes:``)."""
    good_lines = [line for line in text.split("\n") if not _QUOTE_RE.search(line)]
    return "\n".join(good_lines)


def strip_newsgroup_footer(text: str) -> str:
    """Drop the signature: from the last line that is blank or all ``-`` onward, if found."""
    lines = text.strip().split("\n")
    line_num = 0
    for line_num in range(len(lines) - 1, -1, -1):
        line = lines[line_num]
        if line.strip().strip("-") == "":
            break
    if line_num > 0:
        return "\n".join(lines[:line_num])
    return text


def clean_text(text: str, remove: Iterable[str]) -> str:
    """Apply the cleaners named in ``remove`` in scikit-learn's order: headers, footers, quotes."""
    remove = tuple(remove)
    unknown = set(remove) - set(REMOVABLE_PARTS)
    if unknown:
        raise ConfigError(f"cannot remove {sorted(unknown)}; choose from {', '.join(REMOVABLE_PARTS)}")
    if "headers" in remove:
        text = strip_newsgroup_header(text)
    if "footers" in remove:
        text = strip_newsgroup_footer(text)
    if "quotes" in remove:
        text = strip_newsgroup_quoting(text)
    return text


# --------------------------------------------------------------------------------------------
# corpora


@dataclass(frozen=True)
class LabelledCorpus:
    """Labelled documents. ``labels`` holds label ids (``label_names[labels[i]]`` is document i's
    label), or for a corpus where some document carries several labels an ``(n, W)`` uint64
    array of label bitsets (:mod:`.labels`)."""

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    paths: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def with_bitsets(self) -> LabelledCorpus:
        """The same corpus with its labels as bitsets (what a multi-label corpus holds)."""
        return LabelledCorpus(self.texts, as_bitsets(self.labels, len(self.label_names)), self.label_names, self.paths)

    def subset(self, index: np.ndarray) -> LabelledCorpus:
        index = np.asarray(index, dtype=np.int64)
        return LabelledCorpus(
            texts=[self.texts[i] for i in index],
            labels=self.labels[index],
            label_names=self.label_names,
            paths=[self.paths[i] for i in index],
        )


def _visible_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _label_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(files)


def _read_text(path: Path, encoding: str) -> str:
    # bytes, then decode: no newline translation, as scikit-learn's load_files does
    return path.read_bytes().decode(encoding, errors="replace")


def has_train_test_layout(root: Path) -> bool:
    """True when ``root`` holds exactly ``train/`` and ``test/``, each with label folders."""
    root = Path(root)
    dirs = {p.name for p in _visible_dirs(root)} if root.is_dir() else set()
    return dirs == {"train", "test"} and all(_visible_dirs(root / name) for name in dirs)


def load_labelled_folder(
    root: str | os.PathLike,
    remove: Iterable[str] = (),
    encoding: str = "latin-1",
    limit_per_class: int | None = None,
    label_names: Sequence[str] | None = None,
) -> LabelledCorpus:
    """Read a corpus laid out as ``root/<label>/**/<file>``; the label is the first-level folder.

    Files are read as bytes and decoded with ``encoding`` (latin-1 never fails, as in
    scikit-learn); ``remove`` names the cleaners to apply. ``limit_per_class`` keeps the first N
    files of each label in sorted path order. ``label_names`` fixes the label numbering (so a
    train and a test folder agree); a folder not in it is an error. A file with the same path
    below its label folder and the same content under several label folders is one document
    carrying each of those labels (kept at its first place); files that differ stay apart.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    if limit_per_class is not None and limit_per_class < 1:
        raise ConfigError(f"limit_per_class must be at least 1, got {limit_per_class}")
    remove = tuple(remove)
    folders = _visible_dirs(root)
    if not folders:
        raise CorpusError(f"no label folders in {root} (expected {root}/<label>/<documents>)")
    names = list(label_names) if label_names is not None else [f.name for f in folders]
    texts: list[str] = []
    label_lists: list[list[str]] = []
    paths: list[str] = []
    seen: dict[tuple[str, str], int] = {}  # (path below the label folder, raw text) -> document
    for folder in folders:
        if folder.name not in names:
            raise CorpusError(f"label folder {folder.name!r} in {root} is not one of the known labels")
        files = _label_files(folder)
        if limit_per_class is not None:
            files = files[:limit_per_class]
        for path in files:
            raw = _read_text(path, encoding)
            key = (path.relative_to(folder).as_posix(), raw)
            if key in seen:  # the same document filed under another label folder too
                label_lists[seen[key]].append(folder.name)
                continue
            seen[key] = len(texts)
            texts.append(clean_text(raw, remove))
            label_lists.append([folder.name])
            paths.append(str(path))
    if not texts:
        raise CorpusError(f"no documents under {root}")
    labels, names = labels_from_names(label_lists, names)
    return LabelledCorpus(texts, labels, names, paths)


def load_labelled_jsonl(
    path: str | os.PathLike, remove: Iterable[str] = (), limit_per_class: int | None = None
) -> LabelledCorpus:
    """Read labelled JSONL: one object per line with a string ``text`` and a ``label`` (one
    value) or ``labels`` (a list); ``title`` is put before the text and ``id`` names the document.

    Labels are compared as strings. ``limit_per_class`` keeps a document while fewer than N
    documents with its first label have been kept. A line that is not such an object is a
    :class:`CorpusError` naming the line.
    """
    path = Path(path)
    texts: list[str] = []
    label_lists: list[list[str]] = []
    paths: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            text, labels, doc_id = _jsonl_document(line, f"{path}:{lineno}")
            texts.append(clean_text(text, remove))
            label_lists.append(labels)
            paths.append(doc_id if doc_id is not None else f"{path}#{lineno}")
    if not texts:
        raise CorpusError(f"no documents in {path}")
    keep = first_per_label([labels[0] for labels in label_lists], limit_per_class)
    labels_array, names = labels_from_names([label_lists[i] for i in keep])
    return LabelledCorpus([texts[i] for i in keep], labels_array, names, [paths[i] for i in keep])


def first_per_label(labels: Sequence[str], limit: int | None) -> list[int]:
    """Indices of the items kept when each label keeps only its first ``limit`` items (all
    items when ``limit`` is ``None``)."""
    if limit is None:
        return list(range(len(labels)))
    taken: dict[str, int] = {}
    keep = []
    for i, label in enumerate(labels):
        taken[label] = taken.get(label, 0) + 1
        if taken[label] <= limit:
            keep.append(i)
    return keep


def _jsonl_document(line: str, where: str) -> tuple[str, list[str], str | None]:
    """``(text, labels, id)`` of one JSONL line of a labelled corpus."""
    try:
        record = json.loads(line)
    except ValueError:
        raise CorpusError(f"{where}: not valid JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise CorpusError(f"{where}: expected an object with a string 'text'")
    raw = record["labels"] if "labels" in record else [record["label"]] if "label" in record else None
    if not isinstance(raw, list) or not raw or any(isinstance(x, (dict, list)) or x is None for x in raw):
        raise CorpusError(f"{where}: expected a 'label' or a non-empty list of 'labels'")
    title = record.get("title")
    text = f"{title}\n\n{record['text']}" if isinstance(title, str) and title else record["text"]
    doc_id = record.get("id")
    return text, [str(x) for x in raw], None if doc_id is None else str(doc_id)


def load_train_test(
    root: str | os.PathLike,
    remove: Iterable[str] = (),
    encoding: str = "latin-1",
    limit_per_class: int | None = None,
) -> tuple[LabelledCorpus, LabelledCorpus]:
    """Read ``root/train/<label>/...`` and ``root/test/<label>/...`` with shared label numbers."""
    root = Path(root)
    if not has_train_test_layout(root):
        raise CorpusError(f"{root} does not hold train/ and test/ folders of label folders")
    names = sorted({p.name for split in ("train", "test") for p in _visible_dirs(root / split)})
    train = load_labelled_folder(root / "train", remove, encoding, limit_per_class, names)
    test = load_labelled_folder(root / "test", remove, encoding, limit_per_class, names)
    if is_multi_label(train.labels) or is_multi_label(test.labels):  # one representation on both sides
        train, test = train.with_bitsets(), test.with_bitsets()
    return train, test


def load_20ng(
    root: str | os.PathLike | None = None,
    remove: Iterable[str] = REMOVABLE_PARTS,
    limit_per_class: int | None = None,
) -> tuple[LabelledCorpus, LabelledCorpus]:
    """20 Newsgroups (by date) as ``(train, test)``, cleaned like scikit-learn's loader.

    ``root`` defaults to :func:`default_20ng_root` (``$SEMHASH_20NG`` overrides it).
    """
    root = Path(root) if root is not None else default_20ng_root()
    if not root.is_dir():
        raise CorpusError(f"20 Newsgroups not found at {root}; set ${ENV_20NG} to its folder")
    return load_train_test(root, remove, "latin-1", limit_per_class)


class ReadOptions(NamedTuple):
    """What a corpus reader is told: where the corpus is (``None``: the reader's default or a
    corpus it builds) and how to read it."""

    root: Path | None
    remove: tuple[str, ...] = ()
    encoding: str = "utf-8"
    limit_per_class: int | None = None


class LoadedCorpus(NamedTuple):
    """What a corpus reader returns: every document (or the database side of a fixed split),
    the fixed query side when the corpus comes split (``None``: split at random), and notes on
    what the reader did (documents dropped and why), which the report records."""

    corpus: LabelledCorpus
    test: LabelledCorpus | None = None
    notes: dict[str, Any] = {}  # noqa: RUF012 - never mutated; readers pass their own


def read_labelled(options: ReadOptions) -> LoadedCorpus:
    """A labelled corpus as ``semhash evaluate CORPUS`` reads it: a ``.jsonl`` file, a folder of
    ``train/`` and ``test/`` (a fixed split), or a folder of label folders."""
    root = options.root
    if root is None or not root.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if root.is_file():
        if root.suffix.lower() != ".jsonl":
            raise CorpusError(f"{root} is a file; give a folder of label folders or a labelled .jsonl file")
        return LoadedCorpus(load_labelled_jsonl(root, options.remove, options.limit_per_class))
    if has_train_test_layout(root):
        return LoadedCorpus(*load_train_test(root, options.remove, options.encoding, options.limit_per_class))
    return LoadedCorpus(load_labelled_folder(root, options.remove, options.encoding, options.limit_per_class))


# --------------------------------------------------------------------------------------------
# splits


def split_queries(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it in half: ``(validation, test)`` indices.

    The first ``n // 2`` shuffled indices are validation, the rest test.
    """
    order = np.random.default_rng(seed).permutation(n)
    half = n // 2
    return order[:half], order[half:]


def split_corpus(
    n: int, seed: int = 0, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` into ``(database, validation, test)`` index arrays."""
    if len(fractions) != 3 or min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0):
        raise ConfigError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(n)
    n_db = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return order[:n_db], order[n_db : n_db + n_val], order[n_db + n_val :]



class EvalData(NamedTuple):
    """The prepared split: database and query TF-IDF, labels and cleaned texts."""

    X_db: sp.csr_matrix
    db_labels: np.ndarray
    db_texts: list[str]
    X_query: sp.csr_matrix
    query_labels: np.ndarray
    query_texts: list[str]
    label_names: list[str]
    info: dict[str, Any]
