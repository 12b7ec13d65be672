"""A demo every machine can run: the Python standard library's own documentation, indexed.

:func:`build_stdlib_corpus` writes one ``.txt`` file per document, first line a title:

- ``topics/<topic>.txt``: the interpreter's help topics (``pydoc_data.topics``);
- ``modules/<module>.txt``: a module's docstring and a one-line summary of its public members;
- ``api/<module>.<Name>.txt``: a public class or function with a docstring of 80+ characters
  (a class also lists its public methods' one-line summaries), and
  ``api/<module>.<Class>.<method>.txt`` for such methods.

Output depends only on the running interpreter, so it is the same on every run.

:func:`demo_index` indexes that corpus with the documented default model into its own index
(``indexes/demo``), reusing an index already built from the same documents with the same
parameters instead of training again.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from pydoc_data.topics import topics
from types import ModuleType
from typing import Any

from .corpus import read_corpus
from .errors import ConfigError, IndexFormatError, IndexNotFoundError
from .index import IndexConfig, SemanticIndex
from .store import titles_and_lengths
from .train.config import ModelConfig

DEFAULT_DEMO_DIR = Path("corpora/stdlib-docs")
DEMO_INDEX = "demo"
MIN_API_DOC_CHARS = 80
SUBMODULE_DEPTH = 2  # email -> email.mime -> email.mime.text

# modules with import-time side effects, GUI toolkits, tests, or nothing worth reading
EXCLUDED_MODULES = frozenset(
    {
        "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3",
        "readline", "rlcompleter", "pydoc_data", "encodings", "distutils", "ensurepip",
        "msilib", "msvcrt", "winreg", "winsound", "xxsubtype", "xxlimited", "xxlimited_35",
        "ctypes.wintypes", "ctypes.macholib",  # Windows/macOS only
    }
)
EXCLUDED_SUBMODULES = frozenset({"__main__", "test", "tests", "idle_test"})

_ADDRESS = re.compile(r"\s+at 0x[0-9A-Fa-f]+")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def build_stdlib_corpus(dest: str | os.PathLike = DEFAULT_DEMO_DIR, *, max_docs: int | None = None) -> int:
    """Write the stdlib documentation corpus to ``dest`` and return the number of files written.

    Files are written to a temporary folder next to ``dest`` that then replaces ``dest`` (an
    existing ``dest`` is removed). ``max_docs`` stops after that many documents (modules first,
    then help topics, then API entries).
    """
    if max_docs is not None and (isinstance(max_docs, bool) or not isinstance(max_docs, int) or max_docs < 1):
        raise ConfigError(f"max_docs must be a positive integer or None, got {max_docs!r}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        count = 0
        used: set[str] = set()
        for rel, text in iter_stdlib_docs():
            if max_docs is not None and count >= max_docs:
                break
            rel = _unique_name(rel, used)
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
            count += 1
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        elif dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


def iter_stdlib_docs() -> Iterator[tuple[str, str]]:
    """Yield ``(relative path, text)`` for every demo document, in a fixed order."""
    modules = list(iter_stdlib_modules())
    for module in modules:
        text = module_doc(module)
        if text:
            yield f"modules/{module.__name__}.txt", text
    for name in sorted(topics):
        text = topics[name].strip()
        if text:
            yield f"topics/{name}.txt", text + "\n"
    seen: set[int] = set()
    for module in modules:
        for name, obj in public_members(module):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            qualname = f"{module.__name__}.{name}"
            text = api_doc(qualname, obj)
            if text:
                yield f"api/{qualname}.txt", text
            if inspect.isclass(obj):
                for method_name, method in public_methods(obj):
                    if id(method) not in seen:
                        seen.add(id(method))
                        text = api_doc(f"{qualname}.{method_name}", method)
                        if text:
                            yield f"api/{qualname}.{method_name}.txt", text


def iter_stdlib_modules() -> Iterator[ModuleType]:
    """Import and yield the documented stdlib modules (sorted by name), skipping failures.

    Top-level names come from ``sys.stdlib_module_names``; packages add their public submodules
    down to :data:`SUBMODULE_DEPTH` levels. Warnings during import are suppressed.
    """
    pending = [(name, 0) for name in sorted(getattr(sys, "stdlib_module_names", ())) if _wanted(name)]
    found: dict[str, ModuleType] = {}
    while pending:
        name, depth = pending.pop()
        module = _quiet_import(name)
        if module is None:
            continue
        found[name] = module
        path = getattr(module, "__path__", None)
        if path is not None and depth < SUBMODULE_DEPTH:
            for info in pkgutil.iter_modules(path):
                full = f"{name}.{info.name}"
                if _wanted(full) and info.name not in EXCLUDED_SUBMODULES:
                    pending.append((full, depth + 1))
    for name in sorted(found):
        yield found[name]


def _wanted(name: str) -> bool:
    return not name.rpartition(".")[2].startswith("_") and name not in EXCLUDED_MODULES


def _quiet_import(name: str) -> ModuleType | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except (Exception, SystemExit):  # any failure just leaves the module out
        return None


def public_members(module: ModuleType) -> list[tuple[str, object]]:
    """Public classes and functions that ``module`` defines (or re-exports from its ``_impl``)."""
    modname = module.__name__
    exported = getattr(module, "__all__", None)
    names = exported if isinstance(exported, (list, tuple)) else dir(module)
    members: list[tuple[str, object]] = []
    for name in sorted({n for n in names if isinstance(n, str) and not n.startswith("_")}):
        obj = getattr(module, name, None)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        owner = getattr(obj, "__module__", None) or ""
        defined_here = owner == modname or owner.lstrip("_") == modname  # csv.reader lives in _csv
        exported_here = bool(exported) and owner.startswith(modname + ".")  # asyncio.run
        if defined_here or exported_here or (modname == "os" and owner in ("posix", "nt")):
            members.append((name, obj))
    return members


def module_doc(module: ModuleType) -> str:
    """Title line ``name — summary``, the module docstring, then its members' one-line docs."""
    name = module.__name__
    doc = _own_doc(module)
    members = public_members(module)
    lines = [f"{name}.{member} — {text}" for member, obj in members if (text := _summary(obj))]
    if not doc and not lines:
        return ""
    summary = _summary(module)
    parts = [f"{name} — {summary}" if summary else f"{name} module", ""]
    if doc:
        parts += [doc, ""]
    if lines:
        parts += [f"Public members of {name}:", *lines, ""]
    return "\n".join(parts)


def api_doc(qualname: str, obj: object) -> str:
    """Title line ``module.Name``, the signature, the docstring; classes add method summaries."""
    doc = _own_doc(obj)
    if len(doc) < MIN_API_DOC_CHARS:
        return ""
    parts = [qualname, ""]
    signature = _signature(obj)
    if signature:
        parts += [f"{'class ' if inspect.isclass(obj) else ''}{qualname}{signature}", ""]
    parts += [doc, ""]
    if inspect.isclass(obj):
        methods = [f"{qualname}.{n} — {text}" for n, m in public_methods(obj) if (text := _summary(m))]
        if methods:
            parts += ["Methods:", *methods, ""]
    return "\n".join(parts)


def public_methods(cls: type) -> list[tuple[str, object]]:
    """Public methods a class defines itself (not inherited), sorted by name."""
    methods: list[tuple[str, object]] = []
    for name, member in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isroutine(member):
            methods.append((name, member))
    return methods


def _summary(obj: object) -> str:
    """First sentence of the docstring's first paragraph, on one line (at most 200 characters)."""
    paragraph = " ".join(_own_doc(obj).split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    if end != -1:
        paragraph = paragraph[: end + 1]
    return paragraph if len(paragraph) <= 200 else paragraph[:199].rstrip() + "…"


def _own_doc(obj: object) -> str:
    """The object's own docstring, cleaned; unlike ``inspect.getdoc`` nothing is inherited
    (an exception class would otherwise read "Common base class for all non-exit exceptions")."""
    try:
        doc = getattr(obj, "__doc__", None)
    except Exception:  # some descriptors raise on attribute access
        return ""
    return _clean(inspect.cleandoc(doc)) if isinstance(doc, str) else ""


def _signature(obj: Any) -> str:
    """``(a, b=1, c=...)``: defaults other than short literals are elided, as their reprs can
    hold process state (``os.environ``, open streams, registered handlers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signature = inspect.signature(obj)
        params = [p.replace(default=_ELIDED) if _elide(p.default) else p for p in signature.parameters.values()]
        return _clean(str(signature.replace(parameters=params)))
    except Exception:  # builtins without signatures, odd callables
        return ""


class _Elided:
    def __repr__(self) -> str:
        return "..."


_ELIDED = _Elided()
_LITERALS = (type(None), bool, int, float, complex, str, bytes)


def _elide(default: object) -> bool:
    if default is inspect.Parameter.empty:
        return False
    return not isinstance(default, _LITERALS) or len(repr(default)) > 40


def _clean(text: str) -> str:
    """Drop memory addresses (``<object at 0x...>``) so the output is the same on every run."""
    return _ADDRESS.sub("", text).strip()


def _unique_name(rel: str, used: set[str]) -> str:
    """A safe file name, made unique even on case-insensitive file systems."""
    folder, _, name = rel.partition("/")
    stem = _UNSAFE_NAME.sub("_", name[: -len(".txt")])
    candidate, n = f"{folder}/{stem}.txt", 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{folder}/{stem}~{n}.txt"
    used.add(candidate.lower())
    return candidate


# --------------------------------------------------------------------------- the demo index


def demo_index(corpus: str | os.PathLike, dest: str | os.PathLike, *, rebuild: bool = False,
               progress: bool = False) -> tuple[SemanticIndex, bool]:
    """``(index, trained)``: the demo index of ``corpus`` at ``dest``, trained with the default
    :class:`~semhash.index.IndexConfig` (the documented model), or the index already there when
    it was built from the same documents with the same parameters (``rebuild`` trains anyway).

    An index at ``dest`` built from another corpus is never replaced without ``rebuild``
    (:class:`ConfigError`).
    """
    corpus, dest = Path(corpus), Path(dest)
    config = IndexConfig(model=ModelConfig())
    report = read_corpus(corpus, progress=progress)
    if not rebuild:
        existing = _existing_index(dest, corpus)
        if existing is not None:
            if _built_from(existing, report.documents, config):
                return existing, False
            existing.close()
    index = SemanticIndex.build(report.documents, config, skipped=report.skipped, progress=progress, source=corpus)
    index.save(dest)
    return index, True


def _existing_index(dest: Path, corpus: Path):
    """The index at ``dest`` if it is a demo index of ``corpus``, ``None`` if there is none;
    :class:`ConfigError` for anything else there."""
    if not dest.exists():
        return None
    refuse = (f"{dest} holds an index that `semhash demo` did not build from {corpus}; give the demo "
              "another --index, or pass --rebuild to replace it")
    try:
        index = SemanticIndex.load(dest, mmap=True)
    except IndexNotFoundError:
        return None
    except IndexFormatError as exc:
        raise ConfigError(f"{refuse} ({exc})") from exc
    if index.manifest.get("corpus_root") != str(corpus.resolve()):
        index.close()
        raise ConfigError(refuse)
    return index


def _built_from(index, documents, config) -> bool:
    """Whether ``index`` holds exactly ``documents`` (ids, titles, lengths; those without a word
    of the vocabulary among its skipped files) and was trained with ``config``."""
    def plain(value):
        return json.loads(json.dumps(value))

    params = index.manifest.get("params") or {}
    if params != plain({"vectorizer": asdict(config.vectorizer), "model": config.model_dict()}):
        return False
    stored = titles_and_lengths(index.conn)
    skipped = {s["path"] for s in index.info()["skipped_files"]}
    wanted = {d.id: (d.title, len(d.text)) for d in documents}
    return all(wanted.get(i) == v for i, v in stored.items()) and set(wanted) - set(stored) <= skipped

