"""Tests for semhash.corpus: real files in tmp_path, no mocks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from semhash.corpus import (
    MAX_DOC_CHARS,
    CorpusReport,
    Document,
    Skipped,
    decode_bytes,
    extract_title,
    html_to_text,
    iter_files,
    looks_binary,
    read_corpus,
    read_file,
)
from semhash.errors import ConfigError, CorpusError

NEWS_ROOT = Path(__file__).resolve().parents[2] / "shared/datasets/20news-bydate"

NEWS_TEXT = """From: someone@example.com (Some One)
Subject: Re: Shuttle launch schedule
Organization: Example Org
Lines: 3

The next launch is planned for May.
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def by_id(report: CorpusReport) -> dict[str, Document]:
    return {doc.id: doc for doc in report.documents}


def reasons(report: CorpusReport) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


# --------------------------------------------------------------------------- formats


def test_plain_text_markdown_and_rst(tmp_path):
    write(tmp_path / "a.txt", "\n\n  First line here  \nsecond line\n")
    write(tmp_path / "b.md", "---\n\n# Installing  *semhash* #\n\nRun pip.\n")
    write(tmp_path / "c.rst", "=========\nRST Title\n=========\n\nBody text.\n")
    write(tmp_path / "noext", "Plain file without extension\nmore\n")
    docs = by_id(read_corpus(tmp_path))
    assert docs["a.txt"].title == "First line here"
    assert docs["a.txt"].text == "\n\n  First line here  \nsecond line\n"
    assert docs["b.md"].title == "Installing *semhash*"
    assert docs["c.rst"].title == "RST Title"
    assert docs["noext"].title == "Plain file without extension"
    assert all(doc.path == doc.id for doc in docs.values())


def test_crlf_newlines_normalized(tmp_path):
    write(tmp_path / "a.txt", b"Title\r\nline two\r\n")
    (doc,) = read_corpus(tmp_path).documents
    assert doc.text == "Title\nline two\n"


def test_title_trimmed_to_120_chars(tmp_path):
    write(tmp_path / "a.txt", "word " * 100)
    (doc,) = read_corpus(tmp_path).documents
    assert len(doc.title) <= 120 and doc.title.startswith("word word")


def test_html_visible_text_only(tmp_path):
    html = """<!DOCTYPE html><html><head><title>  My   Page </title>
    <style>body { color: red; }</style><script>var secret = "hidden";</script></head>
    <body><h1>Heading</h1><p>Hello &amp; welcome<br>to the <b>page</b>.</p>
    <noscript>enable js</noscript><ul><li>one</li><li>two</li></ul></body></html>"""
    write(tmp_path / "page.html", html)
    write(tmp_path / "notitle.htm", "<html><body><h2>Only a heading</h2><p>text</p></body></html>")
    docs = by_id(read_corpus(tmp_path))
    page = docs["page.html"]
    assert page.title == "My Page"
    assert "Hello & welcome" in page.text and "page." in page.text and "one\ntwo" in page.text
    for hidden in ("<", "color: red", "secret", "enable js", "My Page"):
        assert hidden not in page.text
    assert docs["notitle.htm"].title == "Only a heading"


def test_html_to_text_blocks_on_lines():
    assert html_to_text("<p>a  b</p><p>c</p><script>x</script>") == "a b\nc"


def test_jsonl_records_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "doc-1", "title": "First", "text": "alpha beta"}),
        "",
        "{not json",
        json.dumps({"text": "no id here\nsecond line"}),
        json.dumps({"id": 7, "body": "no text field"}),
        json.dumps({"id": "doc-1", "text": "duplicate"}),
        json.dumps({"id": "e", "text": "   "}),
        json.dumps([1, 2]),
    ]
    write(tmp_path / "data.jsonl", "\n".join(lines) + "\n")
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["doc-1", "data.jsonl#4"]
    first, second = report.documents
    assert (first.title, first.text, first.path) == ("First", "alpha beta", "data.jsonl")
    assert second.title == "no id here"
    assert reasons(report) == {
        "data.jsonl:3": "invalid JSON on line 3",
        "data.jsonl:5": "no string 'text' field on line 5",
        "data.jsonl:6": "duplicate id doc-1",
        "data.jsonl:7": "empty record",
        "data.jsonl:8": "line 8 is not a JSON object",
    }


def test_csv_with_text_column(tmp_path):
    content = 'ID,Title,Body\n1,First,"a long, quoted\nbody"\n2,,second body\n3,Empty,\n'
    write(tmp_path / "rows.csv", content)
    report = read_corpus(tmp_path)
    docs = by_id(report)
    assert docs["1"].text == "a long, quoted\nbody" and docs["1"].title == "First"
    assert docs["2"].title == "second body"
    assert reasons(report) == {"rows.csv:4": "empty record"}


def test_csv_without_id_semicolon_and_long_field(tmp_path):
    long_text = "x" * 200_000
    write(tmp_path / "semi.csv", f"content;other\nhello there;1\n{long_text};2\n")
    docs = by_id(read_corpus(tmp_path))
    assert docs["semi.csv#2"].text == "hello there"
    assert docs["semi.csv#3"].text == long_text


def test_csv_without_text_column_skipped(tmp_path):
    write(tmp_path / "nums.csv", "a,b\n1,2\n")
    write(tmp_path / "ok.txt", "fine")
    report = read_corpus(tmp_path)
    assert reasons(report) == {"nums.csv": "no text column (expected one of text, body, content, document)"}


def test_duplicate_ids_across_files(tmp_path):
    write(tmp_path / "a.jsonl", json.dumps({"id": "b.txt", "text": "from jsonl"}) + "\n")
    write(tmp_path / "b.txt", "from the text file")
    report = read_corpus(tmp_path)
    assert [d.text for d in report.documents] == ["from jsonl"]
    assert report.skipped == [Skipped("b.txt", "duplicate id b.txt")]


# --------------------------------------------------------------------------- titles


def test_news_title_is_subject(tmp_path):
    write(tmp_path / "sci.space" / "60804", NEWS_TEXT)
    (doc,) = read_corpus(tmp_path).documents
    assert doc.id == "sci.space/60804"
    assert doc.title == "Re: Shuttle launch schedule"
    assert doc.text.startswith("From: someone@example.com")  # headers are kept


def test_extract_title_rules():
    assert extract_title("Subject: hi\nFrom: x\n\nbody") == "hi"
    assert extract_title("From: a\nSubject:\n\nBody line") == "Body line"  # empty subject
    assert extract_title("Note: not a header block\nplain text") == "Note: not a header block"
    assert extract_title("From: a\nSubject: long\n  folded subject\n\nbody") == "long folded subject"
    assert extract_title("### Section ###") == "Section"
    assert extract_title("...\n.. _label:\n\nReal title") == "Real title"
    assert extract_title("  \n --- \n") == ""


@pytest.mark.skipif(not NEWS_ROOT.is_dir(), reason="20 Newsgroups data set not present")
def test_real_20news_files_title_is_subject(tmp_path):
    source = NEWS_ROOT / "train" / "sci.space"
    if not source.is_dir():
        pytest.skip("20news-bydate/train/sci.space not present")
    names = sorted(p.name for p in source.iterdir())[:5]
    for name in names:
        (tmp_path / name).write_bytes((source / name).read_bytes())
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == names
    for doc in report.documents:
        subject = next(line for line in doc.text.splitlines() if line.startswith("Subject:"))
        assert doc.title == subject[len("Subject:"):].strip()


# --------------------------------------------------------------------------- encodings


def test_latin1_and_cp1252_decoded(tmp_path):
    write(tmp_path / "latin.txt", "Café au lait, naïve façade".encode("latin-1"))
    write(tmp_path / "cp1252.txt", "“Smart quotes” — dash".encode("cp1252"))
    docs = by_id(read_corpus(tmp_path))
    assert docs["latin.txt"].text == "Café au lait, naïve façade"
    assert docs["cp1252.txt"].text == "“Smart quotes” — dash"


def test_utf16_and_utf8_bom_decoded(tmp_path):
    write(tmp_path / "u16.txt", "Grüße aus UTF-16\nzweite Zeile".encode("utf-16"))  # with BOM
    write(tmp_path / "u16be.txt", "No BOM big endian text".encode("utf-16-be"))
    write(tmp_path / "bom8.md", "\ufeff# Título\n".encode("utf-8"))
    docs = by_id(read_corpus(tmp_path))
    assert docs["u16.txt"].text == "Grüße aus UTF-16\nzweite Zeile"
    assert docs["u16.txt"].title == "Grüße aus UTF-16"
    assert docs["u16be.txt"].text == "No BOM big endian text"
    assert docs["bom8.md"].title == "Título"


def test_decode_bytes_and_looks_binary():
    assert decode_bytes("ünïcode".encode()) == "ünïcode"
    assert decode_bytes("abc éè".encode() + b"\xff") == "abc éè\ufffd"  # mostly UTF-8
    assert decode_bytes("ab é".encode()[:-1]) == "ab "  # cut multi-byte character dropped
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary("text\twith\ttabs\n".encode("utf-16"))
    assert not looks_binary(b"mostly text with a few \x02 stray control bytes " * 3)
    assert not looks_binary(b"")
    with pytest.raises(ValueError):
        decode_bytes(b"\x00\x01\x02binary\x00\xff")


# --------------------------------------------------------------------------- skips


def test_binary_empty_and_unsupported_skipped(tmp_path):
    write(tmp_path / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path / "fake.txt", b"\x00\x01\x02\x03binary\x00data\xff\xfe\x00" * 10)
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.md", "  \n\t\n")
    write(tmp_path / "scripts.html", "<script>only()</script>")
    write(tmp_path / "good.txt", "good document")
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["good.txt"]
    assert reasons(report) == {
        "blank.md": "empty file",
        "empty.txt": "empty file",
        "fake.txt": "binary file",
        "image.png": "unsupported extension .png",
        "scripts.html": "empty file",
    }


def test_hidden_files_and_folders_ignored(tmp_path):
    write(tmp_path / ".hidden.txt", "secret")
    write(tmp_path / ".git" / "config.txt", "git stuff")
    write(tmp_path / "shown.txt", "shown")
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["shown.txt"] and report.skipped == []


def test_directory_named_like_a_file_is_unreadable(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    docs, skips = read_file(tmp_path / "dir.txt", "dir.txt", MAX_DOC_CHARS)
    assert docs == [] and skips == [Skipped("dir.txt", "unreadable: Is a directory")]


def test_vanished_file(tmp_path):
    docs, skips = read_file(tmp_path / "gone.txt", "gone.txt", MAX_DOC_CHARS)
    assert docs == [] and skips == [Skipped("gone.txt", "file vanished before it was read")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "locked.txt", "secret")
    write(tmp_path / "ok.txt", "fine")
    path.chmod(0)
    try:
        report = read_corpus(tmp_path)
    finally:
        path.chmod(0o644)
    assert reasons(report) == {"locked.txt": "unreadable: Permission denied"}


def test_large_file_truncated(tmp_path):
    write(tmp_path / "big.txt", "héllo wörld " * 10_000)  # 120,000 characters
    report = read_corpus(tmp_path, max_chars=1000)
    (doc,) = report.documents
    assert len(doc.text) == 1000 and doc.text.startswith("héllo wörld")
    assert report.skipped == []


def test_large_file_read_partially(tmp_path):
    # the tail is binary: were the whole file read, it would be judged binary or fail to decode
    write(tmp_path / "big.txt", b"a" * 5000 + b"\x00" * 100_000)
    (doc,) = read_corpus(tmp_path, max_chars=1000).documents
    assert doc.text == "a" * 1000


def test_max_chars_validated(tmp_path):
    write(tmp_path / "a.txt", "x")
    with pytest.raises(ConfigError):
        read_corpus(tmp_path, max_chars=0)


# --------------------------------------------------------------------------- folders


def test_nested_ids_are_posix_relative_paths(tmp_path):
    write(tmp_path / "b" / "c" / "deep.txt", "deep")
    write(tmp_path / "a.txt", "top")
    write(tmp_path / "b" / "mid.md", "# mid")
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["a.txt", "b/c/deep.txt", "b/mid.md"]
    assert [p.relative_to(tmp_path).as_posix() for p in iter_files(tmp_path)] == [
        "a.txt",
        "b/c/deep.txt",
        "b/mid.md",
    ]


def test_order_is_deterministic(tmp_path):
    for name in ["z.txt", "m/1.txt", "a.txt", "m/0.txt", "B.txt"]:
        write(tmp_path / name, name)
    first = [d.id for d in read_corpus(tmp_path).documents]
    assert first == sorted(first)
    assert first == [d.id for d in read_corpus(tmp_path).documents]


def test_symlink_loop_does_not_hang(tmp_path):
    write(tmp_path / "sub" / "doc.txt", "inside")
    (tmp_path / "sub" / "back").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self").symlink_to(tmp_path / "self")  # a link to itself
    (tmp_path / "alias").symlink_to(tmp_path / "sub", target_is_directory=True)
    (tmp_path / "broken.txt").symlink_to(tmp_path / "missing.txt")
    report = read_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["alias/doc.txt"]  # "alias" sorts before "sub"
    assert reasons(report) == {
        "alias/back": "symlink loop",
        "broken.txt": "broken symlink",
        "self": "symlink loop",
        "sub": "same folder as alias (symlink)",
    }


def test_file_symlink_followed(tmp_path):
    write(tmp_path / "real" / "doc.txt", "content")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real" / "doc.txt")
    assert [d.id for d in read_corpus(tmp_path).documents] == ["link.txt", "real/doc.txt"]


def test_missing_folder_raises(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match=r"^corpus folder not found: .*nope$"):
        read_corpus(missing)


def test_file_instead_of_folder_raises(tmp_path):
    path = write(tmp_path / "a.txt", "x")
    with pytest.raises(CorpusError, match="not a folder"):
        read_corpus(path)


def test_all_bad_folder_raises(tmp_path):
    write(tmp_path / "a.png", b"\x89PNG")
    write(tmp_path / "b.png", b"\x89PNG")
    write(tmp_path / "c.txt", "")
    with pytest.raises(CorpusError) as info:
        read_corpus(tmp_path)
    message = str(info.value)
    assert message.startswith(f"no readable documents in {tmp_path}")
    assert "3 skipped" in message and "unsupported extension .png (2x)" in message
    assert ".txt" in message and ".jsonl" in message and "\n" not in message


def test_empty_folder_raises(tmp_path):
    with pytest.raises(CorpusError, match="no readable documents in .*holds no files"):
        read_corpus(tmp_path)


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    write(tmp_path / "a.txt", "x")
    read_corpus(tmp_path, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "reading corpus" in captured.err
