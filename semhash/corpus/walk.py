"""A corpus folder into documents: walking it in a fixed order and reading each file, with a
report of every file skipped and why. Only corpus-level failures raise
(:class:`~semhash.errors.CorpusError`)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError, CorpusError, NoDocumentsError
from .documents import MAX_DOC_CHARS, CorpusReport, Document, Skipped
from .names import escape_surrogates, shown
from .readers import SUPPORTED_DESCRIPTION, read_file, strerror

NO_DOCS_REASONS = 5  # a corpus with no readable document: reasons named in the error
NO_DOCS_EXAMPLES = 3  # ... and example paths per reason


def read_corpus(
    root: str | os.PathLike, *, max_chars: int = MAX_DOC_CHARS, progress: bool = False
) -> CorpusReport:
    """Read every supported file under ``root`` (recursively, in sorted order) into memory.

    Raises :class:`CorpusError` when ``root`` is missing, is not a folder, or yields no
    document. Duplicate ids keep the first document and skip the later ones.
    :class:`CorpusStream` reads the same documents one at a time.
    """
    stream = CorpusStream(root, max_chars=max_chars, progress=progress)
    documents = list(stream)
    return CorpusReport(documents=documents, skipped=stream.skipped)


class CorpusStream:
    """The documents of :func:`read_corpus`, read one file at a time as they are iterated (a
    corpus larger than memory can be indexed). ``skipped`` fills as the files are read; at the
    end of an iteration that found no document, :class:`CorpusError` is raised as
    :func:`read_corpus` raises it. Iterate once."""

    def __init__(self, root: str | os.PathLike, *, max_chars: int = MAX_DOC_CHARS, progress: bool = False) -> None:
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
            raise ConfigError(f"max_chars must be a positive integer, got {max_chars!r}")
        self.root, self.max_chars, self.progress = root, max_chars, progress
        self.skipped: list[Skipped] = []
        self.n_documents = 0
        self._files = list(_walk(_check_root(root), self.skipped))  # checks the folder now

    def __iter__(self) -> Iterator[Document]:
        from tqdm import tqdm  # only a build reads a folder: the query path imports this package, never tqdm

        seen: set[str] = set()
        for path, rel in tqdm(self._files, desc="reading corpus", unit="file", file=sys.stderr,
                              disable=not self.progress):
            docs, skips = read_file(path, rel, self.max_chars)
            self.skipped.extend(skips)
            for doc in docs:
                if doc.id in seen:
                    self.skipped.append(Skipped(doc.path, f"duplicate id {doc.id}"))
                else:
                    seen.add(doc.id)
                    self.n_documents += 1
                    yield doc
        if not self.n_documents:
            if self.skipped:
                raise NoDocumentsError(_no_documents_message(self.root, self.skipped), self.skipped)
            raise CorpusError(_no_documents_message(self.root, self.skipped))


def iter_files(root: str | os.PathLike) -> Iterator[Path]:
    """Yield the files under ``root``: sorted, hidden names skipped, symlinks followed once."""
    for path, _rel in _walk(_check_root(root), []):
        yield path


def _check_root(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not path.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")
    return path


def _no_documents_message(root: str | os.PathLike, skipped: list[Skipped]) -> str:
    if not skipped:
        detail = "the folder holds no files"
    else:
        by_reason: dict[str, list[str]] = {}
        for s in skipped:
            by_reason.setdefault(s.reason, []).append(s.path)
        ranked = sorted(by_reason.items(), key=lambda item: -len(item[1]))  # stable: ties in file order
        parts = [f"{reason} ({len(paths)}x) e.g. {', '.join(shown(p) for p in paths[:NO_DOCS_EXAMPLES])}"
                 for reason, paths in ranked[:NO_DOCS_REASONS]]
        if len(ranked) > NO_DOCS_REASONS:
            parts.append(f"{len(ranked) - NO_DOCS_REASONS} other reasons")
        detail = f"{len(skipped)} skipped: {'; '.join(parts)}"
    return f"no readable documents in {root} ({detail}); supported: {SUPPORTED_DESCRIPTION}"


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    """Depth-first walk yielding ``(path, relative POSIX path)``; problems go to ``skipped``.

    Directory symlinks are followed, but a folder whose real path is an ancestor (a loop) or
    was already visited is skipped, so the walk always ends.
    """
    root_real = os.path.realpath(root)
    visited = {root_real: "."}
    try:
        top = _sorted_entries(root)
    except OSError as exc:
        raise CorpusError(f"cannot read corpus folder {root}: {strerror(exc)}") from exc
    stack: list[tuple[Iterator[os.DirEntry], str, tuple[str, ...]]] = [(iter(top), "", (root_real,))]
    while stack:
        entries, prefix, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        rel = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=True):
                real = os.path.realpath(entry.path)
                if real in ancestors:
                    skipped.append(Skipped(escape_surrogates(rel), "symlink loop"))
                elif real in visited:
                    skipped.append(Skipped(escape_surrogates(rel),
                                           f"same folder as {escape_surrogates(visited[real])} (symlink)"))
                else:
                    visited[real] = rel
                    stack.append((iter(_sorted_entries(Path(entry.path))), rel + "/", ancestors + (real,)))
            elif entry.is_file(follow_symlinks=True):
                yield Path(entry.path), rel
            elif entry.is_symlink():
                skipped.append(Skipped(escape_surrogates(rel), "broken symlink"))
            else:
                skipped.append(Skipped(escape_surrogates(rel), "not a regular file"))
        except OSError as exc:
            reason = "symlink loop" if exc.errno == errno.ELOOP else f"unreadable: {strerror(exc)}"
            skipped.append(Skipped(escape_surrogates(rel), reason))


def _sorted_entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)



__all__ = ["NO_DOCS_EXAMPLES", "NO_DOCS_REASONS", "CorpusStream", "iter_files", "read_corpus"]
