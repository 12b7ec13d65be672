"""Bytes to text: telling text from binary data, and guessing the encoding of a file."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..errors import BinaryDataError

SNIFF_BYTES = 8192

# bytes that do not occur in text files (tab, newlines, \v, \f, \b and ESC are allowed)
_CONTROL_BYTES = bytes([*range(7), *range(14, 27), *range(28, 32), 127])
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CONTROL_SHARE_BINARY = 0.3
_CONTROL_SHARE_SUSPECT = 0.05
_NOT_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def looks_binary(data: bytes) -> bool:
    """True for data that is not text, judged from its first 8 KB.

    Binary: NUL bytes not explained by UTF-16, more than 30 % control bytes, or more than 5 %
    control bytes together with many high bytes that are not UTF-8.
    """
    sample = data[:SNIFF_BYTES]
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(sample):
        return False
    if b"\x00" in sample:
        return True
    controls = _share(sample, _CONTROL_BYTES)
    if controls > _CONTROL_SHARE_BINARY:
        return True
    if controls > _CONTROL_SHARE_SUSPECT:  # a few stray control bytes occur in real mail
        return _share(sample, _HIGH_BYTES) > 0.3 and not _is_utf8(sample)
    return False


def decode_bytes(data: bytes) -> str:
    """Decode file contents: UTF-8 (BOM or not), UTF-16/32 (BOM or NUL pattern), else cp1252/latin-1.

    Raises :class:`~semhash.errors.BinaryDataError` when :func:`looks_binary` says the data is
    not text. A multi-byte character cut off at the end (a truncated read) is dropped.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode_utf8(data[len(codecs.BOM_UTF8):])
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_wide(data[len(bom):], codec)
    utf16 = _utf16_without_bom(data[:SNIFF_BYTES])
    if utf16:
        return _decode_wide(data, utf16)
    if looks_binary(data):
        raise BinaryDataError("binary data")
    return _decode_utf8(data)


def sniff_encoding(path: Path) -> str:
    """Codec name for a record file, judged from its first bytes; raises BinaryDataError."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    if looks_binary(head):
        raise BinaryDataError("binary data")
    return "utf-8" if _is_utf8(head) else "cp1252"


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _share(data: bytes, members: bytes) -> float:
    """Fraction of ``data`` made of the byte values in ``members``."""
    return (len(data) - len(data.translate(None, members))) / len(data)


def _is_utf8(data: bytes) -> bool:
    try:
        _decode_utf8_strict(data)
    except UnicodeDecodeError:
        return False
    return True


def _decode_utf8(data: bytes) -> str:
    """UTF-8 when the data is (mostly) UTF-8, else cp1252, else latin-1 (which never fails)."""
    try:
        return _decode_utf8_strict(data)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if len(_NOT_ASCII.findall(text)) > text.count("\ufffd"):
        return text  # UTF-8 with a few stray bytes
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_utf8_strict(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")
        raise


def _decode_wide(data: bytes, codec: str) -> str:
    unit = 4 if "32" in codec else 2
    return data[: len(data) - len(data) % unit].decode(codec, errors="replace")


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when NUL bytes fill one of the alternating positions."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.4 and nul_even < 0.05:
        return "utf-16-le"
    if nul_even > 0.4 and nul_odd < 0.05:
        return "utf-16-be"
    return None


__all__ = ["SNIFF_BYTES", "BinaryDataError", "decode_bytes", "looks_binary", "normalize_newlines", "sniff_encoding"]
