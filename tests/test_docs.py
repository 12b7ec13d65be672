"""The docs stay true: docs/cli.md is the CLI's current --help, every `semhash` command line in
README.md and docs/*.md parses with the current CLI, and every relative link there points at a
file that exists (and at a heading of it, for a #anchor)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO

DOCS = REPO / "docs"

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "").lower().strip()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub gives the headings of ``path`` (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(path: Path) -> list[str]:
    """The targets of the markdown links in ``path`` outside code, other than URLs."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def command_lines(path: Path) -> list[str]:
    """The ``semhash ...`` commands of the shell blocks of ``path``: one per line or per ``&&``
    part, from ``$(...)`` too, without comments and ``[optional]`` placeholders."""
    out = []
    for block in SHELL_BLOCK.findall(path.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s#.*$", "", line)
            for part in re.split(r"&&|\$\(", line):
                part = re.sub(r"\[[^\]]*\]", "", part).strip().rstrip(")").strip()
                if part.startswith("semhash "):
                    out.append(part)
    return out


def test_cli_reference_is_current():
    # in a fresh process, as a user runs it: click caches a command's help option the first time
    # it renders help, so a command that another test invoked on its own (without the group's
    # `-h`) would print another option list in this one
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(DOCS / "make_cli_reference.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr or "docs/cli.md is stale: run python docs/make_cli_reference.py"


def test_cli_reference_has_every_command():
    import click

    from semhash.cli import cli

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    names = set(cli.list_commands(click.Context(cli)))  # the lazily loaded commands too
    assert {"evaluate", "index", "query", "serve"} <= names
    for name in names:
        assert f"\n## semhash {name}\n" in text and f"Usage: semhash {name} " in text, name


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_command_lines_parse(path, tmp_path, monkeypatch):
    """Each command exists and takes the options and arguments shown (parsed, not run)."""
    import click

    from semhash.cli import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "queries.txt").write_text("compress a file\n", encoding="utf-8")  # --file opens it
    bad = []
    for line in command_lines(path):
        args = shlex.split(line)[1:]
        with click.Context(cli, info_name="semhash") as group:
            command = cli.get_command(group, args[0]) if args else None
            if command is None:
                bad.append(f"{line}: no such command")
                continue
            try:
                command.make_context(args[0], args[1:], parent=group).close()
            except click.UsageError as exc:
                bad.append(f"{line}: {exc.format_message()}")
    assert not bad, f"{path.relative_to(REPO)}: " + "; ".join(bad)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(path):
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest})")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading with anchor #{anchor} in {dest.name})")
    assert not broken, f"{path.relative_to(REPO)}: broken links: " + "; ".join(broken)


def test_docs_are_linked_from_the_readme():
    readme = set(relative_links(REPO / "README.md"))
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if f"docs/{p.name}" not in readme]
    assert not missing, f"README.md's 'Read more' does not link: {', '.join(missing)}"


def test_slug_follows_github():
    assert slug("3. Fine-tune") == "3-fine-tune"
    assert slug("What `semhash index` reads") == "what-semhash-index-reads"
    assert slug("Memory, start-up and imports") == "memory-start-up-and-imports"
