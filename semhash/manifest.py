"""``manifest.json`` of an index folder: its schema, its own checksum, and reading it safely.

The schema is declarative (:data:`SCHEMA`, built from the small checkers below): every field
load, ``info`` and ``add`` read has a type and bounds, and ``files`` must list every file the
format requires. From format version 2 on, the manifest carries ``manifest_sha256``: the
sha256 of its canonical JSON without that field (:func:`seal`), so damage anywhere in it is
found; a format-1 manifest (written before) has none and is still read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Container
from pathlib import Path
from typing import Any, TypeGuard

from .errors import REBUILD, IndexFormatError, ManifestFieldError

FORMAT = "semhash-index"
FORMAT_VERSION = 3  # 2: manifest_sha256, block checksums, row digests of the store; 3: delta segments
BASE_FORMAT_VERSION = 2  # what an index without delta segments is written as (older semhash reads it)
MAX_BYTES = 16 * 2**20  # a manifest is a few kB; anything far larger is not one
CHECKSUM = "manifest_sha256"
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
SEGMENT_NAME = re.compile(r"delta-\d{6}\Z")  # a delta segment (semhash.index.segments)

Check = Callable[[object, str, dict], None]  # (value, where, whole manifest) -> None or raise


Invalid = ManifestFieldError  # the name this module raises it by


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def integer(lo: int | None = 0, hi: int | None = None, multiple: int = 1) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if not _is_int(v) or (lo is not None and v < lo) or (hi is not None and v > hi) or v % multiple:
            bounds = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
            raise Invalid(f"{where} must be a whole number in {bounds}" + (f", a multiple of {multiple}" if multiple > 1 else "")
                          + f", got {v!r:.60}")
    return check


def number(lo: float | None = None, hi: float | None = None) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                or (lo is not None and v < lo) or (hi is not None and v > hi)):
            raise Invalid(f"{where} must be a number in {lo}..{hi}, got {v!r:.60}")
    return check


def string(pattern: re.Pattern | None = None, max_len: int = 4096) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if not isinstance(v, str) or len(v) > max_len or (pattern is not None and not pattern.match(v)):
            raise Invalid(f"{where} must be a string" + (f" like {pattern.pattern}" if pattern else "") + f", got {v!r:.60}")
    return check


def const(value: object) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if v != value:
            raise Invalid(f"{where} must be {value!r}, got {v!r:.60}")
    return check


def nullable(inner: Check) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if v is not None:
            inner(v, where, m)
    return check


def anything(v: object, where: str, m: dict) -> None:
    """Any value (a field whose content is not checked)."""
    return None


def list_of(item: Check, length: Callable[[dict], int] | None = None, max_len: int = 1 << 20) -> Check:
    def check(v: Any, where: str, m: dict) -> None:
        if not isinstance(v, list) or len(v) > max_len:
            raise Invalid(f"{where} must be a list, got {type(v).__name__}")
        if length is not None and len(v) != length(m):
            raise Invalid(f"{where} must have {length(m)} entries, has {len(v)}")
        for i, x in enumerate(v):
            item(x, f"{where}[{i}]", m)
    return check


def record(required: dict[str, Check], optional: dict[str, Check] | None = None, extra: Check | None = anything,
           key: re.Pattern | None = None) -> Check:
    """A JSON object: ``required`` and ``optional`` fields; other keys checked by ``extra``
    (``None``: refused), their names by ``key``."""
    optional = optional or {}

    def check(v: Any, where: str, m: dict) -> None:
        if not isinstance(v, dict):
            raise Invalid(f"{where} must be an object, got {type(v).__name__}")
        for name, sub in required.items():
            if name not in v:
                raise Invalid(f"{where}.{name} is missing")
            sub(v[name], f"{where}.{name}", m)
        for name, value in v.items():
            if name in required:
                continue
            other = optional.get(name, extra)
            if other is None or (key is not None and name not in optional and not key.match(name)):
                raise Invalid(f"{where} has an unexpected field {name!r:.60}")
            other(value, f"{where}.{name}", m)
    return check


def n_bits_of(m: dict) -> int:
    """The manifest's code length (the length of its per-bit lists)."""
    return m["n_bits"]


FILE_ENTRY = record({"bytes": integer(0, 2**50), "sha256": string(SHA256)})
BIT_SHARES = list_of(number(0.0, 1.0), length=n_bits_of)

SCHEMA: Check = record(
    required={
        "format": const(FORMAT),
        "format_version": integer(1, FORMAT_VERSION),
        "semhash_version": string(max_len=64),
        "params": record({"vectorizer": record({"weighting": string(max_len=32)}), "model": record({})}),
        "n_bits": integer(8, 128, multiple=8),
        "counts": record({"documents": integer(0), "vocabulary": integer(1)}, extra=integer(0)),
        "bit_balance": BIT_SHARES,
        "files": record({}, extra=FILE_ENTRY, key=SAFE_NAME),
    },
    optional={
        "created": nullable(string(max_len=64)),
        "updated": nullable(string(max_len=64)),
        "training": record({}, {"n_docs": integer(0), "bit_balance": BIT_SHARES, "seconds": nullable(number(0)),
                                "trained_on": integer(2), "phases": record({}, extra=number(0))}),
        "buckets": nullable(record({}, {"n_docs": integer(0), "n_buckets": integer(0), "max_bucket": integer(0),
                                        "mean_bucket": number(0), "singleton_fraction": number(0, 1)})),
        "corpus_root": nullable(string(max_len=65536)),
        "added_bit_sum": nullable(list_of(number(0), length=n_bits_of)),  # whole numbers, written as floats
        "next_row": integer(0, 2**40),
        "blocks": record({"bytes": integer(512, 2**24), "first": record({}, extra=integer(0), key=SAFE_NAME)}),
        "segments": list_of(record({"name": string(SEGMENT_NAME), "first_row": integer(0, 2**40),
                                    "rows": integer(0, 2**40), "removed": integer(0, 2**40)}), max_len=1024),
        CHECKSUM: string(SHA256),
    },
)


def canonical(manifest: dict) -> bytes:
    """The bytes :data:`CHECKSUM` is the sha256 of: sorted keys, no spaces, ASCII, without it."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def seal(manifest: dict) -> dict:
    """``manifest`` with its :data:`CHECKSUM` (re)computed."""
    return {**manifest, CHECKSUM: hashlib.sha256(canonical(manifest)).hexdigest()}


def dumps(manifest: dict) -> str:
    """The text of ``manifest.json``: ``manifest`` sealed, indented."""
    return json.dumps(seal(manifest), indent=1, allow_nan=False)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def parse(data: bytes, path: Path, required_files: Callable[[int], set[str]],
          known_files: Container[str]) -> dict:
    """The manifest in ``data``, checked; :class:`IndexFormatError` naming ``path`` otherwise.

    ``required_files(version)`` names the files a manifest of that format version must list;
    ``known_files`` every file the format knows.
    """
    def bad(problem: str) -> IndexFormatError:
        return IndexFormatError(f"{path} is damaged ({problem}); {REBUILD}")

    if len(data) > MAX_BYTES:
        raise bad(f"{len(data)} bytes, more than a manifest ever has")
    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise bad("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise bad(str(exc)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFormatError(f"{path} is not a semhash manifest; {REBUILD}")
    version = manifest.get("format_version")
    if _is_int(version) and version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{path} has format version {version}, newer than this semhash reads ({FORMAT_VERSION}); "
            "upgrade semhash (pip install -U semhash) or rebuild the index"
        )
    if CHECKSUM in manifest:
        try:
            intact = manifest[CHECKSUM] == hashlib.sha256(canonical(manifest)).hexdigest()
        except (TypeError, ValueError, RecursionError):
            intact = False
        if not intact:
            raise bad("it does not match its own checksum")
    elif version != 1:
        raise bad(f"{CHECKSUM} is missing")
    try:
        SCHEMA(manifest, "manifest", manifest)
        consistent(manifest, required_files(manifest["format_version"]), known_files)  # SCHEMA checked it
    except RecursionError:
        raise bad("nested too deeply") from None
    except Invalid as exc:
        raise bad(str(exc)) from None
    return manifest


def consistent(m: dict, required: set[str], known: Container[str]) -> None:
    """Rules across fields: the files listed, the counts, the rows."""
    files = set(m["files"])
    missing, unknown = sorted(required - files), sorted(f for f in files if f not in known)
    if missing:
        raise Invalid(f"files does not list {', '.join(missing)}")
    if unknown:
        raise Invalid(f"files lists unknown {', '.join(unknown)}")
    counts = m["counts"]
    if "next_row" in m and counts["documents"] > m["next_row"]:
        raise Invalid(f"counts.documents ({counts['documents']}) is more than next_row ({m['next_row']})")
    encoded = counts.get("added_since_training", 0) + counts.get("replaced_since_training", 0)
    if m.get("added_bit_sum") and max(m["added_bit_sum"]) > encoded:  # the codes of added and replacing documents
        raise Invalid("added_bit_sum counts more documents than counts.added_since_training and "
                      "replaced_since_training together")
    if m.get("segments") and m["format_version"] < FORMAT_VERSION:
        raise Invalid(f"segments need format_version {FORMAT_VERSION}")
    blocks = m.get("blocks")
    if m["format_version"] >= 2 and blocks is None:
        raise Invalid("blocks is missing")
    if blocks is not None and not set(blocks["first"]) <= files:
        raise Invalid("blocks.first names files the manifest does not list")


__all__ = ["BASE_FORMAT_VERSION", "CHECKSUM", "FORMAT", "FORMAT_VERSION", "SCHEMA", "dumps", "parse", "seal"]
