"""What the commands print: ranked rows, hits as lines or JSON, and the results of ``--file`` runs
where every line gets one result (its output, or its error in place)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..errors import SemhashError

if TYPE_CHECKING:  # annotations only: NumPy loads when a command runs
    from ..search import Hit


def print_row(rank: int, tag: str, doc_id: str, title: str, snippet: str) -> None:
    """One ranked document as users see it: rank, a bracketed measure, id, title, snippet."""
    click.echo(f"{rank:>3}. [{tag}] {doc_id} — {title}")
    if snippet:
        click.echo(f"     {snippet[:160]}")


def print_hits(hits: Iterable[Hit]) -> None:
    """Hits as ranked rows tagged with their Hamming distance and score."""
    for h in hits:
        print_row(h.rank, f"d={h.distance:>2} s={h.score:.3f}", h.id, h.title, h.snippet)


def echo_hits(hits: Sequence[Hit], as_json: bool) -> None:
    """The hits of one query or document: JSON, or ranked lines."""
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        click.echo("no documents found")
    print_hits(hits)


def echo_json(value: Any) -> None:
    """``value`` as indented JSON, non-ASCII kept."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=1))


def file_lines(stream: Iterable[str]) -> list[str]:
    """Every line of a ``--file`` (blank ones too: each line gets one result), without its end."""
    return [line.rstrip("\r\n") for line in stream]


def failed_lines(results: Sequence) -> list[int]:
    """Line numbers (from 1) of the results that are errors."""
    return [n for n, r in enumerate(results, start=1) if isinstance(r, SemhashError)]


def raise_if_lines_failed(results: Sequence) -> None:
    """Exit 1 (after every line was printed) naming the lines whose result is an error."""
    failed = failed_lines(results)
    if not failed:
        return
    shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
    raise click.ClickException(f"{len(failed)} of {len(results)} lines failed (line {shown}); "
                               "each has its error in place of its result")


def each_checked(items: Sequence, checked: Sequence, run: Callable[[list], Iterable]) -> list:
    """The result of each item, or the error ``checked`` holds in its place: ``run(good)`` is
    called once, with the items whose check is not a :class:`SemhashError`."""
    results = iter(run([item for item, c in zip(items, checked) if not isinstance(c, SemhashError)]))
    return [c if isinstance(c, SemhashError) else next(results) for c in checked]


__all__ = ["each_checked", "echo_hits", "echo_json", "failed_lines", "file_lines", "print_hits", "print_row",
           "raise_if_lines_failed"]
