"""Labelled corpora: folders of label folders, the 20 Newsgroups preset, mail cleaning, splits.

A corpus is ``root/<label>/**/<file>`` (the label is the first-level folder), or ``root/train/``
and ``root/test/`` each laid out so. The 20 Newsgroups preset reads the by-date release and
strips the mail header, signature footer and quoted lines with scikit-learn's three cleaners,
reimplemented here. :class:`EvalData` is a prepared split, what every method receives.
"""

from __future__ import annotations

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
    """Documents with integer labels; ``label_names[labels[i]]`` is the folder of document i."""

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    paths: list[str]

    def __len__(self) -> int:
        return len(self.texts)

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
    train and a test folder agree); a folder not in it is an error.
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
    index = {name: i for i, name in enumerate(names)}
    texts: list[str] = []
    labels: list[int] = []
    paths: list[str] = []
    for folder in folders:
        if folder.name not in index:
            raise CorpusError(f"label folder {folder.name!r} in {root} is not one of the known labels")
        files = _label_files(folder)
        if limit_per_class is not None:
            files = files[:limit_per_class]
        for path in files:
            texts.append(clean_text(_read_text(path, encoding), remove))
            labels.append(index[folder.name])
            paths.append(str(path))
    if not texts:
        raise CorpusError(f"no documents under {root}")
    return LabelledCorpus(texts, np.asarray(labels, dtype=np.int64), names, paths)


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
