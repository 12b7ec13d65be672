"""Titles and visible text: the ``Subject:`` of a mail or the first meaningful line of a text,
and the title and text of an HTML page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

TITLE_MAX_CHARS = 120
_HEADER_LINE = re.compile(r"[A-Za-z][^\s:]*:(?:[ \t]|$)")


def extract_title(text: str) -> str:
    """A one-line title: the ``Subject:`` of a mail/news text, else the first meaningful line.

    The first meaningful line is the first with a letter or digit, without Markdown ``#``
    marks, with whitespace collapsed and cut to 120 characters. Returns ``""`` when none.
    """
    subject, body = _mail_subject(text)
    if subject:
        return subject[:TITLE_MAX_CHARS].rstrip()
    for line in body.splitlines():
        line = line.strip()
        if not any(ch.isalnum() for ch in line) or line.startswith(".. "):
            continue
        line = re.sub(r"\s+#+$", "", re.sub(r"^#{1,6}(?=\s|$)", "", line))
        line = " ".join(line.split())
        if line:
            return line[:TITLE_MAX_CHARS].rstrip()
    return ""


def _mail_subject(text: str) -> tuple[str, str]:
    """``(subject, body)`` when ``text`` starts with RFC-822 headers, else ``("", text)``."""
    lines = text.lstrip("\n").split("\n", 200)
    if not lines or not _HEADER_LINE.match(lines[0]):
        return "", text
    subject, current = None, ""
    for i, line in enumerate(lines):
        if not line.strip():
            body = "\n".join(lines[i + 1:])
            break
        if line[0] in " \t":  # folded header continuation
            if subject is not None and current == "subject":
                subject += " " + line.strip()
            continue
        if not _HEADER_LINE.match(line):
            return "", text
        current, _, value = line.partition(":")
        current = current.lower()
        if current == "subject" and subject is None:
            subject = value.strip()
    else:
        body = ""
    if subject is None:
        return "", text
    return " ".join(subject.split()), body


def html_to_text(html: str) -> str:
    """Visible text of an HTML page: no tags, scripts, styles or ``<title>``; one block per line."""
    return html_parts(html)[1]


def html_parts(html: str) -> tuple[str, str]:
    """``(title, visible text)``: the title is ``<title>``, else the first ``<h1>``-``<h6>``."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    text = re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.heading).split())
    return title[:TITLE_MAX_CHARS].rstrip(), text


class _TextExtractor(HTMLParser):
    """Collects visible text, the ``<title>`` and the first heading of an HTML page."""

    HIDDEN = frozenset({"script", "style", "template", "noscript", "title"})
    BLOCKS = frozenset(
        ["address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul"]
    )
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.heading: list[str] = []
        self._hidden: list[str] = []
        self._in_title = False
        self._heading_open: str | None = None
        self._heading_done = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.HIDDEN:
            self._hidden.append(tag)
            self._in_title = self._in_title or tag == "title"
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self._pre += 1
        if tag in self.HEADINGS and not self._heading_done and self._heading_open is None:
            self._heading_open = tag

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and tag in self._hidden:
            while self._hidden and self._hidden.pop() != tag:
                pass
            self._in_title = "title" in self._hidden
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag == self._heading_open:
            self._heading_open = None
            self._heading_done = bool("".join(self.heading).strip())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if self._hidden:
            return
        if self._heading_open:
            self.heading.append(data)
        self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))


__all__ = ["TITLE_MAX_CHARS", "extract_title", "html_parts", "html_to_text"]
