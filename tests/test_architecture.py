"""The package keeps the shape docs/ARCHITECTURE.md draws: no import cycle, imports only downward
through the layers of its table, a reason on every function-local import, small modules and
functions, and no heavy library at module level on the query path.

The import graph is read from the source with ``ast`` (only the tables of lazily loaded names
come from importing three light modules). An edge ``a -> b`` means that running ``a`` can
execute module ``b``:

- ``import x.y.z`` and ``from x.y.z import n`` execute ``x``, ``x.y`` and ``x.y.z``;
  ``from x.y import n`` names the submodule ``x.y.n`` when there is one, else the package
  ``x.y`` itself (where ``n`` is defined);
- a name that a package hands out lazily (a module-level ``__getattr__``: :data:`LAZY_TABLES`)
  also counts as an import of the module it comes from, and the commands that
  ``semhash.cli.app.LAZY_COMMANDS`` loads by name count as imports of ``semhash.cli.app``;
- a package that encloses the importing module is never an edge when it is only passed through
  (Python has started importing it before the importer runs, so ``from . import sibling`` in
  ``p/x.py`` depends on ``p.sibling``, not on ``p``); it is an edge when a name is taken from it
  (``from . import name``, ``from .. import __version__``): that is the partially initialized
  module that a real cycle trips over.

Edges are kept with where they happen: at module level, inside a function (run later, but still
a dependency: a cycle through a lazy import is still a cycle) or under ``if TYPE_CHECKING:``
(annotations only, never run: left out of the cycle check, kept in the layer check).

``python tests/test_architecture.py [semhash|benchmarks]`` prints the graph by layer.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"

MAX_MODULE_LINES = 520
MAX_FUNCTION_LINES = 60  # from ``def`` to the last line, unless a comment in it says "long: <why>"
# what a function-local import may defer: heavy or optional libraries (module names' first part)
HEAVY = frozenset({"tensorflow", "keras", "sklearn", "scipy", "faiss", "tqdm", "pyarrow", "psycopg", "bm25s",
                   "matplotlib", "uvicorn", "fastapi"})
# the query path: open_index + search / similar / encode, and PostgreSQL's search (none of it may
# import HEAVY at module level; FAISS is imported in a function, from FAISS_FILL_ABOVE documents on)
QUERY_PATH = ("semhash.index", "semhash.search", "semhash.similar", "semhash.export", "semhash.postgres")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of the same tree, or an outside module's full name
    kind: str  # "top" (module level), "local" (inside a function) or "typing" (if TYPE_CHECKING)
    line: int
    inside: bool  # target is a module of the same tree


def module_files(tree: str) -> dict[str, Path]:
    """``{dotted name: file}`` of every module under ``REPO / tree`` (a package is its __init__)."""
    out = {}
    for path in sorted((REPO / tree).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@cache
def lazy_tables() -> dict[str, dict[str, str]]:
    """``{package: {name: module}}`` of the names handed out by a module-level ``__getattr__``,
    and ``{module: {"": loaded module}}`` for modules loaded by name (importing these is cheap)."""
    sys.path.insert(0, str(REPO))
    try:
        import semhash
        import semhash.model
        from semhash.cli.app import LAZY_COMMANDS
    finally:
        sys.path.remove(str(REPO))
    return {
        "semhash": dict(semhash._LAZY),
        "semhash.model": dict(semhash.model._MODULE_OF),
        "semhash.cli.app": {f"<{name}>": spec.partition(":")[0] for name, spec in LAZY_COMMANDS.items()},
    }


# the modules with a module-level __getattr__, and the modules that import others by name
LAZY_TABLES = ("semhash", "semhash.model")
DYNAMIC_IMPORTERS = ("semhash.cli.app",)


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import in module ``name`` (see the module docstring for what an edge is)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    lazy = lazy_tables()
    found: list[Import] = []

    def add(target: str, kind: str, line: int, named: bool) -> None:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            module = ".".join(parts[:i])
            passed_through = i < len(parts) or not named
            if module == name or (passed_through and name.startswith(module + ".")):
                continue
            if module in known or (i == len(parts) and parts[0] not in known):
                found.append(Import(name, module, kind, line, module in known))

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for c in child.body:
                    visit_statement(c, "typing")
                for c in child.orelse:
                    visit_statement(c, kind)
            else:
                visit_statement(child, kind)

    def visit_statement(node: ast.AST, kind: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            kind = "local" if kind == "top" else kind
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, kind, node.lineno, named=True)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    add(submodule, kind, node.lineno, named=True)
                    add(source, kind, node.lineno, named=False)
                else:
                    add(source, kind, node.lineno, named=True)
                    if alias.name in lazy.get(source, {}):
                        add(lazy[source][alias.name], kind, node.lineno, named=True)
        visit(node, kind)

    visit(ast.parse(path.read_text(encoding="utf-8")), "top")
    if name in DYNAMIC_IMPORTERS:
        for module in lazy[name].values():
            add(module, "local", 0, named=True)
    return found


def import_graph(tree: str) -> dict[str, list[Import]]:
    known = module_files(tree)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def edges(graph: dict[str, list[Import]], kinds: tuple[str, ...]) -> dict[str, set[str]]:
    return {m: {i.target for i in imports if i.inside and i.kind in kinds} for m, imports in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


LAYER_ROW = re.compile(r"^\|\s*(\d+)\s*\|([^|]*)\|", re.MULTILINE)


@cache
def layer_table() -> dict[str, int]:
    """``{module or package: layer}`` from the table under "Allowed import directions" in
    docs/ARCHITECTURE.md: a row ``| 3 | `semhash.query`, `semhash.search` | ... |``."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.partition("## Allowed import directions")[2].partition("\n## ")[0]
    table = {}
    for number, cell in LAYER_ROW.findall(section):
        for module in re.findall(r"`([\w.]+)`", cell):
            assert module not in table, f"{module} is in two rows of the layer table"
            table[module] = int(number)
    assert table, "docs/ARCHITECTURE.md has no layer table under '## Allowed import directions'"
    return table


def layer_of(module: str) -> int | None:
    """The layer of the longest entry of the table that is ``module`` or a package above it (the
    root package ``semhash`` is only itself: every other module needs its own entry)."""
    table = layer_table()
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in table and (i > 1 or prefix == module):
            return table[prefix]
    return None


def comment_of(lines: list[str], node: ast.stmt) -> str:
    """The words of the comment on the lines of ``node``, or of a comment line just above it."""
    own = lines[node.lineno - 1:node.end_lineno]
    above = [lines[node.lineno - 2]] if node.lineno > 1 and lines[node.lineno - 2].lstrip().startswith("#") else []
    for text in (*own, *above):
        comment = text.partition("#")[2]
        words = re.sub(r"noqa(:\s*[A-Z0-9, ]+)?", "", comment).strip(" -:")
        if words:
            return words
    return ""


def functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


# ------------------------------------------------------------------------------------------ tests


def test_no_import_cycle_in_the_package():
    found = cycles(edges(import_graph("semhash"), ("top", "local")))
    assert not found, f"import cycles in semhash/ (module-level and function-local imports): {found}"


def test_no_import_cycle_in_the_benchmarks():
    found = cycles(edges(import_graph("benchmarks"), ("top", "local")))
    assert not found, f"import cycles in benchmarks/: {found}"


def test_the_graph_sees_lazy_names_and_sibling_imports(tmp_path: Path):
    """The rules of the module docstring, on imports the package really has."""
    graph = import_graph("semhash")
    targets = {m: {(i.target, i.kind) for i in imports if i.inside} for m, imports in graph.items()}
    # `from ..model import train` (a lazy name of semhash.model) reaches the trainer, inside a function
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..model import train  # TensorFlow\n    return train\n")
    known = {**module_files("semhash"), "semhash.index.probe": probe}
    seen = {(i.target, i.kind) for i in imports_of("semhash.index.probe", probe, known) if i.inside}
    assert ("semhash.train.trainer", "local") in seen and ("semhash.model", "local") in seen
    # `from . import updates, writing` in semhash.index.semantic: the siblings, not the package
    assert ("semhash.index.writing", "top") in targets["semhash.index.semantic"]
    assert not any(t == "semhash.index" for t, _ in targets["semhash.index.semantic"])
    # `from .. import __version__`: the root package, a name taken from it
    assert ("semhash", "top") in targets["semhash.index.writing"]
    # a package imports its submodules; `evaluate` is loaded by name
    assert ("semhash.index.semantic", "top") in targets["semhash.index"]
    assert ("semhash.cli_evaluate", "local") in targets["semhash.cli.app"]
    # every module-level __getattr__ is known to the graph
    lazy = {m for m, path in module_files("semhash").items()
            if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__"
                   for n in ast.parse(path.read_text(encoding="utf-8")).body)}
    assert lazy == set(LAZY_TABLES), f"add the lazy names of {lazy - set(LAZY_TABLES)} to lazy_tables()"


def test_every_module_has_a_layer():
    missing = [m for m in module_files("semhash") if layer_of(m) is None]
    assert not missing, f"place these modules in the layer table of docs/ARCHITECTURE.md: {missing}"
    stale = [entry for entry in layer_table() if entry not in module_files("semhash")]
    assert not stale, f"the layer table of docs/ARCHITECTURE.md names modules that do not exist: {stale}"


def test_imports_go_down_the_layers():
    """A module imports only modules of its own layer or below, at module level, in a function or
    for annotations alike (the cycle check keeps a layer's modules from importing in a circle)."""
    upward = [f"{i.importer} (layer {layer_of(i.importer)}) -> {i.target} (layer {layer_of(i.target)}), "
              f"line {i.line}{'' if i.kind == 'top' else f' ({i.kind})'}"
              for imports in import_graph("semhash").values() for i in imports
              if i.inside and (layer_of(i.target) or 0) > (layer_of(i.importer) or 0)]
    assert not upward, "imports that go up the layers of docs/ARCHITECTURE.md:\n" + "\n".join(upward)


def test_function_local_imports_say_why_and_defer_something_heavy():
    """Everything is imported at module top, except what keeps a heavy or optional library
    (:data:`HEAVY`) off a path that must not pay for it: such an import names that library or a
    module of the package that imports one at module level, with a one-line reason. The CLI is the
    exception by design: ``import semhash.cli`` loads click only, every command imports the library
    when it runs (tests/test_choices.py checks it)."""
    graph = import_graph("semhash")
    top = edges(graph, ("top",))
    heavy: dict[str, bool] = {}

    def loads_heavy(module: str) -> bool:
        if module not in heavy:
            heavy[module] = False  # (a cycle, which test_no_import_cycle_in_the_package reports)
            heavy[module] = any(not i.inside and i.kind == "top" and i.target.split(".")[0] in HEAVY
                                for i in graph[module]) or any(loads_heavy(t) for t in top[module])
        return heavy[module]

    bad = []
    for name, path in module_files("semhash").items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in functions(ast.parse("\n".join(lines))):
            for node in ast.walk(function):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                where = f"{path.relative_to(REPO)}:{node.lineno} {ast.unparse(node)}"
                if not comment_of(lines, node):
                    bad.append(f"{where}: no comment saying why it is not at module top")
                deferred = any(loads_heavy(i.target) if i.inside else i.target.split(".")[0] in HEAVY
                               for i in graph[name] if i.line == node.lineno)
                if not deferred and not name.startswith("semhash.cli."):
                    bad.append(f"{where}: defers nothing heavy ({', '.join(sorted(HEAVY))}): import it at module top")
    assert not bad, "\n".join(sorted(set(bad)))  # (a nested function's imports are met twice)


def test_the_query_path_imports_no_heavy_library_at_module_level():
    """Static twin of the run-time checks (tests/test_index.py, tests/test_speed_paths.py): what
    the query path imports at module level imports none of :data:`HEAVY` (FAISS, SciPy and the
    trainer are imported in the functions that need them)."""
    graph = import_graph("semhash")
    top = edges(graph, ("top",))
    reached, todo = set(), list(QUERY_PATH)
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(top[module])
    bad = sorted(f"{m} imports {i.target}" for m in reached for i in graph[m]
                 if not i.inside and i.kind == "top" and i.target.split(".")[0] in HEAVY)
    assert not bad, f"the query path imports heavy libraries at module level: {bad}"


def test_modules_and_functions_stay_small():
    bad = []
    for path in module_files("semhash").values():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES:
            bad.append(f"{path.relative_to(REPO)}: {len(lines)} lines (at most {MAX_MODULE_LINES})")
        for function in functions(ast.parse("\n".join(lines))):
            n = function.end_lineno - function.lineno + 1
            body = lines[function.lineno - 1:function.end_lineno]
            if n > MAX_FUNCTION_LINES and not any(re.search(r"#.*\blong:\s*\S", line) for line in body):
                bad.append(f"{path.relative_to(REPO)}:{function.lineno} {function.name}: {n} lines "
                           f"(at most {MAX_FUNCTION_LINES}, or a comment 'long: <why>' in it)")
    assert not bad, "\n".join(bad)


if __name__ == "__main__":
    tree = sys.argv[1] if len(sys.argv) > 1 else "semhash"
    graph = import_graph(tree)
    for module in sorted(graph, key=lambda m: (layer_of(m) or 0, m) if tree == "semhash" else (0, m)):
        targets = sorted({i.target for i in graph[module] if i.inside and i.kind == "top"})
        lazy = sorted({i.target for i in graph[module] if i.inside and i.kind != "top"} - set(targets))
        print(f"{layer_of(module) if tree == 'semhash' else ''} {module} -> {', '.join(targets)}"
              + (f"  [lazy/typing: {', '.join(lazy)}]" if lazy else ""))
    print("cycles:", cycles(edges(graph, ("top", "local"))))
